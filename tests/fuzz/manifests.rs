//! The manifest target: bytes → `manifest::decode` → `manifest::check` (YAML, JSON
//! read as YAML, CSV, and the CSV a YAML manifest names in `leavers_csv`) → the
//! renderers `offboard validate` prints with. Besides "no panic", each input is held
//! to properties every caller relies on:
//!
//! - every diagnostic names an input file, and its span lies inside that file's text
//!   on character boundaries, its line and column inside the text;
//! - a manifest comes back exactly when there is no error;
//! - an accepted manifest keeps the promises of `checks.rs` (distinct users and
//!   workspaces, nobody protected or their own archive owner, `reassign` with
//!   `disable`, steps in run order) and reads back the same when written out as a
//!   JSON manifest: the formats agree;
//! - checking is deterministic (same diagnostics twice);
//! - the renderers do not panic, the JSON is one array of every diagnostic, a GitHub
//!   command is one line, and no output shows a key-shaped value.

use std::path::Path;
use std::sync::Arc;

use offboard::manifest::{
    self, Checked, Diagnostic, Format, Location, Manifest, SourceFile, Step, UserRef,
};
use offboard::report::diagnostics as render;

use crate::driver::{Case, hash, mix};
use crate::mutate::{self, Dictionary};

/// A manifest input.
#[derive(Clone, Debug)]
pub struct ManifestCase {
    pub kind: Kind,
    pub bytes: Vec<u8>,
    /// What reading the file `leavers_csv` names gives; `None`: it cannot be read.
    pub csv: Option<Vec<u8>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Yaml,
    Json,
    Csv,
}

impl Kind {
    /// By extension, as `offboard validate` decides (`.json` is read as YAML).
    pub fn of_path(path: &Path) -> Option<Kind> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "yaml" | "yml" => Some(Kind::Yaml),
            "json" => Some(Kind::Json),
            "csv" => Some(Kind::Csv),
            _ => None,
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Kind::Yaml => "yaml",
            Kind::Json => "json",
            Kind::Csv => "csv",
        }
    }

    fn dictionary(self) -> Dictionary {
        match self {
            Kind::Yaml => mutate::YAML,
            Kind::Json => mutate::JSON,
            Kind::Csv => mutate::CSV,
        }
    }
}

impl Case for ManifestCase {
    fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn with_bytes(&self, bytes: Vec<u8>) -> Self {
        Self {
            bytes,
            ..self.clone()
        }
    }

    fn kind(&self) -> &'static str {
        self.kind.extension()
    }

    fn file(&self) -> (Vec<u8>, &'static str) {
        (self.bytes.clone(), self.kind.extension())
    }

    /// The CSV file, under the name the manifest gives it.
    fn companions(&self) -> Vec<(String, Vec<u8>)> {
        let (Some(csv), true) = (&self.csv, self.kind != Kind::Csv) else {
            return Vec::new();
        };
        let Ok(source) = manifest::decode("m", self.bytes.clone()) else {
            return Vec::new();
        };
        let mut named = None;
        let _ = crate::driver::catch(|| {
            manifest::check(source, Format::Yaml, &mut |path: &str| {
                named = Some(path.to_owned());
                Err(not_found())
            })
        });
        named
            .map(|name| vec![(name, csv.clone())])
            .unwrap_or_default()
    }
}

fn not_found() -> Diagnostic {
    Diagnostic::error(
        "unreadable",
        Location::file(&SourceFile::new("", "")),
        "cannot read the file: no such file",
    )
}

