//! `offboard revert RUN_DIR`: the command line read into a [`Revert`] session, run.

use std::io::IsTerminal;

use crate::cli::RevertArgs;
use crate::exit;
use crate::revert::{Revert, default_run_dir, revert};

pub fn run(args: &RevertArgs) -> u8 {
    let Some((client, _)) = crate::setup::portal_client(
        args.access.portal.as_deref(),
        args.access.api_key_file.as_deref(),
        &[],
    ) else {
        return exit::INVALID;
    };
    let session = Revert {
        run_dir: args
            .run_dir
            .clone()
            .unwrap_or_else(|| default_run_dir(&args.source)),
        source: args.source.clone(),
        client,
        leavers: args.leaver.clone(),
        confirm: !args.yes,
        can_ask: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
        force: args.force,
        only_failed: args.only_failed,
        concurrency: args.pacing.concurrency(),
        pacer: args.pacing.pacer(),
        terminal: std::io::stderr().is_terminal(),
    };
    let Some(runtime) = crate::setup::runtime(true) else {
        return exit::FAILED;
    };
    runtime.block_on(revert(session))
}
