//! Groups (docspace-api.md §11): `GroupController` in
//! products/ASC.People/Server/Api/GroupsController.cs.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use crate::audit;
use crate::server::{Ctx, Sim};
use crate::state::{Group, Guid, Portal, UserStatus, UserType};
use crate::wire::{ApiError, Page, Reply, json_guid};

type Result<T> = std::result::Result<T, ApiError>;

/// `GET group` (§11): without members, by name substring.
pub async fn groups(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.caller()?;
    let page = Page::from_query(&ctx.query, &ctx.link)?;
    let portal = sim.portal();
    demand_read_groups(&portal, caller)?;
    let needle = ctx
        .query
        .get("filterValue")
        .unwrap_or_default()
        .to_lowercase();
    let user = ctx.query.get("userId").and_then(Guid::parse);
    let mut list: Vec<&Group> = portal
        .groups
        .iter()
        .filter(|g| g.name.to_lowercase().contains(&needle))
        .filter(|g| user.is_none_or(|u| g.members.contains(&u)))
        .collect();
    list.sort_by_key(|g| g.name.to_lowercase());
    let total = list.len() as u64;
    let v = sim.view(&portal, caller);
    let shown: Vec<Value> = page
        .slice(&list)
        .into_iter()
        .map(|g| v.group(g, false))
        .collect();
    Ok(ctx.ok(Reply::new(Value::Array(shown)).with_total(total)))
}

fn demand_read_groups(portal: &Portal, caller: Guid) -> Result<()> {
    let room_admin = portal
        .user(caller)
        .is_some_and(|u| u.kind == UserType::RoomAdmin);
    if portal.is_admin(caller) || room_admin {
        Ok(())
    } else {
        Err(ApiError::AccessDenied)
    }
}

pub async fn group(State(sim): State<Sim>, Path(id): Path<String>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.caller()?;
    let id = Guid::parse(&id).ok_or(ApiError::Empty(StatusCode::NOT_FOUND))?;
    let portal = sim.portal();
    demand_read_groups(&portal, caller)?;
    let group = portal
        .group(id)
        .ok_or_else(|| ApiError::NotFound("The group could not be found".into()))?;
    let members = !ctx
        .query
        .get("includeMembers")
        .is_some_and(|v| v.eq_ignore_ascii_case("false"));
    Ok(ctx.json(sim.view(&portal, caller).group(group, members)))
}

/// `GET group/user/{userid:guid}` (`GroupController.GetGroupByUserId`): after
/// `Action_ReadGroups`, the user's groups (`GetUserGroupsAsync`: no system groups, by
/// name) as `GroupSummaryDto`s; an unknown user has none. A value that is no GUID
/// fails the route constraint: an empty 404.
pub async fn groups_of_user(
    State(sim): State<Sim>,
    Path(userid): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    let user = Guid::parse(&userid).ok_or(ApiError::Empty(StatusCode::NOT_FOUND))?;
    let caller = ctx.caller()?;
    let portal = sim.portal();
    demand_read_groups(&portal, caller)?;
    let v = sim.view(&portal, caller);
    let list: Vec<Value> = portal
        .user_groups(user)
        .into_iter()
        .map(|g| v.group_summary(g))
        .collect();
    Ok(ctx.json(Value::Array(list)))
}