/// A new input from `base`: its bytes mutated (rarely read as another format), and
/// for YAML and JSON, the CSV behind `leavers_csv` drawn from the pool's CSV inputs.
pub fn mutate(rng: &mut fastrand::Rng, base: &ManifestCase, pool: &[ManifestCase]) -> ManifestCase {
    let others: Vec<&[u8]> = (0..4)
        .map(|_| pool[rng.usize(..pool.len())].bytes.as_slice())
        .collect();
    let kind = if rng.u8(..32) == 0 {
        *rng.choice(&[Kind::Yaml, Kind::Json, Kind::Csv])
            .expect("kinds")
    } else {
        base.kind
    };
    let bytes = mutate::mutate(rng, &base.bytes, &others, kind.dictionary());
    let csv = match kind {
        Kind::Csv => None,
        _ if rng.u8(..8) == 0 => None,
        _ => {
            let csvs: Vec<&ManifestCase> = pool.iter().filter(|c| c.kind == Kind::Csv).collect();
            let chosen = csvs
                .get(rng.usize(..csvs.len().max(1)))
                .map(|c| c.bytes.clone());
            chosen.map(|csv| {
                if rng.bool() {
                    mutate::mutate(rng, &csv, &others, mutate::CSV)
                } else {
                    csv
                }
            })
        }
    };
    ManifestCase { kind, bytes, csv }
}

/// Runs one input through decoding, checking and rendering, asserting the properties
/// above. Returns a hash of what happened (which checks spoke, whether it passed).
pub fn run(case: &ManifestCase) -> u64 {
    let csv_folder = "fuzz";
    let csv = case.csv.clone();
    run_with(case, &mut |path: &str| match &csv {
        Some(bytes) => manifest::decode(&format!("{csv_folder}/{path}"), bytes.clone()),
        None => Err(not_found()),
    })
}

/// Replays a file of `tests/fuzz/regressions/` (or a seed): the CSV a YAML file names
/// is read next to it.
pub fn run_file(path: &Path) -> u64 {
    let kind = Kind::of_path(path).expect("a manifest extension");
    let bytes = std::fs::read(path).expect("read a replayed file");
    let folder = path.parent().expect("a folder").to_path_buf();
    let case = ManifestCase {
        kind,
        bytes,
        csv: None,
    };
    run_with(&case, &mut |relative: &str| {
        let at = folder.join(relative);
        match std::fs::read(&at) {
            Ok(bytes) => manifest::decode(&at.display().to_string(), bytes),
            Err(_) => Err(not_found()),
        }
    })
}

fn run_with(
    case: &ManifestCase,
    read: &mut dyn FnMut(&str) -> Result<Arc<SourceFile>, Diagnostic>,
) -> u64 {
    let name = format!("fuzz.{}", case.kind.extension());
    let mut behaviour = mix(0, case.kind.extension());
    let without_bom = case
        .bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&case.bytes);
    let source = match manifest::decode(&name, case.bytes.clone()) {
        Ok(source) => {
            assert_eq!(
                source.text.as_bytes(),
                without_bom,
                "decode changed the text"
            );
            source
        }
        Err(diagnostic) => {
            assert!(
                std::str::from_utf8(without_bom).is_err(),
                "valid UTF-8 refused: {diagnostic:?}"
            );
            assert_eq!(diagnostic.code, "encoding");
            check_diagnostic(&diagnostic, &[&name]);
            render_all(std::slice::from_ref(&diagnostic));
            return mix(behaviour, "encoding");
        }
    };

    let mut csv_names: Vec<String> = Vec::new();
    let mut read_csv = |path: &str| {
        assert_relative_inside(path);
        let result = read(path);
        match &result {
            Ok(csv) => csv_names.push(csv.name.clone()),
            // A problem with a place (bad UTF-8) stays in the CSV file; one without
            // is moved to the manifest's `leavers_csv`.
            Err(problem) if problem.location.span.is_some() => {
                csv_names.push(problem.location.source.name.clone());
            }
            Err(_) => {}
        }
        result
    };
    // The format as `offboard validate` picks it: by the file's extension.
    let format = Format::of_path(Path::new(&name));
    let checked = manifest::check(Arc::clone(&source), format, &mut read_csv);
    let mut names: Vec<&str> = vec![&name];
    names.extend(csv_names.iter().map(String::as_str));
    let mut codes_seen = std::collections::BTreeSet::new();
    for diagnostic in &checked.diagnostics {
        check_diagnostic(diagnostic, &names);
        assert!(
            !is_type_drift(diagnostic),
            "the schema accepted a value its Rust type refuses: {} at {:?} ({})",
            diagnostic.message,
            diagnostic.location.place(),
            diagnostic.pointer
        );
        codes_seen.insert(diagnostic.code);
    }
    for code in codes_seen {
        behaviour = mix(behaviour, code);
    }
    let failed = checked.diagnostics.iter().any(Diagnostic::is_error);
    assert_eq!(
        checked.manifest.is_some(),
        !failed,
        "a manifest must come back exactly when there is no error: {:?}",
        codes(&checked)
    );
    render_all(&checked.diagnostics);

    // Checking is deterministic: the same input gives the same diagnostics.
    if checked.manifest.is_some() || hash(&case.bytes).is_multiple_of(4) {
        let again = manifest::check(
            SourceFile::new(&name, source.text.clone()),
            format,
            &mut |path: &str| read(path),
        );
        assert_eq!(
            described(&checked),
            described(&again),
            "checking twice gave different diagnostics"
        );
    }

    if let Some(manifest) = &checked.manifest {
        behaviour = mix(behaviour, "accepted");
        behaviour = mix(behaviour, &manifest.leavers.len().min(4).to_string());
        check_accepted(manifest, &names);
        round_trip(manifest);
    }
    behaviour
}

