//! The executor of `apply`: the pacer (rate, in-flight caps, 429 cool-down,
//! retries, polling), the file-operation watcher, the dispatcher and the steps.
//! The only module that sleeps.

pub mod batch;
pub mod fileops;
pub mod pacer;
pub mod run;
pub mod steps;

pub use pacer::{Lane, Pacer, PacerConfig, RetryPolicy};
