//! The dispatcher of `apply`: what the journal says is done is skipped; every due
//! leaver is locked out first (batched status calls); then each leaver's remaining
//! steps run as a pipeline, many leavers at once, under the one pacer.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::{OnceCell, mpsc};
use tokio_util::sync::CancellationToken;

use crate::docspace::model::Operation;
use crate::docspace::model::{ApiKey, Employee, Folder, Group, Share, status};
use crate::docspace::{ApiError, Client};
use crate::executor::batch::Batcher;
use crate::executor::fileops::FileOps;
use crate::executor::pacer::Tally;
use crate::executor::{Lane, Pacer};
use crate::journal::{
    JournalError, LeaverRecord, Record, Replay, SharedJournal, is_final, now, step_status,
};
use crate::manifest::{Leaver, Manifest, Step};
use crate::plan::{AuditAccess, Lookup, Observed, Outcome, Plan, WorkspaceKind, group_key};

/// Ids per `PUT people/status/2`.
pub const DISABLE_BATCH: usize = 100;

/// What earlier sessions of this run left behind, per (leaver, step).
#[derive(Debug, Default)]
pub struct Past {
    finals: HashMap<(String, String), String>,
    /// A write was announced after the step's last final outcome (or without one),
    /// or the step failed after a write whose answer was lost: it may or may not
    /// have happened.
    in_doubt: HashSet<(String, String)>,
    /// When the first write of each (leaver, step) was announced: evidence that does
    /// not expire (the audit trail) is looked for from then on.
    first_intent: HashMap<(String, String), String>,
}

impl Past {
    /// What the journal says, with one check of the files it names: an export
    /// counts as done only while its zip is in `run_dir` with the recorded sha256.
    pub fn of(replay: &Replay, run_dir: &std::path::Path) -> Self {
        let mut past = Past::default();
        let mut exports: HashMap<String, Value> = HashMap::new();
        // Writes of a step whose answer was lost, since the step's last end.
        let mut lost: HashSet<(String, String)> = HashSet::new();
        for record in &replay.records {
            match record {
                Record::Outcome {
                    leaver,
                    step,
                    status,
                    detail,
                    ..
                } if status == step_status::SENT && detail["in_doubt"] == true => {
                    lost.insert((leaver.clone(), step.clone()));
                }
                Record::Intent {
                    leaver, step, at, ..
                } => {
                    past.in_doubt.insert((leaver.clone(), step.clone()));
                    past.first_intent
                        .entry((leaver.clone(), step.clone()))
                        .or_insert_with(|| at.clone());
                }
                Record::Outcome {
                    leaver,
                    step,
                    status,
                    detail,
                    ..
                } if is_final(status) => {
                    if step == Step::Export.as_str() {
                        exports.insert(leaver.clone(), detail.clone());
                    }
                    let key = (leaver.clone(), step.clone());
                    // A skipped step did nothing: a write an earlier session left in
                    // doubt is still in doubt. A failed one settled nothing it lost
                    // the answer of.
                    let unsettled = status == step_status::SKIPPED
                        || (status == step_status::FAILED && lost.contains(&key));
                    if !unsettled {
                        past.in_doubt.remove(&key);
                    } else if status == step_status::FAILED {
                        past.in_doubt.insert(key.clone());
                    }
                    if status != step_status::SKIPPED {
                        lost.remove(&key);
                    }
                    past.finals.insert(key, status.clone());
                }
                _ => {}
            }
        }
        for (leaver, detail) in exports {
            let key = (leaver, Step::Export.as_str().to_owned());
            if past.finals.get(&key).map(String::as_str) != Some(step_status::DONE) {
                continue;
            }
            let intact = detail["path"]
                .as_str()
                .and_then(|path| std::fs::read(run_dir.join(path)).ok())
                .is_some_and(|bytes| {
                    Some(crate::run_dir::sha256_hex(&bytes).as_str()) == detail["sha256"].as_str()
                });
            if !intact {
                // Gone or changed since: download it again.
                past.finals.remove(&key);
            }
        }
        past
    }

    fn status(&self, leaver: &str, step: Step) -> Option<&str> {
        self.finals
            .get(&(leaver.to_owned(), step.as_str().to_owned()))
            .map(String::as_str)
    }

