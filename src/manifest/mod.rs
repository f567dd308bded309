//! Leaver manifests: YAML or CSV text in, one checked [`Manifest`] or diagnostics out.
//!
//! This module does no I/O: the caller hands it decoded text ([`decode`]) and a way to
//! read the CSV file a YAML manifest may point to. Checking runs in three layers, and
//! every problem of every layer is reported, each with its file, line, column and
//! field pointer:
//!
//! 1. syntax: YAML or CSV parsing (`yaml.rs`, `csv.rs`), spans kept;
//! 2. schema: each leaver, and the document around them, against the JSON Schema
//!    generated from `model.rs` (`schema.rs`);
//! 3. meaning: defaults merged, then checks across leavers (`checks.rs`).
//!
//! A manifest with any error yields no [`Manifest`], so nothing downstream ever acts on
//! half of a file.

mod checks;
mod csv;
pub mod diagnostic;
mod load;
mod model;
mod schema;
mod yaml;

use std::sync::Arc;

use serde_saphyr::Spanned;

pub use diagnostic::{Diagnostic, Location, Severity, SourceFile};
pub use load::load;
pub use model::{Step, UserRef};
pub use schema::{manifest_schema, manifest_schema_text, sorted_json_text};

use model::{Defaults, LeaverEntry};
use schema::{Problem, Scope, Target};
use yaml::{Node, TopLevel};

/// The audit window when neither the leaver nor the defaults set one.
pub const DEFAULT_AUDIT_DAYS: u16 = 30;

/// A checked manifest: every leaver complete, defaults applied.
#[derive(Debug)]
pub struct Manifest {
    pub leavers: Vec<Leaver>,
    /// Accounts that must never be offboarded.
    pub protected: Vec<UserRef>,
}

/// One leaver with every setting resolved.
#[derive(Debug, Clone)]
pub struct Leaver {
    /// Position among the manifest's leavers (0-based).
    pub index: usize,
    pub user: UserRef,
    /// A room id or a folder id.
    pub workspace: u64,
    /// The title a workspace that is not the leaver's own must have to be offboarded.
    pub confirm_workspace: Option<String>,
    pub archive_folder: Option<u64>,
    pub archive_owner: UserRef,
    pub hr_group: Option<String>,
    pub effective: Option<jiff::civil::Date>,
    /// The steps to run, in run order, each once.
    pub steps: Vec<Step>,
    pub audit_days: u16,
    pub ticket: Option<String>,
    pub note: Option<String>,
    /// Where each setting was written, for diagnostics.
    pub sites: LeaverSites,
}

/// Where a leaver's settings stand in the source files.
#[derive(Debug, Clone)]
pub struct LeaverSites {
    pub entry: Location,
    pub user: Location,
    pub workspace: Location,
    pub archive_owner: Option<Site>,
    pub archive_folder: Option<Site>,
    pub steps: Option<Site>,
    pub audit_days: Option<Site>,
}

/// The place of a setting and whether it came from `defaults`.
#[derive(Debug, Clone)]
pub struct Site {
    pub location: Location,
    pub inherited: bool,
}

impl Leaver {
    /// The JSON pointer of one of this leaver's fields, or of the default it inherited.
    pub fn pointer(&self, field: &str, inherited: bool) -> String {
        if inherited {
            format!("/defaults/{field}")
        } else {
            format!("/leavers/{}/{field}", self.index)
        }
    }
}

/// The syntax a manifest is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML, or JSON (which YAML reads).
    Yaml,
    /// A header row, then one leaver per row.
    Csv,
}

impl Format {
    /// The format of a file, by its extension (`.csv` is CSV, anything else YAML).
    pub fn of_path(path: &std::path::Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("csv") => Format::Csv,
            _ => Format::Yaml,
        }
    }
}

