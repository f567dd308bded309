//! The `revoke_keys` step: deletes the API keys the leaver created. Observes the
//! portal's key list (read once before the run: a key an earlier session deleted is
//! not in it); each deletion is sent once, and one whose answer was lost is settled
//! by reading the key list again.

use serde_json::json;

use super::shared::{Sent, StepError, same_id, send_once};
use crate::executor::engine::{Engine, Job, StepEnd};
use crate::executor::pacer::Lane;
use crate::manifest::Step;

pub(super) async fn run(engine: &Engine, job: &Job) -> Result<StepEnd, StepError> {
    let keys: Vec<_> = engine
        .keys
        .iter()
        .filter(|k| k.created_by(&job.user.id))
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
            Sent::Answered(true) | Sent::Reached => deleted += 1,
            Sent::Answered(false) => {
                return Ok(StepEnd::Failed(
                    format!("the portal refused to delete API key `{}`", key.name),
                    json!({ "deleted": deleted }),
                ));
            }
            Sent::Failed(err) => {
                return Ok(StepEnd::Failed(
                    format!("cannot delete API key `{}`: {err}", key.name),
                    json!({ "deleted": deleted }),
                ));
            }
        }
    }
    Ok(StepEnd::Done(json!({ "deleted": deleted })))
}