    fn complete(&self, leaver: &str, step: Step) -> bool {
        self.finished(leaver, step.as_str())
    }

    /// Whether the journal shows the leaver's step (by name) done or unchanged.
    pub fn finished(&self, leaver: &str, step: &str) -> bool {
        matches!(
            self.finals
                .get(&(leaver.to_owned(), step.to_owned()))
                .map(String::as_str),
            Some(step_status::DONE | step_status::UNCHANGED)
        )
    }

    /// When a write of the leaver's step was first announced, if ever.
    fn first_intent(&self, leaver: &str, step: Step) -> Option<jiff::Timestamp> {
        self.first_intent
            .get(&(leaver.to_owned(), step.as_str().to_owned()))
            .and_then(|at| at.parse().ok())
    }

    /// How many steps earlier sessions left in doubt.
    pub fn in_doubt_count(&self) -> usize {
        self.in_doubt.len()
    }

    fn in_doubt(&self, leaver: &str, step: Step) -> bool {
        self.in_doubt
            .contains(&(leaver.to_owned(), step.as_str().to_owned()))
    }

    /// Leavers (as labelled in the journal) whose workspace an earlier session
    /// announced an archive or export write for: that happens only after the
    /// ownership check passed, and the owner the workspace has now may be the one this
    /// tool gave it. Outcomes prove nothing (a failed read ends a step too).
    pub fn worked_on_workspace(replay: &Replay) -> HashSet<String> {
        replay
            .records
            .iter()
            .filter_map(|record| match record {
                Record::Intent { leaver, step, .. }
                    if step == Step::Archive.as_str() || step == Step::Export.as_str() =>
                {
                    Some(leaver.clone())
                }
                _ => None,
            })
            .collect()
    }

    /// Did the leaver's last session end with a failed step?
    pub fn failed(&self, leaver: &str) -> bool {
        Step::ALL
            .iter()
            .any(|s| self.status(leaver, *s) == Some(step_status::FAILED))
    }
}

