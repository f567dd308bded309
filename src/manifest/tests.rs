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

fn csv(text: &str) -> Checked {
    check(
        SourceFile::new("m.csv", text),
        Format::Csv,
        &mut |_: &str| unreachable!("no CSV beside a CSV"),
    )
}

fn csv_codes(text: &str) -> Vec<&'static str> {
    csv(text).diagnostics.iter().map(|d| d.code).collect()
}

/// The leavers of a manifest as text, their places taken from `twin` (which reads
/// the same rows from another file).
fn settings(manifest: Manifest, twin: &[Leaver]) -> String {
    let mut leavers = manifest.leavers;
    for (leaver, twin) in leavers.iter_mut().zip(twin) {
        leaver.sites = twin.sites.clone();
    }
    format!("{leavers:?}")
}

const COMMAS: &str = "user,workspace,archive_owner,hr_group,steps,note\n\
    a@example.com,1,k@example.com,HR,,\"says \"\"hi\"\", twice\"\n\
    b@example.com,2,k@example.com,,\"disable;reassign\",\n";

/// The `;` file Excel writes in much of Europe (BOM, CRLF, headers as a person typed
/// them, `;` inside a cell quoted) reads as its `,` twin; so does a tab-separated one.
#[test]
fn semicolon_and_tab_csv_read_like_their_comma_twin() {
    let twin = csv(COMMAS).manifest.expect("valid").leavers;
    let excel = decode(
        "m.csv",
        b"\xEF\xBB\xBFUser;Workspace;Archive_Owner;HR_Group;Steps;Note\r\n\
          a@example.com;1;k@example.com;HR;;\"says \"\"hi\"\", twice\"\r\n\
          b@example.com;2;k@example.com;;\"disable;reassign\";\r\n"
            .to_vec(),
    )
    .expect("UTF-8");
    let checked = check(excel, Format::Csv, &mut |_: &str| unreachable!());
    let same = |checked: Checked| settings(checked.manifest.expect("valid"), &twin);
    assert_eq!(same(checked), format!("{twin:?}"));
    let tabs = "user\tworkspace\tarchive_owner\thr_group\tsteps\tnote\n\
        a@example.com\t1\tk@example.com\tHR\t\t\"says \"\"hi\"\", twice\"\n\
        b@example.com\t2\tk@example.com\t\tdisable;reassign\t\n";
    assert_eq!(same(csv(tabs)), format!("{twin:?}"));
}

#[test]
fn header_names_ignore_case_and_blanks() {
    let checked = csv(" USER ,\tWorkspace , Archive_owner\na@example.com,1,k@example.com\n");
    assert_eq!(checked.manifest.expect("valid").leavers[0].workspace, 1);
    assert_eq!(
        csv_codes("Usr,workspace,archive_owner\na@example.com,1,k@example.com\n"),
        vec!["unknown-field", "missing-field"]
    );
}

#[test]
fn a_column_named_twice_in_two_cases_is_an_error() {
    assert_eq!(
        csv_codes("user,Workspace,WORKSPACE\na@example.com,1,2\n"),
        vec!["duplicate-column"]
    );
}

/// A header that splits into known columns with neither delimiter alone is one
/// error, not a column error for each half.
#[test]
fn a_header_with_two_delimiters_is_one_error() {
    assert_eq!(
        csv_codes("user;workspace,archive_owner\na@example.com;1,k@example.com\n"),
        vec!["csv-delimiter"]
    );
    // `;` inside a quoted `,` header is text, not a delimiter.
    assert_eq!(
        csv_codes("user,workspace,\"a;b\"\na@example.com,1,x\n"),
        vec!["unknown-field", "missing-archive-owner"]
    );
}
