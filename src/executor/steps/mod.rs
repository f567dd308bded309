//! The steps, one file each. Every step after the lock-out has the same shape, a
//! `run(engine, job)` for one leaver that returns how the step ended: observe the
//! portal first, do nothing when the step is already done, journal every write
//! before it goes out, and settle a write an earlier session left in doubt (an
//! intent, no end) by reading the portal again, never by repeating it blindly.
//! [`run`] is the dispatch table: adding a step is adding a file and a line there.
//! `disable` differs: it is batched across leavers and runs before all the others.
//! What the steps share is in `shared` (this file only dispatches, so no step
//! imports the file that calls it).

use serde_json::json;

use crate::executor::engine::{Engine, Job, RunError, StepEnd};
use crate::manifest::Step;

use self::shared::StepError;

mod archive;
mod audit;
pub(super) mod disable;
mod export;
mod reassign;
mod revoke_keys;
mod shared;

/// Runs `step` (any but `disable`) for one leaver. A step that fails ends
/// [`StepEnd::Failed`]; only what stops the whole run is an error.
pub(super) async fn run(engine: &Engine, job: &Job, step: Step) -> Result<StepEnd, RunError> {
    let ran = match step {
        Step::Disable => unreachable!("the lock-out journals the disable step"),
        Step::RevokeKeys => revoke_keys::run(engine, job).await,
        Step::Reassign => reassign::run(engine, job).await,
        Step::Export => export::run(engine, job).await,
        Step::Archive => archive::run(engine, job).await,
        Step::Audit => audit::run(engine, job).await,
    };
    match ran {
        Ok(end) => Ok(end),
        Err(StepError::Failed(why)) => Ok(StepEnd::Failed(why, json!({}))),
        Err(StepError::Run(err)) => Err(err),
    }
}
