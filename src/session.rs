//! One `apply` session, for `offboard apply` and `offboard demo`: validate, read the
//! portal, show what will happen and confirm, open the journal, lock out every due
//! leaver and run their pipelines (Ctrl-C, SIGTERM and a silent portal stop it the
//! same way), then write the reports.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::docspace::Client;
use crate::executor::{Engine, Past, Settings, execute};
use crate::executor::{Pacer, PacerConfig};
use crate::exit;
use crate::journal::{FORMAT, Journal, Record, Replay, RunHeader, now, read_only};
use crate::manifest::{Diagnostic, Manifest, UserRef};
use crate::observe::{Depth, PlanError, observe};
use crate::plan::{Outcome, SavedPlan, plan};
use crate::report::run as run_report;
use crate::run_dir::hex;
use crate::stops::Stops;

/// Everything `apply` needs once the command line is read.
pub struct Apply {
    pub manifest_path: PathBuf,
    pub manifest: Manifest,
    pub manifest_sha256: String,
    pub client: Client,
    pub protect: Vec<UserRef>,
    pub run_dir: PathBuf,
    pub confirm: bool,
    pub max_leavers: usize,
    pub force: bool,
    pub only_failed: bool,
    pub concurrency: usize,
    pub pacer: PacerConfig,
    /// Draw a progress bar (stderr is a terminal).
    pub terminal: bool,
    /// `apply PLAN`: the saved plan to apply exactly.
    pub saved: Option<crate::plan::SavedPlan>,
}

/// The saved plan at `path`, if the file is one (`None`: a manifest). Refused when
/// older than `max_age_hours` or when it cannot be read as a saved plan.
pub fn saved_plan(path: &Path, max_age_hours: u64) -> Result<Option<SavedPlan>, String> {
    let bytes = crate::input::read_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Ok(None);
    };
    if value["kind"] != crate::plan::KIND {
        return Ok(None);
    }
    let saved: SavedPlan = serde_json::from_value(value).map_err(|e| {
        format!(
            "{} is not a plan this version can apply: {e}",
            path.display()
        )
    })?;
    let saved_at: jiff::Timestamp = saved
        .saved_at
        .parse()
        .map_err(|e| format!("{}: `saved_at` is not a time: {e}", path.display()))?;
    let age = jiff::Timestamp::now().duration_since(saved_at);
    let limit = jiff::SignedDuration::from_hours(max_age_hours as i64);
    if age > limit {
        return Err(format!(
            "the plan {} was saved {} hours ago, more than --max-plan-age {max_age_hours}; make a new plan with `offboard plan --out`",
            path.display(),
            age.as_hours()
        ));
    }
    Ok(Some(saved))
}

/// Validates the manifest (printing its diagnostics); the manifest and its hash.
pub fn checked_manifest(path: &Path) -> Option<(Manifest, String)> {
    let checked = crate::manifest::load(path);
    let failed = checked.diagnostics.iter().any(Diagnostic::is_error);
    let _ = crate::report::diagnostics::print(&mut std::io::stderr().lock(), &checked.diagnostics);
    let Some(manifest) = checked.manifest.filter(|_| !failed) else {
        eprintln!(
            "error: {} is not a valid manifest; nothing was sent to the portal",
            path.display()
        );
        return None;
    };
    let hash = manifest_hash(path, &manifest);
    Some((manifest, hash))
}

/// The sha256 of the manifest file and of the leavers it resolves to (so an edit
/// of a `leavers_csv` file it points to counts as another manifest too).
pub fn manifest_hash(path: &Path, manifest: &Manifest) -> String {
    let mut hasher = Sha256::new();
    hasher.update(std::fs::read(path).unwrap_or_default());
    for l in &manifest.leavers {
        hasher.update(
            format!(
                "\n{}|{}|{:?}|{:?}|{}|{:?}|{:?}|{:?}|{}|{:?}",
                l.user.key(),
                l.workspace,
                l.confirm_workspace,
                l.archive_folder,
                l.archive_owner.key(),
                l.hr_group,
                l.effective,
                l.steps,
                l.audit_days,
                l.ticket
            )
            .as_bytes(),
        );
    }
    hex(&hasher.finalize())
}

/// Leavers worked on at once when not told: enough to keep the rate limit busy while
/// pipelines wait for jobs and for batches to fill. A leaver takes about 8 requests
/// and spends 5 to 10 s waiting, so a limit of L requests a minute keeps about
/// L/60 ÷ 8 × 10 ≈ L/50 leavers busy; L/30 leaves room for slower jobs (50 at
/// DocSpace's 1500). Without a limit, the write cap times four.
pub fn default_concurrency(per_minute: u32, max_writes: usize) -> usize {
    if per_minute == 0 {
        return max_writes.max(1) * 4;
    }
    (per_minute as usize / 30).max(max_writes).max(1)
}

/// `offboard-runs/<manifest file name without extension>`.
pub fn default_run_dir(manifest: &Path) -> PathBuf {
    let stem = manifest
        .file_stem()
        .map_or_else(|| "run".into(), |s| s.to_string_lossy().into_owned());
    PathBuf::from("offboard-runs").join(stem)
}

