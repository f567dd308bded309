//! `offboard plan MANIFEST`: validate, run the key's pre-flight, read the portal with
//! as few requests as it takes (GETs only), classify every leaver and step, print.

use std::io::{IsTerminal, Write};

use crate::cli::PlanArgs;
use crate::executor::{Pacer, PacerConfig};
use crate::exit;
use crate::manifest::Diagnostic;
use crate::observe::{Depth, observe};
use crate::plan::{KIND, Outcome, Plan, SavedPlan, plan, relied_on};
use crate::report::plan as plan_report;

pub fn run(args: &PlanArgs) -> u8 {
    let error_code = |plain: u8| {
        if args.detailed_exitcode {
            exit::FAILED
        } else {
            plain
        }
    };
    let checked = crate::manifest::load(&args.manifest);
    let failed = checked.diagnostics.iter().any(Diagnostic::is_error);
    let _ = crate::report::diagnostics::print(&mut std::io::stderr().lock(), &checked.diagnostics);
    let Some(manifest) = checked.manifest.filter(|_| !failed) else {
        eprintln!(
            "error: {} is not a valid manifest; nothing was read from the portal",
            args.manifest.display()
        );
        return error_code(exit::INVALID);
    };
    let Some((client, protect)) = crate::setup::portal_client(
        args.access.portal.as_deref(),
        args.access.api_key_file.as_deref(),
        &args.protect,
    ) else {
        return error_code(exit::INVALID);
    };
    let Some(runtime) = crate::setup::runtime(false) else {
        return exit::FAILED;
    };
    let pacer = Pacer::new(&PacerConfig {
        per_minute: args.rate_limit_per_minute,
        ..PacerConfig::default()
    });
    let reads = observe(&client, &pacer, &manifest, protect, Depth::Plan);
    let terminal = std::io::stderr().is_terminal();
    let observed =
        match runtime.block_on(crate::report::progress::counting(reads, &pacer, terminal)) {
            Ok(observed) => observed,
            Err(err) => {
                say!("error: {err}");
                if let Some(hint) = err.hint() {
                    eprintln!("hint: {hint}");
                }
                return error_code(exit::PORTAL);
            }
        };
    let plan = plan(&manifest, &observed);
    if let Some(out) = &args.out {
        let saved = SavedPlan {
            kind: KIND.to_owned(),
            saved_at: crate::journal::now(),
            manifest: args.manifest.display().to_string(),
            manifest_sha256: crate::session::manifest_hash(&args.manifest, &manifest),
            relies_on: relied_on(&manifest, &observed),
            plan: plan.clone(),
        };
        let mut text = serde_json::to_string_pretty(&saved).expect("a plan is JSON");
        text.push('\n');
        if let Err(err) = crate::run_dir::write_atomically(out, text.as_bytes()) {
            say!("error: cannot save the plan to {}: {err}", out.display());
            return exit::FAILED;
        }
        say!(
            "plan saved to {}: `offboard apply {}` applies exactly this plan (within --max-plan-age, 24 hours by default)",
            out.display(),
            out.display()
        );
    }
    let text = match args.format {
        crate::cli::PlanFormat::Human => plan_report::human(&plan, crate::color::stdout()),
        crate::cli::PlanFormat::Json => plan_report::json(&plan),
        crate::cli::PlanFormat::Markdown => crate::report::markdown::plan(&plan),
    };
    if std::io::stdout().lock().write_all(text.as_bytes()).is_err() {
        return exit::FAILED;
    }
    exit_code(&plan, args.detailed_exitcode)
}

/// terraform's `-detailed-exitcode`: 0 nothing to do, 2 changes pending, 1 error.
/// Otherwise 0, or 2 when a leaver is invalid.
fn exit_code(plan: &Plan, detailed: bool) -> u8 {
    let invalid = plan.summary.invalid > 0;
    let changes = plan
        .leavers
        .iter()
        .any(|l| l.outcome == Outcome::WillChange);
    match (detailed, invalid, changes) {
        (true, true, _) => exit::FAILED,
        (true, false, true) => 2,
        (true, false, false) => exit::SUCCESS,
        (false, true, _) => exit::INVALID,
        (false, false, _) => exit::SUCCESS,
    }
}