/// `check` reads a value the schema accepted into its Rust type (`typed` in
/// `manifest/mod.rs`); when that fails, the schema and the types disagree, and the
/// problem is reported with code `schema` and serde's message, at the whole entry.
/// The schema's own messages under that code name the field first (`` `workspace`: ``,
/// `item 2 of …`, `manifest: …`).
fn is_type_drift(diagnostic: &Diagnostic) -> bool {
    diagnostic.code == "schema"
        && !["`", "item ", "manifest: "]
            .iter()
            .any(|prefix| diagnostic.message.starts_with(prefix))
}

/// A `leavers_csv` path reaches the reader only when it is relative and stays inside
/// the manifest's folder.
fn assert_relative_inside(path: &str) {
    assert!(
        !path.starts_with(['/', '\\']) && !Path::new(path).is_absolute(),
        "an absolute leavers_csv path reached the reader: {path:?}"
    );
    let mut depth = 0i32;
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => depth -= 1,
            _ => depth += 1,
        }
        assert!(
            depth >= 0,
            "a leavers_csv path leaving the folder reached the reader: {path:?}"
        );
    }
}

fn codes(checked: &Checked) -> Vec<&'static str> {
    checked.diagnostics.iter().map(|d| d.code).collect()
}

fn described(checked: &Checked) -> Vec<String> {
    checked
        .diagnostics
        .iter()
        .map(|d| {
            format!(
                "{} {:?} {:?} {} {} {:?}",
                d.code,
                d.severity,
                d.location.span,
                d.pointer,
                d.message,
                d.related.as_ref().map(|r| r.location.span)
            )
        })
        .collect()
}

/// A diagnostic names one of the input files, and its places lie inside that file.
fn check_diagnostic(diagnostic: &Diagnostic, names: &[&str]) {
    let what = format!("{} ({})", diagnostic.code, diagnostic.message);
    assert!(
        !diagnostic.code.is_empty()
            && diagnostic
                .code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
        "a code is kebab-case: {what}"
    );
    assert!(
        !diagnostic.message.trim().is_empty(),
        "a message says something: {what}"
    );
    assert!(
        diagnostic.pointer.is_empty() || diagnostic.pointer.starts_with('/'),
        "a pointer is a JSON pointer: {:?} in {what}",
        diagnostic.pointer
    );
    check_location(&diagnostic.location, names, &what);
    if let Some(related) = &diagnostic.related {
        check_location(
            &related.location,
            names,
            &format!("the related place of {what}"),
        );
    }
}

