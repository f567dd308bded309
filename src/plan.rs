//! The plan: a checked manifest plus what the portal looks like now, turned into what
//! `apply` would do to each leaver, step by step. Pure: no I/O and no async; the
//! observations are gathered by `commands/plan.rs`.

use std::collections::{BTreeMap, HashMap, HashSet};

use schemars::JsonSchema;
use serde::Serialize;

use crate::docspace::ApiError;
use crate::docspace::model::{ApiKey, Employee, Folder, Group, Share, UserKind};
use crate::manifest::{Leaver, Manifest, Step, UserRef};

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
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
}

/// What happens in one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    WillChange,
    /// Reads only (`export`, `audit`): collected for the run, no change to the portal.
    WillCollect,
    Unchanged,
    /// Not run: the leaver is deferred, protected or invalid.
    Skipped,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StepPlan {
    pub step: String,
    pub status: StepStatus,
    /// What will happen, or why nothing will.
    pub detail: String,
}

/// Whether the workspace is a room or a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkspaceKind {
    Room,
    Folder,
    Unknown,
}

/// A user named for people: display name and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Person {
    pub id: String,
    pub display_name: String,
}

/// How a workspace relates to its leaver, judged from portal state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
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

#[derive(Debug, Clone, Serialize, JsonSchema)]
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
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Summary {
    pub will_change: usize,
    pub unchanged: usize,
    pub deferred: usize,
    pub protected: usize,
    pub invalid: usize,
    /// Requests `apply` would send, roughly (reads, writes and polls).
    pub estimated_requests: u64,
    /// POST and PUT requests `apply` would send: what the daily budget counts.
    pub estimated_writes: u64,
    pub daily_write_budget: u64,
}

/// Who the key acts as.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct KeyUser {
    pub id: String,
    pub display_name: String,
    pub email: String,
    /// owner, docspace_admin, room_admin, user or guest.
    pub role: String,
}

/// The whole plan (`offboard plan --format json`, `schemas/plan.schema.json`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
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

fn role_name(kind: UserKind) -> &'static str {
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

/// Builds the plan for every leaver of `manifest` from what was observed.
pub fn plan(manifest: &Manifest, observed: &Observed) -> Plan {
    let mut protected: Vec<String> = manifest.protected.iter().map(UserRef::key).collect();
    protected.extend(observed.protect.iter().map(UserRef::key));
    let mut warnings = Vec::new();
    if observed.audit.filters_ignored
        && manifest
            .leavers
            .iter()
            .any(|l| l.steps.contains(&Step::Audit))
    {
        warnings.push(
            "the portal's plan has no audit feature: audit filters are ignored and only the last 20 events come back, so collected audit trails will be incomplete".to_owned(),
        );
    }
    for leaver in &manifest.leavers {
        let user = observed
            .users
            .get(&leaver.user.key())
            .and_then(Lookup::found);
        if user.is_some_and(|u| observed.reassigning.contains(&u.id)) {
            warnings.push(format!(
                "a reassign of {}'s data is running on the portal now: somebody else (another apply?) is offboarding them; apply waits for that job rather than start its own",
                leaver.user
            ));
        }
    }
    if let Some(scopes) = &observed.restricted_key {
        warnings.push(format!(
            "the API key is restricted to {}: it can plan, but apply needs a key with full permissions (audit trails and sessions have no narrower scope)",
            scopes.join(", ")
        ));
    }
    let leavers: Vec<LeaverPlan> = manifest
        .leavers
        .iter()
        .map(|leaver| plan_leaver(leaver, observed, &protected))
        .collect();
    let mut summary = Summary {
        daily_write_budget: DAILY_WRITE_BUDGET,
        ..Summary::default()
    };
    for l in &leavers {
        match l.outcome {
            Outcome::WillChange => summary.will_change += 1,
            Outcome::Unchanged => summary.unchanged += 1,
            Outcome::Deferred => summary.deferred += 1,
            Outcome::Protected => summary.protected += 1,
            Outcome::Invalid => summary.invalid += 1,
        }
    }
    for l in &leavers {
        let losing: Vec<&MemberChange> =
            l.member_changes.iter().filter(|c| c.to.is_none()).collect();
        if losing.len() > BLAST_RADIUS {
            let names: Vec<&str> = losing.iter().map(|c| c.name.as_str()).collect();
            warnings.push(format!(
                "archiving room {} \"{}\" for {} takes access from {} members: {}",
                l.workspace,
                l.workspace_title.as_deref().unwrap_or_default(),
                l.leaver,
                losing.len(),
                names.join(", ")
            ));
        }
    }
    let (requests, writes) = estimate(manifest, &leavers, observed);
    summary.estimated_requests = requests;
    summary.estimated_writes = writes;
    if writes > DAILY_WRITE_BUDGET {
        warnings.push(format!(
            "apply would send about {writes} POST/PUT requests, more than the portal's daily budget of {DAILY_WRITE_BUDGET}: split the batch over several days"
        ));
    }
    Plan {
        version: 1,
        portal: observed.portal.clone(),
        key_user: KeyUser {
            id: observed.caller.id.clone(),
            display_name: observed.caller.display_name.clone(),
            email: observed.caller.email.clone(),
            role: role_name(observed.caller.kind()).to_owned(),
        },
        today: observed.today.to_string(),
        leavers,
        summary,
        warnings,
    }
}

