//! People: look-ups, the filter, status changes, disabling, creating and deleting
//! users (docspace-api.md §3, §4, §5.7, §16).

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::Value;

use crate::audit;
use crate::server::{Ctx, Sim};
use crate::state::{Guid, Portal, User, UserStatus, UserType};
use crate::wire::{ApiError, Page, Reply};

type Result<T> = std::result::Result<T, ApiError>;

/// `CanUserViewAnotherUserAsync`: admins see everyone, room admins everyone but
/// guests, users and guests only themselves.
pub fn can_view(portal: &Portal, caller: Guid, target: &User) -> bool {
    if caller == target.id || portal.is_admin(caller) {
        return true;
    }
    match portal.user(caller).map(|u| u.kind) {
        Some(UserType::RoomAdmin) => target.kind != UserType::Guest,
        _ => false,
    }
}

pub async fn me(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.caller()?;
    let portal = sim.portal();
    let user = portal.user(caller).ok_or_else(ApiError::not_found_user)?;
    Ok(ctx.json(sim.view(&portal, caller).employee_full(user)))
}

pub async fn by_id(
    State(sim): State<Sim>,
    Path(userid): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    let caller = ctx.caller()?;
    let portal = sim.portal();
    let user = portal
        .user_by_id_or_name(&userid)
        .ok_or_else(ApiError::not_found_user)?;
    if !can_view(&portal, caller, user) {
        return Err(ApiError::AccessDenied);
    }
    Ok(ctx.json(sim.view(&portal, caller).employee_full(user)))
}

pub async fn by_email(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.caller()?;
    let email = ctx.query.get("email").unwrap_or_default().trim().to_owned();
    if email.is_empty() {
        return Err(ApiError::Argument(
            "Value cannot be null. (Parameter 'email')".into(),
        ));
    }
    if !looks_like_email(&email) || email.len() > 255 {
        return Err(ctx.validation("Email", "The Email field is not a valid e-mail address."));
    }
    let portal = sim.portal();
    let user = portal
        .user_by_email(&email)
        .ok_or_else(ApiError::not_found_user)?;
    if !can_view(&portal, caller, user) {
        return Err(ApiError::AccessDenied);
    }
    Ok(ctx.json(sim.view(&portal, caller).employee_full(user)))
}

pub fn looks_like_email(text: &str) -> bool {
    // `[EmailAddress]` only wants one '@' that is neither first nor last.
    text.matches('@').count() == 1 && !text.starts_with('@') && !text.ends_with('@')
}

/// Parses an `EmployeeStatus` name or number.
fn parse_status(text: &str) -> Option<u8> {
    match text.to_ascii_lowercase().as_str() {
        "active" | "1" => Some(1),
        "terminated" | "2" => Some(2),
        "pending" | "4" => Some(4),
        "default" | "5" => Some(5),
        "all" | "7" => Some(7),
        _ => None,
    }
}

/// The users a filter query selects, in the portal's order (`DbUserService`).
fn filtered<'a>(
    portal: &'a Portal,
    caller: Guid,
    ctx: &Ctx,
    status: Option<u8>,
) -> Result<Vec<&'a User>> {
    let admin = portal.is_admin(caller);
    let query = &ctx.query;
    let kind = match query.get("employeeType") {
        None | Some("") => None,
        Some(text) => {
            UserType::parse_or_all(text).ok_or_else(|| ctx.invalid("employeeType", text))?
        }
    };
    let group = ctx.guid_query("groupId")?;
    let members: Option<Vec<Guid>> = group.map(|g| {
        portal
            .group(g)
            .map(|g| g.members.clone())
            .unwrap_or_default()
    });
    let is_admin_filter = query
        .get("isAdministrator")
        .map(|v| v.eq_ignore_ascii_case("true"));
    let ldap_only = query.get("accountLoginType").map(|v| v == "1");
    let separator = query
        .get("filterSeparator")
        .filter(|s| !s.is_empty())
        .unwrap_or(" ");
    let words: Vec<String> = query
        .get("filterValue")
        .unwrap_or_default()
        .to_lowercase()
        .split(separator)
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();

    let mut users: Vec<&User> = portal
        .user_order
        .iter()
        .filter_map(|id| portal.user(*id))
        .filter(|u| match status {
            None => admin || u.status != UserStatus::Terminated,
            Some(2) => admin && u.status == UserStatus::Terminated,
            Some(1 | 5) => u.status == UserStatus::Active,
            Some(4) => u.status == UserStatus::Pending,
            Some(_) => admin || u.status != UserStatus::Terminated,
        })
        .filter(|u| kind.is_none_or(|k| u.kind == k))
        .filter(|u| members.as_ref().is_none_or(|m| m.contains(&u.id)))
        .filter(|u| is_admin_filter.is_none_or(|want| portal.is_admin(u.id) == want))
        .filter(|u| ldap_only.is_none_or(|want| u.ldap == want))
        .filter(|u| {
            words.iter().all(|w| {
                u.first_name.to_lowercase().contains(w)
                    || u.last_name.to_lowercase().contains(w)
                    || u.email.to_lowercase().contains(w)
            })
        })
        .collect();
    users.sort_by_key(|u| (u.first_name.to_lowercase(), u.last_name.to_lowercase()));
    Ok(users)
}

