//! The plan's types: what was observed on the portal (`Observed`, `Lookup`) and what
//! `apply` would do (`Plan`, `LeaverPlan`, `StepPlan`, outcomes), with the plan's
//! JSON Schema.

use std::collections::{HashMap, HashSet};

use schemars::JsonSchema;
use serde::Serialize;

use crate::docspace::ApiError;
use crate::docspace::model::{ApiKey, Employee, Folder, Group, Share, UserKind};
use crate::manifest::UserRef;

/// DocSpace's daily budget of POST + PUT requests per user (docspace-api.md §12).
pub const DAILY_WRITE_BUDGET: u64 = 10_000;

/// `FileShare` values the archive uses.
pub const ROOM_MANAGER: u8 = 9;
pub const READ: u8 = 2;

/// The result of reading one thing from the portal.
#[derive(Debug, Clone)]
pub enum Lookup<T> {
    Found(T),
    /// 404 (or no match).
    Missing,
    /// 403, with the server's reason.
    Hidden(String),
}

impl<T> Lookup<T> {
    /// A read's answer as a lookup: 404 is missing, 403 hidden (with the server's
    /// reason); any other failure stays an error.
    pub fn of(answer: Result<T, ApiError>) -> Result<Self, ApiError> {
        match answer {
            Ok(t) => Ok(Lookup::Found(t)),
            Err(ApiError::NotFound { .. }) => Ok(Lookup::Missing),
            Err(ApiError::Forbidden { message }) => Ok(Lookup::Hidden(
                message.unwrap_or_else(|| "access denied".into()),
            )),
            Err(err) => Err(err),
        }
    }

    pub fn found(&self) -> Option<&T> {
        match self {
            Lookup::Found(t) => Some(t),
            _ => None,
        }
    }
}

/// What the key may do, found by the pre-flight.
#[derive(Debug, Clone, Default)]
pub struct AuditAccess {
    /// The key's user may read the audit trail.
    pub readable: bool,
    /// The portal's plan ignores audit filters (only the last 20 events come back).
    pub filters_ignored: bool,
}

/// Everything the plan needs to know about the portal.
#[derive(Debug, Clone)]
pub struct Observed {
    pub portal: String,
    /// The key's user.
    pub caller: Employee,
    /// Today in the portal's calendar.
    pub today: jiff::civil::Date,
    /// By [`UserRef::key`]: leavers and archive owners.
    pub users: HashMap<String, Lookup<Employee>>,
    /// By group name (lowercase) or id as written.
    pub groups: HashMap<String, Lookup<Group>>,
    /// Workspaces and archive folders by id.
    pub folders: HashMap<i64, Lookup<Folder>>,
    /// Whether `folders` was read. `apply --yes` locks leavers out before it reads
    /// workspaces (each pipeline reads its own), so its plan cannot judge them yet.
    pub folders_read: bool,
    /// Members of room workspaces, by room id.
    pub members: HashMap<i64, Vec<Share>>,
    /// Every API key the caller can see.
    pub keys: Vec<ApiKey>,
    /// `reassign/necessary` by user id. It stays true after a reassign while the
    /// leaver is still a member of a room, so it only proves "nothing to do" when false.
    pub necessary: HashMap<String, bool>,
    /// Rooms owned, by user id, read for leavers already disabled: a disabled leaver
    /// who owns no room (and not their workspace) has had their data reassigned.
    pub rooms_owned: HashMap<String, u64>,
    /// Leavers (by [`UserRef::key`]) whose workspace, owned by someone else now, is
    /// known to be theirs all the same: an earlier session of this run announced a
    /// write to it (its journal), or the audit trail shows them creating it and this
    /// row's archive owner holds it now, as reassigning and archiving leave it.
    pub handed_over: HashSet<String>,
    /// Leavers (user ids) whose data a reassign job is moving right now: somebody
    /// else (another `apply`?) is offboarding them.
    pub reassigning: HashSet<String>,
    pub audit: AuditAccess,
    /// The key's scopes when it was created with restricted permissions (`plan` can
    /// read with `*:read`, but `apply` needs a key with full permissions).
    pub restricted_key: Option<Vec<String>>,
    /// `--protect` accounts, on top of the manifest's `protected:` list.
    pub protect: Vec<UserRef>,
}

/// What happens to a leaver as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// At least one step will change the portal.
    WillChange,
    /// Every requested step is already done.
    Unchanged,
    /// The effective date is still ahead.
    Deferred,
    /// A protected account: never offboarded.
    Protected,
    /// Something makes the leaver impossible to offboard as written.
    Invalid,
    /// `apply PLAN`: the portal changed since the saved plan was made; nothing is done.
    Drifted,
}

