//! Checking manifests: defaults, whole numbers, unknown fields, CSV beside YAML.

use super::*;

fn checked(text: &str) -> Checked {
    check(
        SourceFile::new("m.yaml", text),
        Format::Yaml,
        &mut |_: &str| unreachable!("no CSV"),
    )
}

fn problems(text: &str) -> Vec<(&'static str, String)> {
    checked(text)
        .diagnostics
        .into_iter()
        .map(|d| (d.code, d.pointer))
        .collect()
}

const HEAD: &str = "version: 1\ndefaults: {archive_owner: keeper@example.com}\nleavers:\n";

/// JSON Schema's `integer` accepts `3.0`; so does the manifest (found by the fuzz
/// harness: serde refused what the schema let through).
#[test]
fn whole_floats_are_integers() {
    let manifest = checked(&format!(
        "{HEAD}  - {{user: a@example.com, workspace: 3.0, audit_days: 1e1, steps: [disable, audit]}}\n"
    ))
    .manifest
    .expect("valid");
    assert_eq!(
        (
            manifest.leavers[0].workspace,
            manifest.leavers[0].audit_days
        ),
        (3, 10)
    );
    assert_eq!(
        problems(&format!(
            "{HEAD}  - {{user: a@example.com, workspace: 2.5}}\n"
        )),
        vec![("wrong-type", "/leavers/0/workspace".to_owned())]
    );
}

#[test]
fn ids_beyond_u64_are_out_of_range_at_the_value() {
    assert_eq!(
        problems(&format!(
            "{HEAD}  - {{user: a@example.com, workspace: 18446744073709551616}}\n"
        )),
        vec![("out-of-range", "/leavers/0/workspace".to_owned())]
    );
}

/// The schema's UUID pattern accepts exactly what `parse_uuid` reads.
#[test]
fn half_written_uuids_are_invalid_users_at_the_value() {
    for user in [
        "\"{6d4a8c2e-1f3b-4a5c-9d7e-0123456789ab\"",
        "\"6d4a8c2e-1f3b-4a5c-9d7e-0123456789ab}\"",
        "6d4a8c2e-1f3b4a5c9d7e0123456789ab",
        "6d4a8c2e-1f3b-4a5c-9d7e0123456789ab",
    ] {
        assert_eq!(
            problems(&format!("{HEAD}  - {{user: {user}, workspace: 1}}\n")),
            vec![("invalid-user", "/leavers/0/user".to_owned())],
            "{user}"
        );
    }
    for user in [
        "6d4a8c2e-1f3b-4a5c-9d7e-0123456789ab",
        "6D4A8C2E1F3B4A5C9D7E0123456789AB",
        "\"{6d4a8c2e-1f3b-4a5c-9d7e-0123456789ab}\"",
        "\"urn:uuid:{6d4a8c2e1f3b4a5c9d7e0123456789ab}\"",
    ] {
        assert!(
            problems(&format!("{HEAD}  - {{user: {user}, workspace: 1}}\n")).is_empty(),
            "{user}"
        );
    }
}
