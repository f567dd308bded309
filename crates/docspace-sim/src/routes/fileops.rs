//! File operations: move, bulk download, archive and unarchive, their listing and
//! termination, and the download handler (docspace-api.md §6, §7.3).

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use crate::audit;
use crate::dto::View;
use crate::jobs::{Effect, Fate, FileOperation, status};
use crate::server::{Ctx, Sim};
use crate::state::{Guid, Portal};
use crate::wire::{ApiError, JsonBody, Reply, value_i64};

type Result<T> = std::result::Result<T, ApiError>;

pub const MOVE: u8 = 0;
pub const DOWNLOAD: u8 = 3;

fn ids(body: &JsonBody, name: &str) -> Vec<i64> {
    body.array(name).iter().filter_map(value_i64).collect()
}

/// Queues an operation and schedules its completion; returns the listing the PUT
/// answers with (all the caller's operations of that kind, or just this one).
fn start(
    sim: &Sim,
    owner: Guid,
    kind: u8,
    effect: Effect,
    hold_result: bool,
    single: bool,
) -> Vec<Value> {
    let now = Instant::now();
    let id = Guid(sim.rng.lock().expect("rng lock").u128(..));
    let fate = sim.job_fate(40);
    let op = FileOperation {
        id,
        owner,
        kind,
        started: now,
        duration: sim.config.job_duration,
        status: status::RUNNING,
        error: String::new(),
        hold_result,
        effect,
        fate,
        finished_at: None,
        result_folders: Vec::new(),
        result_files: Vec::new(),
        url: None,
    };
    let mut jobs = sim.jobs.lock().expect("jobs lock");
    jobs.expire(now, sim.config.record_ttl);
    jobs.operations.push(op);
    let listing = if single {
        jobs.list_operations(owner, Some(id), None, now)
    } else {
        jobs.list_operations(owner, None, Some(kind), now)
    };
    drop(jobs);
    if !matches!(fate, Fate::Stuck(_)) {
        let sim = sim.clone();
        tokio::spawn(async move {
            tokio::time::sleep(sim.config.job_duration).await;
            finish(&sim, id);
        });
    }
    listing
}

/// Completes an operation: applies its effect or records its failure.
fn finish(sim: &Sim, id: Guid) {
    let mut portal = sim.portal();
    let mut jobs = sim.jobs.lock().expect("jobs lock");
    let Some(op) = jobs
        .operations
        .iter_mut()
        .find(|op| op.id == id && op.status == status::RUNNING)
    else {
        return;
    };
    op.finished_at = Some(Instant::now());
    if op.fate == Fate::Fail {
        op.status = status::FAILED;
        op.error = "You don't have enough permission to perform the operation".into();
        return;
    }
    if op.fate == Fate::Silent {
        op.status = status::COMPLETED;
        return;
    }
    let owner = op.owner;
    let at = jiff::Timestamp::now();
    let outcome = match op.effect.clone() {
        Effect::Move {
            folders,
            files,
            dest,
        } => {
            crate::effects::move_items(&mut portal, &folders, &files, dest).map(|()| {
                let dest_title = portal.folder_title(dest);
                for id in &folders {
                    let title = portal.folder_title(*id);
                    // 3.7 fills `{1}` with the source folder's title (a server quirk);
                    // the folder already moved, so its old parent is gone from here.
                    audit::record(
                        &mut portal,
                        owner,
                        audit::FOLDER_MOVED_WITH_OVERWRITING,
                        &[&title, &dest_title],
                        vec![id.to_string(), dest.to_string()],
                        at,
                    );
                }
                for id in &files {
                    let title = portal.file_title(*id);
                    audit::record(
                        &mut portal,
                        owner,
                        audit::FILE_MOVED,
                        &[&title, "", &dest_title],
                        vec![id.to_string(), dest.to_string()],
                        at,
                    );
                }
                (folders, files, None)
            })
        }
        Effect::Archive { room } => {
            set_archived(&mut portal, owner, room, true).map(|()| (vec![room], vec![], None))
        }
        Effect::Unarchive { room } => {
            set_archived(&mut portal, owner, room, false).map(|()| (vec![room], vec![], None))
        }
        Effect::Download { folders, files } => {
            let name = download_name(&portal, &folders, &files);
            let zip = crate::zip::archive(&portal, &folders, &files);
            let token = id.to_string();
            jobs.downloads.insert(
                token.clone(),
                crate::jobs::Download {
                    owner,
                    name,
                    bytes: zip,
                    finished: Instant::now(),
                },
            );
            // One event per requested item, as `FileDownloadOperation` writes them.
            for id in &folders {
                let title = portal.folder_title(*id);
                audit::record(
                    &mut portal,
                    owner,
                    audit::FOLDER_DOWNLOADED,
                    &[&title],
                    vec![id.to_string()],
                    at,
                );
            }
            for id in &files {
                let title = portal.file_title(*id);
                audit::record(
                    &mut portal,
                    owner,
                    audit::FILE_DOWNLOADED,
                    &[&title],
                    vec![id.to_string()],
                    at,
                );
            }
            Ok((
                folders,
                files,
                Some(format!(
                    "{}/filehandler.ashx?action=bulk&filename={token}",
                    sim.base_url
                )),
            ))
        }
    };
    let op = jobs
        .operations
        .iter_mut()
        .find(|op| op.id == id)
        .expect("found above");
    match outcome {
        Ok((folders, files, url)) => {
            let view = View {
                portal: &portal,
                caller: owner,
                base_url: &sim.base_url,
            };
            op.result_folders = folders
                .iter()
                .filter_map(|id| portal.folders.get(id))
                .map(|f| view.folder(f))
                .collect();
            op.result_files = files
                .iter()
                .filter_map(|id| portal.files.get(id))
                .map(|f| view.file(f))
                .collect();
            op.url = url;
            op.status = status::COMPLETED;
        }
        Err(error) => {
            op.status = status::FAILED;
            op.error = error;
        }
    }
}

