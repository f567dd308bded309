//! Writing the journal: the locked file, records appended and fsynced, and the
//! shared writer thread of a running `apply` (group commits).

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::run_dir::{REPORT_CSV, REPORT_JSON};

use super::error::JournalError;
use super::record::*;
use super::replay::{Replay, read};

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

    /// Appends records in their order; returns once all are on disk (a group
    /// commit: one fsync for as many as the writer finds waiting).
    pub async fn record_all(&self, records: Vec<Record>) -> Result<(), JournalError> {
        let gone = || JournalError::Io {
            path: self.path.clone(),
            source: io::Error::other("the journal writer stopped"),
        };
        let mut answers = Vec::with_capacity(records.len());
        for record in records {
            let (reply, answer) = tokio::sync::oneshot::channel();
            self.sender.send((record, reply)).map_err(|_| gone())?;
            answers.push(answer);
        }
        for answer in answers {
            match answer.await {
                Ok(Ok(())) => {}
                Ok(Err((kind, message))) => {
                    return Err(JournalError::Io {
                        path: self.path.clone(),
                        source: io::Error::new(kind, message),
                    });
                }
                Err(_) => return Err(gone()),
            }
        }
        Ok(())
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
