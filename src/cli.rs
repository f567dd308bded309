//! The command line: clap types only. What the commands do lives in `commands`.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::report::diagnostics::DiagnosticFormat;

/// Offboard leavers in bulk on an ONLYOFFICE DocSpace portal.
#[derive(Debug, Parser)]
#[command(name = "offboard", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests offline against the schema and across leavers.
    Validate(ValidateArgs),
    /// Print a JSON Schema (the manifest's by default).
    Schema(SchemaArgs),
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Manifest files: YAML (or JSON) with `version: 1`, or CSV with a header row.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// How to print the problems found.
    #[arg(long, value_enum, default_value_t = DiagnosticFormat::Human)]
    pub format: DiagnosticFormat,
}

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Which schema to print.
    #[arg(value_enum, default_value_t = SchemaName::Manifest)]
    pub name: SchemaName,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaName {
    /// The leaver manifest (`schemas/manifest.schema.json`).
    Manifest,
}
