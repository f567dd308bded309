//! One watcher for every file operation of a run. `GET files/fileops` lists all of
//! the caller's operations, and a finished one is listed once, then gone
//! (docspace-api.md §6.4): so one task polls for everybody, hands each finished
//! operation to whoever waits for it, and keeps the ones nobody waits for yet (an
//! operation can finish before its starter registers).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, oneshot};

use crate::docspace::model::Operation;
use crate::docspace::{ApiError, Client};
use crate::executor::pacer::{Lane, Pacer};

/// Between polls while operations run: starts short, backs off while nothing
/// finishes, starts short again when something does.
const FIRST_WAIT: Duration = Duration::from_millis(200);
const MAX_WAIT: Duration = Duration::from_secs(1);

#[derive(Default)]
struct State {
    /// Several leavers may wait for one operation (a batched move).
    waiters: HashMap<String, Vec<oneshot::Sender<Result<Operation, String>>>>,
    /// Finished before anybody asked.
    finished: HashMap<String, Operation>,
    /// Tasks waiting until none of the caller's operations runs.
    idle_waiters: Vec<oneshot::Sender<()>>,
    /// Unfinished operations in the last listing.
    running: HashSet<String>,
    /// Listings in a row that did not show an awaited operation at all.
    unseen: HashMap<String, u32>,
}

/// A file operation still running after this long is reported as failed.
const OPERATION_DEADLINE: Duration = Duration::from_secs(30 * 60);

/// Listings in a row without an awaited operation before it counts as vanished.
const VANISHED_AFTER: u32 = 3;

#[derive(Clone)]
pub struct FileOps {
    state: Arc<Mutex<State>>,
    wake: Arc<Notify>,
}

impl FileOps {
    /// Starts the watcher; it polls only while somebody waits.
    pub fn spawn(client: Arc<Client>, pacer: Arc<Pacer>) -> Self {
        let ops = Self {
            state: Arc::default(),
            wake: Arc::new(Notify::new()),
        };
        let watcher = ops.clone();
        tokio::spawn(async move { watcher.watch(&client, &pacer).await });
        ops
    }

    /// Waits for operation `id` to finish and returns its last state.
    pub async fn wait(&self, id: &str) -> Result<Operation, String> {
        let receiver = {
            let mut state = self.state.lock().expect("fileops state");
            // Kept, not taken: a batched operation has several waiters.
            if let Some(op) = state.finished.get(id) {
                return Ok(op.clone());
            }
            let (sender, receiver) = oneshot::channel();
            state.waiters.entry(id.to_owned()).or_default().push(sender);
            receiver
        };
        self.wake.notify_one();
        match tokio::time::timeout(OPERATION_DEADLINE, receiver).await {
            Ok(answer) => {
                answer.unwrap_or_else(|_| Err("the file-operation watcher stopped".into()))
            }
            Err(_) => Err(format!(
                "operation {id} did not finish within {} minutes",
                OPERATION_DEADLINE.as_secs() / 60
            )),
        }
    }

    /// Waits until a listing shows none of the caller's operations running (used
    /// when resuming a write whose operation may still be under way), at most
    /// `limit`: other operations of the same user (a download in the web client)
    /// may run for long.
    pub async fn wait_idle(&self, limit: Duration) {
        let (sender, receiver) = oneshot::channel();
        self.state
            .lock()
            .expect("fileops state")
            .idle_waiters
            .push(sender);
        self.wake.notify_one();
        let _ = tokio::time::timeout(limit, receiver).await;
    }

    fn busy(&self) -> bool {
        let state = self.state.lock().expect("fileops state");
        !state.waiters.is_empty() || !state.idle_waiters.is_empty()
    }

    async fn watch(&self, client: &Client, pacer: &Pacer) {
        let mut wait = FIRST_WAIT;
        loop {
            if !self.busy() {
                self.wake.notified().await;
                wait = FIRST_WAIT;
                continue;
            }
            tokio::time::sleep(wait).await;
            let listing = pacer.call(Lane::Read, || client.operations()).await;
            let progressed = self.deliver(listing);
            if pacer.gone().is_cancelled() {
                // The run gave up on the portal: nobody waits for it to go idle.
                let mut state = self.state.lock().expect("fileops state");
                for waiter in state.idle_waiters.drain(..) {
                    let _ = waiter.send(());
                }
            }
            wait = if progressed {
                FIRST_WAIT
            } else {
                (wait * 3 / 2).min(MAX_WAIT)
            };
        }
    }

    /// Hands out what one listing says; true when something finished.
    fn deliver(&self, listing: Result<Vec<Operation>, ApiError>) -> bool {
        let mut state = self.state.lock().expect("fileops state");
        let operations = match listing {
            Ok(operations) => operations,
            Err(err) => {
                // Retries are behind us: everybody waiting learns why.
                let message = format!("cannot read file operations: {err}");
                for (_, waiters) in state.waiters.drain() {
                    for waiter in waiters {
                        let _ = waiter.send(Err(message.clone()));
                    }
                }
                return false;
            }
        };
        let mut progressed = false;
        state.running.clear();
        for op in operations {
            if !op.finished {
                state.running.insert(op.id.clone());
                continue;
            }
            progressed = true;
            for waiter in state.waiters.remove(&op.id).unwrap_or_default() {
                let _ = waiter.send(Ok(op.clone()));
            }
            state.finished.insert(op.id.clone(), op);
        }
        let awaited: Vec<String> = state.waiters.keys().cloned().collect();
        for id in awaited {
            if state.running.contains(&id) {
                state.unseen.remove(&id);
                continue;
            }
            let unseen = state.unseen.entry(id.clone()).or_default();
            *unseen += 1;
            if *unseen >= VANISHED_AFTER {
                state.unseen.remove(&id);
                for waiter in state.waiters.remove(&id).unwrap_or_default() {
                    let _ = waiter.send(Err(format!(
                        "operation {id} vanished from the portal's list before it finished"
                    )));
                }
            }
        }
        if state.running.is_empty() {
            for waiter in state.idle_waiters.drain(..) {
                let _ = waiter.send(());
            }
        }
        progressed
    }
}