/// The result of checking one manifest.
#[derive(Debug)]
pub struct Checked {
    /// Present when there was no error (warnings allowed).
    pub manifest: Option<Manifest>,
    /// Every problem found, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

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

/// A leaver as written, with the places of its fields.
struct Entry {
    index: usize,
    entry: LeaverEntry,
    sites: EntrySites,
}

struct EntrySites {
    entry: Location,
    user: Location,
    workspace: Location,
    archive_owner: Option<Location>,
    archive_folder: Option<Location>,
    steps: Option<Location>,
    audit_days: Option<Location>,
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
    checks::across_leavers(&leavers, &[], &placeholder, diagnostics);
    Some(Manifest {
        leavers,
        protected: Vec::new(),
    })
}

fn csv_entries(source: &Arc<SourceFile>, diagnostics: &mut Vec<Diagnostic>) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut row_diagnostics = Vec::new();
    let diagnostics_of_rows = &mut row_diagnostics;
    let mut on_row = |index: usize, row: csv::Row| {
        let diagnostics = &mut *diagnostics_of_rows;
        let base = format!("/leavers/{index}");
        let problems = schema::problems(Scope::Leaver, &row.value, &base);
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
    csv::parse(source, diagnostics, &mut on_row);
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
    let parsed = yaml::parse(source, &mut |index, node| {
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
                yaml::location(source, &key.referenced),
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
    for problem in schema::problems(Scope::Document, &document, "") {
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
        Some((key, _)) => yaml::location(source, &key.referenced),
        None => root_location(),
    };
    if let (Some(path), Some((_, value))) = (csv_file, csv_entry) {
        let place = yaml::location(source, &value.referenced);
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
    checks::across_leavers(&leavers, &protected_sites, &leavers_place, diagnostics);
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
    let problems = schema::problems(Scope::Leaver, &value, &base);
    if !problems.is_empty() {
        for problem in problems {
            let location = locate(source, node, &problem.pointer, &problem.target);
            diagnostics.push(problem.into_diagnostic(location, &base));
        }
        return None;
    }
    let entry_location = yaml::location(source, &node.referenced);
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
    let found = yaml::follow(node, pointer);
    let key = match target {
        Target::Key(name) => found.value.value.get(name).map(|(key, _)| key),
        Target::Value => None,
    };
    match (key, found.key) {
        (Some(key), _) => yaml::location(source, &key.referenced),
        // A value the parser could not place (a kept non-list `leavers`): its key.
        (None, Some(key)) if found.value.referenced.line() == 0 => {
            yaml::location(source, &key.referenced)
        }
        _ => yaml::location(source, &found.value.referenced),
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
                    diagnostic::pointer_token(&name)
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

/// Where the defaults stand, for leavers that inherit them.
#[derive(Default)]
struct DefaultSites {
    archive_owner: Option<Location>,
    archive_folder: Option<Location>,
    steps: Option<Location>,
    audit_days: Option<Location>,
}

impl DefaultSites {
    fn from_node(
        source: &Arc<SourceFile>,
        defaults: Option<&(Spanned<String>, Spanned<Node>)>,
    ) -> Self {
        let Some((_, node)) = defaults else {
            return Self::default();
        };
        let at = |field: &str| {
            node.value
                .get(field)
                .map(|(_, value)| yaml::location(source, &value.referenced))
        };
        Self {
            archive_owner: at("archive_owner"),
            archive_folder: at("archive_folder"),
            steps: at("steps"),
            audit_days: at("audit_days"),
        }
    }
}

/// Applies the defaults to each entry. A leaver left without an archive owner is an
/// error here; a date the calendar does not have is another. With `defaults` unknown
/// (they were invalid) a leaver that needs them is left out, without a second error.
fn resolve(
    entries: Vec<Entry>,
    defaults: Option<&Defaults>,
    default_sites: &DefaultSites,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Leaver> {
    let site = |own: Option<Location>, inherited: &Option<Location>| {
        own.map(|location| Site {
            location,
            inherited: false,
        })
        .or_else(|| {
            inherited.clone().map(|location| Site {
                location,
                inherited: true,
            })
        })
    };
    let defaults_known = defaults.is_some();
    let empty = Defaults::default();
    let defaults = defaults.unwrap_or(&empty);
    let mut leavers = Vec::with_capacity(entries.len());
    for Entry {
        index,
        entry,
        sites,
    } in entries
    {
        let pointer = format!("/leavers/{index}");
        let Some(archive_owner) = entry
            .archive_owner
            .or_else(|| defaults.archive_owner.clone())
        else {
            if !defaults_known {
                continue;
            }
            diagnostics.push(
                Diagnostic::error(
                    "missing-archive-owner",
                    sites.entry.clone(),
                    format!(
                        "leaver `{}` has no `archive_owner`",
                        crate::text::quoted(&entry.user.to_string())
                    ),
                )
                .with_pointer(pointer)
                .with_help("set `archive_owner` on the leaver, or once in `defaults`"),
            );
            continue;
        };
        let effective = match entry.effective.as_ref().or(defaults.effective.as_ref()) {
            None => None,
            Some(text) => match text.parse::<jiff::civil::Date>() {
                Ok(date) => Some(date),
                Err(_) => {
                    diagnostics.push(
                        Diagnostic::error(
                            "invalid-format",
                            sites.entry.clone(),
                            format!(
                                "`effective` must be a date written YYYY-MM-DD, found \"{}\"",
                                crate::text::quoted(text)
                            ),
                        )
                        .with_pointer(format!("{pointer}/effective")),
                    );
                    continue;
                }
            },
        };
        let mut steps = entry
            .steps
            .or_else(|| defaults.steps.clone())
            .unwrap_or_else(Step::default_steps);
        steps.sort();
        steps.dedup();
        leavers.push(Leaver {
            index,
            user: entry.user,
            workspace: entry.workspace,
            confirm_workspace: entry.confirm_workspace,
            archive_folder: entry.archive_folder.or(defaults.archive_folder),
            archive_owner,
            hr_group: match entry.hr_group {
                Some(own) => own,
                None => defaults.hr_group.clone().flatten(),
            },
            effective,
            steps,
            audit_days: entry
                .audit_days
                .or(defaults.audit_days)
                .unwrap_or(DEFAULT_AUDIT_DAYS),
            ticket: entry.ticket.or_else(|| defaults.ticket.clone()),
            note: entry.note.or_else(|| defaults.note.clone()),
            sites: LeaverSites {
                entry: sites.entry,
                user: sites.user,
                workspace: sites.workspace,
                archive_owner: site(sites.archive_owner, &default_sites.archive_owner),
                archive_folder: site(sites.archive_folder, &default_sites.archive_folder),
                steps: site(sites.steps, &default_sites.steps),
                audit_days: site(sites.audit_days, &default_sites.audit_days),
            },
        });
    }
    leavers
}

#[cfg(test)]
mod tests {
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
}
