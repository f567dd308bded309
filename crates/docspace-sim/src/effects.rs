//! What finished jobs do to the portal: reassign (docspace-api.md §5.3), remove and
//! profile deletion (§5.6, §5.7), and moving folders and files (§6).

use jiff::Timestamp;

use crate::state::{Guid, Portal, UserStatus, UserType, folder_type};

/// Re-owns a folder subtree (folders and files) to `owner`.
fn reown_subtree(portal: &mut Portal, root: i64, owner: Guid) {
    let ids = portal.subtree(root);
    for id in &ids {
        if let Some(f) = portal.folders.get_mut(id) {
            f.created_by = owner;
        }
    }
    for file in portal
        .files
        .values_mut()
        .filter(|f| ids.contains(&f.folder))
    {
        file.created_by = owner;
    }
}

/// Deletes a folder subtree with its files.
fn delete_subtree(portal: &mut Portal, root: i64) {
    let ids = portal.subtree(root);
    portal.files.retain(|_, f| !ids.contains(&f.folder));
    for id in ids {
        portal.folders.remove(&id);
    }
}

/// Moves the leaver's shared My-documents items (at any depth,
/// [`Portal::shared_personal_entries`]) into a new folder "Documents of user <name>"
/// in `to`'s My documents, re-owned by `to` (`FileStorageService.MoveSharedEntriesAsync`).
/// Returns whether anything moved.
fn hand_over_shared_items(portal: &mut Portal, from: Guid, to: Guid, at: Timestamp) -> bool {
    let (Some(leaver), Some(target)) = (portal.user(from).cloned(), portal.user(to).cloned())
    else {
        return false;
    };
    let (shared_folders, shared_files) = portal.shared_personal_entries(from);
    if shared_folders.is_empty() && shared_files.is_empty() {
        return false;
    }
    let title = format!("Documents of user {}", leaver.display_name());
    let holder = portal.add_folder(
        target.my_documents,
        &title,
        folder_type::DEFAULT,
        None,
        to,
        at,
    );
    for id in shared_folders {
        if let Some(f) = portal.folders.get_mut(&id) {
            f.parent = holder;
        }
        reown_subtree(portal, id, to);
    }
    for id in shared_files {
        if let Some(f) = portal.files.get_mut(&id) {
            f.folder = holder;
            f.created_by = to;
        }
    }
    true
}

/// Whether a folder lives under a user's My documents or Trash.
fn is_personal(portal: &Portal, folder: i64) -> bool {
    portal
        .root_of(folder)
        .is_some_and(|r| matches!(r.folder_type, folder_type::USER | folder_type::TRASH))
}

/// The reassign job's effect: shared personal items and everything the leaver
/// created outside My documents go to `to`; with `delete_profile` the rest of the
/// personal data and the profile go.
pub fn reassign(portal: &mut Portal, from: Guid, to: Guid, delete_profile: bool, at: Timestamp) {
    hand_over_shared_items(portal, from, to, at);
    let personal: Vec<i64> = portal
        .folders
        .values()
        .filter(|f| f.created_by == from && !is_personal(portal, f.id))
        .map(|f| f.id)
        .collect();
    for id in personal {
        if let Some(f) = portal.folders.get_mut(&id) {
            f.created_by = to;
        }
    }
    let files: Vec<i64> = portal
        .files
        .values()
        .filter(|f| f.created_by == from && !is_personal(portal, f.folder))
        .map(|f| f.id)
        .collect();
    for id in files {
        if let Some(f) = portal.files.get_mut(&id) {
            f.created_by = to;
        }
    }
    if delete_profile {
        // `RemoveSubjectAsync`: every share record of the leaver goes, room
        // memberships included; without `deleteProfile` they stay.
        remove_personal_data(portal, from);
        remove_profile(portal, from);
    }
}

