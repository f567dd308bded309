//! Writes that DocSpace takes for many items at once, gathered across leavers:
//! `POST files/owner` (many rooms, one new owner) and `PUT files/fileops/move` (many
//! folders, one destination). Each leaver journals its own intent and submits its
//! item; what arrives for the same target within a short window goes out as one
//! call. The portal's daily budget counts calls, not items, so a batch of 50 rooms
//! costs one write instead of 50.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::docspace::ApiError;

/// How long the first request of a batch waits for company, at least and at most.
const MIN_WINDOW: Duration = Duration::from_millis(300);
const MAX_WINDOW: Duration = Duration::from_secs(2);

/// The window for a rate limit: at DocSpace's 1500 requests a minute a leaver
/// reaches a given step about every third of a second, so 2 s gather a handful;
/// faster portals fill a batch sooner.
pub fn window(per_minute: u32) -> Duration {
    if per_minute == 0 {
        return MIN_WINDOW;
    }
    Duration::from_millis(3_000_000 / u64::from(per_minute)).clamp(MIN_WINDOW, MAX_WINDOW)
}
/// Items per call.
const MAX_ITEMS: usize = 50;

type Reply<R> = oneshot::Sender<Result<R, ApiError>>;

struct Request<R> {
    target: String,
    item: i64,
    reply: Reply<R>,
}

/// Gathers items per target and sends them with one call per batch.
pub struct Batcher<R> {
    sender: mpsc::UnboundedSender<Request<R>>,
}

impl<R: Clone + Send + 'static> Batcher<R> {
    /// Starts the batcher; `send(target, items)` makes one call.
    pub fn spawn<F, Fut>(window: Duration, send: F) -> Self
    where
        F: Fn(String, Vec<i64>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, ApiError>> + Send + 'static,
    {
        let (sender, mut receiver) = mpsc::unbounded_channel::<Request<R>>();
        let send = Arc::new(send);
        tokio::spawn(async move {
            while let Some(first) = receiver.recv().await {
                let mut pending = vec![first];
                let deadline = tokio::time::Instant::now() + window;
                while pending.len() < MAX_ITEMS {
                    match tokio::time::timeout_at(deadline, receiver.recv()).await {
                        Ok(Some(request)) => pending.push(request),
                        _ => break,
                    }
                }
                let mut groups: HashMap<String, Vec<Request<R>>> = HashMap::new();
                for request in pending {
                    groups
                        .entry(request.target.clone())
                        .or_default()
                        .push(request);
                }
                for (target, requests) in groups {
                    tokio::spawn(send_batch(send.clone(), target, requests));
                }
            }
        });
        Self { sender }
    }

    /// Submits one item and waits for the call that carried it.
    pub async fn submit(&self, target: &str, item: i64) -> Result<R, ApiError> {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            target: target.to_owned(),
            item,
            reply,
        };
        let gone = || ApiError::UnexpectedShape {
            status: 0,
            detail: "the batcher stopped".into(),
        };
        self.sender.send(request).map_err(|_| gone())?;
        answer.await.unwrap_or_else(|_| Err(gone()))
    }
}

/// One call for the batch. When the portal refuses a batch of several (one room
/// the key may not change fails the whole call), each item is sent on its own, so
/// only the culprit fails.
async fn send_batch<R, F, Fut>(send: Arc<F>, target: String, requests: Vec<Request<R>>)
where
    R: Clone,
    F: Fn(String, Vec<i64>) -> Fut,
    Fut: Future<Output = Result<R, ApiError>>,
{
    let items: Vec<i64> = requests.iter().map(|r| r.item).collect();
    match send(target.clone(), items).await {
        Ok(answer) => {
            for request in requests {
                let _ = request.reply.send(Ok(answer.clone()));
            }
        }
        // Refused as a whole (4xx: nothing happened): each item on its own, so only
        // the culprit fails. Anything else may have been acted on: no resend here;
        // the steps settle it by reading the portal.
        Err(
            err @ (ApiError::BadRequest { .. }
            | ApiError::Forbidden { .. }
            | ApiError::NotFound { .. }
            | ApiError::Validation { .. }),
        ) if requests.len() > 1 => {
            let _ = err;
            for request in requests {
                let answer = send(target.clone(), vec![request.item]).await;
                let _ = request.reply.send(answer);
            }
        }
        Err(err) => {
            for request in requests {
                let _ = request.reply.send(Err(err.clone()));
            }
        }
    }
}
