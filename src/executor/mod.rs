//! The executor of `apply`: the pacer (rate, in-flight caps, 429 cool-down,
//! retries), the file-operation watcher, the batcher, the dispatcher and the steps
//! (which poll reassign jobs by their own percentage).
//! The only module that sleeps.

pub mod batch;
pub mod fileops;
pub mod pacer;
pub mod run;
pub mod steps;

pub use pacer::{Lane, Pacer, PacerConfig, RetryPolicy};
