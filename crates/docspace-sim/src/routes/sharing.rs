//! Room members and folder shares (docspace-api.md §8): listing them, and changing
//! them through `PUT files/rooms/{id}/share` or `PUT files/folder/{id}/share`. Both
//! routes end in the same server code (`FileStorageService.SetAceObjectAsync` →
//! `FileSharingAceHelper.SetAceObjectAsync`, products/ASC.Files/Core/Utils/
//! FileSharing.cs), so on a room both follow the room's rules (`set_room_aces`);
//! only their bodies and answers differ.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::files::{parse_id, readable};
use crate::audit;
use crate::server::{Ctx, Sim};
use crate::state::{Folder, Guid, Portal, Share, UserStatus, UserType, access, folder_type};
use crate::wire::{ApiError, Page, Reply};

type Result<T> = std::result::Result<T, ApiError>;

/// The members of a room as listed: a synthesised owner entry (`access: 1`) first,
/// then the stored records. An owner who also has a record of their own is listed
/// twice, as on the real server.
fn room_members(portal: &Portal, room: &Folder) -> Vec<(Share, bool)> {
    let mut list = vec![(
        Share {
            subject: room.created_by,
            is_group: false,
            access: access::READ_WRITE,
        },
        true,
    )];
    list.extend(
        room.shares
            .iter()
            .filter(|s| s.is_group || portal.user(s.subject).is_some())
            .map(|s| (s.clone(), !s.is_group && s.subject == room.created_by)),
    );
    list
}

/// `GET files/rooms/{id}/share`.
pub async fn room_share(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    let caller = ctx.caller()?;
    let page = Page::from_query(&ctx.query, &ctx.link)?;
    let portal = sim.portal();
    let room = readable(&portal, caller, parse_id(&id)?)?;
    let filter = ctx
        .query
        .get("filterType")
        .and_then(|f| f.parse::<u8>().ok())
        .unwrap_or(0);
    let can_edit = portal.folder_rights(caller, room).edit_access;
    let members: Vec<(Share, bool)> = room_members(&portal, room)
        .into_iter()
        .filter(|(s, _)| match filter {
            16 => !s.is_group,
            32 => s.is_group,
            1 | 2 | 4 | 8 => false,
            _ => true,
        })
        .collect();
    Ok(shares_page(
        &sim, &portal, caller, &page, &members, can_edit, &ctx,
    ))
}

/// One page of share records (`(record, is the owner)`) as `FileShareDto`s, with the
/// total of all of them.
fn shares_page(
    sim: &Sim,
    portal: &Portal,
    caller: Guid,
    page: &Page,
    records: &[(Share, bool)],
    can_edit: bool,
    ctx: &Ctx,
) -> Response {
    let v = sim.view(portal, caller);
    let list: Vec<Value> = page
        .slice(records)
        .iter()
        .map(|(s, owner)| v.share(s, *owner, can_edit))
        .collect();
    ctx.ok(Reply::new(Value::Array(list)).with_total(records.len() as u64))
}

/// The room roles a user type may hold, and a group, per room type (§8.1).
fn allowed_room_access(room_type: u8, is_group: bool, kind: Option<UserType>) -> Vec<u8> {
    use access::*;
    let mut allowed: Vec<u8> = match (room_type, is_group) {
        (5, false) => vec![
            ROOM_MANAGER,
            CONTENT_CREATOR,
            EDITING,
            REVIEW,
            COMMENT,
            READ,
            NONE,
        ],
        (5, true) => vec![CONTENT_CREATOR, EDITING, REVIEW, COMMENT, READ, NONE],
        (6, false) => vec![ROOM_MANAGER, CONTENT_CREATOR, NONE],
        (6, true) => vec![CONTENT_CREATOR, NONE],
        (1, false) => vec![ROOM_MANAGER, CONTENT_CREATOR, FILL_FORMS, NONE],
        (1, true) => vec![CONTENT_CREATOR, FILL_FORMS, NONE],
        (2, false) => vec![ROOM_MANAGER, CONTENT_CREATOR, EDITING, READ, NONE],
        (2, true) => vec![CONTENT_CREATOR, EDITING, READ, NONE],
        (8, false) => vec![
            ROOM_MANAGER,
            CONTENT_CREATOR,
            EDITING,
            READ,
            FILL_FORMS,
            NONE,
        ],
        (8, true) => vec![CONTENT_CREATOR, EDITING, READ, FILL_FORMS, NONE],
        (9, false) => vec![ROOM_MANAGER, CONTENT_CREATOR, READ, NONE],
        (9, true) => vec![CONTENT_CREATOR, READ, NONE],
        _ => vec![NONE],
    };
    if !matches!(
        kind,
        Some(UserType::DocSpaceAdmin | UserType::RoomAdmin) | None
    ) {
        allowed.retain(|a| *a != ROOM_MANAGER);
    }
    allowed
}

