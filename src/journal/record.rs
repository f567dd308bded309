//! The records of the journal, its constants, and the time stamps it writes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    /// `offboard revert`: the id of the `apply` run it reverts (`manifest` names
    /// that run's directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverts: Option<String>,
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
    /// What a leaver's account or workspace was before the run's first change to
    /// it, for `offboard revert`: written once per part, before that change.
    Prior(PriorRecord),
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

/// The state a run replaces, as it was read before the run's first write to it. The
/// account part is written before the lock-out (from the session's first reading
/// of the portal), the workspace part when the leaver's pipeline reads the
/// workspace, before any step changes it; neither is written again, nor after an
/// earlier session already changed that part without recording it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorRecord {
    pub at: String,
    pub leaver: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<PriorAccount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<PriorWorkspace>,
}

/// A leaver's account before the lock-out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorAccount {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    /// `EmployeeStatus`: 1 active, 2 disabled.
    pub status: u8,
    /// `DocSpaceAdmin`, `RoomAdmin`, `User` or `Guest`, as `EmployeeType` names them.
    pub kind: String,
    /// Their API keys, which revoking deletes for good: kept as what they were.
    #[serde(default)]
    pub keys: Vec<PriorKey>,
}

/// An API key as it was (never the key itself: DocSpace shows only its last
/// characters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorKey {
    pub id: String,
    pub name: String,
    pub postfix: String,
}

/// A leaver's workspace before any step changed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorWorkspace {
    pub id: i64,
    /// `room` or `folder`.
    pub kind: String,
    pub title: String,
    /// The owner's user id (`createdBy`).
    pub owner: Option<String>,
    pub archived: bool,
    /// The folder it sat in (a folder workspace moves into the archive folder).
    pub parent_id: Option<i64>,
    /// A room's members, owner included, as `GET files/rooms/{id}/share` listed
    /// them; empty for a folder.
    #[serde(default)]
    pub members: Vec<PriorMember>,
}

/// One member record of a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorMember {
    /// A user's or a group's id.
    pub id: String,
    pub group: bool,
    pub name: String,
    /// `FileShare`.
    pub access: u8,
    #[serde(default)]
    pub owner: bool,
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

/// Now, as journals and reports write it.
pub fn now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Millisecond)
        .map_or_else(|_| jiff::Timestamp::now().to_string(), |t| t.to_string())
}