/// The plan of a resumed run: steps its journal shows complete are unchanged ("done
/// earlier in this run"; `apply` does not run them again), and the outcomes, totals
/// and estimates follow.
pub fn resumed(
    mut plan: Plan,
    manifest: &Manifest,
    observed: &Observed,
    complete: impl Fn(&str, &str) -> bool,
) -> Plan {
    for leaver in &mut plan.leavers {
        if !matches!(leaver.outcome, Outcome::WillChange | Outcome::Unchanged) {
            continue;
        }
        for step in &mut leaver.steps {
            if step.status != StepStatus::Unchanged && complete(&leaver.leaver, &step.step) {
                step.status = StepStatus::Unchanged;
                step.detail = "done earlier in this run".into();
                if step.step == Step::Archive.as_str() {
                    leaver.member_changes.clear();
                }
            }
        }
        if !leaver
            .steps
            .iter()
            .any(|s| s.status == StepStatus::WillChange)
        {
            leaver.outcome = Outcome::Unchanged;
        }
    }
    let (requests, writes) = estimate(manifest, &plan.leavers, observed);
    let summary = &mut plan.summary;
    summary.will_change = count(&plan.leavers, Outcome::WillChange);
    summary.unchanged = count(&plan.leavers, Outcome::Unchanged);
    summary.estimated_requests = requests;
    summary.estimated_writes = writes;
    plan
}

fn count(leavers: &[LeaverPlan], outcome: Outcome) -> usize {
    leavers.iter().filter(|l| l.outcome == outcome).count()
}

/// Items a batched call of `apply` carries on average (owner changes and moves of
/// several leavers go to the portal together; measured: 5 at DocSpace's rate limit
/// and with none).
const BATCH: u64 = 5;

