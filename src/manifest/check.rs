//! Checking a manifest's text: syntax (YAML or CSV), then the schema per leaver and
//! for the document around them, then defaults merged and checks across leavers.

use std::sync::Arc;

use serde_saphyr::Spanned;

use super::checked::*;
use super::defaults::{DefaultSites, Entry, EntrySites, resolve};
use super::diagnostic::{Diagnostic, Location, SourceFile};
use super::model::{Defaults, LeaverEntry, UserRef};
use super::schema::{Problem, Scope, Target};
use super::yaml::{Node, TopLevel};

/// Turns a file's bytes into text: a UTF-8 BOM is dropped, and invalid UTF-8 is an
/// error at the first bad byte (the returned source then shows the text lossily).
pub fn decode(name: &str, bytes: Vec<u8>) -> Result<Arc<SourceFile>, Diagnostic> {
    let mut bytes = bytes;
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        // In place: a second copy of a large file is not needed.
        bytes.drain(..3);
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(name, text)),
        Err(err) => {
            let valid = err.utf8_error().valid_up_to();
            let source = SourceFile::new(name, String::from_utf8_lossy(err.as_bytes()));
            Err(Diagnostic::error(
                "encoding",
                Location::at(&source, valid, 1),
                "the file is not valid UTF-8",
            )
            .with_help("save the file as UTF-8 (most editors and spreadsheet programs offer \"CSV UTF-8\")"))
        }
    }
}

/// Reads the CSV file a YAML manifest names, given the path as written in the manifest.
/// Returns the decoded file, or the diagnostic to report at the manifest's
/// `leavers_csv` value (its location is replaced by the caller's).
pub type ReadCsv<'a> = dyn FnMut(&str) -> Result<Arc<SourceFile>, Diagnostic> + 'a;

/// Checks one manifest. `read_csv` is only called for a YAML manifest's `leavers_csv`,
/// after the path passed the lexical checks (relative, not leaving the manifest's folder).
pub fn check(source: Arc<SourceFile>, format: Format, read_csv: &mut ReadCsv<'_>) -> Checked {
    let mut diagnostics = Vec::new();
    let manifest = if source.text.trim().is_empty() {
        diagnostics.push(Diagnostic::error(
            "empty-manifest",
            Location::at(&source, 0, 0),
            "the manifest is empty",
        ).with_help("a manifest lists leavers: `version: 1` and `leavers:` in YAML, or a header row and one row per leaver in CSV"));
        None
    } else {
        match format {
            Format::Csv => check_csv(&source, &mut diagnostics),
            Format::Yaml => check_yaml(&source, read_csv, &mut diagnostics),
        }
    };
    diagnostics.sort_by_key(|d| {
        let place = d.location.place();
        (
            !Arc::ptr_eq(&d.location.source, &source),
            d.location.source.name.clone(),
            place,
        )
    });
    let failed = diagnostics.iter().any(Diagnostic::is_error);
    Checked {
        manifest: manifest.filter(|_| !failed),
        diagnostics,
    }
}

fn check_csv(source: &Arc<SourceFile>, diagnostics: &mut Vec<Diagnostic>) -> Option<Manifest> {
    let entries = csv_entries(source, diagnostics);
    let defaults = Defaults::default();
    let placeholder = Location::at(source, 0, 0);
    let leavers = resolve(
        entries,
        Some(&defaults),
        &DefaultSites::default(),
        diagnostics,
    );
    super::checks::across_leavers(&leavers, &[], &placeholder, diagnostics);
    Some(Manifest {
        leavers,
        protected: Vec::new(),
    })
}

