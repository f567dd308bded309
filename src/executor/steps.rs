//! The steps after the lock-out, each for one leaver: observe the portal first, do
//! nothing when the step is already done, journal every write before it goes out.
//! A step an earlier session left in doubt (a write announced, no end recorded) is
//! resolved by reading the portal again, never by repeating the write blindly.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::docspace::HistoryFilter;
use crate::docspace::model::{Folder, Share, task_status};
use crate::executor::Lane;
use crate::executor::run::{Engine, Job, RunError, StepEnd};
use crate::manifest::Step;
use crate::plan::{ROOM_MANAGER, current_members, export_problem, wanted_members};
use crate::run_dir::{file_stem, sha256_hex, write_atomically};

/// `?` for API answers inside a step: a failure ends the step, not the run.
macro_rules! attempt {
    ($answer:expr, $what:expr) => {
        match $answer {
            Ok(value) => value,
            Err(err) => return Ok(StepEnd::Failed(format!("{}: {err}", $what), json!({}))),
        }
    };
}

/// How long a step waits for the caller's running file operations to settle before
/// it looks at the portal anyway.
const SETTLE_WAIT: Duration = Duration::from_secs(120);

/// How often a write that must not happen twice is sent before the step gives up,
/// each time only after the portal showed it had not happened.
const ONCE_TRIES: u32 = 5;

/// Sends a write that must not happen twice. When the answer leaves it open whether
/// the portal acted (a 5xx, a timeout, a dropped connection), waits for the
/// caller's file operations to settle and asks `reached` whether the goal is met:
/// then `Ok(None)`; if not, it is safe to send again.
#[allow(clippy::too_many_arguments)]
async fn send_once<T, F, Fut>(
    engine: &Engine,
    job: &Job,
    step: Step,
    lane: Option<Lane>,
    action: &str,
    detail: Value,
    call: F,
    reached: impl AsyncFn() -> Result<bool, crate::docspace::ApiError>,
) -> Result<Result<Option<T>, String>, RunError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, crate::docspace::ApiError>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let answer = engine
            .write(job, step, lane, action, detail.clone(), &call)
            .await?;
        let err = match answer {
            Ok(started) => return Ok(Ok(Some(started))),
            Err(err) if err.is_transient() => err,
            Err(err) => return Ok(Err(err.to_string())),
        };
        if lane != Some(Lane::Delete) {
            engine.fileops.wait_idle(SETTLE_WAIT).await;
        }
        match reached().await {
            Ok(true) => return Ok(Ok(None)),
            Ok(false) if attempt < ONCE_TRIES => {
                // A portal failing now may fail again at once: give it a moment.
                tokio::time::sleep(Duration::from_millis(200) * attempt).await;
            }
            Ok(false) => return Ok(Err(err.to_string())),
            Err(read) => return Ok(Err(format!("{err}; then, looking: {read}"))),
        }
    }
}

/// Waits for a started file operation. Its finished record is read once: when a
/// dropped answer lost it, `reached` looks at the portal instead. A record that says
/// "finished, no error" is checked too: DocSpace only logs an unexpected exception
/// inside an operation and reports it finished without an error
/// (`FileOperation.RunJob`), so only the portal's state proves it happened.
async fn finish(
    engine: &Engine,
    started: &crate::docspace::model::Operation,
    what: &str,
    reached: impl AsyncFn() -> Result<bool, crate::docspace::ApiError>,
) -> Result<(), String> {
    // Finished already in the answer that started it: that was its one read.
    let finished = if started.finished {
        Ok(started.clone())
    } else {
        engine.fileops.wait(&started.id).await
    };
    match finished {
        Ok(op) => match op.failure() {
            // A batched operation fails as a whole when one item does: ours may
            // still have gone through.
            Some(error) => match reached().await {
                Ok(true) => Ok(()),
                _ => Err(format!("{what} failed: {error}")),
            },
            None => match reached().await {
                Ok(true) => Ok(()),
                Ok(false) => Err(format!(
                    "{what} finished without an error, but the portal shows it did not happen"
                )),
                Err(read) => Err(format!("{what} finished; then, looking: {read}")),
            },
        },
        Err(lost) => match reached().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(format!("{what}: {lost}")),
            Err(read) => Err(format!("{what}: {lost}; then, looking: {read}")),
        },
    }
}