fn check_location(location: &Location, names: &[&str], what: &str) {
    let source = &location.source;
    assert!(
        names.contains(&source.name.as_str()),
        "{what} names {:?}, not one of the inputs {names:?}",
        source.name
    );
    let Some(span) = location.span else { return };
    let text = &source.text;
    let end = span.offset.checked_add(span.len).expect("a span's end");
    assert!(
        end <= text.len() && text.is_char_boundary(span.offset) && text.is_char_boundary(end),
        "{what}: span {span:?} is not inside the text ({} bytes) on character boundaries",
        text.len()
    );
    let place = location.place().expect("a span has a place");
    let lines: Vec<&str> = text.split('\n').collect();
    assert!(
        (1..=lines.len()).contains(&place.line),
        "{what}: line {} of {}",
        place.line,
        lines.len()
    );
    let characters = lines[place.line - 1].chars().count();
    assert!(
        (1..=characters + 1).contains(&place.column),
        "{what}: column {} on a line of {characters} characters",
        place.column
    );
    // The place is the span's start, counted the other way round.
    assert_eq!(
        source.offset_of(place.line, place.column),
        span.offset,
        "{what}: line {} column {} does not lead back to offset {}",
        place.line,
        place.column,
        span.offset
    );
}

/// What `offboard validate` prints, for every diagnostic (the human form for the first
/// few: it is the slow one, and the command shows at most 100).
fn render_all(diagnostics: &[Diagnostic]) {
    for diagnostic in diagnostics.iter().take(3) {
        let text = render::human(diagnostic, render::Style::plain());
        assert!(!text.trim().is_empty(), "an empty snippet");
        assert!(
            !offboard::settings::looks_like_key(&text),
            "a key shown: {text}"
        );
    }
    let json = render::json(diagnostics);
    assert!(
        !offboard::settings::looks_like_key(&json),
        "a key shown: {json}"
    );
    let items: Vec<serde_json::Value> =
        serde_json::from_str(&json).expect("the JSON output parses");
    assert_eq!(
        items.len(),
        diagnostics.len(),
        "the JSON output lists every diagnostic"
    );
    for (item, diagnostic) in items.iter().zip(diagnostics) {
        let place = diagnostic.location.place();
        assert_eq!(item["line"].as_u64(), place.map(|p| p.line as u64));
        assert_eq!(item["column"].as_u64(), place.map(|p| p.column as u64));
    }
    for diagnostic in diagnostics {
        let line = render::github(diagnostic);
        assert!(
            line.ends_with('\n') && line.matches('\n').count() == 1 && !line.contains('\r'),
            "a workflow command is one line: {line:?}"
        );
        assert!(
            !offboard::settings::looks_like_key(&line),
            "a key shown: {line}"
        );
    }
}