/// What the progress display hears.
#[derive(Debug, Clone)]
pub enum Event {
    /// How many leavers this session works on.
    Started { leavers: usize },
    /// A step began.
    Step { leaver: String, step: &'static str },
    /// A message for the person watching (printed above the progress bar).
    Notice(String),
    /// A leaver's pipeline ended: `done`, `unchanged` or `failed`.
    Finished {
        leaver: String,
        outcome: &'static str,
        error: Option<String>,
    },
}

/// Something that stops the whole run, not just one leaver.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot write the journal: {0}")]
    Journal(#[from] JournalError),
}

/// Settings of one `apply` session.
pub struct Settings {
    pub run_dir: PathBuf,
    /// Leavers whose pipelines run at once.
    pub concurrency: usize,
    /// Only leavers whose last session failed.
    pub only_failed: bool,
}

/// The shared state of a run: one of each for all leavers.
pub struct Engine {
    pub client: Arc<Client>,
    pub pacer: Arc<Pacer>,
    pub journal: SharedJournal,
    pub fileops: FileOps,
    pub cancel: CancellationToken,
    pub events: mpsc::UnboundedSender<Event>,
    pub(crate) run_dir: PathBuf,
    pub(crate) caller: Employee,
    pub(crate) keys: Vec<ApiKey>,
    pub(crate) audit: AuditAccess,
    /// The portal's login history over the longest audit window, read once.
    pub(crate) logins: OnceCell<Result<Vec<Value>, String>>,
    /// Members of archive rooms (folder workspaces end up in them), read once each.
    pub(crate) archive_rooms: tokio::sync::Mutex<HashMap<i64, Result<Vec<Share>, String>>>,
    /// How long the last reassign job took: the first poll of the next one waits
    /// about that long.
    pub(crate) reassign_millis: AtomicU64,
    pub(crate) longest_audit_days: u16,
    /// `POST files/owner` for many rooms at once, by new owner.
    pub(crate) owners: Batcher<()>,
    /// `PUT files/fileops/move` for many folders at once, by destination.
    pub(crate) moves: Batcher<Vec<Operation>>,
    /// One bulk download at a time (DocSpace refuses a second one per user).
    pub(crate) exports: tokio::sync::Semaphore,
    /// Archive folders, read once for all the leavers that share them.
    pub(crate) archive_folders: tokio::sync::Mutex<HashMap<i64, Lookup<Folder>>>,
}

/// One leaver's work in this session.
pub struct Job {
    pub leaver: Leaver,
    /// The leaver as the manifest names them: the key of their journal records.
    pub label: String,
    pub user: Employee,
    pub archive_owner: Employee,
    pub hr_group: Option<Group>,
    /// Read before the first step after the lock-out, when the plan had not.
    pub workspace: Option<Folder>,
    pub archive_folder: Option<Folder>,
    /// What the plan said about the leaver (kind of workspace included).
    pub record: LeaverRecord,
    /// Steps still to run, in order.
    pub todo: Vec<Step>,
    /// Steps an earlier session may have half done.
    pub in_doubt: HashSet<Step>,
    pub tally: Tally,
    /// Logical calls (an attempt and its retries count once).
    pub calls: AtomicU64,
    /// Given once the reassign job runs (or the step ended): the export and the
    /// archive wait for it, so they never change what `reassign/necessary` and the
    /// job see before the job has started.
    pub reassign_started: tokio::sync::Notify,
    /// Set when the reassign job really runs: only then do export and archive go
    /// beside it. A reassign that ends without a job leaves them to run after it
    /// (and be skipped when it failed).
    pub reassign_running: std::sync::atomic::AtomicBool,
    /// An earlier session started a reassign that is not known to have finished
    /// (failed, or in doubt): start it again rather than trust the portal's
    /// "nothing to reassign", which an archived room can make true too early.
    pub retry_reassign: bool,
    /// The workspace is known to be the leaver's even when someone else owns it now
    /// ([`Observed::handed_over`]).
    pub handed_over: bool,
    /// When an earlier session first announced `reassign/start` for this leaver.
    pub reassign_announced: Option<jiff::Timestamp>,
}

impl Job {
    /// The workspace, as read before the steps that need it.
    pub fn workspace(&self) -> &Folder {
        self.workspace
            .as_ref()
            .expect("the pipeline reads the workspace before any step that uses it")
    }
}

/// How a step ended.
pub enum StepEnd {
    Done(Value),
    Unchanged(Value),
    Failed(String, Value),
    /// Not run because an earlier step of the leaver failed.
    Skipped(String),
    /// Cut short because the run gave up on a portal that stopped answering: not
    /// journaled as an end, so the next session takes the step up again (settling
    /// from the portal any write that went out).
    Cut,
}

impl Engine {
    /// No new work starts: Ctrl-C or SIGTERM, or the portal stopped answering.
    pub fn stopping(&self) -> bool {
        self.cancel.is_cancelled() || self.pacer.gone().is_cancelled()
    }

    #[allow(clippy::too_many_arguments)]
    pub fn new(
        client: Arc<Client>,
        pacer: Arc<Pacer>,
        journal: SharedJournal,
        cancel: CancellationToken,
        events: mpsc::UnboundedSender<Event>,
        run_dir: PathBuf,
        observed: &Observed,
        manifest: &Manifest,
    ) -> Self {
        let fileops = FileOps::spawn(client.clone(), pacer.clone());
        let window = crate::executor::batch::window(pacer.per_minute());
        let owners = {
            let (client, pacer) = (client.clone(), pacer.clone());
            Batcher::spawn(window, move |owner: String, rooms: Vec<i64>| {
                let (client, pacer) = (client.clone(), pacer.clone());
                async move {
                    // Setting the owner a room already has changes nothing: retried
                    // like any idempotent write.
                    pacer
                        .call(Lane::Write, || client.change_room_owner(&rooms, &owner))
                        .await
                        .map(|_| ())
                }
            })
        };
        let moves = {
            let (client, pacer) = (client.clone(), pacer.clone());
            Batcher::spawn(window, move |dest: String, folders: Vec<i64>| {
                let (client, pacer) = (client.clone(), pacer.clone());
                async move {
                    let dest: i64 = dest.parse().expect("destinations are folder ids");
                    pacer
                        .call(Lane::Once, || client.move_folders(&folders, dest))
                        .await
                }
            })
        };
        Self {
            client,
            pacer,
            journal,
            fileops,
            cancel,
            events,
            run_dir,
            caller: observed.caller.clone(),
            keys: observed.keys.clone(),
            audit: observed.audit.clone(),
            logins: OnceCell::new(),
            archive_rooms: tokio::sync::Mutex::new(HashMap::new()),
            reassign_millis: AtomicU64::new(0),
            owners,
            moves,
            exports: tokio::sync::Semaphore::new(1),
            archive_folders: tokio::sync::Mutex::new(HashMap::new()),
            longest_audit_days: manifest
                .leavers
                .iter()
                .map(|l| l.audit_days)
                .max()
                .unwrap_or(0),
        }
    }