/// `GET people/filter` (`UserController.SearchUsersByExtendedFilter`): `EmployeeFullDto`s.
pub async fn filter(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let status = employee_status(&ctx)?;
    filter_page(&sim, &ctx, status, Dto::Full)
}

/// `GET people/simple/filter` (`UserController.GetSimpleByFilter`): the same
/// `SimpleByFilterRequestDto` and `GetByFilterAsync` (User and Guest callers 403, the
/// count and total), answered with `EmployeeDto`s.
pub async fn simple_filter(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let status = employee_status(&ctx)?;
    filter_page(&sim, &ctx, status, Dto::Short)
}

fn employee_status(ctx: &Ctx) -> Result<Option<u8>> {
    match ctx.query.get("employeeStatus") {
        None | Some("") => Ok(None),
        Some(text) => Ok(Some(
            parse_status(text).ok_or_else(|| ctx.invalid("employeeStatus", text))?,
        )),
    }
}

/// Which user DTO a list answers with.
#[derive(Clone, Copy)]
enum Dto {
    /// `EmployeeFullDto`.
    Full,
    /// `EmployeeDto`.
    Short,
}

/// A page of the filter, for admins and room admins (users and guests get 403).
fn filter_page(sim: &Sim, ctx: &Ctx, status: Option<u8>, dto: Dto) -> Result<Response> {
    let caller = ctx.caller()?;
    let page = Page::from_query(&ctx.query, &ctx.link)?;
    let portal = sim.portal();
    if matches!(
        portal.user(caller).map(|u| u.kind),
        Some(UserType::User | UserType::Guest)
    ) {
        return Err(ApiError::AccessDenied);
    }
    let users = filtered(&portal, caller, ctx, status)?;
    let total = users.len() as u64;
    let v = sim.view(&portal, caller);
    let list: Vec<Value> = page
        .slice(&users)
        .into_iter()
        .map(|u| match dto {
            Dto::Full => v.employee_full(u),
            Dto::Short => v.employee(u),
        })
        .collect();
    Ok(ctx.ok(Reply::new(Value::Array(list)).with_total(total)))
}

/// `GET people`: active users only.
pub async fn list(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.caller()?;
    let page = Page::from_query(&ctx.query, &ctx.link)?;
    let portal = sim.portal();
    let users: Vec<&User> = filtered(&portal, caller, &ctx, Some(1))?
        .into_iter()
        .filter(|u| can_view(&portal, caller, u))
        .collect();
    let total = users.len() as u64;
    let v = sim.view(&portal, caller);
    let list: Vec<Value> = page
        .slice(&users)
        .into_iter()
        .map(|u| v.employee_full(u))
        .collect();
    Ok(ctx.ok(Reply::new(Value::Array(list)).with_total(total)))
}

pub async fn by_status(
    State(sim): State<Sim>,
    Path(status): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    let status = parse_status(&status).ok_or_else(|| ctx.invalid("status", status))?;
    filter_page(&sim, &ctx, Some(status), Dto::Full)
}

/// `PUT people/status/{status}`: all or nothing (docspace-api.md §4.1).
pub async fn update_status(
    State(sim): State<Sim>,
    Path(status): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    let caller = ctx.caller()?;
    let status = parse_status(&status).ok_or_else(|| ctx.invalid("status", status))?;
    if !matches!(status, 1 | 2) {
        return Err(ApiError::Argument("Incorrect status".into()));
    }
    if ctx.body_is_empty() {
        return Err(ctx.validation("inDto", "A non-empty request body is required."));
    }
    let body = ctx.body()?;
    let Some(Value::Array(ids)) = body.get("userIds").cloned() else {
        return Err(ApiError::Argument(
            "Value cannot be null. (Parameter 'source')".into(),
        ));
    };
    let mut portal = sim.portal();
    if !portal.is_admin(caller) {
        return Err(ApiError::AccessDenied);
    }
    let caller_is_owner = portal.is_owner(caller);
    let mut targets = Vec::with_capacity(ids.len());
    for id in &ids {
        // Unknown or deleted ids resolve to the "lost user", which fails the check.
        let user = id
            .as_str()
            .and_then(Guid::parse)
            .and_then(|id| portal.user(id))
            .ok_or(ApiError::AccessDenied)?;
        let protected = user.ldap
            || portal.is_owner(user.id)
            || user.id == caller
            || (user.kind == UserType::DocSpaceAdmin && !caller_is_owner);
        if protected {
            return Err(ApiError::AccessDenied);
        }
        targets.push(user.id);
    }
    let now = jiff::Timestamp::now();
    let mut changed = Vec::new();
    for id in &targets {
        let user = portal.users.get_mut(id).expect("checked above");
        match status {
            2 => {
                user.status = UserStatus::Terminated;
                changed.push(*id);
            }
            _ => {
                if user.status == UserStatus::Terminated {
                    user.status = UserStatus::Active;
                    user.terminated = None;
                    changed.push(*id);
                }
            }
        }
        if status == 2 {
            portal.kill_sessions(*id);
        }
    }
    if !targets.is_empty() {
        let names: Vec<String> = targets
            .iter()
            .filter_map(|id| portal.user(*id))
            .map(User::display_name)
            .collect();
        audit::record(
            &mut portal,
            caller,
            audit::USERS_UPDATED_STATUS,
            &[&names.join(", ")],
            targets.iter().map(Guid::to_string).collect(),
            now,
        );
    }
    let v = sim.view(&portal, caller);
    let list: Vec<Value> = targets
        .iter()
        .filter_map(|id| portal.user(*id))
        .map(|u| v.employee_full(u))
        .collect();
    // A streamed result: the envelope's count is 1 whatever the length.
    Ok(ctx.ok(Reply::new(Value::Array(list)).with_count(1)))
}

