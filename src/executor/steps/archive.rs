//! The `archive` step: a room workspace gets the archive owner as its owner, only
//! the archive owner and the HR group as members, and goes to the archive; a folder
//! workspace moves into the archive folder (batched with other leavers' folders),
//! and what is off about that archive room's access is warned about. Observes first:
//! a room already archived as wanted, or a folder already in place, is unchanged.
//! After an earlier session left it in doubt, the caller's file operations settle
//! and the workspace is read again; every write that must not happen twice is
//! settled by reading the room or folder.

use serde_json::json;

use super::shared::{OrFail, SETTLE_WAIT, StepError, finish, same_id, send_once};
use crate::docspace::model::Folder;
use crate::executor::engine::{Engine, Job, StepEnd};
use crate::executor::pacer::Lane;
use crate::manifest::Step;
use crate::plan::{
    ROOM_MANAGER, after_owner_changes, current_members, member_writes, owner_of, wanted_members,
};

pub(super) async fn run(engine: &Engine, job: &Job) -> Result<StepEnd, StepError> {
    let in_doubt = job.in_doubt.contains(&Step::Archive);
    let mut workspace = job.workspace().clone();
    if in_doubt {
        // An operation of the earlier session may still run; then see where things are.
        engine.fileops.wait_idle(SETTLE_WAIT).await;
        workspace = engine
            .read(job, || engine.client.folder(workspace.id))
            .await
            .or_fail("cannot read the workspace")?;
    }
    let end = if workspace.is_room() {
        archive_room(engine, job, &workspace).await?
    } else {
        archive_folder(engine, job, &workspace).await?
    };
    Ok(match end {
        StepEnd::Unchanged(detail) if in_doubt => StepEnd::Done(detail),
        end => end,
    })
}

/// The web client's address of a room or folder.
fn link(engine: &Engine, folder: i64, archived: bool) -> String {
    let section = if archived { "archived" } else { "shared" };
    format!(
        "{}rooms/{section}/filter?folder={folder}",
        engine.client.portal()
    )
}

async fn archive_room(engine: &Engine, job: &Job, room: &Folder) -> Result<StepEnd, StepError> {
    let client = &engine.client;
    let step = Step::Archive;
    let archive_owner = job.archive_owner.id.to_lowercase();
    let caller = engine.caller.id.to_lowercase();
    let hr = job.hr_group.as_ref().map(|g| g.id.to_lowercase());
    let wanted = wanted_members(&archive_owner, hr.as_deref());
    let mut members = engine
        .read(job, || client.room_members(room.id))
        .await
        .or_fail("cannot read the room's members")?;
    // `after`: what the run leaves, which `offboard revert` compares the room with
    // (someone who changed it since did so on purpose).
    let detail = json!({
        "location": format!("Archive/{}", room.title),
        "link": link(engine, room.id, true),
        "after": { "owner": archive_owner, "members": wanted, "archived": true },
    });
    if room.is_archived() {
        if current_members(&members) == wanted
            && owner_of(&members).as_deref() == Some(archive_owner.as_str())
        {
            return Ok(StepEnd::Unchanged(detail));
        }
        // Archived rooms are frozen: bring it back, fix it, archive it again.
        move_room(engine, job, room.id, false).await?;
    }

    // Only a room manager edits members, and an admin who is not a member is none
    // (FileSecurity): make the archive owner the owner, passing through the key's
    // user when they cannot edit. The previous owner becomes a manager (and is
    // removed below); a disabled one gets no role.
    let owner = owner_of(&members);
    let can_edit = owner.as_deref() == Some(caller.as_str())
        || members.iter().any(|s| {
            !s.is_owner
                && s.access == ROOM_MANAGER
                && s.subject().is_some_and(|id| same_id(id, &caller))
        });
    let mut new_owners: Vec<&str> = Vec::new();
    let owned_and_right = owner.as_deref() == Some(archive_owner.as_str())
        && member_writes(&members, &wanted, &caller).is_empty();
    if owned_and_right {
        // Owner and members are as wanted already (an earlier session stopped
        // between the member change and the archiving): taking the room over
        // only to hand it back would put owner and member changes in the
        // portal's audit trail for nothing. A DocSpace admin archives a room
        // without being a member of it (`FileSecurity.FilterEntryAsync`, the
        // `VirtualRooms` case lets admins `Move` and `ChangeOwner` any room).
    } else if owner.as_deref() != Some(archive_owner.as_str()) {
        if !can_edit && owner.as_deref() != Some(caller.as_str()) {
            new_owners.push(&caller);
        }
        new_owners.push(&archive_owner);
    } else if !can_edit {
        new_owners.push(&caller);
        new_owners.push(&archive_owner);
    }
    for new_owner in &new_owners {
        // Batched with other leavers' rooms going to the same owner.
        engine
            .write(
                job,
                step,
                None,
                "POST files/owner",
                json!({ "room": room.id, "owner": new_owner }),
                || engine.owners.submit(new_owner, room.id),
            )
            .await?
            .or_fail("cannot change the room's owner")?;
    }
    if !new_owners.is_empty() {
        members = after_owner_changes(&members, &new_owners, &job.user.id);
    }

    let changes = member_writes(&members, &wanted, &caller);
    if !changes.is_empty() {
        // Sent once: the change removes the key's own user from the room, so a
        // resend after a lost answer would be refused. The members list says
        // whether it happened.
        let answer = send_once(
            engine,
            job,
            step,
            Some(Lane::Once),
            "PUT files/rooms/{id}/share",
            json!({ "room": room.id, "members": changes.iter().map(|(id, a)| json!({"id": id, "access": a})).collect::<Vec<_>>() }),
            || client.set_room_members(room.id, &changes),
            async || {
                let now = engine.read(job, || client.room_members(room.id)).await?;
                Ok(member_writes(&now, &wanted, &caller).is_empty())
            },
        )
        .await?
        .or_fail("cannot set the room's members")?;
        if let Some(security) = answer
            && security.error != 0
        {
            return Ok(StepEnd::Failed(
                format!(
                    "the portal refused some member changes (error {})",
                    security.error
                ),
                json!({}),
            ));
        }
    }

    move_room(engine, job, room.id, true).await?;
    Ok(StepEnd::Done(detail))
}