/// What happens in one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    WillChange,
    /// Reads only (`export`, `audit`): collected for the run, no change to the portal.
    WillCollect,
    Unchanged,
    /// Not run: the leaver is deferred, protected or invalid.
    Skipped,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, JsonSchema)]
pub struct StepPlan {
    pub step: String,
    pub status: StepStatus,
    /// What will happen, or why nothing will.
    pub detail: String,
}

/// Whether the workspace is a room or a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkspaceKind {
    Room,
    Folder,
    Unknown,
}

/// A user named for people: display name and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, JsonSchema)]
pub struct Person {
    pub id: String,
    pub display_name: String,
}

/// How a workspace relates to its leaver, judged from portal state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The leaver created it: what offboarding is for.
    Own,
    /// The leaver created it and an earlier offboarding handed it to the archive owner.
    HandedOver,
    /// Someone else's, with the leaver a member (directly or through a group).
    Member,
    /// Someone else's; the leaver neither created nor belongs to it.
    Unrelated,
}

/// One change to a room's access that archiving makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, JsonSchema)]
pub struct MemberChange {
    /// User or group id.
    pub id: String,
    /// Display name of a user, name of a group.
    pub name: String,
    /// `user` or `group`.
    pub kind: String,
    /// The role before (`owner`, `room_manager`, `content_creator`, `editing`, `review`,
    /// `comment`, `fill_forms`, `read`), or none.
    pub from: Option<String>,
    /// The role after, or none: access removed.
    pub to: Option<String>,
}

/// More members than this losing access to a room is a warning, even when meant.
pub const BLAST_RADIUS: usize = 5;

#[derive(Debug, Clone, Serialize, serde::Deserialize, JsonSchema)]
pub struct LeaverPlan {
    /// The leaver as the manifest names them.
    pub leaver: String,
    pub user_id: Option<String>,
    pub display_name: Option<String>,
    pub workspace: u64,
    pub workspace_kind: WorkspaceKind,
    /// The workspace's title, once read.
    pub workspace_title: Option<String>,
    /// Who owns (created) the workspace now: display name and user id.
    pub workspace_owner: Option<Person>,
    /// How the workspace relates to the leaver, once read.
    pub workspace_relation: Option<Relation>,
    /// What archiving the room changes in its access: who loses it, who gains what.
    pub member_changes: Vec<MemberChange>,
    pub outcome: Outcome,
    /// Why the leaver is deferred, protected or invalid.
    pub reason: Option<String>,
    pub steps: Vec<StepPlan>,
}

/// Totals over the batch, and what `apply` would cost.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, JsonSchema)]
pub struct Summary {
    pub will_change: usize,
    pub unchanged: usize,
    pub deferred: usize,
    pub protected: usize,
    pub invalid: usize,
    /// Leavers whose portal state changed since a saved plan (`apply PLAN` only).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub drifted: usize,
    /// Requests `apply` would send, roughly (reads, writes and polls).
    pub estimated_requests: u64,
    /// POST and PUT requests `apply` would send: what the daily budget counts.
    pub estimated_writes: u64,
    pub daily_write_budget: u64,
}

/// Who the key acts as.
#[derive(Debug, Clone, Serialize, serde::Deserialize, JsonSchema)]
pub struct KeyUser {
    pub id: String,
    pub display_name: String,
    pub email: String,
    /// owner, docspace_admin, room_admin, user or guest.
    pub role: String,
}

/// The whole plan (`offboard plan --format json`, `schemas/plan.schema.json`).
#[derive(Debug, Clone, Serialize, serde::Deserialize, JsonSchema)]
#[schemars(title = "offboard plan")]
pub struct Plan {
    /// Plan format version.
    pub version: u32,
    pub portal: String,
    pub key_user: KeyUser,
    /// Today in the portal's calendar (YYYY-MM-DD), against which `effective` is read.
    pub today: String,
    pub leavers: Vec<LeaverPlan>,
    pub summary: Summary,
    /// Things worth knowing that do not stop the plan.
    pub warnings: Vec<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

pub(super) fn role_name(kind: UserKind) -> &'static str {
    match kind {
        UserKind::Owner => "owner",
        UserKind::DocSpaceAdmin => "docspace_admin",
        UserKind::RoomAdmin => "room_admin",
        UserKind::User => "user",
        UserKind::Guest => "guest",
    }
}

/// `schemas/plan.schema.json`, generated from [`Plan`], keys sorted.
pub fn plan_schema_text() -> String {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let schema =
        serde_json::to_value(generator.into_root_schema_for::<Plan>()).expect("a schema is JSON");
    crate::manifest::sorted_json_text(&schema)
}
