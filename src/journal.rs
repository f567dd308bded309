//! The run journal: `journal.jsonl` in the run directory, one JSON record a line,
//! each written and fsynced before the call it describes goes out (intent) and after
//! it came back (outcome). A killed run leaves a journal that says exactly which
//! writes may have happened: an intent without an outcome. Reports are a pure
//! function of it.
//!
//! A lock file (`journal.lock`, an OS advisory lock held while the journal is open)
//! keeps two runs out of one directory. A last line cut short by a crash is ignored
//! on replay and overwritten by the next record; damage anywhere else is an error.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::run_dir::{REPORT_CSV, REPORT_JSON};

pub const JOURNAL: &str = "journal.jsonl";
pub const LOCK: &str = "journal.lock";
/// The journal format this build writes and reads.
pub const FORMAT: u32 = 1;

/// Statuses a step can end with in the journal.
pub mod step_status {
    pub const DONE: &str = "done";
    pub const UNCHANGED: &str = "unchanged";
    pub const FAILED: &str = "failed";
    pub const SKIPPED: &str = "skipped";
    /// Closes the intent of one write inside a step (not the step's end).
    pub const SENT: &str = "sent";
}

/// Is this a step's last word (rather than one write inside it)?
pub fn is_final(status: &str) -> bool {
    matches!(
        status,
        step_status::DONE | step_status::UNCHANGED | step_status::FAILED | step_status::SKIPPED
    )
}

/// What a run is: written first, checked on resume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunHeader {
    pub format: u32,
    pub tool_version: String,
    pub run_id: String,
    pub manifest: String,
    pub manifest_sha256: String,
    pub portal: String,
    pub started: String,
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// The first line.
    Run(RunHeader),
    /// A later `apply` picked the run up again.
    Resumed { at: String },
    /// Who a leaver is and what this session makes of them (written at every
    /// start, before any of their steps).
    Leaver(LeaverRecord),
    /// A write is about to be sent.
    Intent {
        seq: u64,
        #[serde(default)]
        at: String,
        leaver: String,
        step: String,
        action: String,
        #[serde(default)]
        detail: Value,
    },
    /// What came of an intent (or of a step that needed no write).
    Outcome {
        seq: u64,
        #[serde(default)]
        at: String,
        /// The intent this closes, if any.
        #[serde(default)]
        intent: Option<u64>,
        leaver: String,
        step: String,
        status: String,
        #[serde(default)]
        detail: Value,
    },
    /// The run stopped early (Ctrl-C, SIGTERM, or a portal that stopped answering).
    Interrupted {
        at: String,
        #[serde(default)]
        counters: SessionCounters,
        /// Why, when it was not the user.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The run got to its end.
    Finished {
        at: String,
        #[serde(default)]
        counters: SessionCounters,
    },
}

impl Record {
    /// A write about to be sent, stamped now.
    pub fn intent(seq: u64, leaver: &str, step: &str, action: &str, detail: Value) -> Self {
        Record::Intent {
            seq,
            at: now(),
            leaver: leaver.to_owned(),
            step: step.to_owned(),
            action: action.to_owned(),
            detail,
        }
    }

    /// What came of a step or of one write in it, stamped now.
    pub fn outcome(
        seq: u64,
        intent: Option<u64>,
        leaver: &str,
        step: &str,
        status: &str,
        detail: Value,
    ) -> Self {
        Record::Outcome {
            seq,
            at: now(),
            intent,
            leaver: leaver.to_owned(),
            step: step.to_owned(),
            status: status.to_owned(),
            detail,
        }
    }
}

/// A leaver as resolved by one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaverRecord {
    pub at: String,
    /// The leaver as the manifest names them (the key of their other records).
    pub leaver: String,
    pub user_id: Option<String>,
    pub display_name: Option<String>,
    pub workspace: u64,
    pub workspace_kind: String,
    /// `due`, `unchanged`, `protected`, `deferred` or `invalid`.
    pub class: String,
    pub reason: Option<String>,
    /// The requested steps, in the order they run.
    pub steps: Vec<String>,
    pub ticket: Option<String>,
}