/// Archives a room (or brings it back) and waits for the operation; settled by
/// reading the room when an answer is lost.
async fn move_room(engine: &Engine, job: &Job, room: i64, archive: bool) -> Result<(), StepError> {
    let client = &engine.client;
    let reached = async || {
        Ok(engine
            .read(job, || client.folder(room))
            .await?
            .is_archived()
            == archive)
    };
    let (action, what, failed) = if archive {
        (
            "PUT files/rooms/{id}/archive",
            "archiving",
            "cannot archive the room",
        )
    } else {
        (
            "PUT files/rooms/{id}/unarchive",
            "unarchiving",
            "cannot unarchive the room",
        )
    };
    let started = send_once(
        engine,
        job,
        Step::Archive,
        Some(Lane::Once),
        action,
        json!({ "room": room }),
        || async {
            if archive {
                client.archive_room(room).await
            } else {
                client.unarchive_room(room).await
            }
        },
        &reached,
    )
    .await?
    .or_fail(failed)?;
    if let Some(started) = started {
        finish(engine, &started, what, &reached)
            .await
            .or_fail(failed)?;
    }
    Ok(())
}

async fn archive_folder(engine: &Engine, job: &Job, folder: &Folder) -> Result<StepEnd, StepError> {
    let Some(target) = &job.archive_folder else {
        return Ok(StepEnd::Failed(
            "a folder workspace needs an archive_folder".into(),
            json!({}),
        ));
    };
    let mut detail = json!({
        "location": format!("{}/{}", target.title, folder.title),
        "link": link(engine, folder.id, false),
        "after": { "parent_id": target.id },
    });
    let moved = folder.parent_id == Some(target.id);
    if !moved {
        let destination = target.id.to_string();
        let moved_now = async || {
            let now = engine.read(job, || engine.client.folder(folder.id)).await?;
            Ok(now.parent_id == Some(target.id))
        };
        let operations = send_once(
            engine,
            job,
            Step::Archive,
            // Batched with other leavers' folders going to the same archive.
            None,
            "PUT files/fileops/move",
            json!({ "folder": folder.id, "to": target.id }),
            || engine.moves.submit(&destination, folder.id),
            &moved_now,
        )
        .await?
        .or_fail("cannot start moving the folder")?;
        if let Some(operations) = operations {
            let Some(started) = operations.into_iter().next() else {
                return Ok(StepEnd::Failed(
                    "the portal started no move".into(),
                    json!({}),
                ));
            };
            finish(engine, &started, "moving", &moved_now)
                .await
                .or_fail("move")?;
        }
    }
    detail["warnings"] = json!(archive_grants(engine, job, target).await);
    Ok(if moved {
        StepEnd::Unchanged(detail)
    } else {
        StepEnd::Done(detail)
    })
}

