//! The commands: each reads its inputs, calls the library, and writes its output.

pub mod schema;
pub mod validate;

use crate::cli::{Cli, Command};

/// Runs a parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Schema(args) => schema::run(&args),
    }
}