/// Reads a `FileShare` from a number or a name; unknown names become None (0).
fn share_access(value: Option<&Value>) -> u8 {
    match value {
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u8::try_from(n).ok())
            .unwrap_or(u8::MAX),
        Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "none" => 0,
            "readwrite" => 1,
            "read" => 2,
            "restrict" => 3,
            "varies" => 4,
            "review" => 5,
            "comment" => 6,
            "fillforms" => 7,
            "customfilter" => 8,
            "roommanager" => 9,
            "editing" => 10,
            "contentcreator" => 11,
            other => other.parse().unwrap_or(0),
        },
        _ => 0,
    }
}

/// One change of a room's members: a user or group and the role it gets (0 removes).
pub struct RoomAce {
    pub subject: Guid,
    pub access: u8,
}

/// Applies member changes to a room as `FileSharingAceHelper.SetAceObjectAsync`
/// (products/ASC.Files/Core/Utils/FileSharing.cs) does, for both share routes, in
/// the order given (the folder route sorts groups first, see `set_folder_share`);
/// unknown subjects, and disabled
/// users unless an existing record of theirs is removed, are skipped; a role the
/// room type or the user type does not allow (`AvailableRoomAccesses`,
/// `AvailableUserAccesses`) ends it with 403 "The role is not available for this user
/// type", keeping the changes written before it but auditing none (the audit is
/// written by `FileStorageService.SetAceObjectAsync` after the helper returns); an
/// unchanged role is not written, audited or counted. Returns how many entries
/// changed the room.
fn set_room_aces(
    portal: &mut Portal,
    caller: Guid,
    room_id: i64,
    aces: Vec<RoomAce>,
    now: jiff::Timestamp,
) -> Result<usize> {
    let room_type = portal
        .folders
        .get(&room_id)
        .and_then(|r| r.room_type)
        .unwrap_or(5);
    let mut events: Vec<(u32, Vec<String>)> = Vec::new();
    for RoomAce { subject, access } in aces {
        let is_group = portal.group(subject).is_some();
        let user = portal.user(subject);
        if !is_group && user.is_none() {
            continue;
        }
        let existing = portal.folders[&room_id]
            .shares
            .iter()
            .find(|s| s.subject == subject)
            .map(|s| s.access);
        if !is_group
            && user.is_some_and(|u| u.status == UserStatus::Terminated)
            && (access != access::NONE || existing.is_none())
        {
            continue;
        }
        if !allowed_room_access(room_type, is_group, user.map(|u| u.kind)).contains(&access) {
            // What was written stays; nothing is audited: the exception ends the
            // request before the audit.
            return Err(role_not_available());
        }
        if existing == Some(access) {
            continue;
        }
        let name = match (is_group, user) {
            (true, _) => portal
                .group(subject)
                .map(|g| g.name.clone())
                .unwrap_or_default(),
            (false, Some(u)) => u.display_name(),
            (false, None) => String::new(),
        };
        let room = portal.folders.get_mut(&room_id).expect("a room");
        room.shares.retain(|s| s.subject != subject);
        if access != access::NONE {
            room.shares.push(Share {
                subject,
                is_group,
                access,
            });
        }
        // EventType: Remove for an existing record set to None, Update for another
        // role, Create otherwise (a None for a non-member too, as the server does).
        let role = audit::role_name(access).to_owned();
        events.push(match (is_group, existing, access == access::NONE) {
            (false, Some(_), true) => (audit::ROOM_REMOVE_USER, vec![name]),
            (false, Some(_), false) => (audit::ROOM_UPDATE_ACCESS_FOR_USER, vec![name, role]),
            (false, None, _) => (audit::ROOM_CREATE_USER, vec![name, role]),
            (true, Some(_), true) => (audit::ROOM_GROUP_REMOVE, vec![name]),
            (true, Some(_), false) => (audit::ROOM_UPDATE_ACCESS_FOR_GROUP, vec![name, role]),
            (true, None, _) => (audit::ROOM_GROUP_ADDED, vec![name, role]),
        });
    }
    let changed = events.len();
    for (action, args) in events {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        audit::record(
            portal,
            caller,
            action,
            &args,
            vec![room_id.to_string()],
            now,
        );
    }
    Ok(changed)
}