    /// A read for `job`, under the pacer.
    pub(crate) async fn read<T, F, Fut>(&self, job: &Job, call: F) -> Result<T, ApiError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        job.calls.fetch_add(1, Ordering::Relaxed);
        self.pacer
            .call_tallied(Lane::Read, Some(&job.tally), call)
            .await
    }

    /// A write for `job`: journaled as an intent first, its answer after. `lane` is
    /// the pacer's lane, or `None` for an item handed to a [`Batcher`].
    pub(crate) async fn write<T, F, Fut>(
        &self,
        job: &Job,
        step: Step,
        lane: Option<Lane>,
        action: &str,
        detail: Value,
        call: F,
    ) -> Result<Result<T, ApiError>, JournalError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let intent = self
            .journal
            .intent(&job.label, step.as_str(), action, detail)
            .await?;
        job.calls.fetch_add(1, Ordering::Relaxed);
        let answer = match lane {
            Some(lane) => self.pacer.call_tallied(lane, Some(&job.tally), call).await,
            // A batcher's call: it goes through the pacer once for the whole batch.
            None => call().await,
        };
        let closing = match &answer {
            Ok(_) => json!({}),
            // No answer that says whether the portal acted: the write stays in
            // doubt until the portal shows it, even when the step ends failed.
            Err(err) if err.is_transient() && !err.surely_not_processed() => {
                json!({ "error": err.to_string(), "in_doubt": true })
            }
            Err(err) => json!({ "error": err.to_string() }),
        };
        self.journal
            .outcome(
                Some(intent),
                &job.label,
                step.as_str(),
                step_status::SENT,
                closing,
            )
            .await?;
        Ok(answer)
    }

    async fn end_step(&self, job: &Job, step: Step, end: &StepEnd) -> Result<(), JournalError> {
        let (status, mut detail) = match end {
            StepEnd::Done(d) => (step_status::DONE, d.clone()),
            StepEnd::Unchanged(d) => (step_status::UNCHANGED, d.clone()),
            StepEnd::Failed(error, d) => {
                let mut d = d.clone();
                if !d.is_object() {
                    d = json!({});
                }
                d["error"] = json!(error);
                (step_status::FAILED, d)
            }
            StepEnd::Skipped(why) => (step_status::SKIPPED, json!({ "reason": why })),
            StepEnd::Cut => return Ok(()),
        };
        if !detail.is_object() {
            detail = json!({});
        }
        detail["requests"] = json!(job.calls.swap(0, Ordering::Relaxed));
        detail["attempts"] = json!(job.tally.attempts.swap(0, Ordering::Relaxed));
        detail["writes"] = json!(job.tally.writes.swap(0, Ordering::Relaxed));
        // The session's requests so far: what the report counts for a session
        // killed before its last record.
        detail[crate::journal::SESSION_SO_FAR] = json!(self.pacer.counters.snapshot());
        self.journal
            .outcome(None, &job.label, step.as_str(), status, detail)
            .await
    }
}

/// The steps of a leaver in the order they run.
pub fn ordered_steps(leaver: &Leaver) -> Vec<Step> {
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
        engine
            .journal
            .record(Record::Leaver(record.clone()))
            .await?;
        if class != "due" || todo.is_empty() {
            continue;
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
        });
    }
    let _ = engine.events.send(Event::Started {
        leavers: jobs.len(),
    });
    if engine.stopping() {
        return Ok(SessionEnd {
            interrupted: true,
            ..SessionEnd::default()
        });
    }

    let locked_out = lock_out(&engine, &mut jobs).await?;
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

/// How the lock-out went for one leaver.
#[derive(Debug, Clone)]
enum Disabled {
    Done,
    Unchanged,
    Failed(String),
}

