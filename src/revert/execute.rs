//! Running a revert: per leaver, the items the revert plan decided, in order
//! (enable, unarchive, owner, members, move back), each journaled as a step of the
//! revert's own run directory: every write an intent first and its answer after,
//! every step's end. Each step looks at the portal before it writes, so a resumed
//! revert does nothing twice; a write whose answer was lost is settled by looking
//! again. Many leavers at once, under the one pacer.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::plan::{ENABLE, MEMBERS, MOVE_BACK, OWNER, UNARCHIVE, describe};
use crate::docspace::model::{Folder, Operation, status};
use crate::docspace::{ApiError, Client};
use crate::executor::fileops::FileOps;
use crate::executor::{Event, Lane, Pacer, RunError, sent_detail};
use crate::journal::{PriorMember, PriorWorkspace, SESSION_SO_FAR, SharedJournal, step_status};
use crate::plan::{ROOM_MANAGER, current_members, member_writes, owner_of};

/// What every leaver's revert shares.
pub struct Reverter {
    pub client: Arc<Client>,
    pub pacer: Arc<Pacer>,
    pub journal: SharedJournal,
    pub fileops: FileOps,
    pub cancel: CancellationToken,
    pub events: mpsc::UnboundedSender<Event>,
    /// The key's user (lowercase id).
    pub caller: String,
}

/// One leaver's revert in this session.
pub struct RevertJob {
    pub label: String,
    pub user_id: String,
    /// The items to run, in order (those not finished by an earlier session).
    pub todo: Vec<&'static str>,
    pub workspace: Option<PriorWorkspace>,
    /// Give the room back to its owner before the run (the `owner` item was
    /// planned to change it).
    pub restore_owner: bool,
    pub tally: crate::executor::pacer::Tally,
}

/// How one step ended.
enum End {
    Done(Value),
    Unchanged(Value),
    Failed(String),
}

impl Reverter {
    fn stopping(&self) -> bool {
        self.cancel.is_cancelled() || self.pacer.gone().is_cancelled()
    }

    async fn read<T, F, Fut>(&self, job: &RevertJob, call: F) -> Result<T, ApiError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        self.pacer
            .call_tallied(Lane::Read, Some(&job.tally), call)
            .await
    }

    /// A write, journaled: intent first, its answer after.
    async fn write<T, F, Fut>(
        &self,
        job: &RevertJob,
        step: &str,
        lane: Lane,
        action: &str,
        detail: Value,
        call: F,
    ) -> Result<Result<T, ApiError>, RunError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let intent = self
            .journal
            .intent(&job.label, step, action, detail)
            .await?;
        let answer = self.pacer.call_tallied(lane, Some(&job.tally), call).await;
        self.journal
            .outcome(
                Some(intent),
                &job.label,
                step,
                step_status::SENT,
                sent_detail(&answer),
            )
            .await?;
        Ok(answer)
    }

    async fn end(&self, job: &RevertJob, step: &str, end: &End) -> Result<(), RunError> {
        let (status, mut detail) = match end {
            End::Done(d) => (step_status::DONE, d.clone()),
            End::Unchanged(d) => (step_status::UNCHANGED, d.clone()),
            End::Failed(error) => (step_status::FAILED, json!({ "error": error })),
        };
        if !detail.is_object() {
            detail = json!({});
        }
        detail["attempts"] = json!(job.tally.attempts.swap(0, Ordering::Relaxed));
        detail["writes"] = json!(job.tally.writes.swap(0, Ordering::Relaxed));
        detail[SESSION_SO_FAR] = json!(self.pacer.counters.snapshot());
        self.journal
            .outcome(None, &job.label, step, status, detail)
            .await?;
        Ok(())
    }

    /// Waits for a file operation, then asks the portal whether it did its work.
    async fn settle(
        &self,
        started: Option<Operation>,
        what: &str,
        reached: impl AsyncFn() -> Result<bool, ApiError>,
    ) -> Result<(), String> {
        if let Some(op) = started
            && !op.finished
        {
            let _ = self.fileops.wait(&op.id).await;
        }
        match reached().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(format!("{what}: the portal shows it did not happen")),
            Err(err) => Err(format!("{what}: cannot look whether it happened: {err}")),
        }
    }
}

