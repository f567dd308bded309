//! The manifest JSON Schema: generated from `model.rs`, compiled once, and its
//! validation errors turned into messages a person can act on.
//!
//! The schema validates one value at a time: the top-level document (with its leavers
//! list emptied, since leavers stream past one by one) and each leaver on its own
//! against `#/$defs/LeaverEntry`. Both validators come from the same generated schema
//! that `offboard schema` prints and `schemas/manifest.schema.json` commits.

use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::{Value, json};

use super::model::{ManifestDocument, Step};

/// The manifest schema as JSON.
pub fn manifest_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
        let schema = generator.into_root_schema_for::<ManifestDocument>();
        let mut schema = serde_json::to_value(schema).expect("a schemars schema is JSON");
        drop_null_from_optional_fields(&mut schema);
        schema
    })
}

/// The manifest schema as committed in `schemas/manifest.schema.json`: keys sorted,
/// so the text does not depend on whether serde_json keeps insertion order (a
/// feature another crate of the build may switch on).
pub fn manifest_schema_text() -> String {
    sorted_json_text(manifest_schema())
}

/// Pretty JSON with every object's keys sorted, newline-terminated.
pub fn sorted_json_text(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(&sorted(value)).expect("JSON value");
    text.push('\n');
    text
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// schemars lets every `Option` field be `null`. In a manifest an optional field is
/// left out instead; only `hr_group` gives `null` a meaning ("no HR group"), and its
/// schema says so itself.
fn drop_null_from_optional_fields(schema: &mut Value) {
    let Some(root) = schema.as_object_mut() else {
        return;
    };
    let mut objects = Vec::new();
    for (key, value) in root.iter_mut() {
        match key.as_str() {
            "properties" => objects.push(value),
            "$defs" => {
                if let Some(defs) = value.as_object_mut() {
                    objects.extend(
                        defs.values_mut()
                            .filter_map(|def| def.get_mut("properties")),
                    );
                }
            }
            _ => {}
        }
    }
    for properties in objects {
        let Some(properties) = properties.as_object_mut() else {
            continue;
        };
        for (name, property) in properties.iter_mut() {
            if name == "hr_group" {
                continue;
            }
            if let Some(map) = property.as_object_mut()
                && map.get("default") == Some(&Value::Null)
            {
                map.remove("default");
            }
            if let Some(types) = property.get_mut("type").and_then(Value::as_array_mut) {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    property["type"] = types[0].take();
                }
            }
            let any_of = property.get("anyOf").and_then(Value::as_array).cloned();
            if let Some(mut any_of) = any_of {
                any_of.retain(|alt| alt.get("type") != Some(&json!("null")));
                if let [only] = any_of.as_slice() {
                    let map = property.as_object_mut().expect("a property schema");
                    map.remove("anyOf");
                    if let Some(only) = only.as_object() {
                        map.extend(only.clone());
                    }
                }
            }
        }
    }
}

struct Validators {
    pub document: jsonschema::Validator,
    pub leaver: jsonschema::Validator,
}

fn validators() -> &'static Validators {
    static VALIDATORS: OnceLock<Validators> = OnceLock::new();
    VALIDATORS.get_or_init(|| {
        let schema = manifest_schema();
        let leaver_schema = json!({
            "$schema": schema["$schema"],
            "$ref": "#/$defs/LeaverEntry",
            "$defs": schema["$defs"],
        });
        let build = |schema: &Value| {
            jsonschema::options()
                .should_validate_formats(true)
                .build(schema)
                .expect("the generated manifest schema compiles")
        };
        Validators {
            document: build(schema),
            leaver: build(&leaver_schema),
        }
    })
}

/// What a schema problem points at inside the value it was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    /// The value at the pointer.
    Value,
    /// The key `name` of the mapping at the pointer (an unknown field).
    Key(String),
}

/// One schema violation, relative to the validated value.
#[derive(Debug)]
pub(super) struct Problem {
    /// JSON pointer relative to the validated value (`/steps/1`; empty for the value itself).
    pub pointer: String,
    pub target: Target,
    pub code: &'static str,
    pub message: String,
    pub help: Option<String>,
}

/// What a value is validated as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    /// The top-level document (its leavers list emptied).
    Document,
    /// One leaver.
    Leaver,
}