/// The promises of an accepted manifest.
fn check_accepted(manifest: &Manifest, names: &[&str]) {
    assert!(
        !manifest.leavers.is_empty(),
        "an accepted manifest has leavers"
    );
    let mut users = std::collections::HashSet::new();
    let mut workspaces = std::collections::HashSet::new();
    let protected: Vec<String> = manifest.protected.iter().map(|u| u.key()).collect();
    let keys: std::collections::HashSet<String> =
        manifest.leavers.iter().map(|l| l.user.key()).collect();
    let mut last_index = None;
    for leaver in &manifest.leavers {
        let who = format!("leaver {} ({})", leaver.index, leaver.user);
        assert!(last_index < Some(leaver.index), "{who}: indexes increase");
        last_index = Some(leaver.index);
        assert!(users.insert(leaver.user.key()), "{who} is listed twice");
        assert!(
            workspaces.insert(leaver.workspace),
            "{who}: shared workspace"
        );
        assert!(
            !protected.contains(&leaver.user.key()),
            "{who} is protected"
        );
        assert_ne!(
            leaver.archive_owner.key(),
            leaver.user.key(),
            "{who} is their own archive owner"
        );
        assert!(
            !keys.contains(&leaver.archive_owner.key()),
            "{who}: the archive owner is a leaver"
        );
        assert_ne!(
            leaver.archive_folder,
            Some(leaver.workspace),
            "{who}: archived into itself"
        );
        assert!(
            !leaver.steps.contains(&Step::Reassign) || leaver.steps.contains(&Step::Disable),
            "{who}: reassign without disable"
        );
        assert!(
            leaver.steps.windows(2).all(|w| w[0] < w[1]),
            "{who}: steps in run order"
        );
        // The places of the user and the workspace show them as written.
        let user = written(&leaver.sites.user);
        assert!(
            user.as_ref().is_none_or(
                |text| UserRef::parse(text).is_some_and(|u| u.key() == leaver.user.key())
            ),
            "{who}: the user's place shows {user:?}"
        );
        let workspace = written(&leaver.sites.workspace);
        assert!(
            workspace
                .as_ref()
                // YAML also writes numbers as `0xf`, `1_000`, `3.0`: only digits compare.
                .filter(|text| text.bytes().all(|b| b.is_ascii_digit()))
                .is_none_or(|text| text.parse::<u64>() == Ok(leaver.workspace)),
            "{who}: the workspace's place shows {workspace:?}"
        );
        assert!(leaver.workspace >= 1, "{who}: workspace id");
        let sites = &leaver.sites;
        // In a CSV file the same places are named by the column the header gives them.
        for (field, location) in [("user", &sites.user), ("workspace", &sites.workspace)] {
            if let Some(cell) = location.cell() {
                assert!(
                    cell.column
                        .is_some_and(|name| name.eq_ignore_ascii_case(field)),
                    "{who}: the {field} cell is named {cell}"
                );
            }
        }
        for (field, location) in [
            ("entry", Some(&sites.entry)),
            ("user", Some(&sites.user)),
            ("workspace", Some(&sites.workspace)),
            (
                "archive_owner",
                sites.archive_owner.as_ref().map(|s| &s.location),
            ),
            (
                "archive_folder",
                sites.archive_folder.as_ref().map(|s| &s.location),
            ),
            ("steps", sites.steps.as_ref().map(|s| &s.location)),
            ("audit_days", sites.audit_days.as_ref().map(|s| &s.location)),
        ] {
            if let Some(location) = location {
                check_location(location, names, &format!("{who}: the place of {field}"));
            }
        }
    }
}

/// The value a place shows, when it is plainly written: a CSV cell (quotes taken
/// off, `""` read as `"`) or a one-line YAML plain or double-quoted scalar without
/// escapes. `None` for anything else (aliases, block scalars, escapes, tags).
fn written(location: &Location) -> Option<String> {
    let span = location.span?;
    let text = &location.source.text[span.offset..span.offset + span.len];
    if location.source.name.ends_with(".csv") {
        // Quoted only when the quote opens the field (a blank before it makes it text).
        let before = location.source.text[..span.offset].chars().next_back();
        return Some(if matches!(before, Some(' ' | '\t')) {
            text.trim().to_owned()
        } else {
            csv_cell(text).trim().to_owned()
        });
    }
    if text.contains(['\n', '\r', '\\', '\'', '*', '&', '!', '#']) {
        return None;
    }
    let text = text.trim_end();
    Some(
        match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            Some(quoted) => quoted.to_owned(),
            None => text.to_owned(),
        },
    )
}

