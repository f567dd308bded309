//! The revert plan, pure: what an `apply` run replaced (its journal) and what the
//! portal shows now → per leaver, what `offboard revert` will restore, what it
//! leaves because someone changed it since the run (`drifted`, unless `--force`),
//! and what cannot come back.
//!
//! An item is judged by three states: the one the run replaced (`prior`), the one it
//! left (`after`), and the portal's now. Now as the run left it: the item will be
//! restored. Now as it was before: nothing to do. Anything else: someone changed it
//! after the run, and revert does not undo their change blindly.

use std::collections::BTreeMap;

use super::source::{AppliedLeaver, RoomAfter};
use crate::docspace::model::{Employee, Folder, Share, UserKind, status};
use crate::journal::{PriorMember, PriorWorkspace};
use crate::plan::{Lookup, ROOM_MANAGER, current_members};

/// The actions of a revert, in the order they run (also the names of its journal
/// steps and report steps).
pub const ENABLE: &str = "enable";
pub const UNARCHIVE: &str = "unarchive";
pub const OWNER: &str = "owner";
pub const MEMBERS: &str = "members";
pub const MOVE_BACK: &str = "move_back";
pub const ACTIONS: [&str; 5] = [ENABLE, UNARCHIVE, OWNER, MEMBERS, MOVE_BACK];

