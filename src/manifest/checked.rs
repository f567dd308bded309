//! The checked manifest: every leaver complete, defaults applied, each field's place
//! in the source kept for diagnostics; and what checking a file gives back.

use super::diagnostic::{Diagnostic, Location};
use super::model::{Step, UserRef};

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
