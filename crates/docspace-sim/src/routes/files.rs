//! Files: folder and room reads, creating rooms, folders and files, room members and
//! folder shares, changing owners (docspace-api.md §7, §8, §16).

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Value, json};

use crate::audit;
use crate::server::{Ctx, Sim};
use crate::state::{
    Folder, Guid, Portal, Share, UserStatus, UserType, access, folder_type, room_folder_type,
};
use crate::wire::{ApiError, Page, Reply, value_i64};

type Result<T> = std::result::Result<T, ApiError>;

fn parse_id(text: &str) -> Result<i64> {
    // Non-numeric ids would go to third-party storage; none is connected here.
    text.parse::<i64>()
        .map_err(|_| ApiError::not_found_folder())
}

/// A folder the caller may read.
pub fn readable(portal: &Portal, caller: Guid, id: i64) -> Result<&Folder> {
    let folder = portal
        .folders
        .get(&id)
        .ok_or_else(ApiError::not_found_folder)?;
    if !portal.folder_rights(caller, folder).read {
        return Err(ApiError::InvalidOperation(
            "You don't have enough permission to view the folder content".into(),
        ));
    }
    Ok(folder)
}

pub async fn folder_info(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    let caller = ctx.files_caller()?;
    let portal = sim.portal();
    let folder = readable(&portal, caller, parse_id(&id)?)?;
    Ok(ctx.json(sim.view(&portal, caller).folder(folder)))
}

/// `GET files/rooms/{id}`: the same DTO; it does not check that the id is a room.
pub async fn room_info(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    folder_info(State(sim), Path(id), ctx).await
}

pub async fn folder_path(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    let caller = ctx.files_caller()?;
    let portal = sim.portal();
    let folder = readable(&portal, caller, parse_id(&id)?)?;
    let v = sim.view(&portal, caller);
    let path: Vec<Value> = portal
        .path_of(folder.id)
        .into_iter()
        .map(|f| v.folder(f))
        .collect();
    Ok(ctx.json(Value::Array(path)))
}

pub async fn subfolders(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    let caller = ctx.files_caller()?;
    let portal = sim.portal();
    let folder = readable(&portal, caller, parse_id(&id)?)?;
    let v = sim.view(&portal, caller);
    let list: Vec<Value> = portal
        .folders
        .values()
        .filter(|f| f.parent == folder.id)
        .map(|f| v.folder(f))
        .collect();
    Ok(ctx.json(Value::Array(list)))
}

/// A `FolderContentDto` of `folder`: sub-folders first, then files, paged together.
fn contents(
    sim: &Sim,
    ctx: &Ctx,
    portal: &Portal,
    caller: Guid,
    folder: &Folder,
) -> Result<Response> {
    let page = Page::from_query(&ctx.query, &ctx.link)?;
    let filter_type = ctx
        .query
        .get("filterType")
        .and_then(|t| t.parse::<u8>().ok())
        .unwrap_or(0);
    let needle = ctx
        .query
        .get("filterValue")
        .unwrap_or_default()
        .to_lowercase();
    let v = sim.view(portal, caller);
    let mut entries: Vec<(bool, Value)> = Vec::new();
    if filter_type != 1 {
        entries.extend(
            portal
                .folders
                .values()
                .filter(|f| f.parent == folder.id)
                .filter(|f| portal.folder_rights(caller, f).read)
                .filter(|f| f.title.to_lowercase().contains(&needle))
                .map(|f| (true, v.folder(f))),
        );
    }
    if filter_type != 2 {
        entries.extend(
            portal
                .files
                .values()
                .filter(|f| f.folder == folder.id)
                .filter(|f| f.title.to_lowercase().contains(&needle))
                .map(|f| (false, v.file(f))),
        );
    }
    let total = entries.len();
    let shown = page.slice(&entries);
    let (folders, files): (Vec<_>, Vec<_>) =
        shown.into_iter().partition(|(is_folder, _)| *is_folder);
    let count = folders.len() + files.len();
    let path: Vec<Value> = portal
        .path_of(folder.id)
        .into_iter()
        .map(|f| v.path_part(f))
        .collect();
    Ok(ctx.json(json!({
        "files": files.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        "folders": folders.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        "current": v.folder(folder),
        "pathParts": path,
        "startIndex": page.start,
        "count": count,
        "total": total,
        "new": 0,
    })))
}

pub async fn folder_contents(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    let caller = ctx.files_caller()?;
    let portal = sim.portal();
    let folder = readable(&portal, caller, parse_id(&id)?)?.clone();
    contents(&sim, &ctx, &portal, caller, &folder)
}

/// `GET files/@my`: always the caller's own My documents.
pub async fn my_documents(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.files_caller()?;
    let portal = sim.portal();
    let my = portal
        .user(caller)
        .map(|u| u.my_documents)
        .unwrap_or_default();
    let folder = readable(&portal, caller, my)?.clone();
    contents(&sim, &ctx, &portal, caller, &folder)
}

