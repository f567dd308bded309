//! What the steps share: [`StepError`] and [`OrFail`] (a failure ends the step
//! through `?`, not the run), [`send_once`] for a write that must not happen twice
//! (settled by reading the portal when its answer leaves it open), and [`finish`]
//! for the file operation such a write starts.

use std::time::Duration;

use serde_json::Value;

use crate::docspace::ApiError;
use crate::docspace::model::Operation;
use crate::executor::engine::{Engine, Job, RunError};
use crate::executor::pacer::Lane;
use crate::journal::JournalError;
use crate::manifest::Step;

/// Why a step stopped early.
pub(super) enum StepError {
    /// The step failed, for the reason given: it ends `failed`, the run goes on.
    Failed(String),
    /// The run cannot go on.
    Run(RunError),
}

impl From<RunError> for StepError {
    fn from(err: RunError) -> Self {
        StepError::Run(err)
    }
}

impl From<JournalError> for StepError {
    fn from(err: JournalError) -> Self {
        StepError::Run(err.into())
    }
}

/// `?` for answers inside a step: a failure ends the step as failed with
/// "`what`: the error", not the run.
pub(super) trait OrFail<T> {
    fn or_fail(self, what: &str) -> Result<T, StepError>;
}

impl<T, E: std::fmt::Display> OrFail<T> for Result<T, E> {
    fn or_fail(self, what: &str) -> Result<T, StepError> {
        self.map_err(|err| StepError::Failed(format!("{what}: {err}")))
    }
}

/// How a write that must not happen twice ended ([`send_once`]).
pub(super) enum Sent<T> {
    /// The portal answered.
    Answered(T),
    /// The answer was lost, and the portal shows the goal reached.
    Reached,
    /// Refused, or not reached after every try: why, in words.
    Failed(String),
}

/// The answer, or `None` when only the portal's state showed the goal reached.
impl<T> OrFail<Option<T>> for Sent<T> {
    fn or_fail(self, what: &str) -> Result<Option<T>, StepError> {
        match self {
            Sent::Answered(answer) => Ok(Some(answer)),
            Sent::Reached => Ok(None),
            Sent::Failed(err) => Err(StepError::Failed(format!("{what}: {err}"))),
        }
    }
}

/// How long a step waits for the caller's running file operations to settle before
/// it looks at the portal anyway.
pub(super) const SETTLE_WAIT: Duration = Duration::from_secs(120);

/// How often a write that must not happen twice is sent before the step gives up,
/// each time only after the portal showed it had not happened.
pub(super) const ONCE_TRIES: u32 = 5;

/// Sends a write that must not happen twice. When the answer leaves it open whether
/// the portal acted (a 5xx, a timeout, a dropped connection), waits for the
/// caller's file operations to settle and asks `reached` whether the goal is met:
/// then [`Sent::Reached`]; if not, it is safe to send again.
#[allow(clippy::too_many_arguments)]
pub(super) async fn send_once<T, F, Fut>(
    engine: &Engine,
    job: &Job,
    step: Step,
    lane: Option<Lane>,
    action: &str,
    detail: Value,
    call: F,
    reached: impl AsyncFn() -> Result<bool, ApiError>,
) -> Result<Sent<T>, RunError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let answer = engine
            .write(job, step, lane, action, detail.clone(), &call)
            .await?;
        let err = match answer {
            Ok(started) => return Ok(Sent::Answered(started)),
            Err(err) if err.is_transient() => err,
            Err(err) => return Ok(Sent::Failed(err.to_string())),
        };
        if lane != Some(Lane::Delete) {
            engine.fileops.wait_idle(SETTLE_WAIT).await;
        }
        match reached().await {
            Ok(true) => return Ok(Sent::Reached),
            Ok(false) if attempt < ONCE_TRIES => {
                // A portal failing now may fail again at once: give it a moment.
                tokio::time::sleep(Duration::from_millis(200) * attempt).await;
            }
            Ok(false) => return Ok(Sent::Failed(err.to_string())),
            Err(read) => return Ok(Sent::Failed(format!("{err}; then, looking: {read}"))),
        }
    }
}

/// Waits for a started file operation. Its finished record is read once: when a
/// dropped answer lost it, `reached` looks at the portal instead. A record that says
/// "finished, no error" is checked too: DocSpace only logs an unexpected exception
/// inside an operation and reports it finished without an error
/// (`FileOperation.RunJob`), so only the portal's state proves it happened.
pub(super) async fn finish(
    engine: &Engine,
    started: &Operation,
    what: &str,
    reached: impl AsyncFn() -> Result<bool, ApiError>,
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

pub(super) fn same_id(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure<T: std::fmt::Debug>(result: Result<T, StepError>) -> String {
        match result {
            Err(StepError::Failed(why)) => why,
            Err(StepError::Run(err)) => panic!("the run stopped: {err}"),
            Ok(value) => panic!("the step went on with {value:?}"),
        }
    }

    #[test]
    fn a_failure_ends_the_step_with_what_was_tried_and_why() {
        let refused = ApiError::Forbidden { message: None };
        let why = refused.to_string();
        let answer: Result<(), ApiError> = Err(refused);
        assert_eq!(
            failure(answer.or_fail("cannot read the room's members")),
            format!("cannot read the room's members: {why}")
        );
        let sent = Sent::<()>::Failed("timed out; then, looking: 500".into());
        assert_eq!(
            failure(sent.or_fail("cannot archive the room")),
            "cannot archive the room: timed out; then, looking: 500"
        );
    }

    #[test]
    fn a_write_settled_by_the_portal_has_no_answer_to_use() {
        assert!(matches!(Sent::Answered(7).or_fail("x"), Ok(Some(7))));
        assert!(matches!(Sent::<u8>::Reached.or_fail("x"), Ok(None)));
    }
}