fn set_archived(
    portal: &mut Portal,
    caller: Guid,
    room: i64,
    archived: bool,
) -> std::result::Result<(), String> {
    let (to, action) = if archived {
        (portal.archive_root, audit::ROOM_ARCHIVED)
    } else {
        (portal.rooms_root, audit::ROOM_UNARCHIVED)
    };
    let Some(f) = portal.folders.get_mut(&room) else {
        return Err("The required folder was not found".into());
    };
    // Archiving an archived room (or unarchiving an active one) changes nothing.
    f.parent = to;
    f.updated = jiff::Timestamp::now();
    let title = f.title.clone();
    let _ = title;
    audit::record(
        portal,
        caller,
        action,
        &[],
        vec![room.to_string()],
        jiff::Timestamp::now(),
    );
    Ok(())
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `<folder title>.zip` for one folder, else `<portal>-download-yyyy-MM-dd.zip`.
fn download_name(portal: &Portal, folders: &[i64], files: &[i64]) -> String {
    if let ([only], []) = (folders, files)
        && let Some(f) = portal.folders.get(only)
    {
        return format!("{}.zip", f.title);
    }
    let day = jiff::Timestamp::now().to_zoned(portal.zone.clone()).date();
    format!("{}-download-{day}.zip", portal.name)
}

/// `PUT files/fileops/move` (§6.1, §6.3).
pub async fn move_items(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.caller()?;
    let body = ctx.body()?;
    let folders = ids(&body, "folderIds");
    let files = ids(&body, "fileIds");
    let hold = !body.bool("deleteAfter").unwrap_or(false);
    let single = body.bool("returnSingleOperation").unwrap_or(false);
    if folders.is_empty() && files.is_empty() {
        let now = Instant::now();
        let listing =
            sim.jobs
                .lock()
                .expect("jobs lock")
                .list_operations(caller, None, Some(MOVE), now);
        return Ok(ctx.ok(Reply::new(Value::Array(listing)).with_count(1)));
    }
    let dest = body
        .get("destFolderId")
        .and_then(value_i64)
        .ok_or_else(ApiError::not_found_folder)?;
    {
        let portal = sim.portal();
        check_move(&portal, caller, &folders, &files, dest)?;
    }
    let listing = start(
        &sim,
        caller,
        MOVE,
        Effect::Move {
            folders,
            files,
            dest,
        },
        hold,
        single,
    );
    Ok(ctx.ok(Reply::new(Value::Array(listing)).with_count(1)))
}

/// The synchronous permission pre-checks of a move (`CopyPermissionsCheck`).
fn check_move(
    portal: &Portal,
    caller: Guid,
    folders: &[i64],
    files: &[i64],
    dest: i64,
) -> Result<()> {
    let target = portal
        .folders
        .get(&dest)
        .ok_or_else(ApiError::not_found_folder)?;
    if dest == portal.rooms_root || dest == portal.archive_root {
        return Err(ApiError::AccessDenied);
    }
    let target_root = portal.root_of(dest).map(|r| r.folder_type);
    if target_root == Some(crate::state::folder_type::ARCHIVE)
        || !portal.folder_rights(caller, target).create
    {
        return Err(ApiError::AccessDenied);
    }
    for id in folders {
        let folder = portal
            .folders
            .get(id)
            .ok_or_else(ApiError::not_found_folder)?;
        if folder.is_room() || !portal.folder_rights(caller, folder).move_from {
            return Err(ApiError::AccessDenied);
        }
        if portal.is_within(dest, *id) {
            return Err(ApiError::InvalidOperation(
                "You cannot copy the folder to its subfolder".into(),
            ));
        }
        // Every file inside must be movable by the caller too.
        let inside = portal.subtree(*id);
        if portal
            .files
            .values()
            .filter(|f| inside.contains(&f.folder))
            .any(|f| !portal.can_move_file(caller, f))
        {
            return Err(ApiError::AccessDenied);
        }
    }
    for id in files {
        let file = portal
            .files
            .get(id)
            .ok_or_else(|| ApiError::NotFound("The required file was not found".into()))?;
        if !portal.can_move_file(caller, file) {
            return Err(ApiError::AccessDenied);
        }
    }
    Ok(())
}

/// `GET files/fileops[?id=]`: the caller's operations, finished ones read once.
pub async fn list(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.files_caller()?;
    let id = ctx.guid_query("id")?;
    let now = Instant::now();
    let mut jobs = sim.jobs.lock().expect("jobs lock");
    jobs.expire(now, sim.config.record_ttl);
    let listing = jobs.list_operations(caller, id, None, now);
    Ok(ctx.json(Value::Array(listing)))
}

/// `GET files/fileops/{type}`: by number or name (`move` is taken by the check route).
pub async fn list_by_type(
    State(sim): State<Sim>,
    Path(kind): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    let caller = ctx.files_caller()?;
    let kind = match kind.to_ascii_lowercase().as_str() {
        "0" => 0,
        "1" | "copy" => 1,
        "2" | "delete" => 2,
        "3" | "download" => 3,
        "4" | "markasread" => 4,
        "7" | "duplicate" => 7,
        "5" | "import" | "6" | "convert" => {
            return Err(ApiError::Argument("Specified argument was out of the range of valid values. (Parameter 'operationType')".into()));
        }
        other => {
            return Err(ctx.invalid("operationType", other));
        }
    };
    let id = ctx.guid_query("id")?;
    let now = Instant::now();
    let mut jobs = sim.jobs.lock().expect("jobs lock");
    jobs.expire(now, sim.config.record_ttl);
    let listing = jobs.list_operations(caller, id, Some(kind), now);
    Ok(ctx.json(Value::Array(listing)))
}

/// `GET files/fileops/move`: the "check move" endpoint that route precedence puts
/// in front of "operations of type Move": it lists conflicting files (none here).
pub async fn check_move_route(ctx: Ctx) -> Result<Response> {
    ctx.files_caller()?;
    Ok(ctx.json(Value::Array(Vec::new())))
}

/// `PUT files/fileops/terminate/{id?}`.
pub async fn terminate(
    State(sim): State<Sim>,
    id: Option<Path<String>>,
    ctx: Ctx,
) -> Result<Response> {
    let caller = ctx.caller()?;
    let target = id.and_then(|Path(id)| Guid::parse(&id));
    let now = Instant::now();
    let mut jobs = sim.jobs.lock().expect("jobs lock");
    for op in jobs
        .operations
        .iter_mut()
        .filter(|op| op.owner == caller && op.status == status::RUNNING)
    {
        if target.is_none_or(|t| t == op.id) {
            op.status = status::CANCELED;
            op.finished_at = Some(now);
        }
    }
    let listing = jobs.list_operations(caller, None, None, now);
    Ok(ctx.json(Value::Array(listing)))
}

pub async fn terminate_all(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    terminate(State(sim), None, ctx).await
}

pub async fn terminate_one(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    terminate(State(sim), Some(Path(id)), ctx).await
}

/// `PUT files/fileops/bulkdownload` (§6.6): one running download per user.
pub async fn bulk_download(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.caller()?;
    let body = ctx.body()?;
    let folders = ids(&body, "folderIds");
    let mut files = ids(&body, "fileIds");
    files.extend(
        body.array("fileConvertIds")
            .iter()
            .filter_map(|item| item.get("key").and_then(value_i64)),
    );
    let single = body.bool("returnSingleOperation").unwrap_or(false);
    // FileDownloadOperationsManager.Publish (products/ASC.Files/Core/Services/
    // WCFService/FileOperations/FileOperationsManager.cs): one running download per
    // user first, then DownloadPermissionsCheck.RunPermissionCheckAsync keeps what the
    // caller may download (FilterDownloadAsync: unknown, unreadable and
    // download-denied items silently go) and refuses when nothing is left.
    let running = sim
        .jobs
        .lock()
        .expect("jobs lock")
        .operations
        .iter()
        .any(|op| op.owner == caller && op.kind == DOWNLOAD && op.status == status::RUNNING);
    if running {
        return Err(ApiError::InvalidOperation("Too many downloads.".into()));
    }
    let asked_files = !files.is_empty();
    let asked = asked_files || !folders.is_empty();
    let (folders, files) = {
        let portal = sim.portal();
        let may = |folder: i64| {
            portal
                .folders
                .get(&folder)
                .is_some_and(|f| portal.folder_rights(caller, f).download)
        };
        let folders: Vec<i64> = folders.into_iter().filter(|id| may(*id)).collect();
        let files: Vec<i64> = files
            .into_iter()
            .filter(|id| portal.files.get(id).is_some_and(|f| may(f.folder)))
            .collect();
        (folders, files)
    };
    if asked && folders.is_empty() && files.is_empty() {
        return Err(ApiError::NotFound(
            if asked_files {
                "The required file was not found"
            } else {
                "The required folder was not found"
            }
            .into(),
        ));
    }
    let listing = start(
        &sim,
        caller,
        DOWNLOAD,
        Effect::Download { folders, files },
        true,
        single,
    );
    Ok(ctx.ok(Reply::new(Value::Array(listing)).with_count(1)))
}

/// `PUT files/rooms/{id}/archive` and `.../unarchive`: asynchronous moves of the room
/// between the Rooms and Archive sections.
async fn archive_room(sim: Sim, id: String, ctx: Ctx, archive: bool) -> Result<Response> {
    let caller = ctx.caller()?;
    let body = ctx.body()?;
    let room = id
        .parse::<i64>()
        .map_err(|_| ApiError::not_found_folder())?;
    {
        let portal = sim.portal();
        let folder = portal
            .folders
            .get(&room)
            .ok_or_else(ApiError::not_found_folder)?;
        let rights = portal.folder_rights(caller, folder);
        if !rights.read {
            return Err(ApiError::InvalidOperation(
                "You don't have enough permission to view the folder content".into(),
            ));
        }
        if !folder.is_room() || !rights.archive {
            return Err(ApiError::AccessDenied);
        }
    }
    let hold = !body.bool("deleteAfter").unwrap_or(false);
    let effect = if archive {
        Effect::Archive { room }
    } else {
        Effect::Unarchive { room }
    };
    let listing = start(&sim, caller, MOVE, effect, hold, true);
    let op = listing.into_iter().next().unwrap_or(Value::Null);
    Ok(ctx.json(op))
}

pub async fn archive(State(sim): State<Sim>, Path(id): Path<String>, ctx: Ctx) -> Result<Response> {
    archive_room(sim, id, ctx, true).await
}

pub async fn unarchive(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    archive_room(sim, id, ctx, false).await
}

/// `GET /filehandler.ashx?action=bulk&filename=…`: the finished archive, for the user
/// who asked for it.
pub async fn file_handler(State(sim): State<Sim>, ctx: Ctx) -> Response {
    let Ok(caller) = ctx.caller() else {
        return status_only(StatusCode::FORBIDDEN);
    };
    if ctx.query.get("action") != Some("bulk") {
        return status_only(StatusCode::NOT_FOUND);
    }
    let token = ctx.query.get("filename").unwrap_or_default().to_owned();
    let mut jobs = sim.jobs.lock().expect("jobs lock");
    jobs.expire(std::time::Instant::now(), sim.config.record_ttl);
    match jobs.downloads.get(&token) {
        Some(download) if download.owner == caller => {
            let name = &download.name;
            let mut response = Response::new(Body::from(download.bytes.clone()));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/zip"),
            );
            if let Ok(value) =
                HeaderValue::from_str(&format!("attachment; filename=\"{}\"", encode(name)))
            {
                response
                    .headers_mut()
                    .insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Some(_) => status_only(StatusCode::FORBIDDEN),
        None => status_only(StatusCode::NOT_FOUND),
    }
}

fn status_only(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}