/// What `apply` would send for these leavers: all requests and the writes (POST +
/// PUT) among them. Modelled on what the executor sends, per step: a leaver's
/// workspace read; a DELETE per API key; `reassign/necessary`, the start and a
/// progress poll; for a room the members read, the takeover (two owner changes,
/// batched), the member change, the archive and the read that confirms it; for a
/// folder the batched move and its confirming read; file operations polled for
/// everybody (about one poll per two operations); an export's start, poll and
/// download; an audit trail's read, and the audit pre-flight and the login history
/// once per run.
fn estimate(manifest: &Manifest, leavers: &[LeaverPlan], observed: &Observed) -> (u64, u64) {
    let mut requests = 0u64;
    let mut writes = 0u64;
    let (mut disables, mut takeovers, mut moves, mut operations) = (0u64, 0u64, 0u64, 0u64);
    let mut handovers = 0u64;
    let mut audits = false;
    let mut due = 0u64;
    for (leaver, plan) in manifest.leavers.iter().zip(leavers) {
        if !matches!(plan.outcome, Outcome::WillChange | Outcome::Unchanged) {
            continue;
        }
        let active = |step: &str| {
            plan.steps.iter().any(|s| {
                s.step == step
                    && matches!(s.status, StepStatus::WillChange | StepStatus::WillCollect)
            })
        };
        due += 1;
        requests += 1; // the workspace
        if active("disable") {
            disables += 1;
        }
        if active("revoke_keys") {
            let user = plan.user_id.as_deref().unwrap_or_default();
            requests += observed
                .keys
                .iter()
                .filter(|k| {
                    k.create_by
                        .as_ref()
                        .is_some_and(|c| c.id.eq_ignore_ascii_case(user))
                })
                .count() as u64;
        }
        if active("reassign") {
            requests += 3;
            writes += 1;
        } else if leaver.steps.contains(&Step::Reassign) {
            requests += 2;
        }
        if active("archive") {
            if plan.workspace_kind == WorkspaceKind::Room {
                requests += 4;
                writes += 2;
                operations += 1;
                // Handed to the archive owner unless it holds it (one owner change),
                // taken over first when the key may not change its members (another).
                let folder = observed
                    .folders
                    .get(&(leaver.workspace as i64))
                    .and_then(Lookup::found);
                let (archive_owner, _) = archive_subjects(leaver, observed);
                if folder.is_some_and(|f| {
                    f.owner_id()
                        .is_none_or(|id| !id.eq_ignore_ascii_case(&archive_owner))
                }) {
                    handovers += 1;
                }
                if folder.is_some_and(|f| !f.can("EditAccess")) {
                    takeovers += 1;
                }
            } else {
                requests += 1;
                moves += 1;
            }
        }
        if active("export") {
            requests += 3;
            writes += 1;
            operations += 1;
        }
        if active("audit") {
            requests += 1;
            audits = true;
        }
    }
    if due == 0 {
        return (0, 0);
    }
    // Who the key is, the people list, the groups and the keys, once.
    requests += 4;
    let lockouts = disables.div_ceil(100);
    let owner_changes = takeovers.div_ceil(BATCH) + handovers.div_ceil(BATCH);
    let move_calls = moves.div_ceil(BATCH);
    operations += move_calls;
    // Polls of file operations; the audit pre-flight and the login history once.
    let polls = if operations > 0 {
        operations.div_ceil(2) + 1
    } else {
        0
    };
    requests += lockouts + owner_changes + move_calls + polls + 2 * u64::from(audits);
    writes += lockouts + owner_changes + move_calls;
    (requests, writes)
}

fn skipped(leaver: &Leaver, detail: &str) -> Vec<StepPlan> {
    leaver
        .steps
        .iter()
        .map(|s| StepPlan {
            step: s.as_str().to_owned(),
            status: StepStatus::Skipped,
            detail: detail.to_owned(),
        })
        .collect()
}