pub async fn trash(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.files_caller()?;
    let portal = sim.portal();
    let trash = portal.user(caller).map(|u| u.trash).unwrap_or_default();
    let folder = readable(&portal, caller, trash)?.clone();
    contents(&sim, &ctx, &portal, caller, &folder)
}

/// `GET files/rooms` with `subjectId`/`subjectFilter`/`searchArea`/`type`/`filterValue`.
pub async fn rooms(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.files_caller()?;
    let page = Page::from_query(&ctx.query, &ctx.link)?;
    let portal = sim.portal();
    let q = &ctx.query;
    let area = q
        .get("searchArea")
        .and_then(|a| a.parse::<u8>().ok())
        .unwrap_or(0);
    let subject = ctx.guid_query("subjectId")?;
    let subject_filter = q.get("subjectFilter").and_then(|f| f.parse::<u8>().ok());
    let types: Vec<u8> = q
        .all("type")
        .iter()
        .filter_map(|t| t.parse().ok())
        .collect();
    let needle = q.get("filterValue").unwrap_or_default().to_lowercase();
    let roots: Vec<i64> = match area {
        1 => vec![portal.archive_root],
        2 => vec![portal.rooms_root, portal.archive_root],
        _ => vec![portal.rooms_root],
    };
    let v = sim.view(&portal, caller);
    let rooms: Vec<&Folder> = portal
        .folders
        .values()
        .filter(|f| f.is_room() && roots.contains(&f.parent))
        .filter(|f| portal.folder_rights(caller, f).read)
        .filter(|f| types.is_empty() || f.room_type.is_some_and(|t| types.contains(&t)))
        .filter(|f| f.title.to_lowercase().contains(&needle))
        .filter(|f| match subject {
            None => true,
            Some(s) => {
                let owner = f.created_by == s;
                let member = f
                    .shares
                    .iter()
                    .any(|x| !x.is_group && x.subject == s && x.access != 0);
                match subject_filter {
                    Some(0) => owner,
                    Some(1) => member && !owner,
                    _ => owner || member,
                }
            }
        })
        .collect();
    let total = rooms.len();
    let shown: Vec<Value> = page
        .slice(&rooms)
        .into_iter()
        .map(|f| v.folder(f))
        .collect();
    let root = portal.folders.get(&roots[0]).expect("system root");
    Ok(ctx.json(json!({
        "files": [],
        "folders": shown,
        "current": v.folder(root),
        "pathParts": [v.path_part(root)],
        "startIndex": page.start,
        "count": shown.len(),
        "total": total,
        "new": 0,
    })))
}

/// `POST files/rooms` `{title, roomType}`.
pub async fn create_room(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.caller()?;
    let body = ctx.body()?;
    let title = body.str("title").unwrap_or_default().trim().to_owned();
    if title.is_empty() {
        return Err(ctx.validation("Title", "The Title field is required."));
    }
    let room_type = body
        .get("roomType")
        .and_then(room_type_of)
        .ok_or_else(|| ctx.validation("RoomType", "The RoomType field is not valid."))?;
    let folder_type = room_folder_type(room_type)
        .ok_or_else(|| ctx.validation("RoomType", "The RoomType field is not valid."))?;
    let mut portal = sim.portal();
    let rooms_root = portal.rooms_root;
    let root = portal.folders.get(&rooms_root).expect("rooms root").clone();
    if !portal.folder_rights(caller, &root).create {
        return Err(ApiError::AccessDenied);
    }
    let now = jiff::Timestamp::now();
    let id = portal.add_folder(
        rooms_root,
        &title,
        folder_type,
        Some(room_type),
        caller,
        now,
    );
    audit::record(
        &mut portal,
        caller,
        audit::ROOM_CREATED,
        &[],
        vec![id.to_string()],
        now,
    );
    let room = portal.folders.get(&id).expect("just added");
    Ok(ctx.json(sim.view(&portal, caller).folder(room)))
}

fn room_type_of(value: &Value) -> Option<u8> {
    if let Some(n) = value_i64(value) {
        return u8::try_from(n).ok();
    }
    Some(match value.as_str()?.to_ascii_lowercase().as_str() {
        "fillingformsroom" => 1,
        "editingroom" => 2,
        "customroom" => 5,
        "publicroom" => 6,
        "virtualdataroom" => 8,
        "airoom" => 9,
        _ => return None,
    })
}