/// The key, in a step's end, of its session's counters up to then: what the report
/// counts for a session killed before its last record (and leaves out of the
/// step's detail).
pub const SESSION_SO_FAR: &str = "session_so_far";

/// What one session sent, as the pacer counted it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionCounters {
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// POST and PUT requests among them (the portal's daily budget counts these).
    pub writes: u64,
    pub retries: u64,
    pub rate_limited: u64,
}

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

    fn last_seq(&self) -> u64 {
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

/// An open journal, locked for this process.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    _lock: File,
    next_seq: u64,
}

impl Journal {
    /// Opens the run directory's journal, creating it with `header`, or resuming it
    /// when it belongs to the same manifest (same hash) and portal.
    pub fn open(dir: &Path, header: RunHeader) -> Result<(Journal, Replay), JournalError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| JournalError::Io { path, source }
        };
        crate::run_dir::private_dir(dir).map_err(io(dir))?;
        let lock_path = dir.join(LOCK);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(JournalError::Locked(dir.to_path_buf()));
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(JournalError::Io {
                    path: lock_path,
                    source,
                });
            }
        }
        let path = dir.join(JOURNAL);
        let empty = std::fs::metadata(&path).map_or(true, |m| m.len() == 0);
        if empty
            && [REPORT_JSON, REPORT_CSV]
                .iter()
                .any(|r| dir.join(r).exists())
        {
            return Err(JournalError::Emptied(dir.to_path_buf()));
        }
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        crate::run_dir::private_file(&path).map_err(io(&path))?;
        let (replay, good_len) = read(&path, &file)?;
        // Drop a torn last line so the next record starts on a line of its own.
        file.set_len(good_len).map_err(io(&path))?;
        file.seek(SeekFrom::End(0)).map_err(io(&path))?;
        let mut journal = Journal {
            next_seq: replay.last_seq() + 1,
            path,
            file,
            _lock: lock,
        };
        match replay.header() {
            None if replay.records.is_empty() => journal.append(&Record::Run(header))?,
            None => {
                return Err(JournalError::Corrupt {
                    path: journal.path.clone(),
                    line: 1,
                    reason: "the first record is not the run header".into(),
                });
            }
            Some(existing) => {
                let what = if existing.manifest_sha256 != header.manifest_sha256 {
                    Some("the manifest")
                } else if existing.portal != header.portal {
                    Some("the portal")
                } else if existing.format != FORMAT {
                    Some("the journal format")
                } else {
                    None
                };
                if let Some(what) = what {
                    return Err(JournalError::Mismatch {
                        path: journal.path.clone(),
                        what,
                    });
                }
                journal.append(&Record::Resumed { at: header.started })?;
            }
        }
        Ok((journal, replay))
    }

    /// Writes and fsyncs one record.
    pub fn append(&mut self, record: &Record) -> Result<(), JournalError> {
        self.append_all(std::slice::from_ref(record))
    }

    /// Writes records and fsyncs once: a group commit. None of them counts as written
    /// before this returns.
    pub fn append_all(&mut self, records: &[Record]) -> Result<(), JournalError> {
        let mut lines = Vec::new();
        for record in records {
            serde_json::to_writer(&mut lines, record).expect("records serialize");
            lines.push(b'\n');
        }
        let path = self.path.clone();
        let err = |source| JournalError::Io { path, source };
        let good = self.file.stream_position().map_err(err.clone())?;
        let written = self
            .file
            .write_all(&lines)
            .and_then(|()| self.file.sync_data());
        if let Err(source) = written {
            // Leave no half record behind for later records to follow: cut back to
            // where this write began (best effort: the disk may be gone).
            let _ = self
                .file
                .set_len(good)
                .and_then(|()| self.file.seek(SeekFrom::Start(good)).map(|_| ()));
            return Err(err(source));
        }
        Ok(())
    }

    /// Hands the journal to a writer thread shared by every task of a run.
    pub fn share(self) -> SharedJournal {
        SharedJournal::spawn(self)
    }

    /// Records that a write is about to be sent; returns its sequence number.
    pub fn intent(
        &mut self,
        leaver: &str,
        step: &str,
        action: &str,
        detail: Value,
    ) -> Result<u64, JournalError> {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.append(&Record::intent(seq, leaver, step, action, detail))?;
        Ok(seq)
    }

    /// Records what came of a step (closing `intent`, when there was one).
    pub fn outcome(
        &mut self,
        intent: Option<u64>,
        leaver: &str,
        step: &str,
        status: &str,
        detail: Value,
    ) -> Result<(), JournalError> {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.append(&Record::outcome(seq, intent, leaver, step, status, detail))
    }
}