/// `PUT files/rooms/{id}/share` (§8.2; `VirtualRoomsController.SetRoomSecurity`):
/// `{invitations: [{id, access}], notify, message}` → `RoomSecurityDto`.
pub async fn set_room_share(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    let caller = ctx.caller()?;
    let body = ctx.body()?;
    let invitations = body.array("invitations");
    if invitations.is_empty() {
        return Ok(ctx.json(json!({"error": 0})));
    }
    let mut portal = sim.portal();
    let room_id = parse_id(&id)?;
    let room = portal
        .folders
        .get(&room_id)
        .ok_or_else(ApiError::not_found_folder)?
        .clone();
    let rights = portal.folder_rights(caller, &room);
    if !rights.read {
        return Err(ApiError::InvalidOperation(
            "You don't have enough permission to view the folder content".into(),
        ));
    }
    if !rights.edit_access {
        return Err(ApiError::AccessDenied);
    }
    let mut aces = Vec::new();
    for invitation in &invitations {
        let entry = crate::wire::JsonBody(invitation.as_object().cloned().unwrap_or_default());
        match entry.str("id").and_then(Guid::parse) {
            Some(subject) => aces.push(RoomAce {
                subject,
                access: share_access(entry.get("access")),
            }),
            None if entry.str("email").is_some() => return Err(email_invitations()),
            None => {}
        }
    }
    let sent: Vec<Guid> = aces.iter().map(|a| a.subject).collect();
    if !room.is_room() {
        // A folder inside a room: its access is the room's (`GetAccesses` offers
        // links only), so every user or group entry is refused.
        return Err(role_not_available());
    }
    set_room_aces(&mut portal, caller, room_id, aces, jiff::Timestamp::now())?;
    let members = current_records(&sim, &portal, caller, room_id, &sent);
    Ok(ctx.json(json!({"members": members, "error": 0})))
}

/// The stored records of `subjects` on a folder, as `FileShareDto`s
/// (`FileSharing.GetPureSharesAsync`).
fn current_records(
    sim: &Sim,
    portal: &Portal,
    caller: Guid,
    folder: i64,
    subjects: &[Guid],
) -> Vec<Value> {
    let v = sim.view(portal, caller);
    portal.folders[&folder]
        .shares
        .iter()
        .filter(|s| subjects.contains(&s.subject))
        .map(|s| v.share(s, false, true))
        .collect()
}

fn role_not_available() -> ApiError {
    ApiError::InvalidOperation("The role is not available for this user type".into())
}

fn email_invitations() -> ApiError {
    ApiError::InvalidOperation(
        "Inviting new users by e-mail is not available in the simulator".into(),
    )
}

/// `GET files/folder/{id}/share`: callers without EditAccess get an empty list.
pub async fn folder_share(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    let caller = ctx.caller()?;
    let page = Page::from_query(&ctx.query, &ctx.link)?;
    let portal = sim.portal();
    let folder = portal
        .folders
        .get(&parse_id(&id)?)
        .ok_or_else(|| ApiError::NotFound("Item not found".into()))?;
    if portal
        .user(caller)
        .is_some_and(|u| u.kind == UserType::Guest)
    {
        return Err(ApiError::AccessDenied);
    }
    let rights = portal.folder_rights(caller, folder);
    if !rights.edit_access {
        return Ok(ctx.ok(Reply::new(json!([])).with_total(0)));
    }
    let mut list = vec![(
        Share {
            subject: folder.created_by,
            is_group: false,
            access: access::READ_WRITE,
        },
        true,
    )];
    list.extend(folder.shares.iter().map(|s| (s.clone(), false)));
    Ok(shares_page(&sim, &portal, caller, &page, &list, true, &ctx))
}