/// Phase 2: disables every due leaver who still needs it, in batches, before any
/// pipeline starts. Protected accounts never reach this far (the plan keeps them
/// out), so a 403 means something changed under us: the batch is split until the
/// culprit is alone and only they fail.
async fn lock_out(
    engine: &Arc<Engine>,
    jobs: &mut [Job],
) -> Result<HashMap<String, Disabled>, RunError> {
    let mut results = HashMap::new();
    let mut pending: Vec<(String, String)> = Vec::new();
    for job in jobs.iter().filter(|j| j.todo.contains(&Step::Disable)) {
        if job.user.is_disabled() {
            results.insert(job.label.clone(), Disabled::Unchanged);
        } else {
            pending.push((job.label.clone(), job.user.id.clone()));
        }
    }
    let batches: Vec<Vec<(String, String)>> = pending
        .chunks(DISABLE_BATCH)
        .map(<[(String, String)]>::to_vec)
        .collect();
    let outcomes: Vec<Result<Vec<(String, Disabled)>, RunError>> =
        futures_util::stream::iter(batches)
            .map(|batch| disable_batch(engine, batch))
            .buffer_unordered(DISABLE_BATCHES_AT_ONCE)
            .collect()
            .await;
    for outcome in outcomes {
        results.extend(outcome?);
    }
    // Journaled here, not in the pipelines: a leaver whose pipeline never starts
    // (Ctrl-C) is still on record as locked out.
    let ends = jobs
        .iter()
        .filter(|j| j.todo.contains(&Step::Disable))
        .map(|job| {
            let end = match results.get(&job.label) {
                Some(Disabled::Done) => StepEnd::Done(json!({})),
                // Disabled by the write an earlier session left in doubt.
                Some(Disabled::Unchanged) if job.in_doubt.contains(&Step::Disable) => {
                    StepEnd::Done(json!({}))
                }
                Some(Disabled::Unchanged) | None => {
                    StepEnd::Unchanged(json!({ "detail": "already disabled" }))
                }
                Some(Disabled::Failed(_)) if engine.pacer.gone().is_cancelled() => StepEnd::Cut,
                Some(Disabled::Failed(why)) => StepEnd::Failed(why.clone(), json!({})),
            };
            async move { engine.end_step(job, Step::Disable, &end).await }
        });
    // Together, so they share fsyncs.
    futures_util::future::try_join_all(ends).await?;
    Ok(results)
}

/// Disable batches in flight at once (the pacer caps the requests anyway).
const DISABLE_BATCHES_AT_ONCE: usize = 4;

async fn disable_batch(
    engine: &Arc<Engine>,
    batch: Vec<(String, String)>,
) -> Result<Vec<(String, Disabled)>, RunError> {
    let send = async |batch: &[(String, String)]| -> Result<_, RunError> {
        let ids: Vec<String> = batch.iter().map(|(_, id)| id.clone()).collect();
        // One intent per leaver, committed together.
        let intents = futures_util::future::try_join_all(batch.iter().map(|(label, _)| {
            engine.journal.intent(
                label,
                Step::Disable.as_str(),
                "PUT people/status/2",
                json!({ "batch": ids.len() }),
            )
        }))
        .await?;
        let answer = engine
            .pacer
            .call(Lane::Write, || {
                engine.client.set_status(&ids, status::TERMINATED)
            })
            .await;
        let closing = match &answer {
            Ok(_) => json!({}),
            Err(err) => json!({ "error": err.to_string() }),
        };
        futures_util::future::try_join_all(batch.iter().zip(&intents).map(
            |((label, _), intent)| {
                engine.journal.outcome(
                    Some(*intent),
                    label,
                    Step::Disable.as_str(),
                    step_status::SENT,
                    closing.clone(),
                )
            },
        ))
        .await?;
        Ok(answer)
    };
    let mut results = Vec::new();
    for (batch, answer) in bisect_forbidden(batch, send).await? {
        match answer {
            Ok(users) => {
                for (label, id) in batch {
                    let now_disabled = users
                        .iter()
                        .find(|u| u.id.eq_ignore_ascii_case(&id))
                        .is_none_or(|u| u.status == status::TERMINATED);
                    results.push((
                        label,
                        if now_disabled {
                            Disabled::Done
                        } else {
                            Disabled::Failed("the portal did not disable the account".into())
                        },
                    ));
                }
            }
            Err(err) => {
                let error = format!("cannot disable: {err}");
                for (label, _) in batch {
                    results.push((label, Disabled::Failed(error.clone())));
                }
            }
        }
    }
    Ok(results)
}