/// What the portal shows now for one leaver of the run.
#[derive(Debug, Clone)]
pub struct Now {
    pub user: Lookup<Employee>,
    /// The workspace, when the run recorded one to restore.
    pub workspace: Option<Lookup<Folder>>,
    /// A room workspace's members.
    pub members: Vec<Share>,
    /// The room's owner before the run, when that was not the leaver.
    pub prior_owner: Option<Lookup<Employee>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemStatus {
    /// The portal is as the run left it: revert puts back what was.
    WillChange,
    /// Already as it was before the run.
    Unchanged,
    /// Someone changed it after the run: left alone unless `--force`.
    Drifted,
    /// DocSpace does not allow it, or the run did not record what was.
    Cannot,
}

/// One thing revert restores for a leaver.
#[derive(Debug, Clone)]
pub struct Item {
    /// `enable`, `unarchive`, `owner`, `members` or `move_back`.
    pub action: String,
    pub status: ItemStatus,
    /// What will happen, or why not.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevertOutcome {
    /// At least one item will be restored.
    WillChange,
    /// Everything the run changed is as it was before the run.
    Unchanged,
    /// Everything left to restore was changed by someone since the run.
    Drifted,
    /// The run changed this leaver before `offboard` journaled prior state (a run
    /// made by an older version), or nothing it changed can come back.
    NoPrior,
}

/// What revert will do for one leaver.
#[derive(Debug, Clone)]
pub struct LeaverRevert {
    pub leaver: String,
    pub outcome: RevertOutcome,
    pub items: Vec<Item>,
    /// What the run changed for good: deleted API keys, reassigned data.
    pub cannot_undo: Vec<String>,
}

/// Why an item the run's unfinished archive step touched is judged drifted.
pub const UNFINISHED: &str = "the run's archive step did not finish, so what it left is not known: --force restores the state before the run";

/// Why an older run cannot be reverted item by item.
pub const NO_PRIOR: &str = "the run changed it before offboard journaled the state it replaced (a run made by an older version): revert will not guess";

/// The revert plan for one leaver. `force` restores drifted items too.
pub fn leaver(applied: &AppliedLeaver, now: &Now, force: bool) -> LeaverRevert {
    let mut items = Vec::new();
    if applied.touched.contains("disable") {
        items.push(enable(applied, now));
    }
    let workspace_touched =
        applied.touched.contains("reassign") || applied.touched.contains("archive");
    if workspace_touched {
        match (&applied.workspace, &now.workspace) {
            (None, _) => {
                let kind = applied.record.workspace_kind.as_str();
                let action = if kind == "folder" { MOVE_BACK } else { OWNER };
                items.push(item(action, ItemStatus::Cannot, NO_PRIOR));
            }
            (Some(prior), Some(Lookup::Found(folder))) if prior.kind == "room" => {
                items.extend(room(applied, prior, folder, now));
            }
            (Some(prior), Some(Lookup::Found(folder))) => {
                if applied.touched.contains("archive") {
                    items.push(move_back(applied, prior, folder));
                }
            }
            (Some(prior), _) => items.push(item(
                if prior.kind == "folder" {
                    MOVE_BACK
                } else {
                    OWNER
                },
                ItemStatus::Cannot,
                &format!(
                    "{} {} is gone or hidden from the key's user",
                    prior.kind, prior.id
                ),
            )),
        }
    }
    if force {
        for item in &mut items {
            if item.status == ItemStatus::Drifted {
                item.status = ItemStatus::WillChange;
                item.detail = format!("{} (--force)", item.detail);
            }
        }
    }
    let outcome = if items.iter().any(|i| i.status == ItemStatus::WillChange) {
        RevertOutcome::WillChange
    } else if items.iter().any(|i| i.status == ItemStatus::Drifted) {
        RevertOutcome::Drifted
    } else if items
        .iter()
        .any(|i| i.status == ItemStatus::Cannot && i.detail == NO_PRIOR)
    {
        RevertOutcome::NoPrior
    } else {
        RevertOutcome::Unchanged
    };
    LeaverRevert {
        leaver: applied.label.clone(),
        outcome,
        items,
        cannot_undo: cannot_undo(applied),
    }
}

fn item(action: &str, status: ItemStatus, detail: &str) -> Item {
    Item {
        action: action.to_owned(),
        status,
        detail: detail.to_owned(),
    }
}

fn enable(applied: &AppliedLeaver, now: &Now) -> Item {
    let Some(account) = &applied.account else {
        return item(ENABLE, ItemStatus::Cannot, NO_PRIOR);
    };
    if account.status != status::ACTIVE {
        return item(
            ENABLE,
            ItemStatus::Unchanged,
            "the account was disabled before the run",
        );
    }
    match &now.user {
        Lookup::Found(user) if user.is_active() => {
            item(ENABLE, ItemStatus::Unchanged, "the account is active")
        }
        Lookup::Found(user) if user.is_disabled() => item(
            ENABLE,
            ItemStatus::WillChange,
            &format!("enable {} again", account.email),
        ),
        Lookup::Found(user) => item(
            ENABLE,
            ItemStatus::Drifted,
            &format!("the account's status is {} now, not disabled", user.status),
        ),
        _ => item(ENABLE, ItemStatus::Cannot, "the account is gone"),
    }
}

/// A room's members as id → access, the owner counted as a manager (as
/// [`current_members`] counts them).
fn prior_members(members: &[PriorMember]) -> BTreeMap<String, u8> {
    members
        .iter()
        .map(|m| {
            let access = if m.owner { ROOM_MANAGER } else { m.access };
            (m.id.clone(), access)
        })
        .collect()
}

/// The room as the run left it: as the archive step recorded it, or, after only a
/// reassign, the owner changed as `FileStorageService.ChangeOwnerAsync` does it (the
/// new owner's own record goes; the disabled previous owner gets no role).
fn left(applied: &AppliedLeaver, prior: &PriorWorkspace) -> (RoomAfter, bool) {
    if let Some(after) = &applied.room_after {
        return (after.clone(), true);
    }
    let mut members = prior_members(&prior.members);
    let mut owner = prior.owner.clone().unwrap_or_default();
    if let Some(to) = &applied.reassigned_to
        && applied.record.user_id.as_deref().map(str::to_lowercase) == prior.owner
    {
        members.remove(&owner);
        members.insert(to.clone(), ROOM_MANAGER);
        owner = to.clone();
    }
    (RoomAfter { owner, members }, prior.archived)
}

fn room(applied: &AppliedLeaver, prior: &PriorWorkspace, folder: &Folder, now: &Now) -> Vec<Item> {
    let mut items = Vec::new();
    let (after, archived_after) = left(applied, prior);
    let owner_now = folder.owner_id().map(str::to_lowercase).unwrap_or_default();
    let members_now = current_members(&now.members);
    let members_before = prior_members(&prior.members);
    let owner_before = prior.owner.clone().unwrap_or_default();
    let restored = owner_now == owner_before && members_now == members_before;
    if prior.archived {
        // Revert re-archives nothing, and an archived room is frozen.
        let status = if restored {
            ItemStatus::Unchanged
        } else {
            ItemStatus::Cannot
        };
        items.push(item(
            MEMBERS,
            status,
            "the room was archived before the run: revert leaves archived rooms as they are",
        ));
        return items;
    }
    if applied.room_after.is_none() && applied.touched.contains("archive") {
        // The archive step wrote but did not finish: what it left is not known,
        // so what differs from before cannot be told from someone's later change.
        let judge = |action: &str, as_before: bool| {
            if as_before {
                item(action, ItemStatus::Unchanged, "as before the run")
            } else {
                item(action, ItemStatus::Drifted, UNFINISHED)
            }
        };
        items.push(judge(UNARCHIVE, !folder.is_archived()));
        items.push(judge(OWNER, owner_now == owner_before));
        items.push(judge(MEMBERS, members_now == members_before));
        return items;
    }
    if folder.is_archived() {
        let (status, detail) = if archived_after {
            (
                ItemStatus::WillChange,
                format!("bring room {} back from the archive", prior.title),
            )
        } else {
            (
                ItemStatus::Drifted,
                "someone archived the room after the run".to_owned(),
            )
        };
        items.push(item(UNARCHIVE, status, &detail));
    } else if archived_after {
        items.push(item(
            UNARCHIVE,
            ItemStatus::Unchanged,
            "the room is not archived",
        ));
    }
    // The owner.
    if owner_now == owner_before {
        items.push(item(
            OWNER,
            ItemStatus::Unchanged,
            "the owner is as before the run",
        ));
    } else if owner_now != after.owner {
        items.push(item(
            OWNER,
            ItemStatus::Drifted,
            &format!("someone made {owner_now} the owner after the run"),
        ));
    } else {
        items.push(match owner_problem(applied, prior, now) {
            Some(why) => item(OWNER, ItemStatus::Cannot, &why),
            None => item(
                OWNER,
                ItemStatus::WillChange,
                &format!(
                    "make {} the owner again",
                    name_of(prior, &now.members, &owner_before)
                ),
            ),
        });
    }
    // The members (the owner counted as a manager on both sides).
    if members_now == members_before {
        items.push(item(
            MEMBERS,
            ItemStatus::Unchanged,
            "the members are as before the run",
        ));
    } else if members_now != after.members {
        items.push(item(
            MEMBERS,
            ItemStatus::Drifted,
            &format!(
                "the members changed after the run: {}",
                describe(&after.members, &members_now, prior, &now.members)
            ),
        ));
    } else {
        items.push(item(
            MEMBERS,
            ItemStatus::WillChange,
            &describe(&members_now, &members_before, prior, &now.members),
        ));
    }
    items
}

/// Why the room cannot go back to its owner: DocSpace gives a room only to an
/// active user who is neither a User nor a Guest (`FileStorageService.ChangeOwnerAsync`).
fn owner_problem(applied: &AppliedLeaver, prior: &PriorWorkspace, now: &Now) -> Option<String> {
    let owner = prior.owner.as_deref()?;
    let is_leaver = applied
        .record
        .user_id
        .as_deref()
        .map(str::to_lowercase)
        .as_deref()
        == Some(owner);
    let user = if is_leaver {
        &now.user
    } else {
        now.prior_owner.as_ref()?
    };
    let Lookup::Found(user) = user else {
        return Some(format!("the room's owner before the run ({owner}) is gone"));
    };
    // The leaver is enabled first (the `enable` item), so their status now does
    // not count; anyone else's does.
    if !is_leaver && !user.is_active() {
        return Some(format!(
            "{} owned the room before the run and is disabled now: DocSpace gives rooms only to active users",
            user.email
        ));
    }
    match user.kind() {
        UserKind::User | UserKind::Guest => Some(format!(
            "{} is a {} now, and DocSpace gives rooms only to room admins and DocSpace admins: change their type in the portal, then run revert again (the room stays with its owner now)",
            user.email,
            user.kind().type_name()
        )),
        _ => None,
    }
}

/// A member's name as the room's member lists give it (before the run, or now),
/// else their id.
fn name_of(prior: &PriorWorkspace, now: &[Share], id: &str) -> String {
    let before = prior
        .members
        .iter()
        .find(|m| m.id == id)
        .map(|m| m.name.clone());
    let current = now
        .iter()
        .find_map(|s| match (&s.shared_to_user, &s.shared_to_group) {
            (Some(u), _) if u.id.eq_ignore_ascii_case(id) => Some(u.display_name.clone()),
            (None, Some(g)) if g.id.eq_ignore_ascii_case(id) => Some(g.name.clone()),
            _ => None,
        });
    before
        .into_iter()
        .chain(current)
        .find(|n| !n.is_empty())
        .unwrap_or_else(|| id.to_owned())
}

/// The change from `from` to `to`, in words, with the members' names.
pub fn describe(
    from: &BTreeMap<String, u8>,
    to: &BTreeMap<String, u8>,
    prior: &PriorWorkspace,
    now: &[Share],
) -> String {
    let mut parts = Vec::new();
    for (id, access) in to {
        match from.get(id) {
            None => parts.push(format!(
                "add {} ({})",
                name_of(prior, now, id),
                access_name(*access)
            )),
            Some(old) if old != access => parts.push(format!(
                "{} {} → {}",
                name_of(prior, now, id),
                access_name(*old),
                access_name(*access)
            )),
            Some(_) => {}
        }
    }
    for id in from.keys().filter(|id| !to.contains_key(*id)) {
        parts.push(format!("remove {}", name_of(prior, now, id)));
    }
    parts.join(", ")
}

/// `FileShare` as the DocSpace web client names room roles.
fn access_name(access: u8) -> &'static str {
    match access {
        1 => "full access",
        2 => "viewer",
        5 => "reviewer",
        6 => "commenter",
        7 => "form filler",
        9 => "room manager",
        10 => "editor",
        11 => "content creator",
        _ => "other access",
    }
}