/// `POST group` (`GroupController.AddGroup`) with a `GroupRequestDto`
/// (products/ASC.People/Server/ApiModels/RequestDto/GroupRequestDto.cs).
///
/// Model binding first: `GroupName` a string of 1 to 128 characters
/// (`[StringLength(128, MinimumLength = 1)]`), `GroupManager` a GUID, `Members` GUIDs;
/// a value of the wrong JSON type is a validation error under its JSON path. Then the
/// action: `Action_EditGroups` and `Action_AddRemoveUser` (admins), a null or blank
/// name (`ArgumentException.ThrowIfNullOrWhiteSpace`), and every member and the
/// manager must be an active non-guest user (`ValidateUserAsync`, else "The user could
/// not be found"). Members are a set (`ToHashSet`, `AddUserIntoGroupAsync`); the
/// manager is one of them. The name is kept as sent.
pub async fn create_group(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.caller()?;
    let body = ctx.body()?;
    let name = match body.entry("groupName") {
        None => return Err(ctx.validation("GroupName", "The GroupName field is required.")),
        Some((_, Value::Null)) => None,
        Some((_, Value::String(name))) => {
            if !(1..=128).contains(&name.chars().count()) {
                return Err(ctx.validation(
                    "GroupName",
                    "The field GroupName must be a string with a minimum length of 1 and a maximum length of 128.",
                ));
            }
            Some(name.clone())
        }
        Some((key, _)) => return Err(ctx.json_type_error(key, "System.String")),
    };
    let manager = match body.entry("groupManager") {
        None => Guid::EMPTY,
        Some((key, value)) => {
            json_guid(value).ok_or_else(|| ctx.json_type_error(key, "System.Guid"))?
        }
    };
    let mut members: Vec<Guid> = Vec::new();
    match body.entry("members") {
        None | Some((_, Value::Null)) => {}
        Some((key, Value::Array(items))) => {
            for (i, item) in items.iter().enumerate() {
                let member = json_guid(item)
                    .ok_or_else(|| ctx.json_type_error(&format!("{key}[{i}]"), "System.Guid"))?;
                if !members.contains(&member) {
                    members.push(member);
                }
            }
        }
        Some((key, _)) => {
            return Err(
                ctx.json_type_error(key, "System.Collections.Generic.IEnumerable`1[System.Guid]")
            );
        }
    }
    let mut portal = sim.portal();
    if !portal.is_admin(caller) {
        return Err(ApiError::AccessDenied);
    }
    let name = match name {
        None => {
            return Err(ApiError::Argument(
                "Value cannot be null. (Parameter 'inDto.GroupName')".into(),
            ));
        }
        Some(name) if name.trim().is_empty() => {
            return Err(ApiError::Argument(
                "The value cannot be an empty string or composed entirely of whitespace. (Parameter 'inDto.GroupName')".into(),
            ));
        }
        Some(name) => name,
    };
    let manager = (manager != Guid::EMPTY).then_some(manager);
    if let Some(m) = manager
        && !members.contains(&m)
    {
        members.insert(0, m);
    }
    let valid = |id: &Guid| {
        portal
            .user(*id)
            .is_some_and(|u| u.status != UserStatus::Terminated && u.kind != UserType::Guest)
    };
    if !members.iter().all(valid) {
        return Err(ApiError::Argument("The user could not be found".into()));
    }
    let id = Guid(sim.rng.lock().expect("rng lock").u128(..));
    portal.groups.push(Group {
        id,
        name: name.clone(),
        manager,
        members,
    });
    audit::record(
        &mut portal,
        caller,
        audit::GROUP_CREATED,
        &[&name],
        vec![id.to_string()],
        jiff::Timestamp::now(),
    );
    let group = portal.group(id).expect("just added");
    Ok(ctx.json(sim.view(&portal, caller).group(group, true)))
}

/// `DELETE group/{id}/members` `{members}`.
pub async fn remove_group_members(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    let caller = ctx.caller()?;
    let body = ctx.body()?;
    let id = Guid::parse(&id).ok_or(ApiError::Empty(StatusCode::NOT_FOUND))?;
    let mut portal = sim.portal();
    if !portal.is_admin(caller) {
        return Err(ApiError::AccessDenied);
    }
    let remove: Vec<Guid> = body
        .array("members")
        .iter()
        .filter_map(|m| m.as_str().and_then(Guid::parse))
        .collect();
    let group = portal
        .groups
        .iter_mut()
        .find(|g| g.id == id)
        .ok_or_else(|| ApiError::NotFound("The group could not be found".into()))?;
    group.members.retain(|m| !remove.contains(m));
    let group = portal.group(id).expect("found above");
    Ok(ctx.json(sim.view(&portal, caller).group(group, true)))
}