fn csv_entries(source: &Arc<SourceFile>, diagnostics: &mut Vec<Diagnostic>) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut row_diagnostics = Vec::new();
    let diagnostics_of_rows = &mut row_diagnostics;
    let mut on_row = |index: usize, row: super::csv::Row| {
        let diagnostics = &mut *diagnostics_of_rows;
        let base = format!("/leavers/{index}");
        let problems = super::schema::problems(Scope::Leaver, &row.value, &base);
        if !problems.is_empty() {
            for problem in problems {
                let field = problem.pointer.split('/').nth(1).unwrap_or_default();
                let location = row.cell(field).unwrap_or(&row.location).clone();
                diagnostics.push(problem.into_diagnostic(location, &base));
            }
            return;
        }
        let cell = |field: &str| row.cell(field).cloned();
        let Some(entry) = typed::<LeaverEntry>(&row.value, &row.location, &base, diagnostics)
        else {
            return;
        };
        let sites = EntrySites {
            user: cell("user").unwrap_or_else(|| row.location.clone()),
            workspace: cell("workspace").unwrap_or_else(|| row.location.clone()),
            archive_owner: entry.archive_owner.as_ref().and(cell("archive_owner")),
            archive_folder: entry.archive_folder.and(cell("archive_folder")),
            steps: entry.steps.as_ref().and(cell("steps")),
            audit_days: entry.audit_days.and(cell("audit_days")),
            entry: row.location.clone(),
        };
        entries.push(Entry {
            index,
            entry,
            sites,
        });
    };
    super::csv::parse(source, diagnostics, &mut on_row);
    diagnostics.append(&mut row_diagnostics);
    entries
}

