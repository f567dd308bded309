//! How many requests and writes `apply` would send: modelled on the executor, step
//! by step, for the plan's estimate and the daily write budget.

use crate::manifest::{Manifest, Step};

use super::model::*;
use super::workspace::archive_subjects;

/// Items a batched call of `apply` carries on average (owner changes and moves of
/// several leavers go to the portal together; measured: 5 at DocSpace's rate limit
/// and with none).
pub(super) const BATCH: u64 = 5;

/// What `apply` would send for these leavers: all requests and the writes (POST +
/// PUT) among them. Modelled on what the executor sends, per step: a leaver's
/// workspace read; a DELETE per API key; `reassign/necessary`, the start and a
/// progress poll; for a room the members read, the takeover (two owner changes,
/// batched), the member change, the archive and the read that confirms it; for a
/// folder the batched move and its confirming read; file operations polled for
/// everybody (about one poll per two operations); an export's start, poll and
/// download; an audit trail's read, and the audit pre-flight and the login history
/// once per run.
pub(super) fn estimate(
    manifest: &Manifest,
    leavers: &[LeaverPlan],
    observed: &Observed,
) -> (u64, u64) {
    let mut requests = 0u64;
    let mut writes = 0u64;
    let (mut disables, mut takeovers, mut moves, mut operations) = (0u64, 0u64, 0u64, 0u64);
    let mut handovers = 0u64;
    let mut audits = false;
    let mut due = 0u64;
    for (leaver, plan) in manifest.leavers.iter().zip(leavers) {
        if !matches!(plan.outcome, Outcome::WillChange | Outcome::Unchanged) {
            continue;
        }
        let active = |step: &str| {
            plan.steps.iter().any(|s| {
                s.step == step
                    && matches!(s.status, StepStatus::WillChange | StepStatus::WillCollect)
            })
        };
        due += 1;
        requests += 1; // the workspace
        if active("disable") {
            disables += 1;
        }
        if active("revoke_keys") {
            let user = plan.user_id.as_deref().unwrap_or_default();
            requests += observed.keys.iter().filter(|k| k.created_by(user)).count() as u64;
        }
        if active("reassign") {
            requests += 3;
            writes += 1;
        } else if leaver.steps.contains(&Step::Reassign) {
            requests += 2;
        }
        if active("archive") {
            if plan.workspace_kind == WorkspaceKind::Room {
                requests += 4;
                writes += 2;
                operations += 1;
                // Handed to the archive owner unless it holds it (one owner change),
                // taken over first when the key may not change its members (another).
                let folder = observed
                    .folders
                    .get(&(leaver.workspace as i64))
                    .and_then(Lookup::found);
                let (archive_owner, _) = archive_subjects(leaver, observed);
                if folder.is_some_and(|f| {
                    f.owner_id()
                        .is_none_or(|id| !id.eq_ignore_ascii_case(&archive_owner))
                }) {
                    handovers += 1;
                }
                if folder.is_some_and(|f| !f.can("EditAccess")) {
                    takeovers += 1;
                }
            } else {
                requests += 1;
                moves += 1;
            }
        }
        if active("export") {
            requests += 3;
            writes += 1;
            operations += 1;
        }
        if active("audit") {
            requests += 1;
            audits = true;
        }
    }
    if due == 0 {
        return (0, 0);
    }
    // Who the key is, the people list, the groups and the keys, once.
    requests += 4;
    let lockouts = disables.div_ceil(100);
    let owner_changes = takeovers.div_ceil(BATCH) + handovers.div_ceil(BATCH);
    let move_calls = moves.div_ceil(BATCH);
    operations += move_calls;
    // Polls of file operations; the audit pre-flight and the login history once.
    let polls = if operations > 0 {
        operations.div_ceil(2) + 1
    } else {
        0
    };
    requests += lockouts + owner_changes + move_calls + polls + 2 * u64::from(audits);
    writes += lockouts + owner_changes + move_calls;
    (requests, writes)
}
