//! Audit and login history, sessions, API keys, authentication and portal
//! registration (docspace-api.md §9, §10, §16).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::audit;
use crate::server::{Ctx, Sim};
use crate::state::{ApiKey, Guid, LoginEvent, Portal, Session, User, UserStatus, UserType};
use crate::wire::{ApiError, Page, Reply, json_response, parse_api_datetime};

type Result<T> = std::result::Result<T, ApiError>;

/// `from`/`to` bounds: a value without a zone fails model binding (400).
fn bound(ctx: &Ctx, name: &str) -> Result<Option<jiff::Timestamp>> {
    match ctx.query.get(name).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => parse_api_datetime(text)
            .map(Some)
            .ok_or_else(|| ctx.validation(name, "The input was not valid.")),
    }
}

fn demand_audit(portal: &Portal, caller: Guid) -> Result<()> {
    if portal.is_admin(caller) {
        Ok(())
    } else {
        Err(ApiError::AccessDenied)
    }
}

/// `GET security/audit/events/filter` (§9.1). Without the plan's audit feature every
/// filter is ignored and the last 20 events come back.
pub async fn audit_events(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.caller()?;
    let page = Page::from_query(&ctx.query, &ctx.link)?;
    let from = bound(&ctx, "from")?;
    let to = bound(&ctx, "to")?;
    let q = &ctx.query;
    let number = |name: &str| -> Result<Option<i64>> {
        match q.get(name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(t) => t.parse::<i64>().map(Some).map_err(|_| ctx.invalid(name, t)),
        }
    };
    let user = ctx.guid_query("userId")?;
    let action = number("action")?.filter(|a| *a != 0);
    let action_type = number("actionType")?.filter(|a| *a != 0);
    let module = number("moduleType")?.filter(|a| *a != 0);
    let entry_type = number("entryType")?.filter(|a| *a != 0);
    let target = q.get("target").filter(|t| !t.is_empty()).map(str::to_owned);

    let portal = sim.portal();
    demand_audit(&portal, caller)?;
    let v = sim.view(&portal, caller);
    let mut events: Vec<_> = portal.audit.iter().rev().collect();
    if !portal.audit_feature {
        let last: Vec<Value> = events.iter().take(20).map(|e| v.audit_event(e)).collect();
        return Ok(ctx.json(Value::Array(last)));
    }
    events.retain(|e| {
        user.is_none_or(|u| e.user == u)
            && action.is_none_or(|a| i64::from(e.action) == a)
            && action_type.is_none_or(|a| i64::from(e.action_type) == a)
            && module.is_none_or(|m| i64::from(e.location) == m)
            && entry_type.is_none_or(|t| e.entries.iter().any(|x| i64::from(*x) == t))
            && from.is_none_or(|f| e.date >= f)
            && to.is_none_or(|t| e.date <= t)
            && target.as_ref().is_none_or(|t| {
                let joined = e.target.join(",");
                if action.is_some() {
                    joined == *t
                } else {
                    joined.contains(t.as_str())
                }
            })
    });
    let list: Vec<Value> = page
        .slice(&events)
        .into_iter()
        .map(|e| v.audit_event(e))
        .collect();
    Ok(ctx.json(Value::Array(list)))
}

/// `GET security/audit/login/filter` (§9.2): paging is applied before the filters.
pub async fn login_events(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.caller()?;
    let page = Page::from_query(&ctx.query, &ctx.link)?;
    let from = bound(&ctx, "from")?;
    let to = bound(&ctx, "to")?;
    let user = ctx.guid_query("userId")?;
    let action = ctx
        .query
        .get("action")
        .and_then(|a| a.parse::<u32>().ok())
        .filter(|a| *a != 0);
    let portal = sim.portal();
    demand_audit(&portal, caller)?;
    let v = sim.view(&portal, caller);
    let newest: Vec<&LoginEvent> = portal.logins.iter().rev().collect();
    if !portal.audit_feature {
        let last: Vec<Value> = newest.iter().take(20).map(|e| v.login_event(e)).collect();
        return Ok(ctx.json(Value::Array(last)));
    }
    let list: Vec<Value> = page
        .slice(&newest)
        .into_iter()
        .filter(|e| {
            user.is_none_or(|u| e.user == u)
                && action.is_none_or(|a| e.action == a)
                && from.is_none_or(|f| e.date >= f)
                && to.is_none_or(|t| e.date <= t)
        })
        .map(|e| v.login_event(e))
        .collect();
    Ok(ctx.json(Value::Array(list)))
}

