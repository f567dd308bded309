//! `offboard completions SHELL`: print the shell's completion script.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::exit;

pub fn run(args: &CompletionsArgs) -> u8 {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "offboard", &mut script);
    match std::io::stdout().lock().write_all(&script) {
        Ok(()) => exit::SUCCESS,
        // A closed pipe is not worth a message.
        Err(_) => exit::FAILED,
    }
}
