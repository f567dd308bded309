//! Reassign and remove jobs (docspace-api.md §5.2–§5.6), and what users ask for
//! themselves: deletion instructions and a guest's personal-folder deletion.
//! Server: products/ASC.People/Server/Api/ReassignController.cs,
//! RemoveUserDataController.cs; the jobs in common/ASC.Data.Reassigns/.

use std::collections::HashMap;
use std::time::Instant;

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::Value;

use crate::audit;
use crate::effects;
use crate::jobs::{Fate, Jobs, ProgressJob, status};
use crate::server::{Ctx, Sim};
use crate::state::{Guid, Portal, UserStatus, UserType};
use crate::wire::{ApiError, Reply};

type Result<T> = std::result::Result<T, ApiError>;

/// Which job family a route serves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Reassign,
    Remove,
    /// A guest deleting their own My documents (`DeletePersonalFolderProgressItem`).
    DeletePersonal,
}

impl Kind {
    /// The progress item's type name in its id (`QueueWorker.GetProgressItemId`).
    fn suffix(self) -> &'static str {
        match self {
            Kind::Reassign => "ReassignProgressItem",
            Kind::Remove => "RemoveProgressItem",
            Kind::DeletePersonal => "DeletePersonalFolderProgressItem",
        }
    }

    fn table(self, jobs: &mut Jobs) -> &mut HashMap<Guid, ProgressJob> {
        match self {
            Kind::Reassign => &mut jobs.reassign,
            Kind::Remove => &mut jobs.remove,
            Kind::DeletePersonal => &mut jobs.personal_delete,
        }
    }
}

fn guid_field(ctx: &Ctx, body: &crate::wire::JsonBody, name: &str) -> Result<Guid> {
    let text = body
        .str(name)
        .ok_or_else(|| ctx.validation(name, format!("The {name} field is required.")))?;
    Guid::parse(text).ok_or_else(|| ctx.invalid(name, text))
}

/// `GET people/reassign/necessary?userId=&type=` (`ReassignController.NecessaryReassign`,
/// products/ASC.People/Server/Api/ReassignController.cs). Both parameters are optional
/// (`NecessaryReassignDto`: the empty GUID and `All`); only an unparsable value is a
/// 400, from model binding, before the action runs. Then, in the action's order:
/// `DemandPermissions(new UserSecurityProvider(Type), Action_AddRemoveUser)`; a
/// non-owner asking about a user whose actual type (`GetUserTypeAsync`, not `Type`)
/// is DocSpaceAdmin is refused; the answer is `FileStorageService.AnyRoomsAsync`
/// (active rooms the caller sees, created by the user or with a record of theirs; the
/// empty GUID filters nothing, so any room the caller sees), and for `Type=Guest`
/// with no room, whether they share anything from My documents
/// (`GetSharedEntriesCountAsync`).
pub async fn necessary(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.caller()?;
    let user_id = ctx.guid_query("UserId")?.unwrap_or(Guid::EMPTY);
    let kind = match ctx.query.get("Type").filter(|t| !t.is_empty()) {
        None => None,
        Some(text) => UserType::parse_or_all(text).ok_or_else(|| ctx.invalid("Type", text))?,
    };
    let portal = sim.portal();
    if !portal.may_add_remove(caller, kind) {
        return Err(ApiError::AccessDenied);
    }
    if !portal.is_owner(caller) && portal.user_type(user_id) == UserType::DocSpaceAdmin {
        return Err(ApiError::AccessDenied);
    }
    Ok(ctx.json(Value::Bool(
        any_rooms(&portal, caller, user_id)
            || (kind == Some(UserType::Guest) && {
                let (folders, files) = portal.shared_personal_entries(user_id);
                !folders.is_empty() || !files.is_empty()
            }),
    )))
}

