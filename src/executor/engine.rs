//! The shared state and vocabulary of a run, imported by the dispatcher (`run.rs`)
//! and by every step (`steps/`): the [`Engine`] (one of each for all leavers), a
//! leaver's [`Job`], how a step ended ([`StepEnd`]), what stops the whole run
//! ([`RunError`]), what the progress display hears ([`Event`]), and the journaled
//! read, write and step end every step goes through. It knows neither the
//! dispatcher nor the steps.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use tokio::sync::{OnceCell, mpsc};
use tokio_util::sync::CancellationToken;

use crate::docspace::model::Operation;
use crate::docspace::model::{ApiKey, Employee, Folder, Group, Share};
use crate::docspace::{ApiError, Client};
use crate::executor::batch::Batcher;
use crate::executor::fileops::FileOps;
use crate::executor::pacer::{Lane, Pacer, Tally};
use crate::journal::{JournalError, LeaverRecord, SharedJournal, step_status};
use crate::manifest::{Leaver, Manifest, Step};
use crate::plan::{AuditAccess, Lookup, Observed};

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
    pub(super) client: Arc<Client>,
    pub(super) pacer: Arc<Pacer>,
    pub(super) journal: SharedJournal,
    pub(super) fileops: FileOps,
    pub(super) cancel: CancellationToken,
    pub(super) events: mpsc::UnboundedSender<Event>,
    pub(super) run_dir: PathBuf,
    pub(super) caller: Employee,
    pub(super) keys: Vec<ApiKey>,
    pub(super) audit: AuditAccess,
    /// The portal's login history over the longest audit window, read once.
    pub(super) logins: OnceCell<Result<Vec<Value>, String>>,
    /// Members of archive rooms (folder workspaces end up in them), read once each.
    pub(super) archive_rooms: tokio::sync::Mutex<HashMap<i64, Result<Vec<Share>, String>>>,
    /// How long the last reassign job took: the first poll of the next one waits
    /// about that long.
    pub(super) reassign_millis: AtomicU64,
    pub(super) longest_audit_days: u16,
    /// `POST files/owner` for many rooms at once, by new owner.
    pub(super) owners: Batcher<()>,
    /// `PUT files/fileops/move` for many folders at once, by destination.
    pub(super) moves: Batcher<Vec<Operation>>,
    /// One bulk download at a time (DocSpace refuses a second one per user).
    pub(super) exports: tokio::sync::Semaphore,
    /// Archive folders, read once for all the leavers that share them.
    pub(super) archive_folders: tokio::sync::Mutex<HashMap<i64, Lookup<Folder>>>,
}

/// One leaver's work in this session.
pub(super) struct Job {
    pub(super) leaver: Leaver,
    /// The leaver as the manifest names them: the key of their journal records.
    pub(super) label: String,
    pub(super) user: Employee,
    pub(super) archive_owner: Employee,
    pub(super) hr_group: Option<Group>,
    /// Read before the first step after the lock-out, when the plan had not.
    pub(super) workspace: Option<Folder>,
    pub(super) archive_folder: Option<Folder>,
    /// What the plan said about the leaver (kind of workspace included).
    pub(super) record: LeaverRecord,
    /// Steps still to run, in order.
    pub(super) todo: Vec<Step>,
    /// Steps an earlier session may have half done.
    pub(super) in_doubt: HashSet<Step>,
    pub(super) tally: Tally,
    /// Logical calls (an attempt and its retries count once).
    pub(super) calls: AtomicU64,
    /// Given once the reassign job runs (or the step ended): the export and the
    /// archive wait for it, so they never change what `reassign/necessary` and the
    /// job see before the job has started.
    pub(super) reassign_started: tokio::sync::Notify,
    /// Set when the reassign job really runs: only then do export and archive go
    /// beside it. A reassign that ends without a job leaves them to run after it
    /// (and be skipped when it failed).
    pub(super) reassign_running: std::sync::atomic::AtomicBool,
    /// An earlier session started a reassign that is not known to have finished
    /// (failed, or in doubt): start it again rather than trust the portal's
    /// "nothing to reassign", which an archived room can make true too early.
    pub(super) retry_reassign: bool,
    /// The workspace is known to be the leaver's even when someone else owns it now
    /// ([`Observed::handed_over`]).
    pub(super) handed_over: bool,
    /// When an earlier session first announced `reassign/start` for this leaver.
    pub(super) reassign_announced: Option<jiff::Timestamp>,
    /// The workspace as it is before this session's steps is to be journaled (a
    /// `prior` record) when the pipeline reads it (`Past::needs_prior_workspace`).
    pub(super) record_prior_workspace: bool,
}

impl Job {
    /// The workspace, as read before the steps that need it.
    pub(super) fn workspace(&self) -> &Folder {
        self.workspace
            .as_ref()
            .expect("the pipeline reads the workspace before any step that uses it")
    }
}

/// What the journal says of a write's answer (the `sent` outcome closing its
/// intent): nothing when it succeeded, the error otherwise, and `in_doubt` when no
/// answer says whether the portal acted, so the write stays in doubt until the
/// portal shows it, even when the step ends failed.
pub fn sent_detail<T>(answer: &Result<T, ApiError>) -> Value {
    match answer {
        Ok(_) => json!({}),
        Err(err) if err.is_transient() && !err.surely_not_processed() => {
            json!({ "error": err.to_string(), "in_doubt": true })
        }
        Err(err) => json!({ "error": err.to_string() }),
    }
}

/// How a step ended.
pub(super) enum StepEnd {
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
    pub(super) fn stopping(&self) -> bool {
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
    pub(super) async fn read<T, F, Fut>(&self, job: &Job, call: F) -> Result<T, ApiError>
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
    pub(super) async fn write<T, F, Fut>(
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
        self.journal
            .outcome(
                Some(intent),
                &job.label,
                step.as_str(),
                step_status::SENT,
                sent_detail(&answer),
            )
            .await?;
        Ok(answer)
    }

    pub(super) async fn end_step(
        &self,
        job: &Job,
        step: Step,
        end: &StepEnd,
    ) -> Result<(), JournalError> {
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
