//! Leaver manifests: YAML or CSV text in, one checked [`Manifest`] or diagnostics out.
//!
//! This module does no I/O: the caller hands it decoded text ([`decode`]) and a way to
//! read the CSV file a YAML manifest may point to. Checking runs in three layers, and
//! every problem of every layer is reported, each with its file, line, column and
//! field pointer:
//!
//! 1. syntax: YAML or CSV parsing (`yaml.rs`, `csv.rs`), spans kept (and in CSV, rows
//!    and columns: `table.rs`);
//! 2. schema: each leaver, and the document around them, against the JSON Schema
//!    generated from `model.rs` (`schema.rs`);
//! 3. meaning: defaults merged, then checks across leavers (`checks.rs`).
//!
//! A manifest with any error yields no [`Manifest`], so nothing downstream ever acts on
//! half of a file.

mod check;
mod checked;
mod checks;
mod csv;
mod defaults;
pub mod diagnostic;
mod load;
mod model;
mod schema;
mod table;
mod yaml;

pub use check::{ReadCsv, check, decode};
pub use checked::*;
pub use diagnostic::{Diagnostic, Location, Severity, SourceFile};
pub use load::load;
pub use model::{Step, UserRef};
pub use schema::{manifest_schema, manifest_schema_text, sorted_json_text};
pub use table::Cell;

#[cfg(test)]
mod tests;