fn move_back(applied: &AppliedLeaver, prior: &PriorWorkspace, folder: &Folder) -> Item {
    let Some(before) = prior.parent_id else {
        return item(
            MOVE_BACK,
            ItemStatus::Cannot,
            "the folder had no parent folder",
        );
    };
    if folder.parent_id == Some(before) {
        return item(
            MOVE_BACK,
            ItemStatus::Unchanged,
            "the folder is where it was",
        );
    }
    match applied.folder_after {
        Some(after) if folder.parent_id == Some(after) => item(
            MOVE_BACK,
            ItemStatus::WillChange,
            &format!("move folder {} back into folder {before}", prior.title),
        ),
        None => item(MOVE_BACK, ItemStatus::Drifted, UNFINISHED),
        _ => item(
            MOVE_BACK,
            ItemStatus::Drifted,
            &format!(
                "someone moved the folder after the run (it is in folder {} now)",
                folder
                    .parent_id
                    .map_or_else(|| "?".to_owned(), |p| p.to_string())
            ),
        ),
    }
}

/// What the run changed for good.
fn cannot_undo(applied: &AppliedLeaver) -> Vec<String> {
    let mut out = Vec::new();
    if !applied.keys_deleted.is_empty() {
        out.push(format!(
            "API keys deleted, gone for good (the leaver creates new ones): {}",
            applied.keys_deleted.join(", ")
        ));
    }
    if let Some(to) = &applied.reassigned_to {
        let user = applied.record.user_id.as_deref().unwrap_or("USER_ID");
        let sent = applied.reassigned.clone().unwrap_or_default();
        let whom = sent["to_email"].as_str().unwrap_or(to);
        let rooms = match (sent["owned_rooms"].as_u64(), sent["room_titles"].as_array()) {
            (Some(n), Some(titles)) if n > 0 => {
                let titles: Vec<&str> = titles.iter().filter_map(|t| t.as_str()).collect();
                let more = if n as usize > titles.len() {
                    ", …"
                } else {
                    ""
                };
                format!(
                    "{n} room(s) they owned ({}{more}) and their documents",
                    titles.join(", ")
                )
            }
            (Some(0), _) => "their documents (they owned no room)".to_owned(),
            _ => "the rooms they owned and their documents".to_owned(),
        };
        out.push(format!(
            "their data was reassigned to {whom} and stays there: {rooms}; hand a room back with POST api/2.0/files/owner {{\"folderIds\": [ROOM_ID], \"userId\": \"{user}\"}}"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{LeaverRecord, PriorAccount};

    fn applied(touched: &[&str]) -> AppliedLeaver {
        AppliedLeaver {
            label: "ann@example.com".into(),
            record: LeaverRecord {
                at: String::new(),
                leaver: "ann@example.com".into(),
                user_id: Some("ann".into()),
                display_name: None,
                workspace: 7,
                workspace_kind: "folder".into(),
                class: "due".into(),
                reason: None,
                steps: vec![],
                ticket: None,
            },
            account: Some(PriorAccount {
                user_id: "ann".into(),
                email: "ann@example.com".into(),
                display_name: "Ann".into(),
                status: status::ACTIVE,
                kind: "RoomAdmin".into(),
                keys: vec![],
            }),
            workspace: Some(PriorWorkspace {
                id: 7,
                kind: "folder".into(),
                title: "Ann's".into(),
                owner: Some("ann".into()),
                archived: false,
                parent_id: Some(100),
                members: vec![],
            }),
            touched: touched.iter().map(|s| s.to_string()).collect(),
            ended: Default::default(),
            keys_deleted: vec![],
            reassigned_to: None,
            reassigned: None,
            room_after: None,
            folder_after: Some(500),
        }
    }

    fn now(user_status: u8, parent: i64) -> Now {
        let user: Employee =
            serde_json::from_value(serde_json::json!({ "id": "ann", "status": user_status }))
                .unwrap();
        let folder: Folder =
            serde_json::from_value(serde_json::json!({ "id": 7, "parentId": parent })).unwrap();
        Now {
            user: Lookup::Found(user),
            workspace: Some(Lookup::Found(folder)),
            members: vec![],
            prior_owner: None,
        }
    }

    fn statuses(plan: &LeaverRevert) -> Vec<(&str, ItemStatus)> {
        plan.items
            .iter()
            .map(|i| (i.action.as_str(), i.status))
            .collect()
    }

    #[test]
    fn an_item_is_restored_from_what_the_run_left_and_left_alone_when_changed_since() {
        let run = applied(&["disable", "archive"]);
        // As the run left it: both come back.
        let plan = leaver(&run, &now(status::TERMINATED, 500), false);
        assert_eq!(
            statuses(&plan),
            [
                (ENABLE, ItemStatus::WillChange),
                (MOVE_BACK, ItemStatus::WillChange)
            ]
        );
        assert_eq!(plan.outcome, RevertOutcome::WillChange);
        // As it was before: nothing to do.
        let plan = leaver(&run, &now(status::ACTIVE, 100), false);
        assert_eq!(
            statuses(&plan),
            [
                (ENABLE, ItemStatus::Unchanged),
                (MOVE_BACK, ItemStatus::Unchanged)
            ]
        );
        assert_eq!(plan.outcome, RevertOutcome::Unchanged);
        // Moved on by someone: drifted, unless forced.
        let plan = leaver(&run, &now(status::ACTIVE, 900), false);
        assert_eq!(plan.items[1].status, ItemStatus::Drifted);
        assert_eq!(plan.outcome, RevertOutcome::Drifted);
        let plan = leaver(&run, &now(status::ACTIVE, 900), true);
        assert_eq!(plan.items[1].status, ItemStatus::WillChange);
    }

    #[test]
    fn an_archive_that_did_not_finish_leaves_nothing_known_to_compare_with() {
        let mut run = applied(&["archive"]);
        run.folder_after = None;
        let plan = leaver(&run, &now(status::ACTIVE, 500), false);
        assert_eq!(statuses(&plan), [(MOVE_BACK, ItemStatus::Drifted)]);
        assert_eq!(plan.items[0].detail, UNFINISHED);
        let plan = leaver(&run, &now(status::ACTIVE, 500), true);
        assert_eq!(plan.items[0].status, ItemStatus::WillChange);
        let plan = leaver(&run, &now(status::ACTIVE, 100), false);
        assert_eq!(plan.items[0].status, ItemStatus::Unchanged);
    }

    #[test]
    fn a_run_without_prior_state_is_not_guessed_at() {
        let mut run = applied(&["disable", "archive"]);
        run.account = None;
        run.workspace = None;
        let plan = leaver(&run, &now(status::TERMINATED, 500), true);
        assert!(plan.items.iter().all(|i| i.status == ItemStatus::Cannot));
        assert_eq!(plan.outcome, RevertOutcome::NoPrior);
        // Nothing the run changed: nothing to restore.
        let plan = leaver(&applied(&[]), &now(status::TERMINATED, 500), false);
        assert!(plan.items.is_empty());
        assert_eq!(plan.outcome, RevertOutcome::Unchanged);
    }
}
