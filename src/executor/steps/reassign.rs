//! The `reassign` step: hands the leaver's data to the archive owner with a
//! reassign job (`POST people/reassign/start`) and polls it by its own percentage.
//! Observes first: a job already running (an earlier session's, or anybody's) is
//! waited for, not started again. A start whose answer was lost is settled by the
//! job's progress record and, once that has vanished, by the audit trail. Once the
//! job runs, the export and the archive may go beside it (`Job::reassign_started`).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::json;

use super::shared::{OrFail, StepError, same_id, send_once};
use crate::docspace::ApiError;
use crate::docspace::model::{Progress, task_status};
use crate::executor::engine::{Engine, Event, Job, StepEnd};
use crate::executor::pacer::Lane;
use crate::manifest::Step;

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

pub(super) async fn run(engine: &Engine, job: &Job) -> Result<StepEnd, StepError> {
    let user = &job.user;
    let to = &job.archive_owner;
    let client = &engine.client;
    let in_doubt = job.in_doubt.contains(&Step::Reassign);
    let detail = json!({ "to": to.id });
    // A job may already run: one an earlier session started, or anyone's. Only worth
    // a look for leavers who were disabled before this session began.
    if in_doubt || user.is_disabled() {
        let progress = engine
            .read(job, || client.reassign_progress(&user.id))
            .await
            .or_fail("cannot read the reassign progress")?;
        // The job's record is gone a minute after it ends; the audit trail is not.
        // An earlier session that announced the start and never heard back: did a
        // reassign run since?
        if progress.is_none()
            && in_doubt
            && let Some(announced) = job.reassign_announced
        {
            let since = announced - CLOCK_SKEW;
            let ran = engine
                .read(job, || client.reassigned_since(&user.id, since))
                .await
                .or_fail("cannot read the audit trail")?;
            if ran {
                return Ok(StepEnd::Done(detail));
            }
        }
        if let Some(p) = progress {
            if !p.is_completed && !in_doubt {
                let _ = engine.events.send(Event::Notice(format!(
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
                wait_for_reassign(engine, job, Instant::now())
                    .await
                    .or_fail("reassign")?
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
    let necessary = engine
        .read(job, || {
            client.reassign_necessary(&user.id, user.kind().type_name())
        })
        .await
        .or_fail("cannot ask whether data needs reassigning")?;
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
    // What the job hands over, for `offboard revert` to name what stays with the
    // archive owner (a failed read only leaves it unnamed).
    let owned = engine
        .read(job, || client.rooms_owned(&user.id))
        .await
        .unwrap_or_default();
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
        json!({
            "from": user.id, "to": to.id, "to_email": to.email,
            "owned_rooms": owned.total,
            "room_titles": owned.folders.iter().map(|f| f.title.as_str()).collect::<Vec<_>>(),
        }),
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
    .await?
    .or_fail("cannot start the reassign")?;
    job.reassign_running.store(true, Ordering::Release);
    job.reassign_started.notify_one();
    let last = match progress {
        Some(p) if p.is_completed => Some(p),
        _ => wait_for_reassign(engine, job, started)
            .await
            .or_fail("reassign")?,
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
) -> Result<Option<Progress>, ApiError> {
    let learned = Duration::from_millis(engine.reassign_millis.load(Ordering::Relaxed));
    let mut wait = if learned.is_zero() {
        REASSIGN_FIRST_POLL
    } else {
        let left = learned.saturating_sub(started.elapsed());
        left + left / 10 + Duration::from_millis(50)
    };
    loop {
        if started.elapsed() > REASSIGN_DEADLINE {
            return Err(ApiError::UnexpectedShape {
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
