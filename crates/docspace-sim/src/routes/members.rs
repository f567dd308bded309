//! Adding users: `POST people` and `POST people/active` (docspace-api.md §16, §17),
//! as `UserController.AddMember` and `UserController.AddMemberAsActivated`
//! (products/ASC.People/Server/Api/UserController.cs) and
//! `UserManagerWrapper.AddUserAsync` (web/ASC.Web.Core/Users/UserManagerWrapper.cs)
//! do it for an admin's request without an invitation link.

use axum::extract::State;
use axum::response::Response;
use serde_json::Value;

use crate::audit;
use crate::routes::people::looks_like_email;
use crate::server::{Ctx, Sim};
use crate::state::{Guid, User, UserStatus, UserType};
use crate::wire::{ApiError, JsonBody};

type Result<T> = std::result::Result<T, ApiError>;

/// `MemberRequestDto`, the fields the simulator keeps.
struct MemberRequest {
    email: Option<String>,
    /// `None` is `EmployeeType.All` (the default): admins only, and the user ends up
    /// in no type group, i.e. a RoomAdmin (`AddUserAsync`).
    kind: Option<UserType>,
    first_name: String,
    last_name: String,
    password: Option<String>,
}

/// Model binding and validation of `MemberRequestDto` (`[EmailAddress]`,
/// `[StringLength(255)]` on e-mail and names, `EmployeeType` by name or number).
fn member_request(ctx: &Ctx, body: &JsonBody) -> Result<MemberRequest> {
    let email = match body.entry("email") {
        None | Some((_, Value::Null)) => None,
        Some((_, Value::String(email))) => Some(email.clone()),
        Some((key, _)) => return Err(ctx.json_type_error(key, "System.String")),
    };
    if let Some(email) = &email {
        if !looks_like_email(email) {
            return Err(ctx.validation("Email", "The Email field is not a valid e-mail address."));
        }
        if email.chars().count() > 255 {
            return Err(max_length(ctx, "Email"));
        }
    }
    let mut names = [String::new(), String::new()];
    for (slot, field) in names.iter_mut().zip(["FirstName", "LastName"]) {
        match body.entry(field) {
            None | Some((_, Value::Null)) => {}
            Some((_, Value::String(text))) if text.chars().count() > 255 => {
                return Err(max_length(ctx, field));
            }
            Some((_, Value::String(text))) => text.clone_into(slot),
            Some((key, _)) => return Err(ctx.json_type_error(key, "System.String")),
        }
    }
    // JsonStringEnumConverter: a known name, or any integer (one that is no type
    // grants no role, like All).
    let kind = match body.entry("type") {
        None | Some((_, Value::Null)) => None,
        Some((_, Value::Number(n))) => n.as_i64().and_then(|n| UserType::parse(&n.to_string())),
        Some((key, Value::String(text))) => UserType::parse_or_all(text)
            .ok_or_else(|| ctx.json_type_error(key, "ASC.Core.Users.EmployeeType"))?,
        Some((key, _)) => return Err(ctx.json_type_error(key, "ASC.Core.Users.EmployeeType")),
    };
    let [first_name, last_name] = names;
    Ok(MemberRequest {
        email,
        kind,
        first_name,
        last_name,
        password: body.str("password").map(str::to_owned),
    })
}

fn max_length(ctx: &Ctx, field: &str) -> ApiError {
    ctx.validation(
        field,
        format!("The field {field} must be a string with a maximum length of 255."),
    )
}

/// The password step both actions share: with a `passwordHash` the password is not
/// looked at (the simulator cannot check a hash, so nobody can sign in with one); a
/// blank password is replaced by a generated one nobody knows; anything else must
/// pass the default policy (`PasswordSettingsManager.CheckPassword`, web/ASC.Web.Core/
/// Utility/PasswordSettings.cs: 8 to 30 printable ASCII characters, no spaces), or it
/// is an `ArgumentException`.
fn checked_password(body: &JsonBody, password: Option<&str>) -> Result<Option<String>> {
    if body
        .str("passwordHash")
        .is_some_and(|h| !h.trim().is_empty())
    {
        return Ok(None);
    }
    let password = password.unwrap_or_default().trim();
    if password.is_empty() {
        return Ok(None);
    }
    let length = password.chars().count();
    if !(8..=30).contains(&length) || !password.chars().all(|c| ('\x21'..='\x7e').contains(&c)) {
        return Err(ApiError::Argument(
            "Password must contain from 8 to 30 characters, only latin letters, no spaces".into(),
        ));
    }
    Ok(Some(password.to_owned()))
}

