//! What can go wrong with a journal, and what the user can do about it.

use std::io;
use std::path::PathBuf;

use super::record::*;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("another `offboard apply` is using {0}")]
    Locked(PathBuf),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}, line {line}: not a journal record ({reason})")]
    Corrupt {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("{path} belongs to another run: {what} differs")]
    Mismatch { path: PathBuf, what: &'static str },
    #[error(
        "{0} holds the reports of an earlier run, but its journal is empty or missing: a new run there would overwrite them"
    )]
    Emptied(PathBuf),
}

impl JournalError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            JournalError::Locked(_) => Some(
                "wait for the other apply to end (or stop it); a run directory takes one apply at a time".into(),
            ),
            JournalError::Corrupt { path, line, .. } => {
                let keep = line.saturating_sub(1);
                Some(format!(
                    "the journal was edited or damaged there, and apply does not guess past it. Restore {} from a backup; or keep the {keep} record{} before it (`mv {0} {0}.damaged && head -n {keep} {0}.damaged > {0}`) and run apply again: the portal settles what the lost lines did; or pass another --run-dir",
                    path.display(),
                    if keep == 1 { "" } else { "s" },
                ))
            }
            JournalError::Mismatch { .. } => {
                Some("a run directory belongs to one manifest and portal; pass another --run-dir".into())
            }
            JournalError::Emptied(_) => Some(format!(
                "restore {JOURNAL} from a backup to resume that run, or pass another --run-dir; the old reports stay as they are"
            )),
            JournalError::Io { .. } => None,
        }
    }
}