/// `PUT people/{userid}`: only `disable` matters here (docspace-api.md §4.2).
pub async fn update_member(
    State(sim): State<Sim>,
    Path(userid): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    let caller = ctx.caller()?;
    let body = ctx.body()?;
    let mut portal = sim.portal();
    let target = portal
        .user_by_id_or_name(&userid)
        .map(|u| u.id)
        .ok_or_else(ApiError::not_found_user)?;
    let is_self = target == caller;
    if !is_self && !portal.is_admin(caller) {
        return Err(ApiError::AccessDenied);
    }
    if !is_self
        && (portal.is_owner(target)
            || (portal
                .user(target)
                .is_some_and(|u| u.kind == UserType::DocSpaceAdmin)
                && !portal.is_owner(caller)))
    {
        return Err(ApiError::AccessDenied);
    }
    let now = jiff::Timestamp::now();
    let mut touched = false;
    {
        let user = portal.users.get_mut(&target).expect("found above");
        if let Some(first) = body.str("firstName") {
            user.first_name = first.to_owned();
            touched = true;
        }
        if let Some(last) = body.str("lastName") {
            user.last_name = last.to_owned();
            touched = true;
        }
    }
    if let Some(disable) = body.bool("disable")
        && !is_self
    {
        let user = portal.users.get_mut(&target).expect("found above");
        if disable {
            user.status = UserStatus::Terminated;
            user.terminated = Some(now);
        } else {
            user.status = UserStatus::Active;
            user.terminated = None;
        }
        portal.kill_sessions(target);
        touched = true;
    }
    if touched {
        let name = portal
            .user(target)
            .map(User::display_name)
            .unwrap_or_default();
        audit::record(
            &mut portal,
            caller,
            audit::USER_UPDATED,
            &[&name],
            vec![target.to_string()],
            now,
        );
    }
    let user = portal.user(target).expect("found above");
    Ok(ctx.json(sim.view(&portal, caller).employee_full(user)))
}

/// `DELETE people/{userid}` (docspace-api.md §5.7).
pub async fn delete(
    State(sim): State<Sim>,
    Path(userid): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    let caller = ctx.caller()?;
    let mut portal = sim.portal();
    if !portal.is_admin(caller) {
        return Err(ApiError::AccessDenied);
    }
    let user = portal
        .user_by_id_or_name(&userid)
        .cloned()
        .ok_or_else(ApiError::not_found_user)?;
    if user.status != UserStatus::Terminated {
        return Err(ApiError::InvalidOperation(
            "The user is not suspended".into(),
        ));
    }
    if user.ldap || portal.is_owner(user.id) {
        return Err(ApiError::AccessDenied);
    }
    if user.kind == UserType::DocSpaceAdmin && !portal.is_owner(caller) {
        return Err(ApiError::AccessDenied);
    }
    let running = sim
        .jobs
        .lock()
        .expect("jobs lock")
        .reassign
        .get(&user.id)
        .is_some_and(|job| job.status == crate::jobs::status::RUNNING);
    if running {
        return Err(ApiError::Server(format!(
            "Data reassign process for {} is not complete.",
            user.display_name()
        )));
    }
    let dto = sim.view(&portal, caller).employee_full(&user);
    let now = jiff::Timestamp::now();
    crate::effects::delete_profile(&mut portal, user.id, caller);
    audit::record(
        &mut portal,
        caller,
        audit::USER_DELETED,
        &[&user.display_name()],
        vec![user.id.to_string()],
        now,
    );
    Ok(ctx.json(dto))
}
