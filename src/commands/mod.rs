//! The commands: each reads its inputs, calls the library, and writes its output.

pub mod apply;
pub mod completions;
#[cfg(feature = "sim")]
pub mod demo;
pub mod man;
pub mod plan;
pub mod report;
pub mod revert;
pub mod schema;
#[cfg(feature = "sim")]
pub mod sim;
pub mod validate;

use crate::cli::{Cli, Command};

/// Runs a parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> u8 {
    crate::input::set_max_mib(cli.max_input_mib);
    crate::color::set(cli.color);
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Apply(args) => apply::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Revert(args) => revert::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Completions(args) => completions::run(&args),
        Command::Man(args) => man::run(&args),
        #[cfg(feature = "sim")]
        Command::Demo(args) => demo::run(&args),
        #[cfg(feature = "sim")]
        Command::Sim(args) => sim::run(&args),
    }
}