/// The remove job's effect (also run by `DELETE people/{id}`): shared personal items
/// go to the calling admin, the rest of My documents and Trash are deleted, the
/// leaver's rooms go to the caller, what they created inside rooms to each room's
/// owner, then the profile is deleted.
pub fn delete_profile(portal: &mut Portal, user: Guid, caller: Guid) {
    let at = Timestamp::now();
    hand_over_shared_items(portal, user, caller, at);
    let rooms: Vec<i64> = portal
        .folders
        .values()
        .filter(|f| f.is_room() && f.created_by == user)
        .map(|f| f.id)
        .collect();
    for id in rooms {
        if let Some(f) = portal.folders.get_mut(&id) {
            f.created_by = caller;
        }
    }
    let inner: Vec<(i64, Guid)> = portal
        .folders
        .values()
        .filter(|f| !f.is_room() && f.created_by == user && !is_personal(portal, f.id))
        .filter_map(|f| portal.room_of(f.id).map(|r| (f.id, r.created_by)))
        .collect();
    for (id, owner) in inner {
        if let Some(f) = portal.folders.get_mut(&id) {
            f.created_by = owner;
        }
    }
    let files: Vec<(i64, Guid)> = portal
        .files
        .values()
        .filter(|f| f.created_by == user && !is_personal(portal, f.folder))
        .filter_map(|f| portal.room_of(f.folder).map(|r| (f.id, r.created_by)))
        .collect();
    for (id, owner) in files {
        if let Some(f) = portal.files.get_mut(&id) {
            f.created_by = owner;
        }
    }
    remove_personal_data(portal, user);
    remove_profile(portal, user);
}

/// The personal-delete job's effect (`DeletePersonalFolderProgressItem.DoJob`,
/// common/ASC.Data.Reassigns/DeletePersonalFolderProgressItem.cs): what the user
/// shares goes into "Documents of user <name>" of whoever last modified their My
/// documents (the simulator keeps no modifier: the user themselves), and when that
/// is a guest, of the portal owner (`MoveSharedEntriesAsync`); then
/// `FileStorageService.DeletePersonalFolderAsync` deletes My documents itself with
/// everything in it. The trash stays. Without My documents nothing happens.
pub fn delete_personal_folder(portal: &mut Portal, user: Guid, at: Timestamp) {
    let Some(my) = portal.user(user).map(|u| u.my_documents) else {
        return;
    };
    let Some(modified_by) = portal.folders.get(&my).map(|f| f.created_by) else {
        return;
    };
    let to = if portal.user_type(modified_by) == UserType::Guest {
        portal.owner
    } else {
        modified_by
    };
    hand_over_shared_items(portal, user, to, at);
    delete_subtree(portal, my);
}

fn remove_personal_data(portal: &mut Portal, user: Guid) {
    let Some(u) = portal.user(user).cloned() else {
        return;
    };
    for root in [u.my_documents, u.trash] {
        let children: Vec<i64> = portal
            .folders
            .values()
            .filter(|f| f.parent == root)
            .map(|f| f.id)
            .collect();
        for child in children {
            delete_subtree(portal, child);
        }
        portal.files.retain(|_, f| f.folder != root);
    }
}

/// Deletes a profile: its share records, group memberships, keys, sessions.
fn remove_profile(portal: &mut Portal, user: Guid) {
    let Some(u) = portal.users.remove(&user) else {
        return;
    };
    portal.user_order.retain(|id| *id != user);
    for f in portal.folders.values_mut() {
        f.shares.retain(|s| s.is_group || s.subject != user);
    }
    for f in portal.files.values_mut() {
        f.shares.retain(|s| s.is_group || s.subject != user);
    }
    for g in &mut portal.groups {
        g.members.retain(|m| *m != user);
        if g.manager == Some(user) {
            g.manager = None;
        }
    }
    portal.keys.retain(|k| k.created_by != user);
    portal.sessions.retain(|_, s| s.user != user);
    for root in [u.my_documents, u.trash] {
        delete_subtree(portal, root);
    }
}

/// Moves folders and files into `dest`. Returns an error text for the operation
/// when something cannot be moved by then (the destination vanished).
pub fn move_items(
    portal: &mut Portal,
    folders: &[i64],
    files: &[i64],
    dest: i64,
) -> Result<(), String> {
    if !portal.folders.contains_key(&dest) {
        return Err("The required folder was not found".into());
    }
    let now = Timestamp::now();
    for id in folders {
        if let Some(f) = portal.folders.get_mut(id) {
            f.parent = dest;
            f.updated = now;
            // Folders inside rooms carry no shares of their own.
            f.shares.clear();
        }
    }
    for id in files {
        if let Some(f) = portal.files.get_mut(id) {
            f.folder = dest;
            f.updated = now;
        }
    }
    if let Some(d) = portal.folders.get_mut(&dest) {
        d.updated = now;
    }
    Ok(())
}

/// Whether a user may still act (for jobs re-checking their caller).
pub fn is_active_admin(portal: &Portal, user: Guid) -> bool {
    portal
        .user(user)
        .is_some_and(|u| u.status == UserStatus::Active)
        && portal.is_admin(user)
}
