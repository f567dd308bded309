//! The executor of `apply`: pacing, retries and polling (here), then the dispatcher
//! and the per-leaver pipelines (to come). The only module that sleeps.

pub mod pacer;

pub use pacer::{Lane, Pacer, PacerConfig, RetryPolicy};