/// A CSV field as the csv crate reads it: inside the opening quote `""` is `"` and a
/// lone `"` closes; whatever follows the closing quote is kept as written.
fn csv_cell(raw: &str) -> String {
    let Some(rest) = raw.strip_prefix('"') else {
        return raw.to_owned();
    };
    let mut out = String::with_capacity(rest.len());
    let mut chars = rest.chars().peekable();
    let mut quoted = true;
    while let Some(c) = chars.next() {
        if quoted && c == '"' {
            if chars.peek() == Some(&'"') {
                out.push('"');
                chars.next();
            } else {
                quoted = false;
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// An accepted manifest, written out as a JSON manifest with every setting resolved,
/// reads back as the same leavers.
fn round_trip(manifest: &Manifest) {
    let text = as_json_manifest(manifest);
    let checked = manifest::check(
        SourceFile::new("round-trip.json", text.clone()),
        Format::Yaml,
        &mut |_: &str| panic!("the written manifest names no CSV file"),
    );
    let errors: Vec<String> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {} at {:?}", d.code, d.message, d.location.place()))
        .collect();
    let again = checked.manifest.unwrap_or_else(|| {
        panic!("the accepted manifest, written as JSON, is refused: {errors:?}\n{text}")
    });
    assert_eq!(
        essence(manifest),
        essence(&again),
        "the manifest written as JSON reads back differently:\n{text}"
    );
}

fn essence(manifest: &Manifest) -> Vec<String> {
    let mut lines: Vec<String> = manifest
        .leavers
        .iter()
        .map(|l| {
            format!(
                "{} {} {} {:?} {:?} {} {:?} {:?} {:?} {} {:?} {:?}",
                l.index,
                l.user,
                l.workspace,
                l.confirm_workspace,
                l.archive_folder,
                l.archive_owner,
                l.hr_group,
                l.effective,
                l.steps,
                l.audit_days,
                l.ticket,
                l.note
            )
        })
        .collect();
    lines.extend(manifest.protected.iter().map(|p| format!("protected {p}")));
    lines
}

fn as_json_manifest(manifest: &Manifest) -> String {
    use serde_json::{Map, Value, json};
    let leavers: Vec<Value> = manifest
        .leavers
        .iter()
        .map(|l| {
            let mut entry = Map::new();
            entry.insert("user".into(), json!(l.user.to_string()));
            entry.insert("workspace".into(), json!(l.workspace));
            if let Some(title) = &l.confirm_workspace {
                entry.insert("confirm_workspace".into(), json!(title));
            }
            if let Some(folder) = l.archive_folder {
                entry.insert("archive_folder".into(), json!(folder));
            }
            entry.insert("archive_owner".into(), json!(l.archive_owner.to_string()));
            entry.insert("hr_group".into(), json!(l.hr_group));
            if let Some(date) = l.effective {
                entry.insert("effective".into(), json!(date.to_string()));
            }
            let steps: Vec<&str> = l.steps.iter().map(|s| s.as_str()).collect();
            entry.insert("steps".into(), json!(steps));
            if l.audit_days != manifest::DEFAULT_AUDIT_DAYS {
                entry.insert("audit_days".into(), json!(l.audit_days));
            }
            if let Some(ticket) = &l.ticket {
                entry.insert("ticket".into(), json!(ticket));
            }
            if let Some(note) = &l.note {
                entry.insert("note".into(), json!(note));
            }
            Value::Object(entry)
        })
        .collect();
    let protected: Vec<String> = manifest.protected.iter().map(ToString::to_string).collect();
    let mut document = json!({ "version": 1, "leavers": leavers });
    if !protected.is_empty() {
        document["protected"] = json!(protected);
    }
    yaml_safe(&serde_json::to_string_pretty(&document).expect("JSON"))
}

/// JSON a YAML parser reads the same: characters YAML does not allow unescaped (DEL,
/// C1 controls, U+FFFE, U+FFFF) written as `\u` escapes. serde_json only ever puts
/// such characters inside strings, where the escape means the same in both.
fn yaml_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '\u{7f}'..='\u{84}' | '\u{86}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            _ => out.push(c),
        }
    }
    out
}