/// `AddUserAsync` for both actions: `new MailAddress(email)` (a missing e-mail is an
/// `ArgumentNullException`), the unique e-mail check, then an active user whose
/// activation is pending, created by the caller.
fn add_user(
    sim: &Sim,
    caller: Guid,
    request: MemberRequest,
    password: Option<String>,
) -> Result<Guid> {
    let Some(email) = request.email else {
        return Err(ApiError::Argument(
            "Value cannot be null. (Parameter 'address')".into(),
        ));
    };
    let mut portal = sim.portal();
    if portal.user_by_email(&email).is_some() {
        return Err(ApiError::Argument(
            "User with this email is already registered".into(),
        ));
    }
    let id = Guid(sim.rng.lock().expect("rng lock").u128(..));
    portal.add_user(User {
        id,
        user_name: email.split('@').next().unwrap_or_default().to_owned(),
        email,
        first_name: request.first_name,
        last_name: request.last_name,
        kind: request.kind.unwrap_or(UserType::RoomAdmin),
        status: UserStatus::Active,
        activation: 2,
        ldap: false,
        password,
        registered: jiff::Timestamp::now(),
        terminated: None,
        created_by: Some(caller),
        cookie_index: 0,
        my_documents: 0,
        trash: 0,
    });
    Ok(id)
}

/// `POST people` (`UserController.AddMember`): the permission for the type
/// (`UserSecurityProvider(Guid.Empty, Type)`, `Action_AddRemoveUser`), then never a
/// Guest, a RoomAdmin only from a DocSpace admin, a DocSpaceAdmin only from the
/// owner. Logs `UserCreated` (4000).
pub async fn create(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.caller()?;
    let body = ctx.body()?;
    let request = member_request(&ctx, &body)?;
    {
        let portal = sim.portal();
        if !portal.may_add_remove(caller, request.kind) {
            return Err(ApiError::AccessDenied);
        }
        let refused = match request.kind {
            Some(UserType::Guest) => true,
            Some(UserType::RoomAdmin) => portal.user_type(caller) != UserType::DocSpaceAdmin,
            Some(UserType::DocSpaceAdmin) => !portal.is_owner(caller),
            _ => false,
        };
        if refused {
            return Err(ApiError::AccessDenied);
        }
    }
    let password = checked_password(&body, request.password.as_deref())?;
    let id = add_user(&sim, caller, request, password)?;
    let mut portal = sim.portal();
    let name = portal.user(id).map(User::display_name).unwrap_or_default();
    audit::record(
        &mut portal,
        caller,
        audit::USER_CREATED,
        &[&name],
        vec![id.to_string()],
        jiff::Timestamp::now(),
    );
    let user = portal.user(id).expect("just added");
    Ok(ctx.json(sim.view(&portal, caller).employee_full(user)))
}

/// `POST people/active` (`UserController.AddMemberAsActivated`): only the permission
/// for the type, so a room admin adds users and guests and an admin any type, Guest
/// and DocSpaceAdmin included. Logs nothing; answers the new user's `EmployeeFullDto`.
pub async fn create_activated(State(sim): State<Sim>, ctx: Ctx) -> Result<Response> {
    let caller = ctx.caller()?;
    let body = ctx.body()?;
    let request = member_request(&ctx, &body)?;
    if !sim.portal().may_add_remove(caller, request.kind) {
        return Err(ApiError::AccessDenied);
    }
    let password = checked_password(&body, request.password.as_deref())?;
    let id = add_user(&sim, caller, request, password)?;
    let portal = sim.portal();
    let user = portal.user(id).expect("just added");
    Ok(ctx.json(sim.view(&portal, caller).employee_full(user)))
}
