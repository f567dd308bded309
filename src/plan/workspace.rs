//! Whose workspace it is and what archiving it changes: the relation of a leaver to
//! their workspace (owner, handed over, member, unrelated), the problems that make
//! a workspace unfit, the member changes and the archive step.

use std::collections::{BTreeMap, HashSet};

use crate::docspace::model::{Employee, EmployeeRef, Folder, Share};
use crate::manifest::{Leaver, Step};

use super::model::*;

/// How `folder` relates to `user`, and through which group when by membership.
/// `members` are the room's records (`None` when not read: a folder, or a room the
/// leaver owns).
pub(super) fn relation(
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
pub(super) fn ownership_problem(
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
pub(super) fn member_changes(
    leaver: &Leaver,
    room: &Folder,
    observed: &Observed,
) -> Vec<MemberChange> {
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

/// The ids archiving gives access to: the archive owner's, and the HR group's.
pub(super) fn archive_subjects(leaver: &Leaver, observed: &Observed) -> (String, Option<String>) {
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

pub(super) fn archive_step(
    leaver: &Leaver,
    folder: &Folder,
    observed: &Observed,
) -> (StepStatus, String) {
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

/// The members after `POST files/owner` to each of `owners` in turn, as DocSpace
/// does it (`FileStorageService.ChangeOwnerAsync`): the new owner's own record
/// goes and the previous owner becomes a room manager, unless they are disabled
/// (`FileSharingAceHelper.SetAceObjectAsync` skips terminated users). Saves reading
/// the members again; the member change that follows is checked against the
/// portal if its answer is lost.
pub fn after_owner_changes(members: &[Share], owners: &[&str], disabled: &str) -> Vec<Share> {
    let mut members = members.to_vec();
    for new_owner in owners {
        let previous = owner_of(&members);
        if previous.as_deref() == Some(*new_owner) {
            continue;
        }
        members.retain(|s| {
            !s.is_owner
                && !s
                    .subject()
                    .is_some_and(|id| id.eq_ignore_ascii_case(new_owner))
        });
        members.insert(0, user_share(new_owner, ROOM_MANAGER, true));
        if let Some(previous) = previous.filter(|p| !p.eq_ignore_ascii_case(disabled)) {
            members.push(user_share(&previous, ROOM_MANAGER, false));
        }
    }
    members
}

fn user_share(id: &str, access: u8, is_owner: bool) -> Share {
    Share {
        access,
        shared_to_user: Some(EmployeeRef {
            id: id.to_owned(),
            display_name: String::new(),
        }),
        shared_to_group: None,
        is_owner,
        subject_type: 0,
    }
}

/// The room owner's id (lowercase).
pub fn owner_of(members: &[Share]) -> Option<String> {
    members
        .iter()
        .find(|s| s.is_owner)
        .and_then(Share::subject)
        .map(str::to_lowercase)
}

/// The member records to send (`PUT files/rooms/{id}/share`) so that only `wanted` remain (besides the owner):
/// everyone else removed, the key's own user last.
pub fn member_writes(
    members: &[Share],
    wanted: &BTreeMap<String, u8>,
    caller: &str,
) -> Vec<(String, u8)> {
    let owner = owner_of(members);
    let mut changes = Vec::new();
    let mut own = None;
    for share in members.iter().filter(|s| !s.is_owner) {
        let Some(id) = share.subject().map(str::to_lowercase) else {
            continue;
        };
        match wanted.get(&id) {
            Some(access) if *access == share.access => {}
            Some(access) => changes.push((id, *access)),
            None if id == caller => own = Some((id, 0)),
            None => changes.push((id, 0)),
        }
    }
    for (id, access) in wanted {
        let present = members
            .iter()
            .any(|s| s.subject().is_some_and(|s| s.eq_ignore_ascii_case(id)));
        if !present && owner.as_deref() != Some(id.as_str()) {
            changes.push((id.clone(), *access));
        }
    }
    changes.extend(own);
    changes
}