/// `PUT files/folder/{id}/share` (§8.3; `SecurityController.SetFolderSecurityInfo` →
/// `SecurityControllerHelper.SetSecurityInfoAsync`): `{share: [{shareTo, access}],
/// notify, sharingMessage}` → `FileShareDto[]`. On a room the room's rules apply, as
/// on `PUT files/rooms/{id}/share` (`set_room_aces`), and the answer lists, for each
/// entry that changed something, the current records of every subject sent. Folders
/// inside rooms take link shares only; My documents folders their own table.
pub async fn set_folder_share(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    let caller = ctx.caller()?;
    let body = ctx.body()?;
    let share = body.array("share");
    let mut portal = sim.portal();
    let Some(folder) = parse_id(&id)
        .ok()
        .and_then(|id| portal.folders.get(&id))
        .cloned()
    else {
        return Ok(ctx.ok(Reply::new(json!([])).with_count(1)));
    };
    if share.is_empty() {
        return Ok(ctx.ok(Reply::new(json!([])).with_count(1)));
    }
    if !portal.folder_rights(caller, &folder).edit_access {
        return Err(ApiError::AccessDenied);
    }
    let entries: Vec<RoomAce> = share
        .iter()
        .filter_map(|item| {
            let entry = crate::wire::JsonBody(item.as_object().cloned().unwrap_or_default());
            Some(RoomAce {
                subject: entry.str("shareTo").and_then(Guid::parse)?,
                access: share_access(entry.get("access")),
            })
        })
        .collect();
    let sent: Vec<Guid> = entries.iter().map(|a| a.subject).collect();
    if folder.is_room() {
        // `FileShareParamsHelper.ToAceObjectAsync` marks every id that is not a user
        // as a group, and the helper's `OrderByDescending(SubjectGroup)` (a stable
        // sort) puts those first. Room invitations carry no such flag
        // (`RoomInvitationMapper`), so the rooms route keeps the request's order.
        let mut entries = entries;
        entries.sort_by_key(|a| portal.user(a.subject).is_some());
        let changed = set_room_aces(
            &mut portal,
            caller,
            folder.id,
            entries,
            jiff::Timestamp::now(),
        )?;
        let records = current_records(&sim, &portal, caller, folder.id, &sent);
        let list: Vec<Value> = std::iter::repeat_n(records, changed).flatten().collect();
        return Ok(ctx.ok(Reply::new(Value::Array(list)).with_count(1)));
    }
    let personal = portal
        .root_of(folder.id)
        .is_some_and(|r| r.folder_type == folder_type::USER);
    let mut touched = Vec::new();
    for RoomAce { subject, access } in entries {
        // Folders inside rooms take only link shares; system folders none.
        let allowed: &[u8] = if personal && folder.folder_type == folder_type::DEFAULT {
            if folder.created_by == caller {
                &[1, 10, 5, 6, 2, 3, 0]
            } else {
                &[1, 10, 5, 6, 2, 3]
            }
        } else {
            &[]
        };
        if !allowed.contains(&access) {
            return Err(role_not_available());
        }
        let is_group = portal.user(subject).is_none();
        if is_group && portal.group(subject).is_none() {
            continue;
        }
        let f = portal.folders.get_mut(&folder.id).expect("found above");
        f.shares.retain(|s| s.subject != subject);
        if access != access::NONE {
            f.shares.push(Share {
                subject,
                is_group,
                access,
            });
        }
        touched.push(subject);
    }
    let list = current_records(&sim, &portal, caller, folder.id, &touched);
    Ok(ctx.ok(Reply::new(Value::Array(list)).with_count(1)))
}