fn plan_leaver(leaver: &Leaver, observed: &Observed, protected: &[String]) -> LeaverPlan {
    let user = observed
        .users
        .get(&leaver.user.key())
        .and_then(Lookup::found);
    let folder = observed.folders.get(&(leaver.workspace as i64));
    let workspace_kind = match folder.and_then(Lookup::found) {
        Some(f) if f.is_room() => WorkspaceKind::Room,
        Some(_) => WorkspaceKind::Folder,
        None => WorkspaceKind::Unknown,
    };
    let found = folder.and_then(Lookup::found);
    let relation = match (user, found) {
        (Some(user), Some(f)) => Some(relation(
            user,
            f,
            observed.members.get(&f.id).map(Vec::as_slice),
            observed.handed_over.contains(&leaver.user.key()),
        )),
        _ => None,
    };
    let base = |outcome, reason: Option<String>, steps| LeaverPlan {
        leaver: leaver.user.to_string(),
        user_id: user.map(|u| u.id.clone()),
        display_name: user.map(|u| u.display_name.clone()),
        workspace: leaver.workspace,
        workspace_kind,
        workspace_title: found.map(|f| f.title.clone()),
        workspace_owner: found.and_then(|f| f.created_by.as_ref()).map(|c| Person {
            id: c.id.clone(),
            display_name: c.display_name.clone(),
        }),
        workspace_relation: relation.map(|(r, _)| r),
        member_changes: Vec::new(),
        outcome,
        reason,
        steps,
    };

    let Some(user) = user else {
        let reason = match observed.users.get(&leaver.user.key()) {
            Some(Lookup::Hidden(why)) => {
                format!("the key's user may not see `{}` ({why})", leaver.user)
            }
            _ => format!("no DocSpace user `{}`", leaver.user),
        };
        return base(
            Outcome::Invalid,
            Some(reason.clone()),
            skipped(leaver, &reason),
        );
    };

    if let Some(why) = protection(leaver, user, observed, protected) {
        return base(Outcome::Protected, Some(why.clone()), skipped(leaver, &why));
    }
    if let Some(why) = invalidity(leaver, observed) {
        return base(Outcome::Invalid, Some(why.clone()), skipped(leaver, &why));
    }
    if let Some(date) = leaver.effective
        && date > observed.today
    {
        let why = format!("effective {date}, after today ({})", observed.today);
        return base(Outcome::Deferred, Some(why.clone()), skipped(leaver, &why));
    }

    let Some(folder) = folder.and_then(Lookup::found) else {
        // Workspaces not read yet (`apply --yes`): each pipeline reads and judges its own.
        let steps = leaver
            .steps
            .iter()
            .map(|s| StepPlan {
                step: s.as_str().to_owned(),
                status: if matches!(s, Step::Export | Step::Audit) {
                    StepStatus::WillCollect
                } else {
                    StepStatus::WillChange
                },
                detail: "decided once the workspace is read".into(),
            })
            .collect();
        return base(Outcome::WillChange, None, steps);
    };
    let steps: Vec<StepPlan> = leaver
        .steps
        .iter()
        .map(|step| plan_step(*step, leaver, user, folder, observed))
        .collect();
    // Exports and audit trails are collected, not changes: a leaver whose portal
    // state is offboarded is unchanged, whatever apply would collect again.
    let changes = steps.iter().any(|s| s.status == StepStatus::WillChange);
    let outcome = if changes {
        Outcome::WillChange
    } else {
        Outcome::Unchanged
    };
    let archive_changes = steps
        .iter()
        .any(|s| s.step == "archive" && s.status == StepStatus::WillChange);
    let mut planned = base(outcome, None, steps);
    if archive_changes && folder.is_room() {
        planned.member_changes = member_changes(leaver, folder, observed);
    }
    planned
}

/// How `folder` relates to `user`, and through which group when by membership.
/// `members` are the room's records (`None` when not read: a folder, or a room the
/// leaver owns).
fn relation(
    user: &Employee,
    folder: &Folder,
    members: Option<&[Share]>,
    handed_over: bool,
) -> (Relation, Option<String>) {
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    if folder.owner_id().is_some_and(|id| same(id, &user.id)) {
        return (Relation::Own, None);
    }
    if handed_over {
        return (Relation::HandedOver, None);
    }
    let members = members.unwrap_or_default();
    if members.iter().any(|m| {
        m.shared_to_user
            .as_ref()
            .is_some_and(|u| same(&u.id, &user.id))
    }) {
        return (Relation::Member, None);
    }
    let through = members
        .iter()
        .filter_map(|m| m.shared_to_group.as_ref())
        .find(|g| user.groups.iter().any(|mine| same(&mine.id, &g.id)));
    match through {
        Some(group) => (Relation::Member, Some(group.name.clone())),
        None => (Relation::Unrelated, None),
    }
}