/// `GET security/activeconnections`: the caller's own sessions.
pub async fn active_connections(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.caller()?;
    let portal = sim.portal();
    let v = sim.view(&portal, caller);
    let items: Vec<Value> = portal
        .logins
        .iter()
        .filter(|e| e.user == caller && e.active)
        .map(|e| {
            json!({
                "id": e.id, "tenantId": 1, "userId": caller.to_string(), "mobile": false,
                "ip": "127.0.0.1", "country": "", "city": "", "browser": "docspace-sim",
                "platform": "Linux", "date": v.login_event(e)["date"], "page": format!("{}/", sim.base_url),
            })
        })
        .collect();
    let current = portal
        .logins
        .iter()
        .rev()
        .find(|e| e.user == caller && e.active)
        .map_or(0, |e| e.id);
    Ok(ctx.json(json!({"loginEvent": current, "items": items})))
}

/// `PUT security/activeconnections/logoutall/{userId}` (§10.1).
pub async fn logout_all(
    State(sim): State<Sim>,
    Path(user): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    let caller = ctx.caller()?;
    let user = Guid::parse(&user).ok_or(ApiError::Empty(StatusCode::NOT_FOUND))?;
    let mut portal = sim.portal();
    if user != caller && !portal.is_admin(caller) {
        return Err(ApiError::AccessDenied);
    }
    if let Some(name) = portal.user(user).map(User::display_name) {
        portal.kill_sessions(user);
        audit::record(
            &mut portal,
            caller,
            audit::USER_LOGOUT_ACTIVE_CONNECTIONS_FOR_USER,
            &[&name],
            vec![user.to_string()],
            jiff::Timestamp::now(),
        );
    }
    Ok(ctx.ok(Reply::empty()))
}

/// `GET keys`: admins see every key of the portal, others their own.
pub async fn keys(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.caller()?;
    let portal = sim.portal();
    let admin = portal.is_admin(caller);
    let v = sim.view(&portal, caller);
    let list: Vec<Value> = portal
        .keys
        .iter()
        .filter(|k| admin || k.created_by == caller)
        .map(|k| v.api_key(k, false))
        .collect();
    Ok(ctx.json(Value::Array(list)))
}

/// `POST keys` `{name, permissions, expiresInDays}`.
pub async fn create_key(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.caller()?;
    let body = ctx.body()?;
    let name = body.str("name").unwrap_or_default().trim().to_owned();
    if name.is_empty() || name.chars().count() > 30 {
        return Err(ctx.validation(
            "Name",
            "The field Name must be a string with a maximum length of 30.",
        ));
    }
    let expires = match body.i64("expiresInDays") {
        None => None,
        Some(days) if (1..=365).contains(&days) => {
            Some(jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * days))
        }
        Some(_) => {
            return Err(ctx.validation(
                "ExpiresInDays",
                "The field ExpiresInDays must be between 1 and 365.",
            ));
        }
    };
    let permissions: Vec<String> = body
        .array("permissions")
        .iter()
        .filter_map(|p| p.as_str().map(str::to_owned))
        .collect();
    let known = [
        "files:read",
        "files:write",
        "rooms:read",
        "rooms:write",
        "accounts:read",
        "accounts:write",
        "accounts.self:read",
        "accounts.self:write",
        "*:read",
        "*:write",
        "*",
    ];
    if let Some(bad) = permissions.iter().find(|p| !known.contains(&p.as_str())) {
        return Err(ApiError::Argument(format!("Invalid permission: {bad}")));
    }
    let mut portal = sim.portal();
    let key = new_key(&sim, &name, caller, permissions, expires);
    let dto = sim.view(&portal, caller).api_key(&key, true);
    audit::record(
        &mut portal,
        caller,
        audit::API_KEY_CREATED,
        &[&format!("sk-***{}", key.postfix())],
        vec![key.id.to_string()],
        key.created,
    );
    portal.keys.push(key);
    Ok(ctx.json(dto))
}