/// `FileStorageService.AnyRoomsAsync(user)`: the caller's listing of the active rooms
/// (`FileSecurity.GetVirtualRoomsAsync`: every room for an admin, the rooms they are
/// in for anyone else) filtered by subject (`FolderDao.BuildRoomsQuery`: created by
/// the user, or with a share record of the user's own, group records not counted);
/// the empty GUID filters nothing.
fn any_rooms(portal: &Portal, caller: Guid, user: Guid) -> bool {
    portal.folders.values().any(|room| {
        room.is_room()
            && room.parent == portal.rooms_root
            && portal.folder_rights(caller, room).read
            && (user == Guid::EMPTY
                || room.created_by == user
                || room.shares.iter().any(|s| !s.is_group && s.subject == user))
    })
}

/// `POST people/reassign/start`.
pub async fn start(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.caller()?;
    let body = ctx.body()?;
    let from = guid_field(&ctx, &body, "fromUserId")?;
    let to = guid_field(&ctx, &body, "toUserId")?;
    let delete_profile = body.bool("deleteProfile").unwrap_or(false);
    let portal = sim.portal();
    if !portal.is_admin(caller) {
        return Err(ApiError::AccessDenied);
    }
    let target_ok = portal.user(to).is_some_and(|u| {
        matches!(u.kind, UserType::DocSpaceAdmin | UserType::RoomAdmin)
            && u.status != UserStatus::Terminated
    });
    if !target_ok {
        let shown = if portal.user(to).is_some() {
            to
        } else {
            Guid::LOST_USER
        };
        return Err(ApiError::Argument(format!(
            "Can not reassign data to user with id = {shown}"
        )));
    }
    let source_ok = portal.user(from).is_some_and(|u| {
        !portal.is_owner(from)
            && from != caller
            && u.status == UserStatus::Terminated
            && (u.kind != UserType::DocSpaceAdmin || portal.is_owner(caller))
    });
    if !source_ok {
        let shown = if portal.user(from).is_some() {
            from
        } else {
            Guid::LOST_USER
        };
        return Err(ApiError::Argument(format!(
            "Can not reassign data from user with id = {shown}"
        )));
    }
    drop(portal);
    let dto = start_job(&sim, Kind::Reassign, from, to, caller, delete_profile);
    Ok(ctx.json(dto))
}

/// Starts a job, or returns the one still running for that user.
fn start_job(
    sim: &Sim,
    kind: Kind,
    from: Guid,
    to: Guid,
    caller: Guid,
    delete_profile: bool,
) -> Value {
    let now = Instant::now();
    let mut jobs = sim.jobs.lock().expect("jobs lock");
    jobs.expire(now, sim.config.record_ttl);
    let table = kind.table(&mut jobs);
    if let Some(job) = table.get(&from)
        && job.status == status::RUNNING
    {
        return job.dto(now);
    }
    let job = ProgressJob {
        id: format!("1_{from}_{}", kind.suffix()),
        from,
        to,
        caller,
        delete_profile,
        started: now,
        duration: sim.config.job_duration,
        status: status::RUNNING,
        error: String::new(),
        fate: sim.job_fate(30),
        finished_at: None,
    };
    let dto = job.dto(now);
    let fate = job.fate;
    table.insert(from, job);
    drop(jobs);
    if !matches!(fate, Fate::Stuck(_)) {
        let sim = sim.clone();
        tokio::spawn(async move {
            tokio::time::sleep(sim.config.job_duration).await;
            finish_job(&sim, kind, from);
        });
    }
    dto
}

/// Applies a job's effect when its time is up (unless it was canceled meanwhile).
fn finish_job(sim: &Sim, kind: Kind, from: Guid) {
    let mut portal = sim.portal();
    let mut jobs = sim.jobs.lock().expect("jobs lock");
    let table = kind.table(&mut jobs);
    let Some(job) = table.get_mut(&from).filter(|j| j.status == status::RUNNING) else {
        return;
    };
    let now = Instant::now();
    job.finished_at = Some(now);
    if job.fate == Fate::Fail {
        job.status = status::FAILED;
        job.error = "Failed to reassign data: the storage did not answer in time".into();
        return;
    }
    // Reassign and remove re-check their caller (`ReassignProgressItem`,
    // `RemoveProgressItem`); deleting a personal folder does not.
    if kind != Kind::DeletePersonal && !effects::is_active_admin(&portal, job.caller) {
        job.status = status::FAILED;
        job.error = "Access denied".into();
        return;
    }
    job.status = status::COMPLETED;
    let job = job.clone();
    drop(jobs);
    apply(&mut portal, kind, &job);
}