/// A pre-flight or reading problem as `error:` and `hint:` lines.
pub fn say_error(err: &PlanError) {
    say!("error: {err}");
    if let Some(hint) = err.hint() {
        eprintln!("hint: {hint}");
    }
}

/// Runs one `apply` session and returns the exit code.
pub async fn apply_manifest(apply: Apply) -> u8 {
    let pacer = Arc::new(Pacer::new(&apply.pacer));
    // A saved plan is compared with the portal as `plan` saw it: read as much.
    let depth = if apply.confirm || apply.saved.is_some() {
        Depth::Plan
    } else {
        Depth::Lockout
    };
    let observed = match observe(
        &apply.client,
        &pacer,
        &apply.manifest,
        apply.protect.clone(),
        depth,
    )
    .await
    {
        Ok(observed) => observed,
        Err(err) => {
            say_error(&err);
            return exit::PORTAL;
        }
    };
    if let Some(scopes) = &observed.restricted_key {
        say!(
            "error: pre-flight failed: the API key is restricted to {}; apply would be refused at every write",
            scopes.join(", ")
        );
        eprintln!(
            "hint: offboarding needs a key of the portal owner or a DocSpace admin, created with full permissions (audit has no narrower scope)"
        );
        return exit::PORTAL;
    }
    let mut observed = observed;
    // A resumed run knows the workspaces it worked on, whoever owns them now, and the
    // steps it finished: its plan shows what this session will do.
    // Only this manifest's journal on this portal counts (opening it refuses others).
    let earlier = read_only(&apply.run_dir).ok().filter(|replay| {
        replay.header().is_some_and(|h| {
            h.manifest_sha256 == apply.manifest_sha256 && h.portal == apply.client.portal().as_str()
        })
    });
    if let Some(replay) = &earlier {
        let worked = Past::worked_on_workspace(replay);
        for leaver in &apply.manifest.leavers {
            if worked.contains(&leaver.user.to_string()) {
                observed.handed_over.insert(leaver.user.key());
            }
        }
    }
    if apply.only_failed {
        let Some(replay) = &earlier else {
            eprintln!(
                "error: --only-failed retries the failed leavers of an earlier run, and {} holds none",
                apply.run_dir.display()
            );
            eprintln!("hint: pass the --run-dir of the run to retry");
            return exit::INVALID;
        };
        let past = Past::of(replay, &apply.run_dir);
        if !apply
            .manifest
            .leavers
            .iter()
            .any(|l| past.failed(&l.user.to_string()))
        {
            eprintln!(
                "nothing failed in the earlier run in {}: nothing to retry",
                apply.run_dir.display()
            );
            return exit::SUCCESS;
        }
    }
    let plan = plan(&apply.manifest, &observed);
    let plan = match &earlier {
        Some(replay) => {
            let past = Past::of(replay, &apply.run_dir);
            crate::plan::resumed(plan, &apply.manifest, &observed, |leaver, step| {
                past.finished(leaver, step)
            })
        }
        None => plan,
    };
    let mut plan = plan;
    if let Some(saved) = &apply.saved {
        if saved.plan.portal != plan.portal {
            say!(
                "error: the plan was made for {}, not {}; nothing was sent",
                saved.plan.portal,
                plan.portal
            );
            return exit::INVALID;
        }
        // Leavers this run changed already differ from the plan because of it.
        let worked: std::collections::HashSet<String> = earlier
            .iter()
            .flat_map(|replay| &replay.records)
            .filter_map(|r| match r {
                Record::Intent { leaver, .. } | Record::Outcome { leaver, .. } => {
                    Some(leaver.clone())
                }
                _ => None,
            })
            .collect();
        let now = crate::plan::relied_on(&apply.manifest, &observed);
        let drifted = crate::plan::mark_drifted(&mut plan, saved, &now, |l| worked.contains(l));
        if drifted > 0 {
            say!(
                "warning: {drifted} leaver{} drifted: the portal changed since the plan was saved; they are left alone (the report says what changed)",
                if drifted == 1 { "" } else { "s" }
            );
        }
    }
    let plan = plan;
    if !apply.confirm {
        eprint!("{}", crate::report::plan::header(&plan));
    }
    let due = plan
        .leavers
        .iter()
        .filter(|l| matches!(l.outcome, Outcome::WillChange | Outcome::Unchanged))
        .count();
    if due > apply.max_leavers && !apply.force {
        eprintln!(
            "error: {due} leavers are due, more than --max-leavers {}",
            apply.max_leavers
        );
        eprintln!(
            "hint: check the manifest with `offboard plan`, then raise --max-leavers or pass --force"
        );
        return exit::INVALID;
    }
    for warning in &plan.warnings {
        say!("warning: {warning}");
    }
    if apply.confirm {
        let text = crate::report::plan::human(&plan, crate::color::stderr());
        eprint!("{text}");
        if !confirmed(&format!(
            "Apply to {due} leaver{} on {}?",
            if due == 1 { "" } else { "s" },
            plan.portal
        )) {
            return exit::DECLINED;
        }
    }

    let header = RunHeader {
        format: FORMAT,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        run_id: run_id(),
        manifest: apply.manifest_path.display().to_string(),
        manifest_sha256: apply.manifest_sha256.clone(),
        portal: apply.client.portal().to_string(),
        started: now(),
        reverts: None,
    };
    let Some((journal, replay)) = open_journal(&apply.run_dir, header) else {
        return exit::INVALID;
    };
    let past = Past::of(&replay, &apply.run_dir);
    let open = past.in_doubt_count();
    if open > 0 {
        eprintln!(
            "resuming {}: {open} step{} of earlier sessions may have half happened; the portal decides",
            apply.run_dir.display(),
            if open == 1 { "" } else { "s" }
        );
    } else if replay.header().is_some() {
        eprintln!("resuming {}", apply.run_dir.display());
    }
    drop(replay);
    let journal = journal.share();

    let (events, receiver) = mpsc::unbounded_channel();
    let stops = Stops::watch(pacer.clone(), &events, "offboard apply");
    let cancel = stops.cancel.clone();
    let progress = tokio::spawn(crate::report::progress::show(
        receiver,
        apply.terminal,
        pacer.clone(),
    ));
    let client = Arc::new(apply.client);
    let engine = Arc::new(Engine::new(
        client,
        pacer.clone(),
        journal.clone(),
        cancel.clone(),
        events,
        apply.run_dir.clone(),
        &observed,
        &apply.manifest,
    ));
    let settings = Settings {
        run_dir: apply.run_dir.clone(),
        concurrency: apply.concurrency,
        only_failed: apply.only_failed,
    };
    let result = execute(
        engine.clone(),
        &apply.manifest,
        &observed,
        &plan,
        &past,
        &settings,
    )
    .await;
    drop(engine);
    let result = result.map(|session| (session.interrupted, session.failed));
    close(
        &journal,
        &settings.run_dir,
        &pacer,
        (stops, progress),
        result,
        "apply",
    )
    .await
}