/// Now, as journals and reports write it.
pub fn now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Millisecond)
        .map_or_else(|_| jiff::Timestamp::now().to_string(), |t| t.to_string())
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
fn read(path: &Path, file: &File) -> Result<(Replay, u64), JournalError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn header(hash: &str) -> RunHeader {
        RunHeader {
            format: FORMAT,
            tool_version: "test".into(),
            run_id: "run-1".into(),
            manifest: "m.yaml".into(),
            manifest_sha256: hash.into(),
            portal: "http://127.0.0.1:1/".into(),
            started: "2026-11-29T08:00:00Z".into(),
        }
    }

    #[test]
    fn a_resumed_journal_knows_its_open_intents() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut journal, replay) = Journal::open(dir.path(), header("abc")).unwrap();
            assert!(replay.records.is_empty());
            let done = journal
                .intent(
                    "ann@example.com",
                    "disable",
                    "PUT people/status/2",
                    Value::Null,
                )
                .unwrap();
            journal
                .outcome(
                    Some(done),
                    "ann@example.com",
                    "disable",
                    "done",
                    Value::Null,
                )
                .unwrap();
            journal
                .intent(
                    "ann@example.com",
                    "reassign",
                    "POST people/reassign/start",
                    Value::Null,
                )
                .unwrap();
            // Killed here: the reassign intent has no outcome.
        }
        let (mut journal, replay) = Journal::open(dir.path(), header("abc")).unwrap();
        assert_eq!(replay.outcome("ann@example.com", "disable"), Some("done"));
        let open = replay.open_intents();
        assert_eq!(open.len(), 1);
        assert!(matches!(open[0], Record::Intent { step, .. } if step == "reassign"));
        // Sequence numbers go on where they stopped.
        assert_eq!(
            journal
                .intent("ann@example.com", "archive", "PUT", Value::Null)
                .unwrap(),
            4
        );
    }

    #[test]
    fn a_step_finished_by_a_later_session_leaves_no_open_intent() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut journal, _) = Journal::open(dir.path(), header("abc")).unwrap();
            for step in ["reassign", "archive"] {
                journal
                    .intent("ann@example.com", step, "POST", Value::Null)
                    .unwrap();
            }
            // Killed: both writes in doubt.
        }
        {
            let (mut journal, replay) = Journal::open(dir.path(), header("abc")).unwrap();
            assert_eq!(replay.open_intents().len(), 2);
            // The next session settles the reassign from the portal; the archive
            // it only skips (an earlier step failed): still in doubt.
            journal
                .outcome(None, "ann@example.com", "reassign", "done", Value::Null)
                .unwrap();
            journal
                .outcome(None, "ann@example.com", "archive", "skipped", Value::Null)
                .unwrap();
        }
        let (_, replay) = Journal::open(dir.path(), header("abc")).unwrap();
        let open = replay.open_intents();
        assert_eq!(open.len(), 1, "{open:?}");
        assert!(matches!(open[0], Record::Intent { step, .. } if step == "archive"));
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut journal, _) = Journal::open(dir.path(), header("abc")).unwrap();
            journal
                .intent("ann@example.com", "disable", "PUT", Value::Null)
                .unwrap();
        }
        let path = dir.path().join(JOURNAL);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"type":"outcome","seq":2,"int"#)
            .unwrap();
        drop(file);
        let (mut journal, replay) = Journal::open(dir.path(), header("abc")).unwrap();
        assert!(replay.torn_tail);
        assert_eq!(replay.open_intents().len(), 1);
        journal
            .outcome(Some(1), "ann@example.com", "disable", "done", Value::Null)
            .unwrap();
        drop(journal);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.lines()
                .all(|l| serde_json::from_str::<Record>(l).is_ok()),
            "{text}"
        );
    }

    #[test]
    fn damage_before_the_end_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(JOURNAL), "not json\n{}\n").unwrap();
        assert!(matches!(
            Journal::open(dir.path(), header("abc")),
            Err(JournalError::Corrupt { line: 1, .. })
        ));
    }

    #[test]
    fn another_manifest_cannot_take_over_a_run() {
        let dir = tempfile::tempdir().unwrap();
        drop(Journal::open(dir.path(), header("abc")).unwrap());
        assert!(matches!(
            Journal::open(dir.path(), header("def")),
            Err(JournalError::Mismatch {
                what: "the manifest",
                ..
            })
        ));
    }

    #[test]
    fn two_runs_cannot_share_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let first = Journal::open(dir.path(), header("abc")).unwrap();
        assert!(matches!(
            Journal::open(dir.path(), header("abc")),
            Err(JournalError::Locked(_))
        ));
        drop(first);
        assert!(Journal::open(dir.path(), header("abc")).is_ok());
    }
}