/// Why `folder` may not be archived or exported as `leaver`'s workspace, if so. Only
/// what the leaver created is theirs: a room or folder of somebody else's (one they
/// merely belong to included) needs the row to name its title in
/// `confirm_workspace`, so a mistyped id cannot take a shared room from its people.
/// A workspace already archived as the row asks changes nothing and needs no proof.
fn ownership_problem(
    leaver: &Leaver,
    user: &Employee,
    folder: &Folder,
    members: Option<&[Share]>,
    handed_over: bool,
    archived_already: bool,
) -> Option<String> {
    let archives = leaver.steps.contains(&Step::Archive) && !archived_already;
    if !archives && !leaver.steps.contains(&Step::Export) {
        return None;
    }
    let what = if folder.is_room() { "room" } else { "folder" };
    let title = &folder.title;
    let owner = folder
        .created_by
        .as_ref()
        .map_or_else(|| "somebody else".to_owned(), |c| c.display_name.clone());
    // A title the row states must be the workspace's, whoever owns it.
    match &leaver.confirm_workspace {
        Some(confirmed) if confirmed == title => return None,
        Some(confirmed) => {
            return Some(format!(
                "`confirm_workspace` says \"{confirmed}\", but {what} {} is \"{title}\" (owned by {owner}): check the workspace id",
                leaver.workspace
            ));
        }
        None => {}
    }
    let (relation, group) = relation(user, folder, members, handed_over);
    if matches!(relation, Relation::Own | Relation::HandedOver) {
        return None;
    }
    let how = match (relation, group) {
        (Relation::Member, Some(group)) => {
            format!(
                "{} only belongs to it, through group \"{group}\"",
                leaver.user
            )
        }
        (Relation::Member, None) => format!("{} only belongs to it", leaver.user),
        _ if folder.is_room() => format!("{} neither owns nor belongs to it", leaver.user),
        _ => format!("{} did not create it", leaver.user),
    };
    Some(format!(
        "{what} {} \"{title}\" is owned by {owner}, and {how}: is the workspace id mistyped? If it is meant, add `confirm_workspace: \"{title}\"` to this leaver",
        leaver.workspace
    ))
}

/// The name `offboard` gives a `FileShare` value in plans and reports.
pub fn role_name_of(access: u8) -> &'static str {
    match access {
        1 => "owner",
        2 => "read",
        5 => "review",
        6 => "comment",
        7 => "fill_forms",
        9 => "room_manager",
        10 => "editing",
        11 => "content_creator",
        _ => "other",
    }
}

/// What archiving `room` changes in its access: everyone but the archive owner (who
/// becomes its owner) and the HR group (read) loses it.
fn member_changes(leaver: &Leaver, room: &Folder, observed: &Observed) -> Vec<MemberChange> {
    let Some(members) = observed.members.get(&room.id) else {
        return Vec::new();
    };
    let owner = observed
        .users
        .get(&leaver.archive_owner.key())
        .and_then(Lookup::found);
    let hr = leaver
        .hr_group
        .as_ref()
        .and_then(|g| observed.groups.get(&group_key(g)))
        .and_then(Lookup::found);
    let wanted = wanted_members(
        &owner.map(|o| o.id.clone()).unwrap_or_default(),
        hr.map(|g| g.id.as_str()),
    );
    let mut changes = Vec::new();
    let mut seen = HashSet::new();
    for share in members {
        let Some(id) = share.subject().map(str::to_lowercase) else {
            continue;
        };
        let before = if share.is_owner { 1 } else { share.access };
        let after = match wanted.get(&id) {
            Some(&ROOM_MANAGER) => Some(1),
            other => other.copied(),
        };
        // The owner is listed first, and again if they also have a record.
        if !seen.insert(id.clone()) || after == Some(before) {
            continue;
        }
        let (name, kind) = match (&share.shared_to_user, &share.shared_to_group) {
            (Some(u), _) => (u.display_name.clone(), "user"),
            (_, Some(g)) => (g.name.clone(), "group"),
            _ => continue,
        };
        changes.push(MemberChange {
            id,
            name,
            kind: kind.to_owned(),
            from: Some(role_name_of(before).to_owned()),
            to: after.map(|a| role_name_of(a).to_owned()),
        });
    }
    let present = |id: &str| {
        members
            .iter()
            .any(|m| m.subject().is_some_and(|s| s.eq_ignore_ascii_case(id)))
    };
    if let Some(owner) = owner.filter(|o| !present(&o.id)) {
        changes.push(MemberChange {
            id: owner.id.to_lowercase(),
            name: owner.display_name.clone(),
            kind: "user".into(),
            from: None,
            to: Some(role_name_of(1).to_owned()),
        });
    }
    if let Some(group) = hr.filter(|g| !present(&g.id)) {
        changes.push(MemberChange {
            id: group.id.to_lowercase(),
            name: group.name.clone(),
            kind: "group".into(),
            from: None,
            to: Some(role_name_of(READ).to_owned()),
        });
    }
    changes
}

