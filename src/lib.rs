//! `offboard`: offboard leavers in bulk on an ONLYOFFICE DocSpace portal.
//!
//! The binary (`src/main.rs`) only parses the command line and exits with what
//! [`commands::run`] returns. See ARCHITECTURE.md for the map of the modules.

// Diagnostics are the error type of manifest checking: built once per problem, never
// in a hot path, so their size does not matter more than their readability.
#![allow(clippy::result_large_err)]

/// `eprintln!` for lines that may quote an input (the manifest, the portal's names and
/// messages, the command line): control characters escaped (`crate::text`).
macro_rules! say {
    ($($arg:tt)*) => {
        eprintln!("{}", $crate::text::visible(&format!($($arg)*)))
    };
}

pub mod cli;
pub mod color;
pub mod commands;
pub mod docspace;
pub mod executor;
pub mod exit;
pub mod input;
pub mod journal;
pub mod manifest;
pub mod observe;
pub mod plan;
pub mod report;
pub mod revert;
pub mod run_dir;
pub mod session;
pub mod settings;
pub mod setup;
pub mod stops;
pub mod text;
