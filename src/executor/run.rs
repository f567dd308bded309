//! The dispatcher of `apply`: what the journal says is done is skipped; every due
//! leaver is locked out first (the `disable` step, batched across leavers); then
//! each leaver's remaining steps run as a pipeline, many leavers at once, under the
//! one pacer. It calls the steps through their dispatch table and hears back only
//! how each ended ([`StepEnd`]); the steps never call back into it, and what the
//! person watching sees goes out as [`Event`]s.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::StreamExt;
use serde_json::json;

use crate::docspace::model::Folder;
use crate::executor::engine::{Engine, Event, Job, RunError, Settings, StepEnd};
use crate::executor::pacer::Tally;
use crate::executor::past::Past;
use crate::executor::prior;
use crate::executor::steps;
use crate::executor::steps::disable::Disabled;
use crate::journal::{LeaverRecord, PriorRecord, Record, now, step_status};
use crate::manifest::{Leaver, Manifest, Step};
use crate::plan::{Lookup, Observed, Outcome, Plan, WorkspaceKind, group_key};

/// The steps of a leaver in the order they run.
fn ordered_steps(leaver: &Leaver) -> Vec<Step> {
    Step::ALL
        .into_iter()
        .filter(|s| leaver.steps.contains(s))
        .collect()
}

fn kind_name(kind: WorkspaceKind) -> &'static str {
    match kind {
        WorkspaceKind::Room => "room",
        WorkspaceKind::Folder => "folder",
        WorkspaceKind::Unknown => "unknown",
    }
}

/// What the session did, for the exit code.
#[derive(Debug, Default, Clone, Copy)]
pub struct SessionEnd {
    pub failed: usize,
    pub interrupted: bool,
}

/// Runs one session of `apply`: records every leaver, locks out the due ones, then
/// runs their pipelines. Returns once everything started has ended (or was
/// cancelled), with the journal up to date.
pub async fn execute(
    engine: Arc<Engine>,
    manifest: &Manifest,
    observed: &Observed,
    plan: &Plan,
    past: &Past,
    settings: &Settings,
) -> Result<SessionEnd, RunError> {
    let mut jobs = Vec::new();
    let mut records = Vec::new();
    for (leaver, leaver_plan) in manifest.leavers.iter().zip(&plan.leavers) {
        let label = leaver.user.to_string();
        if settings.only_failed && !past.failed(&label) {
            continue;
        }
        let steps = ordered_steps(leaver);
        let class = match leaver_plan.outcome {
            Outcome::WillChange | Outcome::Unchanged => "due",
            Outcome::Deferred => "deferred",
            Outcome::Protected => "protected",
            Outcome::Invalid => "invalid",
            Outcome::Drifted => "drifted",
        };
        let todo: Vec<Step> = steps
            .iter()
            .copied()
            .filter(|s| !past.complete(&label, *s))
            .collect();
        let record = LeaverRecord {
            at: now(),
            leaver: label.clone(),
            user_id: leaver_plan.user_id.clone(),
            display_name: leaver_plan.display_name.clone(),
            workspace: leaver.workspace,
            workspace_kind: kind_name(leaver_plan.workspace_kind).to_owned(),
            class: class.to_owned(),
            reason: leaver_plan.reason.clone(),
            steps: steps.iter().map(|s| s.as_str().to_owned()).collect(),
            // Free text from the manifest: a key pasted into it stays out of the
            // journal and the reports.
            ticket: leaver
                .ticket
                .as_deref()
                .map(|t| crate::settings::hide_keys(t).into_owned()),
        };
        // Written together below, before the lock-out: one fsync for many.
        records.push(Record::Leaver(record.clone()));
        if class != "due" || todo.is_empty() {
            continue;
        }
        if past.needs_prior_account(&label) {
            // What `offboard revert` gives back.
            let user = observed
                .users
                .get(&leaver.user.key())
                .and_then(Lookup::found)
                .expect("a due leaver was found");
            records.push(Record::Prior(PriorRecord {
                at: now(),
                leaver: label.clone(),
                account: Some(prior::account(user, &observed.keys)),
                workspace: None,
            }));
        }
        let found = |key: &str| {
            observed
                .users
                .get(key)
                .and_then(Lookup::found)
                .cloned()
                .expect("a due leaver's users were found")
        };
        let folder = |id: u64| {
            observed
                .folders
                .get(&(id as i64))
                .and_then(Lookup::found)
                .cloned()
        };
        jobs.push(Job {
            label: label.clone(),
            user: found(&leaver.user.key()),
            archive_owner: found(&leaver.archive_owner.key()),
            hr_group: leaver
                .hr_group
                .as_ref()
                .and_then(|g| observed.groups.get(&group_key(g)))
                .and_then(Lookup::found)
                .cloned(),
            workspace: folder(leaver.workspace),
            archive_folder: leaver.archive_folder.and_then(folder),
            record,
            in_doubt: todo
                .iter()
                .copied()
                .filter(|s| past.in_doubt(&label, *s))
                .collect(),
            todo,
            leaver: leaver.clone(),
            tally: Tally::default(),
            calls: AtomicU64::new(0),
            reassign_started: tokio::sync::Notify::new(),
            reassign_running: std::sync::atomic::AtomicBool::new(false),
            retry_reassign: past.status(&label, Step::Reassign) == Some(step_status::FAILED)
                || past.in_doubt(&label, Step::Reassign),
            handed_over: observed.handed_over.contains(&leaver.user.key()),
            reassign_announced: past.first_intent(&label, Step::Reassign),
            record_prior_workspace: past.needs_prior_workspace(&label)
                && steps
                    .iter()
                    .any(|s| matches!(s, Step::Reassign | Step::Archive)),
        });
    }
    engine.journal.record_all(records).await?;
    let _ = engine.events.send(Event::Started {
        leavers: jobs.len(),
    });
    if engine.stopping() {
        return Ok(SessionEnd {
            interrupted: true,
            ..SessionEnd::default()
        });
    }

    let locked_out = steps::disable::run(&engine, &jobs).await?;
    let failed = Arc::new(AtomicU64::new(0));
    let results: Vec<Result<(), RunError>> = futures_util::stream::iter(jobs)
        .map(|job| {
            let engine = engine.clone();
            let failed = failed.clone();
            let disabled = locked_out.get(&job.label).cloned();
            async move {
                if engine.stopping() {
                    return Ok(());
                }
                let outcome = match pipeline(&engine, job, disabled).await {
                    Ok(outcome) => outcome,
                    Err(err) => {
                        // The journal failed: no more work may start.
                        engine.cancel.cancel();
                        return Err(err);
                    }
                };
                if outcome == "failed" {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            }
        })
        .buffer_unordered(settings.concurrency.max(1))
        .collect()
        .await;
    for result in results {
        result?;
    }
    Ok(SessionEnd {
        failed: failed.load(Ordering::Relaxed) as usize,
        interrupted: engine.stopping(),
    })
}

/// The steps of `todo` after `step`.
fn todo_after(todo: &[Step], step: Step) -> impl Iterator<Item = Step> + '_ {
    todo.iter().copied().skip_while(move |s| *s != step).skip(1)
}

