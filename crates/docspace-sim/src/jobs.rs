//! Asynchronous work: reassign and remove jobs (docspace-api.md §5) and file
//! operations (§6). Each job takes the configured duration, then applies its effect
//! to the portal in one step; until then its progress grows with time. Faults can
//! make a job fail (status 4 with an error) or get stuck (it stops updating, and its
//! record vanishes like any other a while after its last update).
//!
//! Records: a finished job record disappears `record_ttl` after its last update
//! (~60 s on the real server); a finished file operation is also removed by the first
//! listing that sees it (read-once).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::state::Guid;

/// `DistributedTaskStatus`.
pub mod status {
    pub const RUNNING: u8 = 1;
    pub const COMPLETED: u8 = 2;
    pub const CANCELED: u8 = 3;
    pub const FAILED: u8 = 4;
}

/// What faults decided for a job when it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Normal,
    Fail,
    /// Stops at this percentage and never finishes.
    Stuck(u8),
    /// A file operation that finishes "completed", without an error, having done
    /// nothing (the `job-silent` fault).
    Silent,
}

/// A reassign or remove job, keyed by the leaver.
#[derive(Debug, Clone)]
pub struct ProgressJob {
    pub id: String,
    pub from: Guid,
    pub to: Guid,
    pub caller: Guid,
    pub delete_profile: bool,
    pub started: Instant,
    pub duration: Duration,
    pub status: u8,
    /// The failure's message; `""` while there is none (see `dto`).
    pub error: String,
    pub fate: Fate,
    pub finished_at: Option<Instant>,
}

impl ProgressJob {
    fn percentage(&self, now: Instant) -> u8 {
        match (self.status, self.fate) {
            (status::COMPLETED, _) => 100,
            (_, Fate::Stuck(p)) => p,
            (status::RUNNING, _) => progress(self.started, self.duration, now),
            _ => progress(self.started, self.duration, self.finished_at.unwrap_or(now)),
        }
    }

    /// When the record was last updated (for expiry).
    fn last_update(&self) -> Option<Instant> {
        last_update(self.started, self.duration, self.finished_at, self.fate)
    }

    /// `TaskProgressResponseDto` (products/ASC.People/Server/ApiModels/ResponseDto/
    /// TaskProgressResponseDto.cs, `Get`). `error` is always sent, `""` when the job
    /// has none: `Error = progressItem.Exception?.Message`, and `DistributedTask.Exception`'s
    /// getter always returns `new Exception(_exeption)`, `_exeption` defaulting to
    /// `string.Empty` (common/ASC.Common/Threading/DistributedTask.cs).
    pub fn dto(&self, now: Instant) -> Value {
        json!({
            "id": self.id,
            "error": self.error,
            "percentage": self.percentage(now),
            "isCompleted": matches!(self.status, status::COMPLETED | status::CANCELED | status::FAILED),
            "status": self.status,
        })
    }
}

/// When a job's record was last updated: when it finished, or, for a stuck job,
/// when it stopped moving; `None` while it runs.
fn last_update(
    started: Instant,
    duration: Duration,
    finished_at: Option<Instant>,
    fate: Fate,
) -> Option<Instant> {
    match (finished_at, fate) {
        (Some(at), _) => Some(at),
        (None, Fate::Stuck(p)) => Some(started + duration.mul_f64(f64::from(p) / 100.0)),
        (None, _) => None,
    }
}

fn progress(started: Instant, duration: Duration, now: Instant) -> u8 {
    if duration.is_zero() {
        return 95;
    }
    let fraction = now.duration_since(started).as_secs_f64() / duration.as_secs_f64();
    (fraction * 100.0).clamp(0.0, 95.0) as u8
}

/// What a file operation does when it finishes.
#[derive(Debug, Clone)]
pub enum Effect {
    Move {
        folders: Vec<i64>,
        files: Vec<i64>,
        dest: i64,
    },
    Download {
        folders: Vec<i64>,
        files: Vec<i64>,
    },
    Archive {
        room: i64,
    },
    Unarchive {
        room: i64,
    },
}