fn same_id(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

// --- revoke_keys ------------------------------------------------------------------

pub async fn revoke_keys(engine: &Engine, job: &Job) -> Result<StepEnd, RunError> {
    let keys: Vec<_> = engine
        .keys
        .iter()
        .filter(|k| {
            k.create_by
                .as_ref()
                .is_some_and(|c| same_id(&c.id, &job.user.id))
        })
        .collect();
    if keys.is_empty() {
        return Ok(StepEnd::Unchanged(json!({ "deleted": 0 })));
    }
    let mut deleted = 0;
    for key in keys {
        let action = format!("DELETE keys/{}", key.id);
        let answer = send_once(
            engine,
            job,
            Step::RevokeKeys,
            Some(Lane::Delete),
            &action,
            json!({ "key": key.id, "name": key.name }),
            || engine.client.delete_api_key(&key.id),
            // A lost answer may hide a deletion: the key list says.
            async || {
                let keys = engine.read(job, || engine.client.api_keys()).await?;
                Ok(keys.iter().all(|k| !same_id(&k.id, &key.id)))
            },
        )
        .await?;
        match answer {
            Ok(Some(true) | None) => deleted += 1,
            Ok(Some(false)) => {
                return Ok(StepEnd::Failed(
                    format!("the portal refused to delete API key `{}`", key.name),
                    json!({ "deleted": deleted }),
                ));
            }
            Err(err) => {
                return Ok(StepEnd::Failed(
                    format!("cannot delete API key `{}`: {err}", key.name),
                    json!({ "deleted": deleted }),
                ));
            }
        }
    }
    Ok(StepEnd::Done(json!({ "deleted": deleted })))
}

// --- reassign ---------------------------------------------------------------------

/// Bounds for the wait before the first progress poll.
const REASSIGN_FIRST_POLL: Duration = Duration::from_secs(2);
const REASSIGN_MIN_POLL: Duration = Duration::from_millis(100);
/// A reassign job still running after this long is reported as failed (the next
/// run looks at it again).
const REASSIGN_DEADLINE: Duration = Duration::from_secs(30 * 60);
const REASSIGN_MAX_POLL: Duration = Duration::from_secs(5);

/// How far the portal's clock may be behind ours when audit events are compared
/// with the time a write was sent.
const CLOCK_SKEW: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

pub async fn reassign(engine: &Engine, job: &Job) -> Result<StepEnd, RunError> {
    let user = &job.user;
    let to = &job.archive_owner;
    let client = &engine.client;
    let in_doubt = job.in_doubt.contains(&Step::Reassign);
    let detail = json!({ "to": to.id });
    // A job may already run: one an earlier session started, or anyone's. Only worth
    // a look for leavers who were disabled before this session began.
    if in_doubt || user.is_disabled() {
        let progress = attempt!(
            engine
                .read(job, || client.reassign_progress(&user.id))
                .await,
            "cannot read the reassign progress"
        );
        // The job's record is gone a minute after it ends; the audit trail is not.
        // An earlier session that announced the start and never heard back: did a
        // reassign run since?
        if progress.is_none()
            && in_doubt
            && let Some(announced) = job.reassign_announced
        {
            let since = announced - CLOCK_SKEW;
            let ran = attempt!(
                engine
                    .read(job, || client.reassigned_since(&user.id, since))
                    .await,
                "cannot read the audit trail"
            );
            if ran {
                return Ok(StepEnd::Done(detail));
            }
        }
        if let Some(p) = progress {
            if !p.is_completed && !in_doubt {
                let _ = engine.events.send(crate::executor::run::Event::Notice(format!(
                    "{}: a reassign of their data was already running (somebody else offboarding them?): waiting for it",
                    job.label
                )));
            }
            if !p.is_completed {
                // A job runs already: the export and archive may go ahead.
                job.reassign_running.store(true, Ordering::Release);
                job.reassign_started.notify_one();
            }
            let p = if p.is_completed {
                p
            } else {
                attempt!(
                    wait_for_reassign(engine, job, Instant::now()).await,
                    "reassign"
                )
                .unwrap_or(p)
            };
            if p.succeeded() {
                return Ok(if in_doubt {
                    StepEnd::Done(detail)
                } else {
                    StepEnd::Unchanged(json!({ "detail": "reassigned already" }))
                });
            }
        }
    }
    let necessary = attempt!(
        engine
            .read(job, || client
                .reassign_necessary(&user.id, user.kind().type_name()))
            .await,
        "cannot ask whether data needs reassigning"
    );
    if !necessary && !job.retry_reassign {
        return Ok(if in_doubt {
            StepEnd::Done(detail)
        } else {
            StepEnd::Unchanged(json!({ "detail": "nothing to reassign" }))
        });
    }
    // `necessary` stays true after a reassign while the leaver is still a room
    // member: a leaver disabled before this session who owns no room is done.
    if !job.retry_reassign && user.is_disabled() && reassigned_already(engine, job).await {
        return Ok(if in_doubt {
            StepEnd::Done(detail)
        } else {
            StepEnd::Unchanged(json!({ "detail": "already reassigned: owns no room" }))
        });
    }
    let started = Instant::now();
    let sent_at = jiff::Timestamp::now() - CLOCK_SKEW;
    // A started job has a progress record at once, and a finished one leaves its
    // audit event: neither means it did not start.
    let progress = send_once(
        engine,
        job,
        Step::Reassign,
        Some(Lane::Once),
        "POST people/reassign/start",
        json!({ "from": user.id, "to": to.id }),
        || client.reassign_start(&user.id, &to.id, false),
        async || {
            Ok(engine
                .read(job, || client.reassign_progress(&user.id))
                .await?
                .is_some()
                || engine
                    .read(job, || client.reassigned_since(&user.id, sent_at))
                    .await?)
        },
    )
    .await?;
    let progress = attempt!(progress, "cannot start the reassign");
    job.reassign_running.store(true, Ordering::Release);
    job.reassign_started.notify_one();
    let last = match progress {
        Some(p) if p.is_completed => Some(p),
        _ => attempt!(wait_for_reassign(engine, job, started).await, "reassign"),
    };
    match last {
        Some(p) if p.status == task_status::CANCELED => Ok(StepEnd::Failed(
            "the reassign job was canceled".into(),
            detail,
        )),
        Some(p) if p.status == task_status::FAILED || p.failure().is_some() => Ok(StepEnd::Failed(
            format!(
                "the reassign job failed: {}",
                p.failure().unwrap_or("no reason given")
            ),
            detail,
        )),
        Some(_) => Ok(StepEnd::Done(detail)),
        // The record went (they vanish a minute after their last update): the audit
        // trail, or the portal's state, says whether the data moved.
        None if engine
            .read(job, || client.reassigned_since(&user.id, sent_at))
            .await
            .unwrap_or(false)
            || reassigned_already(engine, job).await =>
        {
            Ok(StepEnd::Done(detail))
        }
        None => Ok(StepEnd::Failed(
            "the reassign job's record vanished before it was seen to finish".into(),
            detail,
        )),
    }
}

/// Polls the leaver's reassign progress until it completes or its record is gone.
/// Each wait is what the job's own percentage says is left (jobs of a run take
/// similar times, so the first wait is the last job's estimated length): most jobs
/// are polled once or twice, and a wait never holds a request slot.
async fn wait_for_reassign(
    engine: &Engine,
    job: &Job,
    started: Instant,
) -> Result<Option<crate::docspace::model::Progress>, crate::docspace::ApiError> {
    let learned = Duration::from_millis(engine.reassign_millis.load(Ordering::Relaxed));
    let mut wait = if learned.is_zero() {
        REASSIGN_FIRST_POLL
    } else {
        let left = learned.saturating_sub(started.elapsed());
        left + left / 10 + Duration::from_millis(50)
    };
    loop {
        if started.elapsed() > REASSIGN_DEADLINE {
            return Err(crate::docspace::ApiError::UnexpectedShape {
                status: 0,
                detail: format!(
                    "the job did not finish within {} minutes",
                    REASSIGN_DEADLINE.as_secs() / 60
                ),
            });
        }
        tokio::time::sleep(wait.clamp(REASSIGN_MIN_POLL, REASSIGN_MAX_POLL)).await;
        let progress = engine
            .read(job, || engine.client.reassign_progress(&job.user.id))
            .await?;
        let progress = match progress {
            Some(p) if !p.is_completed => p,
            ended => {
                if learned.is_zero() {
                    // Finished before the first look: at most this long.
                    let took = started.elapsed().as_millis() as u64;
                    let _ = engine.reassign_millis.compare_exchange(
                        0,
                        took,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    );
                }
                return Ok(ended);
            }
        };
        let elapsed = started.elapsed();
        let done = u32::from(progress.percentage.clamp(1, 99));
        let total = elapsed * 100 / done;
        if done >= 20 {
            engine
                .reassign_millis
                .store(total.as_millis() as u64, Ordering::Relaxed);
        }
        // What is left, and a little more so the next poll finds it finished.
        let left = total.saturating_sub(elapsed);
        wait = left + left / 10 + Duration::from_millis(50);
    }
}

/// A disabled leaver who owns no room and not their workspace has had their data
/// reassigned (plan.rs reads it the same way).
async fn reassigned_already(engine: &Engine, job: &Job) -> bool {
    let owned = engine
        .read(job, || engine.client.rooms_owned_by(&job.user.id))
        .await;
    let workspace = job.workspace();
    let owns_workspace = workspace
        .owner_id()
        .is_some_and(|id| same_id(id, &job.user.id));
    if !matches!(owned, Ok(0)) || owns_workspace {
        return false;
    }
    // Their files in the workspace went to the archive owner too (an archived or
    // taken-over room alone proves nothing: the archive step re-owns the room).
    let contents = engine
        .read(job, || engine.client.folder_contents(workspace.id, 0))
        .await;
    contents.is_ok_and(|c| {
        let theirs = |id: &str| same_id(id, &job.user.id);
        c.files
            .iter()
            .all(|f| f.created_by.as_ref().is_none_or(|by| !theirs(&by.id)))
            && c.folders
                .iter()
                .all(|f| f.owner_id().is_none_or(|id| !theirs(id)))
    })
}

// --- export -----------------------------------------------------------------------

pub async fn export(engine: &Engine, job: &Job) -> Result<StepEnd, RunError> {
    let workspace = job.workspace().id;
    let folders = [workspace];
    // A room that restricts downloads refuses the key's user (404 "The required folder
    // was not found", DownloadPermissionsCheck): say why instead.
    if let Some(problem) = export_problem(workspace as u64, job.workspace()) {
        return Ok(StepEnd::Failed(problem, json!({})));
    }
    if job.in_doubt.contains(&Step::Export) {
        engine.fileops.wait_idle(SETTLE_WAIT).await;
    }
    // The finished record and the archive link are each good for one read: when a
    // dropped answer loses either, the download is started again (it changes nothing
    // on the portal).
    // DocSpace runs one bulk download per user at a time ("Too many downloads."):
    // exports of the run take turns.
    let _turn = engine
        .exports
        .acquire()
        .await
        .expect("the export semaphore is never closed");
    let mut tries = 0;
    let bytes = loop {
        tries += 1;
        let answer = engine
            .write(
                job,
                Step::Export,
                Some(Lane::Write),
                "PUT files/fileops/bulkdownload",
                json!({ "folder": workspace }),
                || engine.client.bulk_download(&folders),
            )
            .await?;
        let operations = attempt!(answer, "cannot start the download");
        let Some(started) = operations.into_iter().next() else {
            return Ok(StepEnd::Failed(
                "the portal started no download".into(),
                json!({}),
            ));
        };
        let finished = if started.finished {
            Ok(started)
        } else {
            engine.fileops.wait(&started.id).await
        };
        let finished = match finished {
            Ok(finished) => finished,
            Err(_) if tries < ONCE_TRIES => continue,
            Err(lost) => return Ok(StepEnd::Failed(format!("download: {lost}"), json!({}))),
        };
        if let Some(error) = finished.failure() {
            return Ok(StepEnd::Failed(
                format!("the download failed: {error}"),
                json!({}),
            ));
        }
        let Some(url) = finished.url.clone() else {
            return Ok(StepEnd::Failed(
                "the finished download has no URL".into(),
                json!({}),
            ));
        };
        match engine.read(job, || engine.client.download(&url)).await {
            Ok(bytes) => break bytes,
            Err(_) if tries < ONCE_TRIES => continue,
            Err(err) => {
                return Ok(StepEnd::Failed(
                    format!("cannot fetch the archive: {err}"),
                    json!({}),
                ));
            }
        }
    };
    let relative =
        PathBuf::from("exports").join(format!("{}-{workspace}.zip", file_stem(&job.label)));
    let path = engine.run_dir.join(&relative);
    if let Err(err) = write_atomically(&path, &bytes) {
        return Ok(StepEnd::Failed(
            format!("cannot write {}: {err}", path.display()),
            json!({}),
        ));
    }
    let sha256 = sha256_hex(&bytes);
    Ok(StepEnd::Done(json!({
        "path": relative.to_string_lossy(),
        "sha256": sha256,
        "bytes": bytes.len(),
    })))
}

// --- archive ----------------------------------------------------------------------

pub async fn archive(engine: &Engine, job: &Job) -> Result<StepEnd, RunError> {
    let in_doubt = job.in_doubt.contains(&Step::Archive);
    let mut workspace = job.workspace().clone();
    if in_doubt {
        // An operation of the earlier session may still run; then see where things are.
        engine.fileops.wait_idle(SETTLE_WAIT).await;
        workspace = attempt!(
            engine
                .read(job, || engine.client.folder(workspace.id))
                .await,
            "cannot read the workspace"
        );
    }
    let end = if workspace.is_room() {
        archive_room(engine, job, &workspace).await?
    } else {
        archive_folder(engine, job, &workspace).await?
    };
    Ok(match end {
        StepEnd::Unchanged(detail) if in_doubt => StepEnd::Done(detail),
        end => end,
    })
}

/// The web client's address of a room or folder.
fn link(engine: &Engine, folder: i64, archived: bool) -> String {
    let section = if archived { "archived" } else { "shared" };
    format!(
        "{}rooms/{section}/filter?folder={folder}",
        engine.client.portal()
    )
}

async fn archive_room(engine: &Engine, job: &Job, room: &Folder) -> Result<StepEnd, RunError> {
    let client = &engine.client;
    let step = Step::Archive;
    let archive_owner = job.archive_owner.id.to_lowercase();
    let caller = engine.caller.id.to_lowercase();
    let hr = job.hr_group.as_ref().map(|g| g.id.to_lowercase());
    let wanted = wanted_members(&archive_owner, hr.as_deref());
    let mut members = attempt!(
        engine.read(job, || client.room_members(room.id)).await,
        "cannot read the room's members"
    );
    let detail = json!({
        "location": format!("Archive/{}", room.title),
        "link": link(engine, room.id, true),
    });
    if room.is_archived() {
        if current_members(&members) == wanted
            && owner_of(&members).as_deref() == Some(archive_owner.as_str())
        {
            return Ok(StepEnd::Unchanged(detail));
        }
        // Archived rooms are frozen: bring it back, fix it, archive it again.
        attempt!(
            move_room(engine, job, room.id, false).await?,
            "cannot unarchive the room"
        );
    }

    // Only a room manager edits members, and an admin who is not a member is none
    // (FileSecurity): make the archive owner the owner, passing through the key's
    // user when they cannot edit. The previous owner becomes a manager (and is
    // removed below); a disabled one gets no role.
    let owner = owner_of(&members);
    let can_edit = owner.as_deref() == Some(caller.as_str())
        || members.iter().any(|s| {
            !s.is_owner
                && s.access == ROOM_MANAGER
                && s.subject().is_some_and(|id| same_id(id, &caller))
        });
    let mut new_owners: Vec<&str> = Vec::new();
    let owned_and_right = owner.as_deref() == Some(archive_owner.as_str())
        && member_changes(&members, &wanted, &caller).is_empty();
    if owned_and_right {
        // Owner and members are as wanted already (an earlier session stopped
        // between the member change and the archiving): taking the room over
        // only to hand it back would put owner and member changes in the
        // portal's audit trail for nothing. A DocSpace admin archives a room
        // without being a member of it (`FileSecurity.FilterEntryAsync`, the
        // `VirtualRooms` case lets admins `Move` and `ChangeOwner` any room).
    } else if owner.as_deref() != Some(archive_owner.as_str()) {
        if !can_edit && owner.as_deref() != Some(caller.as_str()) {
            new_owners.push(&caller);
        }
        new_owners.push(&archive_owner);
    } else if !can_edit {
        new_owners.push(&caller);
        new_owners.push(&archive_owner);
    }
    for new_owner in &new_owners {
        // Batched with other leavers' rooms going to the same owner.
        let answer = engine
            .write(
                job,
                step,
                None,
                "POST files/owner",
                json!({ "room": room.id, "owner": new_owner }),
                || engine.owners.submit(new_owner, room.id),
            )
            .await?;
        attempt!(answer, "cannot change the room's owner");
    }
    if !new_owners.is_empty() {
        members = after_owner_changes(&members, &new_owners, &job.user.id);
    }

    let changes = member_changes(&members, &wanted, &caller);
    if !changes.is_empty() {
        // Sent once: the change removes the key's own user from the room, so a
        // resend after a lost answer would be refused. The members list says
        // whether it happened.
        let settled = send_once(
            engine,
            job,
            step,
            Some(Lane::Once),
            "PUT files/rooms/{id}/share",
            json!({ "room": room.id, "members": changes.iter().map(|(id, a)| json!({"id": id, "access": a})).collect::<Vec<_>>() }),
            || client.set_room_members(room.id, &changes),
            async || {
                let now = engine.read(job, || client.room_members(room.id)).await?;
                Ok(member_changes(&now, &wanted, &caller).is_empty())
            },
        )
        .await?;
        if let Some(security) = attempt!(settled, "cannot set the room's members")
            && security.error != 0
        {
            return Ok(StepEnd::Failed(
                format!(
                    "the portal refused some member changes (error {})",
                    security.error
                ),
                json!({}),
            ));
        }
    }

    attempt!(
        move_room(engine, job, room.id, true).await?,
        "cannot archive the room"
    );
    Ok(StepEnd::Done(detail))
}

/// The members after `POST files/owner` to each of `owners` in turn, as DocSpace
/// does it (`FileStorageService.ChangeOwnerAsync`): the new owner's own record
/// goes and the previous owner becomes a room manager, unless they are disabled
/// (`FileSharingAceHelper.SetAceObjectAsync` skips terminated users). Saves reading
/// the members again; the member change that follows is checked against the
/// portal if its answer is lost.
fn after_owner_changes(members: &[Share], owners: &[&str], disabled: &str) -> Vec<Share> {
    let mut members = members.to_vec();
    for new_owner in owners {
        let previous = owner_of(&members);
        if previous.as_deref() == Some(*new_owner) {
            continue;
        }
        members.retain(|s| !s.is_owner && !s.subject().is_some_and(|id| same_id(id, new_owner)));
        members.insert(0, user_share(new_owner, ROOM_MANAGER, true));
        if let Some(previous) = previous.filter(|p| !same_id(p, disabled)) {
            members.push(user_share(&previous, ROOM_MANAGER, false));
        }
    }
    members
}

fn user_share(id: &str, access: u8, is_owner: bool) -> Share {
    Share {
        access,
        shared_to_user: Some(crate::docspace::model::EmployeeRef {
            id: id.to_owned(),
            display_name: String::new(),
        }),
        shared_to_group: None,
        is_owner,
        subject_type: 0,
    }
}

/// Archives a room (or brings it back) and waits for the operation; settled by
/// reading the room when an answer is lost.
async fn move_room(
    engine: &Engine,
    job: &Job,
    room: i64,
    archive: bool,
) -> Result<Result<(), String>, RunError> {
    let client = &engine.client;
    let reached = async || {
        Ok(engine
            .read(job, || client.folder(room))
            .await?
            .is_archived()
            == archive)
    };
    let (action, what) = if archive {
        ("PUT files/rooms/{id}/archive", "archiving")
    } else {
        ("PUT files/rooms/{id}/unarchive", "unarchiving")
    };
    let started = send_once(
        engine,
        job,
        Step::Archive,
        Some(Lane::Once),
        action,
        json!({ "room": room }),
        || async {
            if archive {
                client.archive_room(room).await
            } else {
                client.unarchive_room(room).await
            }
        },
        &reached,
    )
    .await?;
    Ok(match started {
        Ok(Some(started)) => finish(engine, &started, what, &reached).await,
        Ok(None) => Ok(()),
        Err(err) => Err(err),
    })
}

/// The room owner's id (lowercase).
fn owner_of(members: &[Share]) -> Option<String> {
    members
        .iter()
        .find(|s| s.is_owner)
        .and_then(Share::subject)
        .map(str::to_lowercase)
}

/// The member records to send so that only `wanted` remain (besides the owner):
/// everyone else removed, the key's own user last.
fn member_changes(
    members: &[Share],
    wanted: &BTreeMap<String, u8>,
    caller: &str,
) -> Vec<(String, u8)> {
    let owner = owner_of(members);
    let mut changes = Vec::new();
    let mut own = None;
    for share in members.iter().filter(|s| !s.is_owner) {
        let Some(id) = share.subject().map(str::to_lowercase) else {
            continue;
        };
        match wanted.get(&id) {
            Some(access) if *access == share.access => {}
            Some(access) => changes.push((id, *access)),
            None if id == caller => own = Some((id, 0)),
            None => changes.push((id, 0)),
        }
    }
    for (id, access) in wanted {
        let present = members
            .iter()
            .any(|s| s.subject().is_some_and(|s| same_id(s, id)));
        if !present && owner.as_deref() != Some(id.as_str()) {
            changes.push((id.clone(), *access));
        }
    }
    changes.extend(own);
    changes
}

async fn archive_folder(engine: &Engine, job: &Job, folder: &Folder) -> Result<StepEnd, RunError> {
    let Some(target) = &job.archive_folder else {
        return Ok(StepEnd::Failed(
            "a folder workspace needs an archive_folder".into(),
            json!({}),
        ));
    };
    let mut detail = json!({
        "location": format!("{}/{}", target.title, folder.title),
        "link": link(engine, folder.id, false),
    });
    let moved = folder.parent_id == Some(target.id);
    if !moved {
        let destination = target.id.to_string();
        let moved_now = async || {
            let now = engine.read(job, || engine.client.folder(folder.id)).await?;
            Ok(now.parent_id == Some(target.id))
        };
        let started = send_once(
            engine,
            job,
            Step::Archive,
            // Batched with other leavers' folders going to the same archive.
            None,
            "PUT files/fileops/move",
            json!({ "folder": folder.id, "to": target.id }),
            || engine.moves.submit(&destination, folder.id),
            &moved_now,
        )
        .await?;
        let started = attempt!(started, "cannot start moving the folder");
        if let Some(operations) = started {
            let Some(started) = operations.into_iter().next() else {
                return Ok(StepEnd::Failed(
                    "the portal started no move".into(),
                    json!({}),
                ));
            };
            attempt!(finish(engine, &started, "moving", &moved_now).await, "move");
        }
    }
    detail["warnings"] = json!(archive_grants(engine, job, target).await);
    Ok(if moved {
        StepEnd::Unchanged(detail)
    } else {
        StepEnd::Done(detail)
    })
}

/// What is off about the archive room's access (folders inside rooms have no shares
/// of their own: the room's members are who sees the archive). Read once per room.
async fn archive_grants(engine: &Engine, job: &Job, target: &Folder) -> Vec<String> {
    let mut rooms = engine.archive_rooms.lock().await;
    let members = match rooms.get(&target.id) {
        Some(members) => members.clone(),
        None => {
            let members = engine
                .read(job, || engine.client.room_members(target.id))
                .await
                .map_err(|e| e.to_string());
            rooms.insert(target.id, members.clone());
            members
        }
    };
    drop(rooms);
    let members = match members {
        Ok(m) => m,
        Err(err) => return vec![format!("cannot read the archive room's members: {err}")],
    };
    let access_of = |id: &str| {
        members
            .iter()
            .find(|s| s.subject().is_some_and(|s| same_id(s, id)))
            .map(|s| if s.is_owner { ROOM_MANAGER } else { s.access })
    };
    let mut warnings = Vec::new();
    if access_of(&job.archive_owner.id) != Some(ROOM_MANAGER) {
        warnings.push(format!(
            "archive owner {} is not a room manager of archive room {}",
            job.archive_owner.email, target.id
        ));
    }
    if let Some(hr) = &job.hr_group
        && access_of(&hr.id).is_none()
    {
        warnings.push(format!(
            "HR group {} has no access to archive room {}",
            hr.name, target.id
        ));
    }
    let others: Vec<String> = members
        .iter()
        .filter(|s| !s.is_owner)
        .filter(|s| {
            s.subject().is_some_and(|id| {
                !same_id(id, &job.archive_owner.id)
                    && job.hr_group.as_ref().is_none_or(|g| !same_id(id, &g.id))
                    && !same_id(id, &engine.caller.id)
            })
        })
        .filter_map(|s| {
            s.shared_to_user
                .as_ref()
                .map(|u| u.display_name.clone())
                .or_else(|| s.shared_to_group.as_ref().map(|g| g.name.clone()))
        })
        .collect();
    if !others.is_empty() {
        warnings.push(format!(
            "archive room {} also gives access to: {}",
            target.id,
            others.join(", ")
        ));
    }
    warnings
}

// --- audit ------------------------------------------------------------------------

pub async fn audit(engine: &Engine, job: &Job) -> Result<StepEnd, RunError> {
    let to = jiff::Timestamp::now();
    let from = to
        .checked_sub(jiff::SignedDuration::from_hours(
            24 * i64::from(job.leaver.audit_days),
        ))
        .unwrap_or(to);
    let filter = HistoryFilter {
        user: Some(job.user.id.clone()),
        from: Some(from),
        to: Some(to),
        ..HistoryFilter::default()
    };
    let events = attempt!(
        engine
            .read(job, || engine.client.audit_events(&filter))
            .await,
        "cannot read the audit trail"
    );
    let logins = engine
        .logins
        .get_or_init(|| async {
            let longest = to
                .checked_sub(jiff::SignedDuration::from_hours(
                    24 * i64::from(engine.longest_audit_days),
                ))
                .unwrap_or(to);
            let everyone = HistoryFilter {
                from: Some(longest),
                to: Some(to),
                ..HistoryFilter::default()
            };
            engine
                .read(job, || engine.client.login_events(&everyone))
                .await
                .map_err(|e| e.to_string())
        })
        .await;
    let logins = attempt!(logins.as_ref(), "cannot read the login history");
    let logins: Vec<&Value> = logins
        .iter()
        .filter(|e| {
            e["userId"]
                .as_str()
                .is_some_and(|id| same_id(id, &job.user.id))
        })
        .filter(|e| {
            e["date"]
                .as_str()
                .and_then(|d| d.parse::<jiff::Timestamp>().ok())
                .is_none_or(|d| d >= from)
        })
        .collect();
    let relative = PathBuf::from("audit").join(format!("{}.json", file_stem(&job.label)));
    let document = json!({
        "leaver": job.label,
        "user_id": job.user.id,
        "from": from.to_string(),
        "to": to.to_string(),
        "filters_ignored": engine.audit.filters_ignored,
        "audit_events": events,
        "login_events": logins,
    });
    let text = serde_json::to_vec_pretty(&document).expect("JSON values serialize");
    let path = engine.run_dir.join(&relative);
    if let Err(err) = write_atomically(&path, &text) {
        return Ok(StepEnd::Failed(
            format!("cannot write {}: {err}", path.display()),
            json!({}),
        ));
    }
    let mut detail = json!({
        "path": relative.to_string_lossy(),
        "audit_events": events.len(),
        "login_events": logins.len(),
    });
    if engine.audit.filters_ignored {
        detail["warnings"] =
            json!(["the portal's plan ignores audit filters: only its last 20 events came back"]);
    }
    Ok(StepEnd::Done(detail))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docspace::model::{EmployeeRef, GroupRef};
    use crate::plan::READ;

    fn user(id: &str, access: u8, is_owner: bool) -> Share {
        Share {
            access,
            shared_to_user: Some(EmployeeRef {
                id: id.into(),
                display_name: id.into(),
            }),
            shared_to_group: None,
            is_owner,
            subject_type: 0,
        }
    }

    fn group(id: &str, access: u8) -> Share {
        Share {
            access,
            shared_to_user: None,
            shared_to_group: Some(GroupRef {
                id: id.into(),
                name: id.into(),
            }),
            is_owner: false,
            subject_type: 2,
        }
    }

    #[test]
    fn member_changes_leave_only_the_archive_owner_and_hr() {
        let wanted = wanted_members("ao", Some("hr"));
        let members = [
            user("ao", ROOM_MANAGER, true),
            user("me", ROOM_MANAGER, false),
            user("colleague", 10, false),
            group("hr", 10),
        ];
        assert_eq!(
            member_changes(&members, &wanted, "me"),
            vec![
                ("colleague".to_owned(), 0),
                ("hr".to_owned(), READ),
                ("me".to_owned(), 0)
            ]
        );
    }

    #[test]
    fn a_take_over_and_hand_over_leave_the_key_user_as_a_manager_to_remove() {
        // After a reassign the archive owner owns the room; the key's user is no
        // member. Taking it over and handing it back makes them a manager.
        let members = [user("ao", ROOM_MANAGER, true), user("colleague", 10, false)];
        let after = after_owner_changes(&members, &["me", "ao"], "leaver");
        assert_eq!(owner_of(&after).as_deref(), Some("ao"));
        let wanted = wanted_members("ao", Some("hr"));
        assert_eq!(
            member_changes(&after, &wanted, "me"),
            vec![
                ("colleague".to_owned(), 0),
                ("hr".to_owned(), READ),
                ("me".to_owned(), 0)
            ]
        );
        // A disabled previous owner gets no role.
        let theirs = [user("leaver", ROOM_MANAGER, true)];
        let after = after_owner_changes(&theirs, &["me", "ao"], "leaver");
        assert_eq!(
            member_changes(&after, &wanted_members("ao", None), "me"),
            vec![("me".to_owned(), 0)]
        );
    }

    #[test]
    fn member_changes_add_who_is_missing_and_nothing_when_right() {
        let wanted = wanted_members("ao", Some("hr"));
        let members = [user("me", ROOM_MANAGER, true)];
        assert_eq!(
            member_changes(&members, &wanted, "me"),
            vec![("ao".to_owned(), ROOM_MANAGER), ("hr".to_owned(), READ)]
        );
        let right = [user("ao", ROOM_MANAGER, true), group("hr", READ)];
        assert!(member_changes(&right, &wanted, "me").is_empty());
    }
}
