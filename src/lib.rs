//! `offboard`: offboard leavers in bulk on an ONLYOFFICE DocSpace portal.
//!
//! The binary (`src/main.rs`) only parses the command line and exits with what
//! [`commands::run`] returns. See ARCHITECTURE.md for the map of the modules.

// Diagnostics are the error type of manifest checking: built once per problem, never
// in a hot path, so their size does not matter more than their readability.
#![allow(clippy::result_large_err)]

pub mod cli;
pub mod commands;
pub mod docspace;
pub mod executor;
pub mod exit;
pub mod input;
pub mod journal;
pub mod manifest;
pub mod plan;
pub mod report;
pub mod run_dir;
pub mod settings;
pub mod text;