fn check_yaml(
    source: &Arc<SourceFile>,
    read_csv: &mut ReadCsv<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Manifest> {
    let mut entries = Vec::new();
    let mut leaver_diagnostics = Vec::new();
    let parsed = super::yaml::parse(source, &mut |index, node| {
        if let Some(entry) = yaml_entry(source, index, node, &mut leaver_diagnostics) {
            entries.push(entry);
        }
    });
    diagnostics.append(&mut leaver_diagnostics);
    let top = match parsed {
        Ok(top) => top,
        Err(syntax) => {
            diagnostics.push(syntax);
            return None;
        }
    };
    let (top_entries, streamed) = match top {
        TopLevel::Map { entries, leavers } => (entries, leavers),
        TopLevel::Other => {
            diagnostics.push(
                Diagnostic::error(
                    "not-a-mapping",
                    Location::at(source, 0, 0),
                    "a manifest must be a mapping with `version` and `leavers` (or `leavers_csv`)",
                )
                .with_help("start the file with `version: 1`, then `leavers:` and one `- user: …` entry per leaver"),
            );
            return None;
        }
    };

    // The document around the leavers, with its leavers list emptied.
    let mut top_entries = top_entries;
    let mut document = serde_json::Map::new();
    for (key, value) in &mut top_entries {
        document.insert(key.value.clone(), value.value.take_json());
    }
    if streamed.is_some() {
        document.insert("leavers".into(), serde_json::Value::Array(Vec::new()));
    }
    let document = serde_json::Value::Object(document);
    let unknown = serde_saphyr::Location::UNKNOWN;
    let root = Spanned::new(Node::Map(top_entries), unknown, unknown);
    let root_location = || Location::at(source, 0, 0);

    let has_inline = streamed.is_some() || root.value.get("leavers").is_some();
    let csv_entry = root.value.get("leavers_csv");
    let before = diagnostics.len();
    match (has_inline, csv_entry) {
        (true, Some((key, _))) => diagnostics.push(
            Diagnostic::error(
                "leavers-twice",
                super::yaml::location(source, &key.referenced),
                "give the leavers either inline (`leavers`) or in a CSV file (`leavers_csv`), not both",
            )
            .with_pointer("/leavers_csv"),
        ),
        (false, None) => diagnostics.push(
            Diagnostic::error(
                "empty-manifest",
                root_location(),
                "the manifest lists no leavers",
            )
            .with_help("add `leavers:` with one `- user: …` entry per leaver, or `leavers_csv: <file>.csv`"),
        ),
        _ => {}
    }
    let mut broken: Vec<String> = Vec::new();
    for problem in super::schema::problems(Scope::Document, &document, "") {
        let location = locate(source, &root, &problem.pointer, &problem.target);
        broken.push(
            problem
                .pointer
                .split('/')
                .nth(1)
                .unwrap_or_default()
                .to_owned(),
        );
        diagnostics.push(problem.into_diagnostic(location, ""));
    }
    let shape_ok = !diagnostics[before..]
        .iter()
        .any(|d| d.code == "leavers-twice");

    // Each part of the document is read on its own, so a broken `defaults` still lets
    // the leavers be checked against each other.
    let part = |name: &str| (!broken.iter().any(|b| b == name)).then(|| &document[name]);
    let defaults: Option<Defaults> = part("defaults").and_then(|value| {
        if value.is_null() {
            return Some(Defaults::default());
        }
        typed(value, &root_location(), "/defaults", diagnostics)
    });
    let protected: Vec<UserRef> = part("protected")
        .filter(|value| !value.is_null())
        .and_then(|value| typed(value, &root_location(), "/protected", diagnostics))
        .unwrap_or_default();
    let csv_file = part("leavers_csv")
        .and_then(|value| value.as_str())
        .filter(|_| shape_ok);

    let mut leavers_place = match &streamed {
        Some((key, _)) => super::yaml::location(source, &key.referenced),
        None => root_location(),
    };
    if let (Some(path), Some((_, value))) = (csv_file, csv_entry) {
        let place = super::yaml::location(source, &value.referenced);
        match csv_path(path).and_then(|()| read_csv(path)) {
            Ok(csv_source) => {
                entries = csv_entries(&csv_source, diagnostics);
                leavers_place = if csv_source.text.trim().is_empty() {
                    Location::at(&csv_source, 0, 0)
                } else {
                    place
                };
            }
            Err(mut problem) => {
                // Path problems have no place of their own: they stand at `leavers_csv`.
                if problem.location.span.is_none() {
                    problem.location = place;
                    problem.pointer = "/leavers_csv".into();
                }
                diagnostics.push(problem);
                return None;
            }
        }
    }

    let default_sites = DefaultSites::from_node(source, root.value.get("defaults"));
    let leavers = resolve(entries, defaults.as_ref(), &default_sites, diagnostics);
    let protected_nodes = root.value.get("protected");
    let protected_sites: Vec<(UserRef, Location)> = protected
        .iter()
        .enumerate()
        .map(|(i, user)| {
            let location = protected_nodes
                .map(|(_, node)| locate(source, node, &format!("/{i}"), &Target::Value))
                .unwrap_or_else(root_location);
            (user.clone(), location)
        })
        .collect();
    super::checks::across_leavers(&leavers, &protected_sites, &leavers_place, diagnostics);
    Some(Manifest { leavers, protected })
}

/// Checks a `leavers_csv` path without touching the disk: relative, and not climbing
/// out of the manifest's folder.
fn csv_path(path: &str) -> Result<(), Diagnostic> {
    let placeholder = || Location::file(&SourceFile::new("", ""));
    let as_path = std::path::Path::new(path);
    if as_path.is_absolute() || path.starts_with('/') || path.starts_with('\\') {
        return Err(Diagnostic::error(
            "csv-path",
            placeholder(),
            format!(
                "`leavers_csv` must be a path relative to the manifest, not `{}`",
                crate::text::quoted(path)
            ),
        ));
    }
    let mut depth: i32 = 0;
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => depth -= 1,
            _ => depth += 1,
        }
        if depth < 0 {
            return Err(Diagnostic::error(
                "csv-path",
                placeholder(),
                format!(
                    "`leavers_csv` path `{}` leaves the manifest's folder",
                    crate::text::quoted(path)
                ),
            )
            .with_help("keep the CSV file next to the manifest or in a folder below it"));
        }
    }
    Ok(())
}