/// What is off about the archive room's access (folders inside rooms have no shares
/// of their own: the room's members are who sees the archive). Read once per room.
async fn archive_grants(engine: &Engine, job: &Job, target: &Folder) -> Vec<String> {
    let mut rooms = engine.archive_rooms.lock().await;
    let members = match rooms.get(&target.id) {
        Some(members) => members.clone(),
        None => {
            let members = engine
                .read(job, || engine.client.room_members(target.id))
                .await
                .map_err(|e| e.to_string());
            rooms.insert(target.id, members.clone());
            members
        }
    };
    drop(rooms);
    let members = match members {
        Ok(m) => m,
        Err(err) => return vec![format!("cannot read the archive room's members: {err}")],
    };
    let access_of = |id: &str| {
        members
            .iter()
            .find(|s| s.subject().is_some_and(|s| same_id(s, id)))
            .map(|s| if s.is_owner { ROOM_MANAGER } else { s.access })
    };
    let mut warnings = Vec::new();
    if access_of(&job.archive_owner.id) != Some(ROOM_MANAGER) {
        warnings.push(format!(
            "archive owner {} is not a room manager of archive room {}",
            job.archive_owner.email, target.id
        ));
    }
    if let Some(hr) = &job.hr_group
        && access_of(&hr.id).is_none()
    {
        warnings.push(format!(
            "HR group {} has no access to archive room {}",
            hr.name, target.id
        ));
    }
    let others: Vec<String> = members
        .iter()
        .filter(|s| !s.is_owner)
        .filter(|s| {
            s.subject().is_some_and(|id| {
                !same_id(id, &job.archive_owner.id)
                    && job.hr_group.as_ref().is_none_or(|g| !same_id(id, &g.id))
                    && !same_id(id, &engine.caller.id)
            })
        })
        .filter_map(|s| {
            s.shared_to_user
                .as_ref()
                .map(|u| u.display_name.clone())
                .or_else(|| s.shared_to_group.as_ref().map(|g| g.name.clone()))
        })
        .collect();
    if !others.is_empty() {
        warnings.push(format!(
            "archive room {} also gives access to: {}",
            target.id,
            others.join(", ")
        ));
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docspace::model::{EmployeeRef, GroupRef, Share};
    use crate::plan::READ;

    fn user(id: &str, access: u8, is_owner: bool) -> Share {
        Share {
            access,
            shared_to_user: Some(EmployeeRef {
                id: id.into(),
                display_name: id.into(),
            }),
            shared_to_group: None,
            is_owner,
            subject_type: 0,
        }
    }

    fn group(id: &str, access: u8) -> Share {
        Share {
            access,
            shared_to_user: None,
            shared_to_group: Some(GroupRef {
                id: id.into(),
                name: id.into(),
            }),
            is_owner: false,
            subject_type: 2,
        }
    }

    #[test]
    fn member_changes_leave_only_the_archive_owner_and_hr() {
        let wanted = wanted_members("ao", Some("hr"));
        let members = [
            user("ao", ROOM_MANAGER, true),
            user("me", ROOM_MANAGER, false),
            user("colleague", 10, false),
            group("hr", 10),
        ];
        assert_eq!(
            member_writes(&members, &wanted, "me"),
            vec![
                ("colleague".to_owned(), 0),
                ("hr".to_owned(), READ),
                ("me".to_owned(), 0)
            ]
        );
    }

    #[test]
    fn a_take_over_and_hand_over_leave_the_key_user_as_a_manager_to_remove() {
        // After a reassign the archive owner owns the room; the key's user is no
        // member. Taking it over and handing it back makes them a manager.
        let members = [user("ao", ROOM_MANAGER, true), user("colleague", 10, false)];
        let after = after_owner_changes(&members, &["me", "ao"], "leaver");
        assert_eq!(owner_of(&after).as_deref(), Some("ao"));
        let wanted = wanted_members("ao", Some("hr"));
        assert_eq!(
            member_writes(&after, &wanted, "me"),
            vec![
                ("colleague".to_owned(), 0),
                ("hr".to_owned(), READ),
                ("me".to_owned(), 0)
            ]
        );
        // A disabled previous owner gets no role.
        let theirs = [user("leaver", ROOM_MANAGER, true)];
        let after = after_owner_changes(&theirs, &["me", "ao"], "leaver");
        assert_eq!(
            member_writes(&after, &wanted_members("ao", None), "me"),
            vec![("me".to_owned(), 0)]
        );
    }

    #[test]
    fn member_changes_add_who_is_missing_and_nothing_when_right() {
        let wanted = wanted_members("ao", Some("hr"));
        let members = [user("me", ROOM_MANAGER, true)];
        assert_eq!(
            member_writes(&members, &wanted, "me"),
            vec![("ao".to_owned(), ROOM_MANAGER), ("hr".to_owned(), READ)]
        );
        let right = [user("ao", ROOM_MANAGER, true), group("hr", READ)];
        assert!(member_writes(&right, &wanted, "me").is_empty());
    }
}