/// Sends `batch`; a batch of more than one that the portal refuses with a 403 (the
/// status call is all or nothing: one account the key may not change refuses the
/// whole call) is halved, and the halves sent, until every refusal is one item
/// alone. Returns each batch sent last with its answer.
pub(crate) async fn bisect_forbidden<T: Clone, R>(
    batch: Vec<T>,
    mut send: impl AsyncFnMut(&[T]) -> Result<Result<R, ApiError>, RunError>,
) -> Result<Vec<(Vec<T>, Result<R, ApiError>)>, RunError> {
    let mut queue = vec![batch];
    let mut sent = Vec::new();
    while let Some(batch) = queue.pop() {
        match send(&batch).await? {
            Err(ApiError::Forbidden { .. }) if batch.len() > 1 => {
                let half = batch.len() / 2;
                queue.push(batch[half..].to_vec());
                queue.push(batch[..half].to_vec());
            }
            answer => sent.push((batch, answer)),
        }
    }
    Ok(sent)
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
    let end = match step {
        Step::Disable => unreachable!("the lock-out journals the disable step"),
        Step::RevokeKeys => crate::executor::steps::revoke_keys(engine, job).await?,
        Step::Reassign => crate::executor::steps::reassign(engine, job).await?,
        Step::Export => crate::executor::steps::export(engine, job).await?,
        Step::Archive => crate::executor::steps::archive(engine, job).await?,
        Step::Audit => crate::executor::steps::audit(engine, job).await?,
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_that_failed_after_a_lost_answer_stays_in_doubt() {
        let leaver = "ann@example.com";
        let replay = |lost: bool| {
            let closing = if lost {
                json!({ "error": "timed out", "in_doubt": true })
            } else {
                json!({ "error": "403" })
            };
            Replay {
                records: vec![
                    Record::intent(
                        1,
                        leaver,
                        "archive",
                        "PUT files/rooms/{id}/archive",
                        json!({}),
                    ),
                    Record::outcome(2, Some(1), leaver, "archive", step_status::SENT, closing),
                    Record::outcome(3, None, leaver, "archive", step_status::FAILED, json!({})),
                ],
                torn_tail: false,
            }
        };
        let dir = std::path::Path::new("/nonexistent");
        let past = Past::of(&replay(true), dir);
        assert!(past.in_doubt(leaver, Step::Archive));
        assert_eq!(past.in_doubt_count(), 1);
        let past = Past::of(&replay(false), dir);
        assert!(
            !past.in_doubt(leaver, Step::Archive),
            "a refusal settles it"
        );
        assert_eq!(past.in_doubt_count(), 0);
    }

    #[tokio::test]
    async fn a_refused_batch_is_halved_until_the_culprits_are_alone() {
        let protected = [3, 12];
        let mut calls = 0;
        let sent = bisect_forbidden((0..16).collect::<Vec<u32>>(), async |batch: &[u32]| {
            calls += 1;
            Ok(if batch.iter().any(|i| protected.contains(i)) {
                Err(ApiError::Forbidden { message: None })
            } else {
                Ok(batch.len())
            })
        })
        .await
        .unwrap();
        let refused: Vec<Vec<u32>> = sent
            .iter()
            .filter(|(_, answer)| answer.is_err())
            .map(|(batch, _)| batch.clone())
            .collect();
        assert_eq!(refused, vec![vec![3], vec![12]]);
        let done: usize = sent.iter().filter_map(|(_, a)| a.as_ref().ok()).sum();
        assert_eq!(done, 14, "everybody else is sent");
        // 1 + 2 halves + 4 quarters + 4 eighths + 4 singles on the culprits' side.
        assert_eq!(calls, 15);
        let mut order: Vec<u32> = sent.into_iter().flat_map(|(b, _)| b).collect();
        order.sort_unstable();
        assert_eq!(order, (0..16).collect::<Vec<_>>());
    }
}