fn yaml_entry(
    source: &Arc<SourceFile>,
    index: usize,
    mut node: Spanned<Node>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Entry> {
    let base = format!("/leavers/{index}");
    let value = node.value.take_json();
    let node = &node;
    let problems = super::schema::problems(Scope::Leaver, &value, &base);
    if !problems.is_empty() {
        for problem in problems {
            let location = locate(source, node, &problem.pointer, &problem.target);
            diagnostics.push(problem.into_diagnostic(location, &base));
        }
        return None;
    }
    let entry_location = super::yaml::location(source, &node.referenced);
    let entry = typed::<LeaverEntry>(&value, &entry_location, &base, diagnostics)?;
    let at = |field: &str| locate(source, node, &format!("/{field}"), &Target::Value);
    let sites = EntrySites {
        user: at("user"),
        workspace: at("workspace"),
        archive_owner: entry.archive_owner.as_ref().map(|_| at("archive_owner")),
        archive_folder: entry.archive_folder.map(|_| at("archive_folder")),
        steps: entry.steps.as_ref().map(|_| at("steps")),
        audit_days: entry.audit_days.map(|_| at("audit_days")),
        entry: entry_location,
    };
    Some(Entry {
        index,
        entry,
        sites,
    })
}

/// Deserializes a schema-valid value into its Rust type. Failing here means the schema
/// and the types disagree, which the drift tests and the fuzz harness guard against;
/// it is still reported.
fn typed<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
    location: &Location,
    pointer: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<T> {
    match T::deserialize(&whole_numbers(value)) {
        Ok(entry) => Some(entry),
        Err(err) => {
            diagnostics.push(
                Diagnostic::error(
                    "schema",
                    location.clone(),
                    crate::text::cut(&err.to_string(), 200),
                )
                .with_pointer(pointer),
            );
            None
        }
    }
}

/// The value with whole numbers written as floats (`3.0`, `1e3`: YAML and JSON allow
/// it) turned into integers, as JSON Schema's `integer` accepts them. Floats beyond
/// `u64` stay floats: the schema's `maximum` refuses them before they get here.
fn whole_numbers(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f)
                if n.is_f64()
                    && f.fract() == 0.0
                    && (0.0..18_446_744_073_709_551_616.0).contains(&f) =>
            {
                Value::from(f as u64)
            }
            Some(f)
                if n.is_f64()
                    && f.fract() == 0.0
                    && (-9_223_372_036_854_775_808.0..0.0).contains(&f) =>
            {
                Value::from(f as i64)
            }
            _ => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(whole_numbers).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (key.clone(), whole_numbers(value)))
                .collect(),
        ),
        _ => value.clone(),
    }
}

/// The place a schema problem points at, inside `node`.
fn locate(
    source: &Arc<SourceFile>,
    node: &Spanned<Node>,
    pointer: &str,
    target: &Target,
) -> Location {
    let found = super::yaml::follow(node, pointer);
    let key = match target {
        Target::Key(name) => found.value.value.get(name).map(|(key, _)| key),
        Target::Value => None,
    };
    match (key, found.key) {
        (Some(key), _) => super::yaml::location(source, &key.referenced),
        // A value the parser could not place (a kept non-list `leavers`): its key.
        (None, Some(key)) if found.value.referenced.line() == 0 => {
            super::yaml::location(source, &key.referenced)
        }
        _ => super::yaml::location(source, &found.value.referenced),
    }
}

impl Problem {
    fn into_diagnostic(self, location: Location, base: &str) -> Diagnostic {
        let pointer = match &self.target {
            Target::Value => format!("{base}{}", self.pointer),
            Target::Key(name) => {
                // A key of a megabyte is not repeated whole: the pointer names it
                // as the message does.
                let name = crate::text::quoted(name);
                format!(
                    "{base}{}/{}",
                    self.pointer,
                    super::diagnostic::pointer_token(&name)
                )
            }
        };
        let diagnostic = Diagnostic::error(self.code, location, self.message).with_pointer(pointer);
        match self.help {
            Some(help) => diagnostic.with_help(help),
            None => diagnostic,
        }
    }
}
