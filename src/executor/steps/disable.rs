//! The `disable` step, the lock-out: every due leaver who still needs it is
//! disabled, in batches of [`DISABLE_BATCH`] (`PUT people/status/2`), before any
//! other step of any leaver starts. Unlike the other steps it runs across leavers,
//! not for one [`Job`]: its [`run`] takes them all, journals every leaver's disable
//! outcome itself (a leaver whose pipeline never starts is still on record as locked
//! out), and hands the dispatcher how it went for each. A write an earlier session
//! left in doubt is settled by the people list the plan read: an account it
//! disabled counts as done, one still active is sent again (disabling is
//! idempotent).

use std::collections::HashMap;

use futures_util::StreamExt;
use serde_json::json;

use crate::docspace::ApiError;
use crate::docspace::model::status;
use crate::executor::engine::{Engine, Job, RunError, StepEnd};
use crate::executor::pacer::Lane;
use crate::journal::step_status;
use crate::manifest::Step;

/// Ids per `PUT people/status/2`.
const DISABLE_BATCH: usize = 100;

/// How the lock-out went for one leaver.
#[derive(Debug, Clone)]
pub(in crate::executor) enum Disabled {
    Done,
    Unchanged,
    Failed(String),
}

/// Phase 2: disables every due leaver who still needs it, in batches, before any
/// pipeline starts. Protected accounts never reach this far (the plan keeps them
/// out), so a 403 means something changed under us: the batch is split until the
/// culprit is alone and only they fail.
pub(in crate::executor) async fn run(
    engine: &Engine,
    jobs: &[Job],
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
    engine: &Engine,
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
async fn bisect_forbidden<T: Clone, R>(
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

#[cfg(test)]
mod tests {
    use super::*;

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