/// `POST files/folder/{parentId}` `{title}`.
pub async fn create_folder(
    State(sim): State<Sim>,
    Path(parent): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    let caller = ctx.caller()?;
    let body = ctx.body()?;
    let title = body.str("title").unwrap_or_default().trim().to_owned();
    if title.is_empty() {
        return Err(ctx.validation("Title", "The Title field is required."));
    }
    let mut portal = sim.portal();
    let parent = parse_id(&parent)?;
    let folder = portal
        .folders
        .get(&parent)
        .ok_or_else(ApiError::not_found_folder)?
        .clone();
    let is_section_root = folder.id == portal.rooms_root || folder.id == portal.archive_root;
    if is_section_root || !portal.folder_rights(caller, &folder).create {
        return Err(ApiError::AccessDenied);
    }
    let now = jiff::Timestamp::now();
    let id = portal.add_folder(parent, &title, folder_type::DEFAULT, None, caller, now);
    audit::record(
        &mut portal,
        caller,
        audit::FOLDER_CREATED,
        &[&title],
        vec![id.to_string()],
        now,
    );
    let created = portal.folders.get(&id).expect("just added");
    Ok(ctx.json(sim.view(&portal, caller).folder(created)))
}

/// `POST files/{folderId}/file` and `POST files/@my/file` `{title}`: an empty document.
pub async fn create_file(
    State(sim): State<Sim>,
    Path(folder): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    let caller = ctx.caller()?;
    let body = ctx.body()?;
    let mut portal = sim.portal();
    let folder_id = if folder == "@my" {
        portal
            .user(caller)
            .map(|u| u.my_documents)
            .unwrap_or_default()
    } else {
        parse_id(&folder)?
    };
    let folder = portal
        .folders
        .get(&folder_id)
        .ok_or_else(ApiError::not_found_folder)?
        .clone();
    if folder.id == portal.rooms_root
        || folder.id == portal.archive_root
        || !portal.folder_rights(caller, &folder).create
    {
        return Err(ApiError::AccessDenied);
    }
    let mut title = body.str("title").unwrap_or_default().trim().to_owned();
    if title.is_empty() {
        title = "New document.docx".into();
    } else if !title.contains('.') {
        title.push_str(".docx");
    }
    let now = jiff::Timestamp::now();
    let id = portal.add_file(folder_id, &title, caller, now);
    audit::record(
        &mut portal,
        caller,
        audit::FILE_CREATED,
        &[&title],
        vec![id.to_string()],
        now,
    );
    let file = portal.files.get(&id).expect("just added");
    Ok(ctx.json(sim.view(&portal, caller).file(file)))
}

pub async fn create_file_in_my(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    create_file(State(sim), Path("@my".to_owned()), ctx).await
}

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
    let total = members.len() as u64;
    let v = sim.view(&portal, caller);
    let list: Vec<Value> = page
        .slice(&members)
        .iter()
        .map(|(s, owner)| v.share(s, *owner, can_edit))
        .collect();
    Ok(ctx.ok(Reply::new(Value::Array(list)).with_total(total)))
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

/// `PUT files/rooms/{id}/share` (§8.2).
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
    if !room.is_room() || !rights.edit_access {
        return Err(ApiError::AccessDenied);
    }
    let room_type = room.room_type.unwrap_or(5);
    let now = jiff::Timestamp::now();
    let mut touched: Vec<(Guid, bool)> = Vec::new();
    for invitation in &invitations {
        let entry = crate::wire::JsonBody(invitation.as_object().cloned().unwrap_or_default());
        let access = share_access(entry.get("access"));
        let Some(subject) = entry.str("id").and_then(Guid::parse) else {
            if entry.str("email").is_some() {
                return Err(ApiError::InvalidOperation(
                    "Inviting new users by e-mail is not available in the simulator".into(),
                ));
            }
            continue;
        };
        let is_group = portal.group(subject).is_some();
        let user = portal.user(subject);
        if !is_group && user.is_none() {
            continue;
        }
        // Records of disabled users can be removed, not added or changed.
        if !is_group
            && access != access::NONE
            && user.is_some_and(|u| u.status == UserStatus::Terminated)
        {
            continue;
        }
        let kind = user.map(|u| u.kind);
        if !allowed_room_access(room_type, is_group, kind).contains(&access) {
            return Err(ApiError::InvalidOperation(
                "The role is not available for this user type".into(),
            ));
        }
        touched.push((subject, is_group));
        let name = if is_group {
            portal
                .group(subject)
                .map(|g| g.name.clone())
                .unwrap_or_default()
        } else {
            portal
                .user(subject)
                .map(|u| u.display_name())
                .unwrap_or_default()
        };
        let f = portal.folders.get_mut(&room_id).expect("checked above");
        let existed = f.shares.iter().any(|s| s.subject == subject);
        f.shares.retain(|s| s.subject != subject);
        if access != access::NONE {
            f.shares.push(Share {
                subject,
                is_group,
                access,
            });
        }
        let role = audit::role_name(access);
        let (action, args): (u32, Vec<&str>) = match (is_group, access == access::NONE, existed) {
            (false, true, _) => (audit::ROOM_REMOVE_USER, vec![&name]),
            (false, false, false) => (audit::ROOM_CREATE_USER, vec![&name, role]),
            (false, false, true) => (audit::ROOM_UPDATE_ACCESS_FOR_USER, vec![&name, role]),
            (true, true, _) => (audit::ROOM_GROUP_REMOVE, vec![&name]),
            (true, false, false) => (audit::ROOM_GROUP_ADDED, vec![&name, role]),
            (true, false, true) => (audit::ROOM_UPDATE_ACCESS_FOR_GROUP, vec![&name, role]),
        };
        audit::record(
            &mut portal,
            caller,
            action,
            &args,
            vec![room_id.to_string()],
            now,
        );
    }
    let room = portal.folders.get(&room_id).expect("checked above").clone();
    let v = sim.view(&portal, caller);
    let members: Vec<Value> = room
        .shares
        .iter()
        .filter(|s| touched.iter().any(|(id, _)| *id == s.subject))
        .map(|s| v.share(s, false, true))
        .collect();
    Ok(ctx.json(json!({"members": members, "error": 0})))
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
    let total = list.len() as u64;
    let v = sim.view(&portal, caller);
    let shown: Vec<Value> = page
        .slice(&list)
        .iter()
        .map(|(s, o)| v.share(s, *o, true))
        .collect();
    Ok(ctx.ok(Reply::new(Value::Array(shown)).with_total(total)))
}