/// Runs one step and journals how it ended.
async fn run_step(engine: &Engine, job: &Job, step: Step) -> Result<StepEnd, RunError> {
    let _ = engine.events.send(Event::Step {
        leaver: job.label.clone(),
        step: step.as_str(),
    });
    let end = steps::run(engine, job, step).await?;
    // A step that failed because the portal went silent did not fail: it was cut
    // short.
    let end = match end {
        StepEnd::Failed(..) if engine.pacer.gone().is_cancelled() => StepEnd::Cut,
        end => end,
    };
    engine.end_step(job, step, &end).await?;
    Ok(end)
}

/// Why a leaver's pipeline cannot go on past the lock-out.
enum Unfit {
    /// The workspace makes the leaver impossible to offboard as written.
    Invalid(String),
    /// The portal did not answer.
    Unreadable(String),
}

/// Reads the leaver's workspace (and archive folder, once for everybody) and judges
/// it as the plan would have.
async fn read_workspace(engine: &Engine, job: &mut Job) -> Result<Result<(), Unfit>, RunError> {
    let read = async |id: i64| {
        Lookup::of(engine.read(job, || engine.client.folder(id)).await)
            .map_err(|err| Unfit::Unreadable(format!("cannot read folder {id}: {err}")))
    };
    let workspace = match read(job.leaver.workspace as i64).await {
        Ok(found) => found,
        Err(unfit) => return Ok(Err(unfit)),
    };
    let archive = match job.leaver.archive_folder {
        Some(target) => {
            let target = target as i64;
            let mut cache = engine.archive_folders.lock().await;
            if let std::collections::hash_map::Entry::Vacant(entry) = cache.entry(target) {
                match read(target).await {
                    Ok(found) => {
                        entry.insert(found);
                    }
                    Err(unfit) => return Ok(Err(unfit)),
                }
            }
            cache.get(&target).cloned()
        }
        None => None,
    };
    if let Some(problem) =
        crate::plan::workspace_problem(&job.leaver, Some(&workspace), archive.as_ref())
    {
        return Ok(Err(Unfit::Invalid(problem)));
    }
    if let Lookup::Found(folder) = &workspace
        && let Err(unfit) = check_ownership(engine, job, folder).await
    {
        return Ok(Err(unfit));
    }
    job.archive_folder = archive.and_then(|a| a.found().cloned());
    if let Lookup::Found(folder) = &workspace
        && job.record_prior_workspace
    {
        // Before the reassign and the archive change it: what `offboard revert`
        // puts back.
        let members = if folder.is_room() {
            match engine
                .read(job, || engine.client.room_members(folder.id))
                .await
            {
                Ok(members) => members,
                Err(err) => {
                    return Ok(Err(Unfit::Unreadable(format!(
                        "cannot read the room's members: {err}"
                    ))));
                }
            }
        } else {
            Vec::new()
        };
        engine
            .journal
            .record(Record::Prior(PriorRecord {
                at: now(),
                leaver: job.label.clone(),
                account: None,
                workspace: Some(prior::workspace(folder, &members)),
            }))
            .await?;
        job.record_prior_workspace = false;
    }
    if let Lookup::Found(folder) = workspace {
        let kind = if folder.is_room() {
            WorkspaceKind::Room
        } else {
            WorkspaceKind::Folder
        };
        job.record.workspace_kind = kind_name(kind).to_owned();
        job.workspace = Some(folder);
    }
    Ok(Ok(()))
}