fn apply(portal: &mut Portal, kind: Kind, job: &ProgressJob) {
    let at = jiff::Timestamp::now();
    let name = portal
        .user(job.from)
        .map(|u| u.display_name())
        .unwrap_or_default();
    match kind {
        Kind::Reassign => {
            let target = portal
                .user(job.to)
                .map(|u| u.display_name())
                .unwrap_or_default();
            effects::reassign(portal, job.from, job.to, job.delete_profile, at);
            // `ReassignProgressItem.SendSuccessNotifyAsync` (common/ASC.Data.Reassigns/
            // ReassignProgressItem.cs): `MessageTarget.Create(FromUser)` with both
            // display names as the description's arguments; the target user is not a
            // target of the event.
            audit::record(
                portal,
                job.caller,
                audit::USER_DATA_REASSIGNS,
                &[&name, &target],
                vec![job.from.to_string()],
                at,
            );
            if job.delete_profile {
                audit::record(
                    portal,
                    job.caller,
                    audit::USER_DELETED,
                    &[&name],
                    vec![job.from.to_string()],
                    at,
                );
            }
        }
        Kind::DeletePersonal => effects::delete_personal_folder(portal, job.from, at),
        Kind::Remove => {
            effects::delete_profile(portal, job.from, job.caller);
            audit::record(
                portal,
                job.caller,
                audit::USER_DELETED,
                &[&name],
                vec![job.from.to_string()],
                at,
            );
        }
    }
}

/// The progress of a job, or an empty envelope when there is none.
fn progress_of(sim: &Sim, ctx: &Ctx, kind: Kind, userid: &str) -> Result<Response> {
    let caller = ctx.caller()?;
    // The route has a `:guid` constraint: anything else matches no route.
    let user = Guid::parse(userid).ok_or(ApiError::Empty(axum::http::StatusCode::NOT_FOUND))?;
    let portal = sim.portal();
    if !portal.is_admin(caller)
        || (portal
            .user(user)
            .is_some_and(|u| u.kind == UserType::DocSpaceAdmin)
            && !portal.is_owner(caller))
    {
        return Err(ApiError::AccessDenied);
    }
    drop(portal);
    let now = Instant::now();
    let mut jobs = sim.jobs.lock().expect("jobs lock");
    jobs.expire(now, sim.config.record_ttl);
    let table = kind.table(&mut jobs);
    Ok(match table.get(&user) {
        Some(job) => ctx.json(job.dto(now)),
        None => ctx.ok(Reply::empty()),
    })
}

pub async fn progress(
    State(sim): State<Sim>,
    Path(userid): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    progress_of(&sim, &ctx, Kind::Reassign, &userid)
}

pub async fn remove_progress(
    State(sim): State<Sim>,
    Path(userid): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    progress_of(&sim, &ctx, Kind::Remove, &userid)
}

fn terminate_job(sim: &Sim, ctx: &Ctx, kind: Kind) -> Result<Option<Value>> {
    let caller = ctx.caller()?;
    let body = ctx.body()?;
    let user = guid_field(ctx, &body, "userId")?;
    if !sim.portal().is_admin(caller) {
        return Err(ApiError::AccessDenied);
    }
    let now = Instant::now();
    let mut jobs = sim.jobs.lock().expect("jobs lock");
    let table = kind.table(&mut jobs);
    Ok(table.get_mut(&user).map(|job| {
        if job.status == status::RUNNING {
            job.status = status::CANCELED;
            job.finished_at = Some(now);
        }
        job.dto(now)
    }))
}

pub async fn terminate(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    Ok(match terminate_job(&sim, &ctx, Kind::Reassign)? {
        Some(dto) => ctx.json(dto),
        None => ctx.ok(Reply::empty()),
    })
}

