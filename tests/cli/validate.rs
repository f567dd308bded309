//! `offboard validate`: one fixture per check, valid and invalid, YAML and CSV.

use crate::support::{fixtures, offboard, offboard_in, repo};

/// A test that validates one fixture and snapshots the whole run.
macro_rules! fixture {
    ($($name:ident: $path:literal,)*) => {$(
        #[test]
        fn $name() {
            insta::assert_snapshot!(offboard(&["validate", $path]).transcript());
        }
    )*};
}

fixture! {
    yaml_valid_with_every_field: "yaml/valid-full.yaml",
    json_manifest_is_read_as_yaml: "yaml/valid.json",
    yaml_anchors_and_merge_keys_are_fine: "yaml/anchors-ok.yaml",
    yaml_wrong_types_formats_and_ranges: "yaml/types.yaml",
    yaml_unknown_fields_with_suggestions: "yaml/unknown-fields.yaml",
    yaml_missing_required_fields: "yaml/missing-required.yaml",
    yaml_missing_archive_owner: "yaml/missing-archive-owner.yaml",
    yaml_same_user_twice_in_any_notation: "yaml/duplicate-user.yaml",
    yaml_shared_workspace: "yaml/shared-workspace.yaml",
    yaml_own_archive_owner: "yaml/self-archive-owner.yaml",
    yaml_archive_owner_is_a_leaver: "yaml/archive-owner-is-leaver.yaml",
    yaml_workspace_is_archive_folder: "yaml/workspace-is-archive-folder.yaml",
    yaml_reassign_without_disable: "yaml/reassign-without-disable.yaml",
    yaml_protected_leaver: "yaml/protected.yaml",
    yaml_unused_audit_days_is_only_a_warning: "yaml/unused-audit-days.yaml",
    yaml_empty_leaver_list: "yaml/empty-leavers.yaml",
    yaml_no_leavers_at_all: "yaml/no-leavers.yaml",
    yaml_empty_file: "yaml/empty.yaml",
    yaml_comments_only: "yaml/comment-only.yaml",
    yaml_leavers_and_leavers_csv: "yaml/both-leavers.yaml",
    yaml_unsupported_version: "yaml/version-2.yaml",
    yaml_duplicate_key: "yaml/duplicate-key.yaml",
    yaml_alias_bomb_hits_the_budget: "yaml/alias-bomb.yaml",
    yaml_tab_indentation: "yaml/tabs.yaml",
    yaml_invalid_utf8: "yaml/invalid-utf8.yaml",
    yaml_bom_and_crlf: "yaml/bom-crlf.yaml",
    yaml_columns_count_characters: "yaml/non-ascii-columns.yaml",
    yaml_not_a_mapping: "yaml/not-a-mapping.yaml",
    yaml_syntax_error: "yaml/syntax-error.yaml",
    yaml_leavers_not_a_list: "yaml/leavers-not-a-list.yaml",
    yaml_leavers_csv_missing_file: "yaml/csv-missing.yaml",
    yaml_leavers_csv_escapes_with_dotdot: "yaml/csv-escape.yaml",
    yaml_leavers_csv_absolute_path: "yaml/csv-absolute.yaml",
    yaml_leavers_csv_dotdot_that_stays_inside: "yaml/csv-dotdot-inside.yaml",
    yaml_leavers_csv_with_cross_row_errors: "yaml/csv-errors.yaml",
    yaml_leavers_csv_with_semicolons: "yaml/csv-semicolon.yaml",
    csv_valid_with_every_column: "csv/valid.csv",
    csv_bom_crlf_blanks_and_quoted_newlines: "csv/bom-crlf-quoted.csv",
    csv_wrong_types_formats_and_ranges: "csv/types.csv",
    csv_missing_and_extra_columns: "csv/columns.csv",
    csv_unknown_columns_with_suggestions: "csv/unknown-column.csv",
    csv_no_user_column: "csv/no-user-column.csv",
    csv_duplicate_column: "csv/duplicate-column.csv",
    csv_cross_row_checks: "csv/cross.csv",
    csv_header_only: "csv/header-only.csv",
    csv_empty_file: "csv/empty.csv",
    csv_invalid_utf8: "csv/invalid-utf8.csv",
    csv_crlf_and_blank_lines_place_errors_right: "csv/crlf-errors.csv",
    csv_semicolons_bom_crlf_and_capitals_as_excel_writes_them: "csv/semicolon-excel.csv",
    csv_duplicate_column_in_another_case: "csv/duplicate-column-case.csv",
    csv_mixed_delimiters_in_the_header: "csv/mixed-delimiters.csv",
    csv_errors_name_row_and_column: "csv/excel-errors.csv",
}