/// Every violation of the schema by `instance`, as messages. `base` is the pointer of
/// `instance` in its document (`/leavers/3`), used to name fields in messages; the
/// problems' own pointers are relative to `instance`.
pub(super) fn problems(scope: Scope, instance: &Value, base: &str) -> Vec<Problem> {
    let validator = match scope {
        Scope::Document => &validators().document,
        Scope::Leaver => &validators().leaver,
    };
    let mut problems = Vec::new();
    for error in validator.iter_errors(instance) {
        let pointer = error.instance_path().as_str().to_owned();
        let value = error.instance();
        let full = format!("{base}{pointer}");
        let field = field_name(&full);
        let problem = |code, message: String| Problem {
            pointer: pointer.clone(),
            target: Target::Value,
            code,
            message,
            help: None,
        };
        match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                for name in unexpected {
                    let fields = fields_at(scope, &pointer);
                    problems.push(Problem {
                        pointer: pointer.clone(),
                        target: Target::Key(name.clone()),
                        code: "unknown-field",
                        message: format!("unknown field `{}`", crate::text::quoted(name)),
                        help: Some(match closest(name, &fields) {
                            Some(near) => format!("did you mean `{near}`?"),
                            None => format!("expected one of: {}", fields.join(", ")),
                        }),
                    });
                }
            }
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                problems.push(problem(
                    "missing-field",
                    format!("missing required field `{name}`"),
                ));
            }
            ValidationErrorKind::Type { kind } => {
                let expected = match kind {
                    TypeKind::Single(t) => article(&t.to_string()),
                    TypeKind::Multiple(set) => set
                        .iter()
                        .map(|t| article(&t.to_string()))
                        .collect::<Vec<_>>()
                        .join(" or "),
                };
                let mut p = problem(
                    "wrong-type",
                    format!("{field} must be {expected}, found {}", describe(value)),
                );
                if expected == "a string" && (value.is_number() || value.is_boolean()) {
                    p.help = Some("put the value in quotes to make it text".into());
                }
                problems.push(p);
            }
            ValidationErrorKind::AnyOf { .. } if value.is_string() => {
                problems.push(problem(
                    "invalid-user",
                    format!(
                        "{field} must be an email address or a user id (UUID), found {}",
                        describe(value)
                    ),
                ));
            }
            ValidationErrorKind::Format { format } => {
                let what = match format.as_str() {
                    "date" => "a date written YYYY-MM-DD".to_owned(),
                    other => format!("a valid {other}"),
                };
                problems.push(problem(
                    "invalid-format",
                    format!("{field} must be {what}, found {}", describe(value)),
                ));
            }
            ValidationErrorKind::Enum { .. } if full.contains("/steps/") => {
                let names: Vec<&str> = Step::ALL.iter().map(|s| s.as_str()).collect();
                let mut p = problem("unknown-step", format!("unknown step {}", describe(value)));
                let near = value.as_str().and_then(|v| closest(v, &names));
                p.help = Some(match near {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!("steps are: {}", names.join(", ")),
                });
                problems.push(p);
            }
            ValidationErrorKind::Constant { expected_value } if full == "/version" => {
                problems.push(problem(
                    "unsupported-version",
                    format!(
                        "unsupported manifest version {}: this offboard reads version {expected_value}",
                        describe(value)
                    ),
                ));
            }
            ValidationErrorKind::Minimum { limit } | ValidationErrorKind::Maximum { limit } => {
                let message = match range_of(pointer.rsplit('/').next().unwrap_or_default()) {
                    Some((lo, hi)) => {
                        format!("{field} must be between {lo} and {hi}, found {value}")
                    }
                    None if limit == &json!(1) => {
                        format!("{field} must be a positive id, found {value}")
                    }
                    None => format!("{field} is out of range (limit {limit}), found {value}"),
                };
                problems.push(problem("out-of-range", message));
            }
            ValidationErrorKind::MaxLength { limit } => {
                let len = value.as_str().map_or(0, |s| s.chars().count());
                problems.push(problem(
                    "too-long",
                    format!("{field} is {len} characters long; at most {limit} are allowed"),
                ));
            }
            ValidationErrorKind::MinLength { .. } => {
                problems.push(problem("empty-value", format!("{field} is empty")));
            }
            ValidationErrorKind::MinItems { .. } => {
                problems.push(problem(
                    "empty-value",
                    format!("{field} must name at least one step"),
                ));
            }
            ValidationErrorKind::UniqueItems => {
                problems.push(problem(
                    "duplicate-step",
                    format!("{field} names the same step twice"),
                ));
            }
            // "either leavers or leavers_csv" is checked with its own messages.
            ValidationErrorKind::OneOfNotValid { .. }
            | ValidationErrorKind::OneOfMultipleValid { .. }
                if pointer.is_empty() => {}
            // jsonschema's own words quote the whole value: cut them.
            _ => problems.push(problem(
                "schema",
                format!("{field}: {}", crate::text::cut(&error.to_string(), 200)),
            )),
        }
    }
    problems
}