/// Why a leaver may never be offboarded by this key, if so.
fn protection(
    leaver: &Leaver,
    user: &Employee,
    observed: &Observed,
    protected: &[String],
) -> Option<String> {
    let caller = &observed.caller;
    if protected.contains(&leaver.user.key())
        || protected.contains(&user.id.to_lowercase())
        || protected.contains(&user.email.to_lowercase())
    {
        return Some("on the protected list".into());
    }
    if user.is_owner {
        return Some("the portal owner".into());
    }
    if user.id == caller.id {
        return Some("the API key's own user".into());
    }
    if user.is_ldap {
        return Some("an LDAP user (DocSpace refuses to change their status)".into());
    }
    if user.is_admin && !caller.is_owner {
        return Some("a DocSpace admin; only the owner's key may offboard admins".into());
    }
    None
}

/// Why the leaver cannot be offboarded as written, if so.
fn invalidity(leaver: &Leaver, observed: &Observed) -> Option<String> {
    match observed.users.get(&leaver.archive_owner.key()) {
        Some(Lookup::Found(owner)) => {
            let fit = owner.is_active()
                && matches!(
                    owner.kind(),
                    UserKind::Owner | UserKind::DocSpaceAdmin | UserKind::RoomAdmin
                );
            if !fit {
                return Some(format!(
                    "archive owner `{}` must be an active DocSpace admin or room admin (DocSpace reassigns only to those)",
                    leaver.archive_owner
                ));
            }
        }
        _ => {
            return Some(format!(
                "no DocSpace user `{}` (archive owner)",
                leaver.archive_owner
            ));
        }
    }
    if observed.folders_read
        && let Some(problem) = workspace_problem(
            leaver,
            observed.folders.get(&(leaver.workspace as i64)),
            leaver
                .archive_folder
                .and_then(|id| observed.folders.get(&(id as i64))),
        )
    {
        return Some(problem);
    }
    if observed.folders_read
        && let Some(Lookup::Found(folder)) = observed.folders.get(&(leaver.workspace as i64))
        && let Some(Lookup::Found(user)) = observed.users.get(&leaver.user.key())
    {
        let members = observed.members.get(&folder.id).map(Vec::as_slice);
        let (owner, hr) = archive_subjects(leaver, observed);
        if let Some(problem) = workspace_use_problem(
            leaver,
            user,
            folder,
            members,
            observed.handed_over.contains(&leaver.user.key()),
            archived_already(leaver, folder, members, &owner, hr.as_deref()),
        ) {
            return Some(problem);
        }
    }
    if let Some(group) = &leaver.hr_group
        && !matches!(
            observed.groups.get(&group_key(group)),
            Some(Lookup::Found(_))
        )
    {
        return Some(format!("no group `{group}` (hr_group)"));
    }
    None
}

