//! `offboard apply MANIFEST`: the command line read into an [`Apply`] session, run.

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::cli::ApplyArgs;
use crate::exit;
use crate::session::{Apply, apply_manifest, checked_manifest, default_run_dir, saved_plan};

pub fn run(args: &ApplyArgs) -> u8 {
    let saved = match saved_plan(&args.manifest, args.max_plan_age) {
        Ok(saved) => saved,
        Err(message) => {
            say!("error: {message}");
            return exit::INVALID;
        }
    };
    // A saved plan names its manifest, which may not have changed since.
    let manifest_path = saved
        .as_ref()
        .map_or_else(|| args.manifest.clone(), |s| PathBuf::from(&s.manifest));
    let Some((manifest, manifest_sha256)) = checked_manifest(&manifest_path) else {
        return exit::INVALID;
    };
    if let Some(saved) = &saved
        && saved.manifest_sha256 != manifest_sha256
    {
        say!(
            "error: {} changed since the plan {} was saved; nothing was sent",
            manifest_path.display(),
            args.manifest.display()
        );
        eprintln!("hint: make a new plan with `offboard plan --out` and review it");
        return exit::INVALID;
    }
    let Some((client, protect)) = crate::setup::portal_client(
        args.access.portal.as_deref(),
        args.access.api_key_file.as_deref(),
        &args.protect,
    ) else {
        return exit::INVALID;
    };
    let on_terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !args.yes && !on_terminal {
        eprintln!("error: apply changes the portal and there is no terminal to confirm on");
        eprintln!("hint: review `offboard plan` first, then pass --yes");
        return exit::INVALID;
    }
    let apply = Apply {
        run_dir: args
            .run_dir
            .clone()
            .unwrap_or_else(|| default_run_dir(&manifest_path)),
        manifest_path,
        manifest,
        manifest_sha256,
        client,
        protect,
        confirm: !args.yes,
        max_leavers: args.max_leavers,
        force: args.force,
        only_failed: args.only_failed,
        concurrency: args.pacing.concurrency(),
        pacer: args.pacing.pacer(),
        terminal: std::io::stderr().is_terminal(),
        saved,
    };
    let Some(runtime) = crate::setup::runtime(true) else {
        return exit::FAILED;
    };
    runtime.block_on(apply_manifest(apply))
}