pub async fn remove_terminate(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    terminate_job(&sim, &ctx, Kind::Remove)?;
    Ok(ctx.ok(Reply::empty()))
}

/// `POST people/remove/start`.
pub async fn remove_start(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.caller()?;
    let body = ctx.body()?;
    let user = guid_field(&ctx, &body, "userId")?;
    let portal = sim.portal();
    let Some(leaver) = portal.user(user) else {
        return Err(ApiError::Argument(format!(
            "User with id = {user} not found"
        )));
    };
    let caller_kind = portal.user(caller).map(|u| u.kind);
    if !portal.is_admin(caller)
        && (leaver.kind == UserType::RoomAdmin || caller_kind != Some(UserType::RoomAdmin))
    {
        return Err(ApiError::AccessDenied);
    }
    if leaver.kind == UserType::DocSpaceAdmin && !portal.is_owner(caller) {
        return Err(ApiError::AccessDenied);
    }
    if portal.is_owner(user) || user == caller || leaver.status != UserStatus::Terminated {
        return Err(ApiError::Argument(format!(
            "Can not delete user with id = {user}"
        )));
    }
    drop(portal);
    let dto = start_job(&sim, Kind::Remove, user, caller, caller, true);
    Ok(ctx.json(dto))
}

/// `PUT people/self/delete` (`RemoveUserDataController.SendInstructionsToDelete`,
/// products/ASC.People/Server/Api/RemoveUserDataController.cs): an LDAP user or the
/// owner is refused (`SecurityException`: 403 "Access denied"); anyone else is sent
/// the deletion instructions (`UserSentDeleteInstructions`, 4016, without a target)
/// and answered `SuccessfullySentNotificationDeleteUserInfoMessage` with the e-mail in
/// bold (web/ASC.Web.Core/PublicResources/Resource.resx). The real action is also
/// held to the `sensitive_api` rate limit, which the simulator does not model.
pub async fn self_delete(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.caller()?;
    let mut portal = sim.portal();
    let user = portal.user(caller).ok_or(ApiError::AccessDenied)?;
    if user.ldap || portal.is_owner(caller) {
        return Err(ApiError::AccessDenied);
    }
    let text = format!(
        "Instructions to disable your profile has been sent to <b>{}</b> email address",
        user.email
    );
    audit::record(
        &mut portal,
        caller,
        audit::USER_SENT_DELETE_INSTRUCTIONS,
        &[],
        Vec::new(),
        jiff::Timestamp::now(),
    );
    Ok(ctx.json(Value::String(text)))
}

/// `POST people/delete/personal/start` (`RemoveUserDataController.StartDeletePersonalFolder`):
/// only a guest (`GetUserTypeAsync` is Guest; anyone else 403 "Access denied") whose
/// My documents exists (`QueueDeletePersonalFolder.StartAsync`, else 403 too) starts
/// the job on their own folder; a running one is returned again.
pub async fn personal_delete_start(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.caller()?;
    let portal = sim.portal();
    if portal.user_type(caller) != UserType::Guest {
        return Err(ApiError::AccessDenied);
    }
    let has_folder = portal
        .user(caller)
        .is_some_and(|u| portal.folders.contains_key(&u.my_documents));
    if !has_folder {
        return Err(ApiError::AccessDenied);
    }
    drop(portal);
    let dto = start_job(&sim, Kind::DeletePersonal, caller, caller, caller, false);
    Ok(ctx.json(dto))
}

/// `GET people/delete/personal/progress` (`GetDeletePersonalFolderProgress`): the
/// caller's own job, or an empty envelope.
pub async fn personal_delete_progress(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.caller()?;
    let now = Instant::now();
    let mut jobs = sim.jobs.lock().expect("jobs lock");
    jobs.expire(now, sim.config.record_ttl);
    Ok(match Kind::DeletePersonal.table(&mut jobs).get(&caller) {
        Some(job) => ctx.json(job.dto(now)),
        None => ctx.ok(Reply::empty()),
    })
}
