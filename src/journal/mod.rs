//! The run journal: `journal.jsonl` in the run directory, one JSON record a line,
//! each written and fsynced before the call it describes goes out (intent) and after
//! it came back (outcome). A killed run leaves a journal that says exactly which
//! writes may have happened: an intent without an outcome. Reports are a pure
//! function of it.
//!
//! A lock file (`journal.lock`, an OS advisory lock held while the journal is open)
//! keeps two runs out of one directory. A last line cut short by a crash is ignored
//! on replay and overwritten by the next record; damage anywhere else is an error.

mod error;
mod record;
mod replay;
mod writer;

pub use error::JournalError;
pub use record::*;
pub use replay::{Replay, read_only};
pub use writer::{Journal, SharedJournal};

#[cfg(test)]
mod tests;
