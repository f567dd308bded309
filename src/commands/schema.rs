//! `offboard schema`: print a JSON Schema.

use std::io::Write;

use crate::cli::{SchemaArgs, SchemaName};
use crate::exit;
use crate::manifest;

pub fn run(args: &SchemaArgs) -> u8 {
    let text = match args.name {
        SchemaName::Manifest => manifest::manifest_schema_text(),
        SchemaName::Plan => crate::plan::plan_schema_text(),
        SchemaName::Report => crate::report::run::report_schema_text(),
        SchemaName::SavedPlan => crate::plan::saved_plan_schema_text(),
    };
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => exit::SUCCESS,
        // A closed pipe (`offboard schema | head`) is not worth a message.
        Err(_) => exit::FAILED,
    }
}