/// `PUT files/folder/{id}/share` (§8.3).
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
    let personal = portal
        .root_of(folder.id)
        .is_some_and(|r| r.folder_type == folder_type::USER);
    let mut touched = Vec::new();
    for item in &share {
        let entry = crate::wire::JsonBody(item.as_object().cloned().unwrap_or_default());
        let Some(subject) = entry.str("shareTo").and_then(Guid::parse) else {
            continue;
        };
        let access = share_access(entry.get("access"));
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
            return Err(ApiError::InvalidOperation(
                "The role is not available for this user type".into(),
            ));
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
    let folder = portal.folders.get(&folder.id).expect("found above").clone();
    let v = sim.view(&portal, caller);
    let list: Vec<Value> = folder
        .shares
        .iter()
        .filter(|s| touched.contains(&s.subject))
        .map(|s| v.share(s, false, true))
        .collect();
    Ok(ctx.ok(Reply::new(Value::Array(list)).with_count(1)))
}

/// `POST files/owner` `{folderIds, fileIds, userId}` (§8.4).
pub async fn change_owner(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.caller()?;
    let body = ctx.body()?;
    let user_text = body
        .str("userId")
        .ok_or_else(|| ctx.validation("UserId", "The UserId field is required."))?;
    let new_owner = Guid::parse(user_text).ok_or_else(|| ctx.invalid("UserId", user_text))?;
    let mut portal = sim.portal();
    let eligible = portal.user(new_owner).is_some_and(|u| {
        u.status == UserStatus::Active
            && matches!(u.kind, UserType::DocSpaceAdmin | UserType::RoomAdmin)
    });
    if !eligible {
        return Err(ApiError::InvalidOperation(
            "You cannot select this user".into(),
        ));
    }
    let ids: Vec<i64> = body
        .array("folderIds")
        .iter()
        .filter_map(value_i64)
        .collect();
    let now = jiff::Timestamp::now();
    let mut changed = Vec::new();
    for id in ids {
        let folder = portal
            .folders
            .get(&id)
            .ok_or_else(ApiError::not_found_folder)?
            .clone();
        if !folder.is_room() || !portal.folder_rights(caller, &folder).change_owner {
            return Err(ApiError::InvalidOperation(
                "You don't have enough permission to perform the operation".into(),
            ));
        }
        let previous = folder.created_by;
        let previous_active = portal.user(previous).is_some_and(|u| u.is_active());
        let f = portal.folders.get_mut(&id).expect("found above");
        if previous != new_owner {
            f.shares.retain(|s| s.is_group || s.subject != new_owner);
            f.created_by = new_owner;
            if previous_active {
                f.shares.retain(|s| s.is_group || s.subject != previous);
                f.shares.push(Share {
                    subject: previous,
                    is_group: false,
                    access: access::ROOM_MANAGER,
                });
            }
        }
        audit::record(
            &mut portal,
            caller,
            audit::ROOM_CHANGE_OWNER,
            &[],
            vec![id.to_string()],
            now,
        );
        changed.push(id);
    }
    let v = sim.view(&portal, caller);
    let list: Vec<Value> = changed
        .iter()
        .filter_map(|id| portal.folders.get(id))
        .map(|f| v.folder(f))
        .collect();
    Ok(ctx.json(Value::Array(list)))
}
