//! Files: folder and room reads, creating rooms, folders and files, changing owners
//! (docspace-api.md §7, §8.4, §16). Members and shares are in `sharing`.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Value, json};

use crate::audit;
use crate::server::{Ctx, Sim};
use crate::state::{
    Folder, Guid, Portal, Share, UserStatus, UserType, access, folder_type, room_folder_type,
};
use crate::wire::{ApiError, Page, value_i64};

type Result<T> = std::result::Result<T, ApiError>;

pub(super) fn parse_id(text: &str) -> Result<i64> {
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
