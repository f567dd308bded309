//! `offboard schema` and the committed schema file.

use crate::support::{offboard_in, repo};

#[test]
fn committed_manifest_schema_matches_the_types() {
    let run = offboard_in(&repo(), &["schema"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let committed = std::fs::read_to_string(repo().join("schemas/manifest.schema.json"))
        .expect("schemas/manifest.schema.json exists");
    assert!(
        run.stdout == committed,
        "schemas/manifest.schema.json is out of date: run `cargo run -- schema > schemas/manifest.schema.json`"
    );
}

#[test]
fn every_leaver_field_is_described_for_editors() {
    let run = offboard_in(&repo(), &["schema", "manifest"]);
    let schema: serde_json::Value = serde_json::from_str(&run.stdout).expect("schema is JSON");
    let mut undescribed = Vec::new();
    let defs = schema["$defs"].as_object().expect("$defs");
    let objects =
        std::iter::once(("manifest", &schema)).chain(defs.iter().map(|(k, v)| (k.as_str(), v)));
    for (name, object) in objects {
        for (field, property) in object["properties"].as_object().into_iter().flatten() {
            if property["description"].as_str().is_none_or(str::is_empty) {
                undescribed.push(format!("{name}.{field}"));
            }
        }
    }
    assert!(
        undescribed.is_empty(),
        "fields without a description: {undescribed:?}"
    );
}

#[test]
fn committed_plan_schema_matches_the_types() {
    let run = offboard_in(&repo(), &["schema", "plan"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let committed = std::fs::read_to_string(repo().join("schemas/plan.schema.json"))
        .expect("schemas/plan.schema.json exists");
    assert!(
        run.stdout == committed,
        "schemas/plan.schema.json is out of date: run `cargo run -- schema plan > schemas/plan.schema.json`"
    );
}

#[test]
fn committed_report_schema_matches_the_types() {
    let run = offboard_in(&repo(), &["schema", "report"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let committed = std::fs::read_to_string(repo().join("schemas/report.schema.json"))
        .expect("schemas/report.schema.json exists");
    assert!(
        run.stdout == committed,
        "schemas/report.schema.json is out of date: run `cargo run -- schema report > schemas/report.schema.json`"
    );
}