/// How messages name the value at a pointer: `workspace`, `item 2 of steps`.
fn field_name(pointer: &str) -> String {
    let mut tokens = pointer.rsplit('/').filter(|t| !t.is_empty());
    match (tokens.next(), tokens.next()) {
        (None, _) => "manifest".into(),
        (Some(last), parent) => match (last.parse::<usize>(), parent) {
            (Ok(i), Some(list)) => format!("item {} of `{list}`", i + 1),
            _ => format!("`{}`", last.replace("~1", "/").replace("~0", "~")),
        },
    }
}

/// The fields allowed in the mapping at `pointer` of a value validated in `scope`.
fn fields_at(scope: Scope, pointer: &str) -> Vec<&'static str> {
    match (scope, pointer) {
        (Scope::Document, "") => fields_of(None),
        (Scope::Document, "/defaults") => fields_of(Some("Defaults")),
        _ => fields_of(Some("LeaverEntry")),
    }
}

/// The properties of the document (`None`) or of one of its definitions, in schema order.
pub(super) fn fields_of(def: Option<&str>) -> Vec<&'static str> {
    let schema = manifest_schema();
    let properties = match def {
        None => &schema["properties"],
        Some(def) => &schema["$defs"][def]["properties"],
    };
    let mut fields: Vec<&'static str> = properties
        .as_object()
        .map(|props| props.keys().map(String::as_str).collect())
        .unwrap_or_default();
    // Alphabetical whatever the map's order, so hints read the same in every build.
    fields.sort_unstable();
    fields
}

fn range_of(field: &str) -> Option<(u64, u64)> {
    let defs = &manifest_schema()["$defs"]["LeaverEntry"]["properties"][field];
    let range = (defs["minimum"].as_u64()?, defs["maximum"].as_u64()?);
    // Ids are bounded only by `u64`: "a positive id" says more than the bounds.
    (range.1 < u64::MAX).then_some(range)
}

fn article(type_name: &str) -> String {
    match type_name {
        "integer" => "an integer".into(),
        "object" => "a mapping".into(),
        "array" => "a list".into(),
        "null" => "null".into(),
        other => format!("a {other}"),
    }
}

/// A short description of a value for messages: `"abc"`, `42`, `a list`.
pub(super) fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{}\"", crate::text::quoted(s).escape_debug()),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
        other => other.to_string(),
    }
}

/// The candidate nearest to `word` by edit distance, when near enough to be a typo.
pub(super) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    // Words differing in length by more than the distance allowed are not near: a
    // key of a megabyte is not compared (in time its length times each candidate's).
    let reach = |c: &str| c.len() + (c.len() / 3).max(1);
    let longest = candidates.iter().map(|c| reach(c)).max().unwrap_or(0);
    if word.chars().nth(longest).is_some() {
        return None;
    }
    let word = word.to_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&word, c), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(prev + cost);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_field() {
        let fields = ["user", "workspace", "archive_owner", "hr_group"];
        assert_eq!(closest("usr", &fields), Some("user"));
        assert_eq!(closest("archive_ownr", &fields), Some("archive_owner"));
        assert_eq!(closest("Workspace", &fields), Some("workspace"));
        assert_eq!(closest("colour", &fields), None);
    }

    #[test]
    fn the_schema_compiles_and_judges_a_leaver() {
        let v = &validators().leaver;
        assert!(v.is_valid(&json!({"user": "a@b.example", "workspace": 5})));
        assert!(!v.is_valid(&json!({"user": "nobody", "workspace": 5})));
        assert!(!v.is_valid(&json!({"user": "a@b.example", "workspace": 0})));
        assert!(
            v.is_valid(&json!({"user": "{6D4A8C2E-1F3B-4A5C-9D7E-0123456789AB}", "workspace": 5}))
        );
    }
}
