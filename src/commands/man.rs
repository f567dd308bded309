//! `offboard man`: print the man page (roff), or write a page per command into a
//! folder (`--out-dir`), where the main page's "offboard-plan(1)" can be found.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};
use crate::exit;

pub fn run(args: &ManArgs) -> u8 {
    // `offboard help` is no page of its own (clap_mangen's `generate_to` leaves it
    // out too).
    let command = Cli::command().disable_help_subcommand(true);
    if let Some(dir) = &args.out_dir {
        let written =
            std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(command, dir));
        return match written {
            Ok(()) => {
                say!("wrote the man pages to {}", dir.display());
                exit::SUCCESS
            }
            Err(err) => {
                say!(
                    "error: cannot write the man pages to {}: {err}",
                    dir.display()
                );
                exit::FAILED
            }
        };
    }
    let mut page = Vec::new();
    let rendered = clap_mangen::Man::new(command).render(&mut page);
    match rendered.and_then(|()| std::io::stdout().lock().write_all(&page)) {
        Ok(()) => exit::SUCCESS,
        // Rendering into memory does not fail; a closed pipe is not worth a message.
        Err(_) => exit::FAILED,
    }
}