/// A file operation (`FileOperationDto`).
#[derive(Debug, Clone)]
pub struct FileOperation {
    pub id: Guid,
    pub owner: Guid,
    /// `FileOperationType`: 0 Move, 3 Download, ...
    pub kind: u8,
    pub started: Instant,
    pub duration: Duration,
    pub status: u8,
    pub error: String,
    /// `!deleteAfter`: whether the finished result is reported back.
    pub hold_result: bool,
    pub effect: Effect,
    pub fate: Fate,
    pub finished_at: Option<Instant>,
    /// Filled when finished: the processed top-level entries (DTOs).
    pub result_folders: Vec<Value>,
    pub result_files: Vec<Value>,
    pub url: Option<String>,
}

impl FileOperation {
    pub fn finished(&self) -> bool {
        self.status != status::RUNNING
    }

    pub fn dto(&self, now: Instant) -> Value {
        let progress = match (self.status, self.fate) {
            (status::RUNNING, Fate::Stuck(p)) => p,
            (status::RUNNING, _) => progress(self.started, self.duration, now),
            _ => 100,
        };
        let processed = match &self.effect {
            Effect::Move { folders, files, .. } | Effect::Download { folders, files } => {
                if self.finished() {
                    folders.len() + files.len()
                } else {
                    0
                }
            }
            Effect::Archive { .. } | Effect::Unarchive { .. } => usize::from(self.finished()),
        };
        let mut dto = json!({
            "id": self.id.to_string(),
            "Operation": self.kind,
            "progress": progress,
            "error": self.error,
            "processed": processed.to_string(),
            "finished": self.finished(),
            "status": self.status,
        });
        if let Some(url) = &self.url {
            dto["url"] = url.clone().into();
        }
        if !self.result_files.is_empty() {
            dto["files"] = Value::Array(self.result_files.clone());
        }
        if !self.result_folders.is_empty() {
            dto["folders"] = Value::Array(self.result_folders.clone());
        }
        dto
    }

    fn last_update(&self) -> Option<Instant> {
        last_update(self.started, self.duration, self.finished_at, self.fate)
    }

    /// How long an unread finished operation is kept (downloads twice as long).
    fn ttl(&self, base: Duration) -> Duration {
        if self.kind == 3 { base * 2 } else { base }
    }
}

/// A finished bulk download's archive.
#[derive(Debug, Clone)]
pub struct Download {
    pub owner: Guid,
    pub name: String,
    pub bytes: Vec<u8>,
    pub finished: Instant,
}

/// All asynchronous work of the portal.
#[derive(Debug, Default)]
pub struct Jobs {
    pub reassign: HashMap<Guid, ProgressJob>,
    pub remove: HashMap<Guid, ProgressJob>,
    /// A guest's own "delete my personal folder" jobs, by that guest.
    pub personal_delete: HashMap<Guid, ProgressJob>,
    pub operations: Vec<FileOperation>,
    /// Zip archives of finished downloads by the opaque token in their URL (the real
    /// server encrypts the name there): owner, file name, bytes, when finished.
    pub downloads: HashMap<String, Download>,
}

impl Jobs {
    /// Drops records whose last update is older than `ttl`.
    pub fn expire(&mut self, now: Instant, ttl: Duration) {
        let stale = |last: Option<Instant>, ttl: Duration| {
            last.is_some_and(|at| now.duration_since(at) >= ttl)
        };
        self.reassign
            .retain(|_, job| !stale(job.last_update(), ttl));
        self.remove.retain(|_, job| !stale(job.last_update(), ttl));
        self.personal_delete
            .retain(|_, job| !stale(job.last_update(), ttl));
        self.operations
            .retain(|op| !stale(op.last_update(), op.ttl(ttl)));
        // Archives expire with their operations' retention (downloads: twice the base).
        self.downloads
            .retain(|_, d| now.duration_since(d.finished) < ttl * 2);
    }

    /// The caller's operations as a listing sees them: finished ones are removed
    /// (read-once) and reported only when their result is held.
    pub fn list_operations(
        &mut self,
        owner: Guid,
        id: Option<Guid>,
        kind: Option<u8>,
        now: Instant,
    ) -> Vec<Value> {
        let mut listed = Vec::new();
        self.operations.retain(|op| {
            let selected = op.owner == owner
                && id.is_none_or(|id| op.id == id)
                && kind.is_none_or(|k| op.kind == k);
            if !selected {
                return true;
            }
            if op.finished() {
                if op.hold_result {
                    listed.push(op.dto(now));
                }
                return false;
            }
            listed.push(op.dto(now));
            true
        });
        listed
    }
}