/// Ends a session that wrote (`apply`, `revert`) once its work stopped: the stop
/// watchers and the progress display end, then its last journal record (finished,
/// or interrupted and why), the reports, the summary; the exit code. `result`:
/// whether the session was interrupted and how many leavers it saw fail (the
/// report may not count them all), or what stopped the run.
pub async fn close(
    journal: &crate::journal::SharedJournal,
    run_dir: &Path,
    pacer: &Pacer,
    (stops, progress): (Stops, tokio::task::JoinHandle<()>),
    result: Result<(bool, usize), crate::executor::RunError>,
    command: &str,
) -> u8 {
    let ended = stops.end().await;
    let _ = progress.await;
    let counters = pacer.counters.snapshot();
    let (interrupted, failed) = match result {
        Ok(session) => session,
        Err(err) => {
            say!("error: {err}");
            eprintln!(
                "hint: the journal holds everything up to this point; fix the cause and run {command} again to resume"
            );
            return exit::FAILED;
        }
    };
    let last = if interrupted {
        Record::Interrupted {
            at: now(),
            counters,
            reason: ended.gave_up.clone(),
        }
    } else {
        Record::Finished {
            at: now(),
            counters,
        }
    };
    if let Err(err) = journal.record(last).await {
        eprintln!("error: cannot write the journal: {err}");
        return exit::FAILED;
    }
    let report = match run_report::write_reports(run_dir) {
        Ok(report) => report,
        Err(message) => {
            say!("error: {message}");
            return exit::FAILED;
        }
    };
    run_report::print_summary(&report, run_dir);
    let totals = &report.run.totals;
    if ended.gave_up.is_some() {
        exit::PORTAL
    } else if interrupted {
        ended.code
    } else if totals.failed > 0 || totals.invalid > 0 || totals.drifted > 0 || failed > 0 {
        exit::FAILED
    } else {
        exit::SUCCESS
    }
}

/// Opens (or resumes) the journal of a session that writes; a refusal is said with
/// its hint (the caller exits 2).
pub fn open_journal(run_dir: &Path, header: RunHeader) -> Option<(Journal, Replay)> {
    match Journal::open(run_dir, header) {
        Ok(opened) => Some(opened),
        Err(err) => {
            say!("error: {err}");
            if let Some(hint) = err.hint() {
                say!("hint: {hint}");
            }
            None
        }
    }
}

/// Asks `question` on the terminal; a yes is `y` or `yes`. A no is said.
pub fn confirmed(question: &str) -> bool {
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().read_line(&mut answer);
    let yes = matches!(answer.trim(), "y" | "Y" | "yes");
    if !yes {
        eprintln!("declined: nothing was changed");
    }
    yes
}

/// A run id: the start time and a few random hex digits.
pub fn run_id() -> String {
    let now = jiff::Timestamp::now();
    let nanos = now.subsec_nanosecond() as u32 ^ std::process::id();
    format!("{}-{:04x}", now.strftime("%Y%m%dT%H%M%SZ"), nanos & 0xffff)
}