/// A fresh key with a seeded secret.
pub fn new_key(
    sim: &Sim,
    name: &str,
    owner: Guid,
    permissions: Vec<String>,
    expires: Option<jiff::Timestamp>,
) -> ApiKey {
    let mut rng = sim.rng.lock().expect("rng lock");
    let secret = format!("sk-{:032x}{:032x}", rng.u128(..), rng.u128(..));
    ApiKey {
        id: Guid(rng.u128(..)),
        name: name.to_owned(),
        secret,
        permissions,
        created_by: owner,
        created: jiff::Timestamp::now(),
        last_used: None,
        expires,
        active: true,
    }
}

/// `DELETE keys/{keyId}`: admins may delete anyone's key; an unknown id is a 500.
pub async fn delete_key(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    let caller = ctx.caller()?;
    let mut portal = sim.portal();
    let id = Guid::parse(&id).ok_or_else(|| ctx.invalid("keyId", id))?;
    let Some(index) = portal.keys.iter().position(|k| k.id == id) else {
        return Err(ApiError::Server(
            "Object reference not set to an instance of an object.".into(),
        ));
    };
    if !portal.is_admin(caller) && portal.keys[index].created_by != caller {
        return Ok(ctx.json(Value::Bool(false)));
    }
    let key = portal.keys.remove(index);
    audit::record(
        &mut portal,
        caller,
        audit::API_KEY_DELETED,
        &[&format!("sk-***{}", key.postfix())],
        vec![key.id.to_string()],
        jiff::Timestamp::now(),
    );
    Ok(ctx.json(Value::Bool(true)))
}

/// `PUT keys/{keyId}` `{name, permissions, isActive}`.
pub async fn update_key(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    let caller = ctx.caller()?;
    let body = ctx.body()?;
    let mut portal = sim.portal();
    let id = Guid::parse(&id).ok_or_else(|| ctx.invalid("keyId", id))?;
    let admin = portal.is_admin(caller);
    let Some(key) = portal.keys.iter_mut().find(|k| k.id == id) else {
        return Err(ApiError::Server(
            "Object reference not set to an instance of an object.".into(),
        ));
    };
    let expired = key.expires.is_some_and(|e| e <= jiff::Timestamp::now());
    if (!admin && key.created_by != caller) || expired {
        return Ok(ctx.json(Value::Bool(false)));
    }
    if let Some(name) = body.str("name") {
        key.name = name.to_owned();
    }
    if let Some(active) = body.bool("isActive") {
        key.active = active;
    }
    Ok(ctx.json(Value::Bool(true)))
}

/// `GET keys/@self`: the key the request was made with is not known here; the
/// caller's keys are listed.
/// `GET keys/@self` (`ApiKeysController.GetApiKey`): the calling key itself, found by
/// the bearer token (`ApiKeyManager.GetApiKeyAsync(token)`), as one
/// `ApiKeyResponseDto` with its `permissions`; no response for a session token or
/// Basic credentials. No scope is needed to ask (§1.2).
pub async fn keys_self(
    State(sim): State<Sim>,
    headers: axum::http::HeaderMap,
    ctx: Ctx,
) -> Result<Response> {
    let caller = ctx.caller()?;
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .trim();
    let portal = sim.portal();
    let v = sim.view(&portal, caller);
    match portal.keys.iter().find(|k| k.secret == token) {
        Some(key) => Ok(ctx.json(v.api_key(key, false))),
        None => Ok(ctx.ok(crate::wire::Reply::empty())),
    }
}

pub async fn key_permissions(ctx: Ctx) -> Result<Response> {
    ctx.caller()?;
    Ok(ctx.json(json!([
        "files:read",
        "files:write",
        "rooms:read",
        "rooms:write",
        "accounts:read",
        "accounts:write",
        "accounts.self:read",
        "accounts.self:write",
        "*:read",
        "*:write"
    ])))
}