/// Why the leaver's workspace (or archive folder) makes them impossible to offboard
/// as written, if so. `None` lookups were not found.
pub fn workspace_problem(
    leaver: &Leaver,
    workspace: Option<&Lookup<Folder>>,
    archive: Option<&Lookup<Folder>>,
) -> Option<String> {
    let folder = match workspace {
        Some(Lookup::Found(f)) => f,
        Some(Lookup::Hidden(_)) => {
            return Some(format!(
                "workspace {} is not visible to the key's user (no admin can read another user's My documents)",
                leaver.workspace
            ));
        }
        _ => return Some(format!("workspace {} not found", leaver.workspace)),
    };
    if folder.is_personal() {
        return Some(format!(
            "workspace {} is in a user's My documents, which no admin can move",
            leaver.workspace
        ));
    }
    if folder.is_room()
        && leaver.steps.contains(&Step::Archive)
        && !folder.is_archived()
        && !folder.can("EditAccess")
        && !folder.can("ChangeOwner")
    {
        return Some(format!(
            "the key's user may neither change the members of room {} nor take it over",
            leaver.workspace
        ));
    }
    if !folder.is_room() && leaver.steps.contains(&Step::Archive) {
        let Some(target) = leaver.archive_folder else {
            return Some(format!(
                "workspace {} is a folder, so it needs an `archive_folder`",
                leaver.workspace
            ));
        };
        match archive {
            Some(Lookup::Found(archive)) => {
                if !archive.can("Create") && !archive.can("MoveTo") {
                    return Some(format!(
                        "archive folder {target} is not writable by the key's user"
                    ));
                }
                if folder.parent_id != Some(target as i64) && !folder.can("Move") {
                    return Some(format!(
                        "the key's user may not move folder {} out of its room (make them a room manager there)",
                        leaver.workspace
                    ));
                }
            }
            _ => return Some(format!("archive folder {target} not found")),
        }
    }
    None
}

/// Why `folder` cannot be used as `leaver`'s workspace as the row asks, if so: it is
/// not theirs ([`ownership_problem`]), or the export it asks for is refused. Once the
/// workspace is archived as asked, the export is judged when it runs: the archive
/// takes the key's user out, and a resumed run has its zip already.
pub fn workspace_use_problem(
    leaver: &Leaver,
    user: &Employee,
    folder: &Folder,
    members: Option<&[Share]>,
    handed_over: bool,
    archived_already: bool,
) -> Option<String> {
    ownership_problem(leaver, user, folder, members, handed_over, archived_already).or_else(|| {
        if leaver.steps.contains(&Step::Export) && !archived_already {
            export_problem(leaver.workspace, folder)
        } else {
            None
        }
    })
}

/// Why the key's user cannot export `folder`, if so: DocSpace computes the caller's
/// `Download` right (FileSecurity.FilterEntryAsync), which a room's "restrict copy and
/// download" setting (`denyDownload`) takes from viewers and from admins who are not
/// members; a bulk download of it is then refused.
pub fn export_problem(workspace: u64, folder: &Folder) -> Option<String> {
    if folder.can("Download") {
        return None;
    }
    Some(if folder.deny_download {
        format!(
            "room {workspace} \"{}\" restricts copy and download, so the key's user may not export it; drop `export` from this leaver's steps, or have the room's owner lift the restriction",
            folder.title
        )
    } else {
        format!(
            "the key's user may not download workspace {workspace} \"{}\" (it is in a room that restricts copy and download, or not theirs to read); drop `export` from this leaver's steps",
            folder.title
        )
    })
}

/// How groups are keyed in [`Observed::groups`].
pub fn group_key(name_or_id: &str) -> String {
    name_or_id.trim().to_lowercase()
}

fn plan_step(
    step: Step,
    leaver: &Leaver,
    user: &Employee,
    folder: &Folder,
    observed: &Observed,
) -> StepPlan {
    let (status, detail) = match step {
        Step::Disable if user.is_disabled() => {
            (StepStatus::Unchanged, "already disabled".to_owned())
        }
        Step::Disable => (
            StepStatus::WillChange,
            "disable the account (ends every session)".to_owned(),
        ),
        Step::RevokeKeys => {
            let keys = observed
                .keys
                .iter()
                .filter(|k| k.create_by.as_ref().is_some_and(|c| c.id == user.id))
                .count();
            if keys == 0 {
                (StepStatus::Unchanged, "no API keys".to_owned())
            } else {
                (
                    StepStatus::WillChange,
                    format!("delete {keys} API key{}", if keys == 1 { "" } else { "s" }),
                )
            }
        }
        Step::Reassign => {
            let owns_workspace = folder
                .owner_id()
                .is_some_and(|id| id.eq_ignore_ascii_case(&user.id));
            let reassigned = user.is_disabled()
                && observed.rooms_owned.get(&user.id) == Some(&0)
                && !owns_workspace;
            match observed.necessary.get(&user.id) {
                Some(false) => (StepStatus::Unchanged, "nothing to reassign".to_owned()),
                _ if reassigned => (
                    StepStatus::Unchanged,
                    "already reassigned: disabled and owns no room".to_owned(),
                ),
                _ => (
                    StepStatus::WillChange,
                    format!("reassign their data to {}", leaver.archive_owner),
                ),
            }
        }
        Step::Export => (
            StepStatus::WillCollect,
            format!("workspace {} as a zip", leaver.workspace),
        ),
        Step::Archive => archive_step(leaver, folder, observed),
        Step::Audit => (
            StepStatus::WillCollect,
            format!("{} days of audit and login history", leaver.audit_days),
        ),
    };
    StepPlan {
        step: step.as_str().to_owned(),
        status,
        detail,
    }
}

