//! Reading a journal back: every complete record, a torn last line dropped.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::error::JournalError;
use super::record::*;

/// The journal's records as found when it was opened.
#[derive(Debug, Default)]
pub struct Replay {
    pub records: Vec<Record>,
    /// A last line cut short by a crash was dropped.
    pub torn_tail: bool,
}

impl Replay {
    pub fn header(&self) -> Option<&RunHeader> {
        match self.records.first() {
            Some(Record::Run(header)) => Some(header),
            _ => None,
        }
    }

    /// Intents that never got an outcome and whose step no later session finished:
    /// writes that may or may not have happened, to be resolved by reading the
    /// portal, never by sending them again blindly.
    pub fn open_intents(&self) -> Vec<&Record> {
        // From the end: an outcome closes its intent; a step's end (other than
        // skipped, which did nothing) settles every intent of that step before it.
        let mut closed = std::collections::HashSet::new();
        let mut settled = std::collections::HashSet::new();
        let mut open = Vec::new();
        for record in self.records.iter().rev() {
            match record {
                Record::Outcome {
                    intent,
                    leaver,
                    step,
                    status,
                    ..
                } => {
                    closed.extend(*intent);
                    if is_final(status) && status != step_status::SKIPPED {
                        settled.insert((leaver.as_str(), step.as_str()));
                    }
                }
                Record::Intent {
                    seq, leaver, step, ..
                } if !closed.contains(seq)
                    && !settled.contains(&(leaver.as_str(), step.as_str())) =>
                {
                    open.push(record);
                }
                _ => {}
            }
        }
        open.reverse();
        open
    }

    /// The last outcome recorded for a leaver's step.
    pub fn outcome(&self, leaver: &str, step: &str) -> Option<&str> {
        self.records.iter().rev().find_map(|r| match r {
            Record::Outcome {
                leaver: l,
                step: s,
                status,
                ..
            } if l == leaver && s == step => Some(status.as_str()),
            _ => None,
        })
    }

    pub(super) fn last_seq(&self) -> u64 {
        self.records
            .iter()
            .filter_map(|r| match r {
                Record::Intent { seq, .. } | Record::Outcome { seq, .. } => Some(*seq),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    }
}

/// Reads a run directory's journal without locking it (for `offboard report`).
pub fn read_only(dir: &Path) -> Result<Replay, JournalError> {
    let path = dir.join(JOURNAL);
    let file = File::open(&path).map_err(|source| JournalError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(read(&path, &file)?.0)
}

/// Reads every complete record; returns them and the length of the good prefix.
pub(super) fn read(path: &Path, file: &File) -> Result<(Replay, u64), JournalError> {
    let mut replay = Replay::default();
    let mut reader = BufReader::new(file);
    let mut good_len = 0u64;
    let mut line = String::new();
    let mut number = 0;
    loop {
        line.clear();
        let read = reader
            .read_line(&mut line)
            .map_err(|source| JournalError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        if read == 0 {
            break;
        }
        number += 1;
        let complete = line.ends_with('\n');
        match serde_json::from_str::<Record>(line.trim_end()) {
            Ok(record) if complete => {
                replay.records.push(record);
                good_len += read as u64;
            }
            // Only the last line may be cut short (a crash between write and fsync).
            _ if !complete => {
                replay.torn_tail = true;
                break;
            }
            Ok(_) => unreachable!("complete lines are handled above"),
            Err(err) => {
                return Err(JournalError::Corrupt {
                    path: path.to_path_buf(),
                    line: number,
                    reason: err.to_string(),
                });
            }
        }
    }
    Ok((replay, good_len))
}