/// `POST authentication` `{userName, password}` → a session token.
pub async fn authenticate(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let body = ctx.body()?;
    let login = body.str("userName").unwrap_or_default().to_owned();
    let password = body.str("password").unwrap_or_default();
    let mut portal = sim.portal();
    let now = jiff::Timestamp::now();
    let user = portal
        .user_by_email(&login)
        .filter(|u| u.password.as_deref() == Some(password) && u.status == UserStatus::Active)
        .cloned();
    let Some(user) = user else {
        if let Some(u) = portal.user_by_email(&login).map(|u| u.id) {
            portal.record_login(LoginEvent {
                id: 0,
                date: now,
                user: u,
                login: login.clone(),
                action: audit::LOGIN_FAIL,
                active: false,
            });
        }
        return Err(ApiError::Authentication(
            "User authentication failed".into(),
        ));
    };
    let event = portal.record_login(LoginEvent {
        id: 0,
        date: now,
        user: user.id,
        login: login.clone(),
        action: audit::LOGIN_SUCCESS_VIA_API,
        active: true,
    });
    let token = {
        let mut rng = sim.rng.lock().expect("rng lock");
        format!("{:032x}{:032x}", rng.u128(..), rng.u128(..))
    };
    let expires = now + jiff::SignedDuration::from_hours(24 * 20);
    portal.sessions.insert(
        token.clone(),
        Session {
            user: user.id,
            cookie_index: user.cookie_index,
            login_event: event,
            expires,
        },
    );
    let v = sim.view(&portal, user.id);
    Ok(ctx.json(json!({
        "token": token,
        "expires": crate::wire::api_datetime(expires, &v.portal.zone),
        "sms": false,
        "tfa": false,
    })))
}

/// `POST /apisystem/portal/register`: resets the simulator to an empty portal owned
/// by the given account (§16). Not the `/api/2.0` envelope.
pub async fn register(State(sim): State<Sim>, ctx: Ctx) -> Response {
    let body = match ctx.body() {
        Ok(body) => body,
        Err(_) => return register_error("portalNameEmpty", "Request body is not valid JSON"),
    };
    let email = body.str("email").unwrap_or_default().trim().to_owned();
    let password = body.str("password").unwrap_or_default().to_owned();
    let portal_name = body.str("portalName").unwrap_or_default().trim().to_owned();
    if portal_name.is_empty() {
        return register_error("portalNameEmpty", "PortalName is required");
    }
    if !email.contains('@') {
        return register_error("emailIncorrect", "Email is incorrect");
    }
    if password.len() < 8 {
        return register_error(
            "passPolicyError",
            "Password must be at least 8 characters long",
        );
    }
    let zone_name = body.str("timeZoneName").unwrap_or("UTC").to_owned();
    let Ok(zone) = jiff::tz::TimeZone::get(&zone_name) else {
        return register_error("timeZoneIncorrect", "Time zone is incorrect");
    };
    let mut fresh = Portal::empty(&portal_name, zone, true);
    let owner = Guid(sim.rng.lock().expect("rng lock").u128(..));
    let now = jiff::Timestamp::now();
    fresh.add_user(User {
        id: owner,
        email: email.clone(),
        first_name: body.str("firstName").unwrap_or_default().to_owned(),
        last_name: body.str("lastName").unwrap_or_default().to_owned(),
        user_name: email.split('@').next().unwrap_or_default().to_owned(),
        kind: UserType::DocSpaceAdmin,
        status: UserStatus::Active,
        activation: 1,
        ldap: false,
        password: Some(password),
        registered: now,
        terminated: None,
        created_by: None,
        cookie_index: 0,
        my_documents: 0,
        trash: 0,
    });
    fresh.owner = owner;
    let created = crate::wire::api_datetime(now, &fresh.zone);
    *sim.portal() = fresh;
    *sim.jobs.lock().expect("jobs lock") = crate::jobs::Jobs::default();
    let body = json!({
        "reference": format!("{}/", sim.base_url),
        "tenant": {
            "created": created,
            "domain": "127.0.0.1",
            "language": body.str("language").unwrap_or("en-US"),
            "name": portal_name,
            "ownerId": owner.to_string(),
            "portalName": portal_name,
            "status": "Active",
            "tenantId": 1,
            "timeZoneId": zone_name,
            "timeZoneName": zone_name,
            "customQuota": -1,
        },
    });
    json_response(StatusCode::OK, &body)
}

fn register_error(error: &str, message: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({"error": error, "message": message}),
    )
}

/// Turns any pipeline value into an empty-body status (used by the fallback route).
pub async fn no_route() -> Response {
    ApiError::Empty(StatusCode::NOT_FOUND).into_response()
}