/// Runs every job, `concurrency` leavers at once. Returns how many failed.
pub async fn run(
    reverter: Arc<Reverter>,
    jobs: Vec<RevertJob>,
    concurrency: usize,
) -> Result<usize, RunError> {
    let _ = reverter.events.send(Event::Started {
        leavers: jobs.len(),
    });
    // Every account first, as apply locks every leaver out first: a leaver who is a
    // member of another leaver's room can only be added back once enabled.
    let enabled: Vec<Result<Option<End>, RunError>> = futures_util::stream::iter(&jobs)
        .map(|job| {
            let reverter = reverter.clone();
            async move {
                if job.todo.first() != Some(&ENABLE) || reverter.stopping() {
                    return Ok(None);
                }
                let _ = reverter.events.send(Event::Step {
                    leaver: job.label.clone(),
                    step: ENABLE,
                });
                let end = enable(&reverter, job).await?;
                if matches!(end, End::Failed(_)) && reverter.pacer.gone().is_cancelled() {
                    return Ok(None);
                }
                reverter.end(job, ENABLE, &end).await?;
                Ok(Some(end))
            }
        })
        // In order: each end belongs to its job.
        .buffered(concurrency.max(1))
        .collect()
        .await;
    let mut ends = Vec::with_capacity(jobs.len());
    for end in enabled {
        ends.push(end?);
    }
    let results: Vec<Result<bool, RunError>> =
        futures_util::stream::iter(jobs.into_iter().zip(ends))
            .map(|(job, enabled)| {
                let reverter = reverter.clone();
                async move {
                    if reverter.stopping() {
                        return Ok(false);
                    }
                    let result = leaver(&reverter, &job, enabled).await;
                    if result.is_err() {
                        reverter.cancel.cancel();
                    }
                    result
                }
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
    let mut failed = 0;
    for result in results {
        if result? {
            failed += 1;
        }
    }
    Ok(failed)
}

/// One leaver's items in order (`enabled`: how their `enable` ended, run before
/// everybody's other items); a failed item skips the rest. True when one failed.
async fn leaver(r: &Reverter, job: &RevertJob, enabled: Option<End>) -> Result<bool, RunError> {
    let mut failure: Option<String> = None;
    let mut changed = false;
    match enabled {
        Some(End::Done(_)) => changed = true,
        Some(End::Failed(why)) => failure = Some(format!("{ENABLE}: {why}")),
        Some(End::Unchanged(_)) | None => {}
    }
    for step in &job.todo {
        if *step == ENABLE {
            continue;
        }
        if let Some(why) = &failure {
            r.journal
                .outcome(
                    None,
                    &job.label,
                    step,
                    step_status::SKIPPED,
                    json!({ "reason": format!("not run: {why}") }),
                )
                .await?;
            continue;
        }
        if r.stopping() {
            return Ok(interrupted(r, job));
        }
        let _ = r.events.send(Event::Step {
            leaver: job.label.clone(),
            step,
        });
        let end = match *step {
            UNARCHIVE => unarchive(r, job).await?,
            OWNER => owner(r, job).await?,
            MEMBERS => members(r, job).await?,
            MOVE_BACK => move_back(r, job).await?,
            _ => unreachable!("the other steps are the plan's actions; `enable` ran first"),
        };
        if matches!(end, End::Failed(_)) && r.pacer.gone().is_cancelled() {
            // Cut short by a silent portal: the next session takes it up again.
            return Ok(interrupted(r, job));
        }
        r.end(job, step, &end).await?;
        match end {
            End::Done(_) => changed = true,
            End::Unchanged(_) => {}
            End::Failed(why) => failure = Some(format!("{step}: {why}")),
        }
    }
    let _ = r.events.send(Event::Finished {
        leaver: job.label.clone(),
        outcome: match (&failure, changed) {
            (Some(_), _) => "failed",
            (None, true) => "done",
            (None, false) => "unchanged",
        },
        error: failure.clone(),
    });
    Ok(failure.is_some())
}

/// A leaver whose items stop before their end (Ctrl-C, a silent portal): the items
/// left have no end in the journal, so the report says `not_run` and the next
/// session runs them. Not a failure.
fn interrupted(r: &Reverter, job: &RevertJob) -> bool {
    let _ = r.events.send(Event::Finished {
        leaver: job.label.clone(),
        outcome: "interrupted",
        error: None,
    });
    false
}

/// `PUT people/status/1`: the account active again (idempotent).
async fn enable(r: &Reverter, job: &RevertJob) -> Result<End, RunError> {
    let id = job.user_id.clone();
    let user = match r.read(job, || r.client.user(&id)).await {
        Ok(user) => user,
        Err(err) => return Ok(End::Failed(format!("cannot read the account: {err}"))),
    };
    if user.is_active() {
        return Ok(End::Unchanged(json!({})));
    }
    let ids = [id.clone()];
    match r
        .write(
            job,
            ENABLE,
            Lane::Write,
            "PUT people/status/1",
            json!({ "user": id }),
            || r.client.set_status(&ids, status::ACTIVE),
        )
        .await?
    {
        Ok(_) => Ok(End::Done(json!({}))),
        Err(err) => Ok(End::Failed(format!("cannot enable the account: {err}"))),
    }
}

async fn folder(r: &Reverter, job: &RevertJob, id: i64) -> Result<Folder, String> {
    r.read(job, || r.client.folder(id))
        .await
        .map_err(|e| format!("cannot read folder {id}: {e}"))
}

fn prior(job: &RevertJob) -> &PriorWorkspace {
    job.workspace
        .as_ref()
        .expect("workspace items are planned only with the workspace's prior state")
}

/// `PUT files/rooms/{id}/unarchive`, sent once and settled by reading the room.
async fn unarchive(r: &Reverter, job: &RevertJob) -> Result<End, RunError> {
    let id = prior(job).id;
    let room = match folder(r, job, id).await {
        Ok(room) => room,
        Err(why) => return Ok(End::Failed(why)),
    };
    if !room.is_archived() {
        return Ok(End::Unchanged(json!({})));
    }
    let reached = async || Ok(!r.read(job, || r.client.folder(id)).await?.is_archived());
    let answer = r
        .write(
            job,
            UNARCHIVE,
            Lane::Once,
            "PUT files/rooms/{id}/unarchive",
            json!({ "room": id }),
            || r.client.unarchive_room(id),
        )
        .await?;
    let started = match answer {
        Ok(op) => Some(op),
        Err(err) if err.is_transient() => None,
        Err(err) => return Ok(End::Failed(format!("cannot unarchive the room: {err}"))),
    };
    Ok(match r.settle(started, "unarchiving", reached).await {
        Ok(()) => End::Done(json!({})),
        Err(why) => End::Failed(why),
    })
}

/// The room's members before the run, as id → access (the owner as a manager).
fn wanted(prior: &PriorWorkspace) -> BTreeMap<String, u8> {
    prior
        .members
        .iter()
        .map(|m: &PriorMember| (m.id.clone(), if m.owner { ROOM_MANAGER } else { m.access }))
        .collect()
}

/// `POST files/owner`: the room back to its owner before the run (idempotent).
async fn owner(r: &Reverter, job: &RevertJob) -> Result<End, RunError> {
    let prior = prior(job);
    let Some(target) = prior.owner.clone().filter(|_| job.restore_owner) else {
        return Ok(End::Unchanged(json!({})));
    };
    let room = match folder(r, job, prior.id).await {
        Ok(room) => room,
        Err(why) => return Ok(End::Failed(why)),
    };
    if room
        .owner_id()
        .is_some_and(|o| o.eq_ignore_ascii_case(&target))
    {
        return Ok(End::Unchanged(json!({})));
    }
    let rooms = [prior.id];
    match r
        .write(
            job,
            OWNER,
            Lane::Write,
            "POST files/owner",
            json!({ "room": prior.id, "owner": target }),
            || r.client.change_room_owner(&rooms, &target),
        )
        .await?
    {
        Ok(_) => Ok(End::Done(json!({ "owner": target }))),
        Err(err) => Ok(End::Failed(format!(
            "cannot give the room back to its owner: {err}"
        ))),
    }
}

/// `PUT files/rooms/{id}/share`: the members and accesses before the run. Only a
/// room manager edits members, and an admin who is not a member is none
/// (`FileSecurity`): when the key's user is neither owner nor manager, they take
/// the room over, set the members, hand it back and leave it, as the archive step
/// does. The portal's member list decides at every turn.
async fn members(r: &Reverter, job: &RevertJob) -> Result<End, RunError> {
    let prior = prior(job);
    let id = prior.id;
    let read = async || {
        r.read(job, || r.client.room_members(id))
            .await
            .map_err(|e| format!("cannot read the room's members: {e}"))
    };
    let now = match read().await {
        Ok(m) => m,
        Err(why) => return Ok(End::Failed(why)),
    };
    let owner = owner_of(&now).unwrap_or_default();
    let mut wanted = wanted(prior);
    // When the owner before the run could not have the room back, its owner now
    // keeps it, and the one before is no manager in its place.
    if let Some(before) = &prior.owner
        && *before != owner
    {
        wanted.remove(before);
        wanted.insert(owner.clone(), ROOM_MANAGER);
    }
    // DocSpace adds no disabled user to a room (`FileSharingAceHelper.SetAceObjectAsync`
    // skips terminated users): such a member stays out, and the report says so.
    let mut warnings = Vec::new();
    for member in prior.members.iter().filter(|m| !m.group && !m.owner) {
        let present = now.iter().any(|s| {
            s.subject()
                .is_some_and(|id| id.eq_ignore_ascii_case(&member.id))
        });
        if present || !wanted.contains_key(&member.id) {
            continue;
        }
        let disabled = match r.read(job, || r.client.user(&member.id)).await {
            Ok(user) => user.is_disabled(),
            Err(ApiError::NotFound { .. }) => {
                warnings.push(format!(
                    "not added back: {} (gone from the portal)",
                    member.name
                ));
                wanted.remove(&member.id);
                continue;
            }
            Err(err) => {
                return Ok(End::Failed(format!(
                    "cannot read member {}: {err}",
                    member.name
                )));
            }
        };
        if disabled {
            warnings.push(format!(
                "not added back: {} (disabled, and DocSpace adds no disabled user to a room: revert or enable them, then revert again with --only-failed)",
                member.name
            ));
            wanted.remove(&member.id);
        }
    }
    if current_members(&now) == wanted {
        return Ok(if warnings.is_empty() {
            End::Unchanged(json!({}))
        } else {
            End::Failed(warnings.join("; "))
        });
    }
    let caller = r.caller.clone();
    let can_edit = owner == caller
        || now.iter().any(|s| {
            !s.is_owner
                && s.access == ROOM_MANAGER
                && s.subject().is_some_and(|s| s.eq_ignore_ascii_case(&caller))
        });
    if can_edit {
        // The key's user last, if they go: leaving first would take away the
        // right to edit.
        let changes = member_writes(&now, &wanted, &caller);
        if let Err(why) = set_members(r, job, id, &changes).await? {
            return Ok(End::Failed(why));
        }
    } else {
        if let Err(why) = set_owner(r, job, id, &caller).await? {
            return Ok(End::Failed(why));
        }
        // The owner before the take-over is a manager now, as the room wants.
        let taken = match read().await {
            Ok(m) => m,
            Err(why) => return Ok(End::Failed(why)),
        };
        let changes: Vec<(String, u8)> = member_writes(&taken, &wanted, &caller)
            .into_iter()
            .filter(|(member, _)| *member != caller)
            .collect();
        if !changes.is_empty()
            && let Err(why) = set_members(r, job, id, &changes).await?
        {
            return Ok(End::Failed(why));
        }
        // Handed back, the key's user is a manager: what the room wants of them.
        if let Err(why) = set_owner(r, job, id, &owner).await? {
            return Ok(End::Failed(why));
        }
        let own = wanted.get(&caller).copied().unwrap_or(0);
        if own != ROOM_MANAGER
            && let Err(why) = set_members(r, job, id, &[(caller.clone(), own)]).await?
        {
            return Ok(End::Failed(why));
        }
    }
    // What the portal shows is what counts.
    match read().await {
        Ok(after) if current_members(&after) == wanted && warnings.is_empty() => {
            Ok(End::Done(json!({})))
        }
        // The rest is restored; `--only-failed` adds them once they are enabled.
        Ok(after) if current_members(&after) == wanted => Ok(End::Failed(warnings.join("; "))),
        Ok(after) => Ok(End::Failed(format!(
            "the portal shows other members than the run replaced: {}",
            describe(&current_members(&after), &wanted, prior, &after)
        ))),
        Err(why) => Ok(End::Failed(why)),
    }
}

async fn set_owner(
    r: &Reverter,
    job: &RevertJob,
    room: i64,
    owner: &str,
) -> Result<Result<(), String>, RunError> {
    let rooms = [room];
    Ok(r.write(
        job,
        MEMBERS,
        Lane::Write,
        "POST files/owner",
        json!({ "room": room, "owner": owner }),
        || r.client.change_room_owner(&rooms, owner),
    )
    .await?
    .map(|_| ())
    .map_err(|e| format!("cannot change the room's owner: {e}")))
}

/// A member change, sent once: when its answer is lost, the members list says
/// whether it happened.
async fn set_members(
    r: &Reverter,
    job: &RevertJob,
    room: i64,
    changes: &[(String, u8)],
) -> Result<Result<(), String>, RunError> {
    let detail = json!({
        "room": room,
        "members": changes.iter().map(|(id, a)| json!({ "id": id, "access": a })).collect::<Vec<_>>(),
    });
    let answer = r
        .write(
            job,
            MEMBERS,
            Lane::Once,
            "PUT files/rooms/{id}/share",
            detail,
            || r.client.set_room_members(room, changes),
        )
        .await?;
    Ok(match answer {
        Ok(security) if security.error != 0 => Err(format!(
            "the portal refused some member changes (error {})",
            security.error
        )),
        Ok(_) => Ok(()),
        Err(err) if err.is_transient() => match r.read(job, || r.client.room_members(room)).await {
            Ok(now) => {
                let now = current_members(&now);
                if changes
                    .iter()
                    .all(|(id, a)| now.get(id).copied().unwrap_or(0) == *a)
                {
                    Ok(())
                } else {
                    Err(format!("cannot set the room's members: {err}"))
                }
            }
            Err(e) => Err(format!(
                "cannot set the room's members: {err}; then, looking: {e}"
            )),
        },
        Err(err) => Err(format!("cannot set the room's members: {err}")),
    })
}

/// `PUT files/fileops/move`: a folder workspace back where it was, sent once and
/// settled by reading the folder.
async fn move_back(r: &Reverter, job: &RevertJob) -> Result<End, RunError> {
    let prior = prior(job);
    let (id, Some(parent)) = (prior.id, prior.parent_id) else {
        return Ok(End::Failed("the folder had no parent folder".into()));
    };
    let now = match folder(r, job, id).await {
        Ok(folder) => folder,
        Err(why) => return Ok(End::Failed(why)),
    };
    if now.parent_id == Some(parent) {
        return Ok(End::Unchanged(json!({})));
    }
    let folders = [id];
    let reached = async || Ok(r.read(job, || r.client.folder(id)).await?.parent_id == Some(parent));
    let answer = r
        .write(
            job,
            MOVE_BACK,
            Lane::Once,
            "PUT files/fileops/move",
            json!({ "folder": id, "to": parent }),
            || r.client.move_folders(&folders, parent),
        )
        .await?;
    let started = match answer {
        Ok(ops) => ops.into_iter().next(),
        Err(err) if err.is_transient() => None,
        Err(err) => return Ok(End::Failed(format!("cannot move the folder back: {err}"))),
    };
    Ok(match r.settle(started, "moving back", reached).await {
        Ok(()) => End::Done(json!({ "to": parent })),
        Err(why) => End::Failed(why),
    })
}