/// The ids archiving gives access to: the archive owner's, and the HR group's.
fn archive_subjects(leaver: &Leaver, observed: &Observed) -> (String, Option<String>) {
    let owner_id = observed
        .users
        .get(&leaver.archive_owner.key())
        .and_then(Lookup::found)
        .map(|u| u.id.clone())
        .unwrap_or_default();
    let hr_id = leaver
        .hr_group
        .as_ref()
        .and_then(|g| observed.groups.get(&group_key(g)))
        .and_then(Lookup::found)
        .map(|g| g.id.clone());
    (owner_id, hr_id)
}

/// Whether the workspace is archived as the row asks: a folder inside its archive
/// folder, a room in the Archive section with exactly the archive owner (manager) and
/// the HR group (read) as members.
pub fn archived_already(
    leaver: &Leaver,
    folder: &Folder,
    members: Option<&[Share]>,
    owner_id: &str,
    hr_id: Option<&str>,
) -> bool {
    if !folder.is_room() {
        return leaver
            .archive_folder
            .is_some_and(|t| folder.parent_id == Some(t as i64));
    }
    folder.is_archived()
        && members.is_some_and(|m| current_members(m) == wanted_members(owner_id, hr_id))
}

fn archive_step(leaver: &Leaver, folder: &Folder, observed: &Observed) -> (StepStatus, String) {
    if !folder.is_room() {
        let target = leaver.archive_folder.unwrap_or_default() as i64;
        return if folder.parent_id == Some(target) {
            (
                StepStatus::Unchanged,
                format!("already in archive folder {target}"),
            )
        } else {
            (
                StepStatus::WillChange,
                format!("move folder {} into {target}", folder.id),
            )
        };
    }
    let (owner_id, hr_id) = archive_subjects(leaver, observed);
    let members = observed
        .members
        .get(&folder.id)
        .cloned()
        .unwrap_or_default();
    let access_right = current_members(&members) == wanted_members(&owner_id, hr_id.as_deref());
    match (folder.is_archived(), access_right) {
        (true, true) => (
            StepStatus::Unchanged,
            "already archived with the right access".to_owned(),
        ),
        (true, false) => (
            StepStatus::WillChange,
            "archived, but its access is not right: unarchive, fix members, archive".to_owned(),
        ),
        (false, _) => (
            StepStatus::WillChange,
            format!(
                "{}set members (archive owner manager{}, nobody else) and archive room {}",
                if folder.can("EditAccess") {
                    ""
                } else {
                    "take the room over (admins may change its owner), "
                },
                if hr_id.is_some() { ", HR read" } else { "" },
                folder.id
            ),
        ),
    }
}

/// The members an archived room should have: subject id → access.
pub fn wanted_members(owner_id: &str, hr_group: Option<&str>) -> BTreeMap<String, u8> {
    let mut wanted = BTreeMap::new();
    wanted.insert(owner_id.to_lowercase(), ROOM_MANAGER);
    if let Some(hr) = hr_group {
        wanted.insert(hr.to_lowercase(), READ);
    }
    wanted
}

/// A room's members as subject id → access; the owner (whoever it is) counts as
/// manager.
pub fn current_members(members: &[Share]) -> BTreeMap<String, u8> {
    members
        .iter()
        .filter_map(|s| {
            let access = if s.is_owner { ROOM_MANAGER } else { s.access };
            s.subject().map(|id| (id.to_lowercase(), access))
        })
        .collect()
}