type Reply = tokio::sync::oneshot::Sender<Result<(), (io::ErrorKind, String)>>;

/// The journal of a running `apply`: many tasks append, one thread writes. Records
/// that arrive while a write is under way go out together with one fsync (a group
/// commit), so a thousand concurrent leavers do not queue behind a thousand fsyncs,
/// and every `await` still returns only once its record is on disk.
#[derive(Clone)]
pub struct SharedJournal {
    sender: std::sync::mpsc::Sender<(Record, Reply)>,
    next_seq: std::sync::Arc<std::sync::atomic::AtomicU64>,
    path: PathBuf,
}

impl SharedJournal {
    fn spawn(mut journal: Journal) -> Self {
        let (sender, receiver) = std::sync::mpsc::channel::<(Record, Reply)>();
        let next_seq = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(journal.next_seq));
        let path = journal.path.clone();
        std::thread::Builder::new()
            .name("journal".into())
            .spawn(move || {
                // After a failed write nothing more is written: the journal ends
                // with the last record that is surely on disk.
                let mut broken: Option<(io::ErrorKind, String)> = None;
                while let Ok(first) = receiver.recv() {
                    let mut batch = vec![first];
                    batch.extend(receiver.try_iter());
                    let (records, replies): (Vec<Record>, Vec<Reply>) = batch.into_iter().unzip();
                    let result = match &broken {
                        Some(failure) => Err(failure.clone()),
                        None => journal.append_all(&records).map_err(|err| match err {
                            JournalError::Io { source, .. } => (source.kind(), source.to_string()),
                            other => (io::ErrorKind::Other, other.to_string()),
                        }),
                    };
                    if let Err(failure) = &result {
                        broken = Some(failure.clone());
                    }
                    for reply in replies {
                        let _ = reply.send(result.clone());
                    }
                }
            })
            .expect("a thread for the journal");
        Self {
            sender,
            next_seq,
            path,
        }
    }

    /// Appends a record; returns once it is on disk.
    pub async fn record(&self, record: Record) -> Result<(), JournalError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let gone = || JournalError::Io {
            path: self.path.clone(),
            source: io::Error::other("the journal writer stopped"),
        };
        self.sender.send((record, reply)).map_err(|_| gone())?;
        match answer.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err((kind, message))) => Err(JournalError::Io {
                path: self.path.clone(),
                source: io::Error::new(kind, message),
            }),
            Err(_) => Err(gone()),
        }
    }

    fn seq(&self) -> u64 {
        self.next_seq
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// Records that a write is about to be sent; returns its sequence number.
    pub async fn intent(
        &self,
        leaver: &str,
        step: &str,
        action: &str,
        detail: Value,
    ) -> Result<u64, JournalError> {
        let seq = self.seq();
        self.record(Record::intent(seq, leaver, step, action, detail))
            .await?;
        Ok(seq)
    }

    /// Records what came of a step (closing `intent`, when there was one).
    pub async fn outcome(
        &self,
        intent: Option<u64>,
        leaver: &str,
        step: &str,
        status: &str,
        detail: Value,
    ) -> Result<(), JournalError> {
        let seq = self.seq();
        self.record(Record::outcome(seq, intent, leaver, step, status, detail))
            .await
    }
}