/// Whether `folder` may be archived and exported as the leaver's workspace, as the
/// plan judges it (`plan::workspace_use_problem`), reading what that needs only when
/// someone else owns it: the room's members, and whether the leaver's data was
/// reassigned.
async fn check_ownership(engine: &Engine, job: &Job, folder: &Folder) -> Result<(), Unfit> {
    let user = &job.user;
    let owner = folder.owner_id().map(str::to_lowercase);
    let someone_elses = owner.as_deref() != Some(user.id.to_lowercase().as_str())
        && job
            .leaver
            .steps
            .iter()
            .any(|s| matches!(s, Step::Archive | Step::Export));
    let members = if someone_elses && folder.is_room() {
        Some(
            engine
                .read(job, || engine.client.room_members(folder.id))
                .await
                .map_err(|e| Unfit::Unreadable(format!("cannot read the room's members: {e}")))?,
        )
    } else {
        None
    };
    let handed_over = job.handed_over
        || (someone_elses
            && owner.as_deref() == Some(job.archive_owner.id.to_lowercase().as_str())
            && engine
                .read(job, || {
                    engine
                        .client
                        .created_by(&user.id, folder.id, folder.is_room())
                })
                .await
                .unwrap_or(false));
    let archived_already = crate::plan::archived_already(
        &job.leaver,
        folder,
        members.as_deref(),
        &job.archive_owner.id,
        job.hr_group.as_ref().map(|g| g.id.as_str()),
    );
    match crate::plan::workspace_use_problem(
        &job.leaver,
        user,
        folder,
        members.as_deref(),
        handed_over,
        archived_already,
    ) {
        Some(problem) => Err(Unfit::Invalid(problem)),
        None => Ok(()),
    }
}

/// Ends a leaver found invalid after the lock-out: the journal says why, and the
/// steps not run are skipped, so the report shows them `invalid` with the reason.
async fn invalid(
    engine: &Engine,
    job: &Job,
    from: Step,
    why: String,
) -> Result<&'static str, RunError> {
    let mut record = job.record.clone();
    record.at = now();
    record.class = "invalid".into();
    record.reason = Some(why.clone());
    engine.journal.record(Record::Leaver(record)).await?;
    for step in job.todo.iter().skip_while(|s| **s != from) {
        engine
            .end_step(job, *step, &StepEnd::Skipped(why.clone()))
            .await?;
    }
    let _ = engine.events.send(Event::Finished {
        leaver: job.label.clone(),
        outcome: "invalid",
        error: Some(why),
    });
    Ok("invalid")
}

/// A leaver whose pipeline stops before its end (Ctrl-C, or the portal stopped
/// answering): their remaining steps stay without an end in the journal.
fn interrupted(engine: &Engine, job: &Job) -> &'static str {
    let _ = engine.events.send(Event::Finished {
        leaver: job.label.clone(),
        outcome: "interrupted",
        error: None,
    });
    "interrupted"
}