/// A CSV problem names its row as a spreadsheet numbers it (the header is row 1, a
/// quoted line break stays in its row) and its column as the header writes it, in
/// every format.
#[test]
fn csv_diagnostics_name_row_and_column_in_every_format() {
    let file = "csv/excel-errors.csv";
    let human = offboard(&["validate", file]);
    assert!(
        human.stderr.contains("row 3, column Workspace"),
        "{}",
        human.stderr
    );

    let json = offboard(&["validate", "--format", "json", file]);
    let items: Vec<serde_json::Value> = serde_json::from_str(&json.stdout).expect("JSON");
    let places: Vec<_> = items
        .iter()
        .map(|item| {
            (
                item["code"].as_str().unwrap(),
                item["line"].as_u64().unwrap(),
                item["row"].as_u64(),
                item["column_name"].as_str(),
                item["pointer"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        places,
        vec![
            (
                "wrong-type",
                4,
                Some(3),
                Some("Workspace"),
                "/leavers/1/workspace"
            ),
            (
                "duplicate-user",
                5,
                Some(4),
                Some("User"),
                "/leavers/2/user"
            ),
        ]
    );

    let github = offboard(&["validate", "--format", "github", file]);
    assert!(
        github
            .stdout
            .contains("line=4,col=19,title=wrong-type::row 3, column Workspace: "),
        "{}",
        github.stdout
    );
    insta::assert_snapshot!(format!("{}\n{}", json.transcript(), github.transcript()));
}

#[test]
fn the_example_manifests_are_valid() {
    let run = offboard_in(
        &repo(),
        &[
            "validate",
            "manifests/example.yaml",
            "manifests/batch.yaml",
            "manifests/leavers.csv",
        ],
    );
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn every_problem_of_every_file_in_one_run() {
    let run = offboard(&[
        "validate",
        "yaml/types.yaml",
        "csv/valid.csv",
        "csv/cross.csv",
        "no-such-file.yaml",
    ]);
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn json_format_lists_every_problem_on_stdout() {
    let run = offboard(&[
        "validate",
        "--format",
        "json",
        "yaml/types.yaml",
        "csv/types.csv",
    ]);
    assert_eq!(run.code, 2);
    let items: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).expect("a JSON array");
    for item in &items {
        for key in [
            "file", "line", "column", "pointer", "severity", "code", "message",
        ] {
            assert!(item.get(key).is_some(), "{key} missing in {item}");
        }
    }
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn json_format_of_a_valid_manifest_is_an_empty_array() {
    let run = offboard(&["validate", "--format", "json", "csv/valid.csv"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, "[]\n"));
}

#[test]
fn github_format_annotates_files() {
    let run = offboard(&[
        "validate",
        "--format",
        "github",
        "yaml/unused-audit-days.yaml",
        "csv/cross.csv",
    ]);
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn a_missing_file_is_invalid_input() {
    let run = offboard(&["validate", "nowhere/manifest.yaml"]);
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn validate_needs_a_file() {
    let run = offboard(&["validate"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("FILE"), "{}", run.stderr);
}

#[cfg(unix)]
#[test]
fn leavers_csv_may_not_escape_through_a_symlink() {
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        fixtures().join("yaml/rows/valid.csv"),
        outside.path().join("secret.csv"),
    )
    .expect("copy");
    let project = tempfile::tempdir().expect("temp dir");
    std::os::unix::fs::symlink(
        outside.path().join("secret.csv"),
        project.path().join("rows.csv"),
    )
    .expect("symlink");
    std::fs::write(
        project.path().join("manifest.yaml"),
        "version: 1\ndefaults:\n  archive_owner: keeper@example.com\nleavers_csv: rows.csv\n",
    )
    .expect("write manifest");

    let run = offboard_in(project.path(), &["validate", "manifest.yaml"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr
            .contains("resolves to a place outside the manifest's folder"),
        "{}",
        run.stderr
    );

    // The same file inside the folder is accepted: the symlink is what was refused.
    std::fs::remove_file(project.path().join("rows.csv")).expect("remove link");
    std::fs::copy(
        outside.path().join("secret.csv"),
        project.path().join("rows.csv"),
    )
    .expect("copy");
    let run = offboard_in(project.path(), &["validate", "manifest.yaml"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
}

#[test]
fn human_and_json_output_agree_on_columns() {
    let human = offboard(&["validate", "yaml/non-ascii-columns.yaml"]);
    let json = offboard(&[
        "validate",
        "--format",
        "json",
        "yaml/non-ascii-columns.yaml",
    ]);
    let items: Vec<serde_json::Value> = serde_json::from_str(&json.stdout).unwrap();
    for item in items {
        let place = format!(
            "yaml/non-ascii-columns.yaml:{}:{}]",
            item["line"], item["column"]
        );
        assert!(
            human.stderr.contains(&place),
            "{place} not in:\n{}",
            human.stderr
        );
    }
}
