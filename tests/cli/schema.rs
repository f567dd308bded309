//! `offboard schema` and the committed schema file.

use crate::support::{offboard_in, repo};

#[test]
fn committed_manifest_schema_matches_the_types() {
    committed_schema_matches("manifest");
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
    committed_schema_matches("plan");
}

#[test]
fn committed_report_schema_matches_the_types() {
    committed_schema_matches("report");
}

#[test]
fn committed_saved_plan_schema_matches_the_types() {
    committed_schema_matches("saved-plan");
}

/// `offboard schema NAME` prints what `schemas/NAME.schema.json` holds.
fn committed_schema_matches(name: &str) {
    let run = offboard_in(&repo(), &["schema", name]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let path = format!("schemas/{name}.schema.json");
    let committed = std::fs::read_to_string(repo().join(&path)).expect("the schema is committed");
    assert!(
        run.stdout == committed,
        "{path} is out of date: run `cargo run -- schema {name} > {path}`"
    );
}