/// Phase 3 for one leaver: the remaining steps in order; a failed step skips the
/// rest. Returns `done`, `unchanged` or `failed`.
async fn pipeline(
    engine: &Engine,
    mut job: Job,
    disabled: Option<Disabled>,
) -> Result<&'static str, RunError> {
    // The lock-out journaled the disable step already.
    let mut changed = matches!(disabled, Some(Disabled::Done))
        || (matches!(disabled, Some(Disabled::Unchanged)) && job.in_doubt.contains(&Step::Disable));
    let mut failure: Option<String> = match &disabled {
        Some(Disabled::Failed(why)) => Some(format!("disable: {why}")),
        _ => None,
    };
    let mut handled = HashSet::new();
    let todo: Vec<Step> = job
        .todo
        .iter()
        .copied()
        .filter(|s| *s != Step::Disable)
        .collect();
    for step in todo {
        if step != Step::Disable && job.workspace.is_none() && failure.is_none() {
            match read_workspace(engine, &mut job).await? {
                Ok(()) => {
                    // The kind of workspace is known now: the report takes the
                    // leaver's last record.
                    let mut record = job.record.clone();
                    record.at = now();
                    engine.journal.record(Record::Leaver(record)).await?;
                }
                Err(Unfit::Invalid(why)) => return invalid(engine, &job, step, why).await,
                Err(Unfit::Unreadable(_)) if engine.pacer.gone().is_cancelled() => {
                    return Ok(interrupted(engine, &job));
                }
                Err(Unfit::Unreadable(why)) => {
                    engine
                        .end_step(&job, step, &StepEnd::Failed(why.clone(), json!({})))
                        .await?;
                    failure = Some(format!("{}: {why}", step.as_str()));
                    continue;
                }
            }
        }
        let job = &job;
        if handled.contains(&step) {
            continue;
        }
        if let Some(why) = &failure {
            let why = format!("not run: {why}");
            engine.end_step(job, step, &StepEnd::Skipped(why)).await?;
            continue;
        }
        if engine.stopping() {
            // Not started: the report says `not_run`, the next session runs it.
            return Ok(interrupted(engine, job));
        }
        // While the reassign job runs on the portal, the workspace is exported and
        // archived: neither depends on it (the archive step makes the archive owner
        // the room's owner whoever owns it by then), and the leaver is done a job's
        // length sooner. They start only once the job runs: taking a room over
        // earlier would make `reassign/necessary` say there is nothing to move.
        let beside: Vec<Step> = if step == Step::Reassign {
            todo_after(&job.todo, step)
                .filter(|s| matches!(s, Step::Export | Step::Archive))
                .collect()
        } else {
            Vec::new()
        };
        let main = async {
            let end = run_step(engine, job, step).await;
            if step == Step::Reassign {
                job.reassign_started.notify_one();
            }
            end
        };
        let (end, side) = tokio::join!(main, async {
            if beside.is_empty() {
                return Ok(Vec::new());
            }
            job.reassign_started.notified().await;
            if !job.reassign_running.load(Ordering::Acquire) {
                // No job runs (nothing to move, or it could not start): the loop
                // runs them after the reassign, as usual.
                return Ok(Vec::new());
            }
            let mut ends = Vec::new();
            for other in &beside {
                if engine.stopping() {
                    break;
                }
                let end = run_step(engine, job, *other).await?;
                let failed = matches!(end, StepEnd::Failed(..));
                ends.push((*other, end));
                if failed {
                    break;
                }
            }
            Ok::<_, RunError>(ends)
        });
        let mut cut = false;
        for (step, end) in std::iter::once((step, end?)).chain(side?) {
            handled.insert(step);
            match &end {
                StepEnd::Cut => cut = true,
                // Collecting the audit trail and exporting read; they change nothing
                // on the portal.
                StepEnd::Done(_) if !matches!(step, Step::Audit | Step::Export) => changed = true,
                StepEnd::Done(_) | StepEnd::Unchanged(_) | StepEnd::Skipped(_) => {}
                StepEnd::Failed(why, _) if failure.is_none() => {
                    failure = Some(format!("{}: {why}", step.as_str()))
                }
                StepEnd::Failed(..) => {}
            }
        }
        if cut {
            return Ok(interrupted(engine, job));
        }
    }
    let outcome = match (&failure, changed) {
        (Some(_), _) => "failed",
        (None, true) => "done",
        (None, false) => "unchanged",
    };
    let _ = engine.events.send(Event::Finished {
        leaver: job.label.clone(),
        outcome,
        error: failure,
    });
    Ok(outcome)
}
