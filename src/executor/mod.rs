//! The executor of `apply`: the pacer (rate, in-flight caps, 429 cool-down,
//! retries), the file-operation watcher, the batcher, the dispatcher (`run`) and the
//! steps (`steps/`, one file each; reassign jobs are polled by their own
//! percentage). The only module that sleeps.
//!
//! Dependencies go one way: `run` (the dispatcher) → `steps` → `engine` (the shared
//! state and types) → `pacer`, `fileops`, `batch`; `run` reads the journal's
//! verdicts through `past`. Neither `engine` nor a step imports the dispatcher: a
//! step returns how it ended, and what the person watching should see goes out as
//! [`Event`]s.

pub mod batch;
mod engine;
pub mod fileops;
pub mod pacer;
mod past;
mod prior;
mod run;
mod steps;

pub use engine::{Engine, Event, RunError, Settings, sent_detail};
pub use pacer::{Lane, Pacer, PacerConfig, RetryPolicy};
pub use past::Past;
pub use run::{SessionEnd, execute};
