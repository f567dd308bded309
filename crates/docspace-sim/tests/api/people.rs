//! People: look-ups, the filter, status changes and disabling (§3, §4, §5.7, §16).

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn users_are_found_by_id_user_name_and_email() {
    let p = Portal::start().await;
    let by_id = p.get(&format!("/api/2.0/people/{LEAVER}"), OWNER).await;
    assert_eq!(by_id.response()["email"], "leaver@example.com");
    let by_name = p.get("/api/2.0/people/leaver", OWNER).await;
    assert_eq!(by_name.response()["id"], LEAVER);
    let by_email = p
        .get("/api/2.0/people/email?email=LEAVER%40example.com", OWNER)
        .await;
    assert_eq!(by_email.response()["id"], LEAVER);
    let disabled = p
        .get("/api/2.0/people/email?email=gone%40example.com", OWNER)
        .await;
    assert_eq!(disabled.response()["status"], 2, "disabled users are found");
    let bad = p
        .get("/api/2.0/people/email?email=not-an-email", OWNER)
        .await;
    assert_eq!((bad.status, bad.json()["status"].clone()), (400, json!(1)));
    let missing = p
        .get("/api/2.0/people/email?email=nobody%40example.com", OWNER)
        .await;
    assert_eq!(
        (missing.status, missing.error_message()),
        (404, "The user could not be found".into())
    );
}

#[tokio::test]
async fn users_of_type_user_only_see_themselves() {
    let p = Portal::start().await;
    let other = p.get(&format!("/api/2.0/people/{LEAVER}"), PLAIN).await;
    assert_eq!(
        (other.status, other.error_message()),
        (403, "Access denied".into())
    );
    let filter = p.get("/api/2.0/people/filter", PLAIN).await;
    assert_eq!(filter.status, 403);
}

#[tokio::test]
async fn the_filter_pages_with_a_total_and_hides_disabled_users_from_non_admins() {
    let p = Portal::start().await;
    let all = p.get("/api/2.0/people/filter", OWNER).await;
    let total = all.json()["total"].as_u64().unwrap();
    assert_eq!(total, 10);
    let page = p
        .get("/api/2.0/people/filter?count=3&startIndex=9", OWNER)
        .await;
    assert_eq!(page.response().as_array().unwrap().len(), 1);
    assert_eq!(page.json()["total"], 10);

    let disabled = p
        .get("/api/2.0/people/filter?employeeStatus=2", OWNER)
        .await;
    let emails: Vec<_> = disabled
        .response()
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].clone())
        .collect();
    assert_eq!(emails, vec![json!("gone@example.com")]);
    let as_room_admin = p
        .get("/api/2.0/people/filter?employeeStatus=2", MANAGER)
        .await;
    assert_eq!(
        (as_room_admin.status, as_room_admin.response()),
        (200, json!([]))
    );

    let by_text = p
        .get("/api/2.0/people/filter?filterValue=LEA%20ver", OWNER)
        .await;
    assert_eq!(by_text.response()[0]["id"], LEAVER);
    let by_type = p
        .get("/api/2.0/people/filter?employeeType=Guest", OWNER)
        .await;
    assert_eq!(by_type.json()["total"], 1);
    let by_group = p
        .get(
            &format!("/api/2.0/people/filter?groupId={}", p.group_id("Sales")),
            OWNER,
        )
        .await;
    assert_eq!(by_group.json()["total"], 2);
    let bad = p
        .get("/api/2.0/people/filter?employeeStatus=Sleeping", OWNER)
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn disabling_is_all_or_nothing() {
    let p = Portal::start().await;
    let owner = p.user_id("owner@example.com");
    let ldap = p.user_id("ldap@example.com");
    let admin = p.user_id("admin@example.com");
    let keeper = p.user_id("keeper@example.com");
    let unknown = "33333333-3333-4333-8333-333333333333";
    for (key, culprit) in [
        (OWNER, owner.as_str()),
        (OWNER, ldap.as_str()),
        (OWNER, unknown),
        (ADMIN, admin.as_str()),
        (ADMIN, keeper.as_str()),
    ] {
        let answer = p
            .call(
                "PUT",
                "/api/2.0/people/status/2",
                key,
                Some(json!({"userIds": [LEAVER, culprit]})),
            )
            .await;
        assert_eq!(
            (answer.status, answer.error_message()),
            (403, "Access denied".into()),
            "{culprit}"
        );
    }
    assert_eq!(status_of(&p, "leaver@example.com"), 1, "nothing changed");
    // The owner may disable another admin; a room admin may not disable anyone.
    let by_manager = p
        .call(
            "PUT",
            "/api/2.0/people/status/2",
            MANAGER,
            Some(json!({"userIds": [SECOND]})),
        )
        .await;
    assert_eq!(by_manager.status, 403);
    let ok = p
        .call(
            "PUT",
            "/api/2.0/people/status/2",
            OWNER,
            Some(json!({"userIds": [LEAVER, keeper]})),
        )
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json()["count"], 1, "a streamed result says count 1");
    assert_eq!(ok.response().as_array().unwrap().len(), 2);
    assert_eq!(status_of(&p, "leaver@example.com"), 2);
    // Disabling again is fine and changes nothing.
    let again = p
        .call(
            "PUT",
            "/api/2.0/people/status/Terminated",
            OWNER,
            Some(json!({"userIds": [LEAVER]})),
        )
        .await;
    assert_eq!(again.status, 200);
    // The status endpoint does not set `terminated`.
    assert!(again.response()[0].get("terminated").is_none());
}

fn status_of(p: &Portal, email: &str) -> u64 {
    p.state()["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .unwrap()["status"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn status_requests_are_checked_before_anything_happens() {
    let p = Portal::start().await;
    let pending = p
        .call(
            "PUT",
            "/api/2.0/people/status/4",
            OWNER,
            Some(json!({"userIds": [LEAVER]})),
        )
        .await;
    assert_eq!(
        (pending.status, pending.error_message()),
        (400, "Incorrect status".into())
    );
    let garbage = p
        .call(
            "PUT",
            "/api/2.0/people/status/Asleep",
            OWNER,
            Some(json!({"userIds": [LEAVER]})),
        )
        .await;
    assert_eq!(
        (garbage.status, garbage.json()["status"].clone()),
        (400, json!(1))
    );
    let empty = p
        .call("PUT", "/api/2.0/people/status/2", OWNER, Some(json!({})))
        .await;
    assert_eq!(empty.status, 400);
    assert!(empty.error_message().contains("Value cannot be null"));
    let no_body = p
        .send(
            "PUT",
            "/api/2.0/people/status/2",
            Some(&format!("Bearer {OWNER}")),
            None,
        )
        .await;
    assert_eq!(no_body.status, 400);
}

#[tokio::test]
async fn disabling_ends_sessions_and_reenabling_revives_keys() {
    let p = Portal::start().await;
    p.disable(&[LEAVER]).await;
    assert_eq!(p.get("/api/2.0/people/@self", LEAVER_KEY).await.status, 401);
    let enable = p
        .call(
            "PUT",
            "/api/2.0/people/status/1",
            OWNER,
            Some(json!({"userIds": [LEAVER]})),
        )
        .await;
    assert_eq!(enable.response()[0]["status"], 1);
    assert_eq!(
        p.get("/api/2.0/people/@self", LEAVER_KEY).await.status,
        200,
        "keys are not deleted by disabling"
    );
}

#[tokio::test]
async fn put_people_disables_with_disable_and_ignores_disabled() {
    let p = Portal::start().await;
    let typo = p
        .call(
            "PUT",
            &format!("/api/2.0/people/{LEAVER}"),
            OWNER,
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(typo.status, 200);
    assert_eq!(typo.response()["status"], 1, "a misspelt field is ignored");
    let ok = p
        .call(
            "PUT",
            &format!("/api/2.0/people/{LEAVER}"),
            OWNER,
            Some(json!({"disable": true})),
        )
        .await;
    assert_eq!(ok.response()["status"], 2);
    assert!(ok.response()["terminated"].is_string());
    let owner = p.user_id("owner@example.com");
    let self_disable = p
        .call(
            "PUT",
            &format!("/api/2.0/people/{owner}"),
            OWNER,
            Some(json!({"disable": true})),
        )
        .await;
    assert_eq!(
        (
            self_disable.status,
            self_disable.response()["status"].clone()
        ),
        (200, json!(1))
    );
    let owner_by_admin = p
        .call(
            "PUT",
            &format!("/api/2.0/people/{owner}"),
            ADMIN,
            Some(json!({"disable": true})),
        )
        .await;
    assert_eq!(owner_by_admin.status, 403);
}

#[tokio::test]
async fn deleting_a_profile_needs_it_disabled_first() {
    let p = Portal::start().await;
    let active = p
        .call("DELETE", &format!("/api/2.0/people/{SECOND}"), OWNER, None)
        .await;
    assert_eq!(
        (active.status, active.error_message()),
        (403, "The user is not suspended".into())
    );
    p.disable(&[SECOND]).await;
    let deleted = p
        .call("DELETE", &format!("/api/2.0/people/{SECOND}"), OWNER, None)
        .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(
        p.get(&format!("/api/2.0/people/{SECOND}"), OWNER)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn admins_create_users_of_a_type() {
    let p = Portal::start().await;
    let created = p
        .call("POST", "/api/2.0/people", OWNER, Some(json!({"email": "new@example.com", "firstName": "Nia", "lastName": "New", "type": "RoomAdmin", "password": "secret-pass"})))
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    assert_eq!(created.response()["isRoomAdmin"], true);
    let twice = p
        .call(
            "POST",
            "/api/2.0/people",
            OWNER,
            Some(json!({"email": "new@example.com"})),
        )
        .await;
    assert_eq!(twice.status, 400);
    let by_user = p
        .call(
            "POST",
            "/api/2.0/people",
            PLAIN,
            Some(json!({"email": "x@example.com"})),
        )
        .await;
    assert_eq!(by_user.status, 403);
}

/// `UserController.AddMember` (`POST people`) demands `Action_AddRemoveUser` for the
/// requested type (`UserSecurityProvider(Guid.Empty, Type)`), then refuses a Guest
/// always, a RoomAdmin unless the caller is a DocSpace admin and a DocSpaceAdmin
/// unless the caller is the owner. Without a type (`All`) only admins pass and the
/// user gets no type group: a RoomAdmin.
#[tokio::test]
async fn post_people_refuses_guests_and_admins_from_non_owners() {
    let p = Portal::start().await;
    let create = |email: &str, kind: Option<&str>| {
        let mut body = json!({"email": email, "firstName": "New"});
        if let Some(kind) = kind {
            body["type"] = kind.into();
        }
        Some(body)
    };
    for (key, email, kind) in [
        (OWNER, "g1@example.com", Some("Guest")),
        (MANAGER, "g2@example.com", Some("Guest")),
        (ADMIN, "a1@example.com", Some("DocSpaceAdmin")),
        (MANAGER, "r1@example.com", Some("RoomAdmin")),
        (MANAGER, "r2@example.com", None),
        (PLAIN, "u1@example.com", Some("User")),
    ] {
        let answer = p
            .call("POST", "/api/2.0/people", key, create(email, kind))
            .await;
        assert_eq!(
            (answer.status, answer.error_message()),
            (403, "Access denied".into()),
            "{email}"
        );
    }
    let admin = p
        .call(
            "POST",
            "/api/2.0/people",
            OWNER,
            create("a2@example.com", Some("DocSpaceAdmin")),
        )
        .await;
    assert_eq!(admin.response()["isAdmin"], true, "{}", admin.text);
    let user = p
        .call(
            "POST",
            "/api/2.0/people",
            MANAGER,
            create("u2@example.com", Some("User")),
        )
        .await;
    assert_eq!(user.response()["isCollaborator"], true, "{}", user.text);
    let untyped = p
        .call(
            "POST",
            "/api/2.0/people",
            ADMIN,
            create("r3@example.com", None),
        )
        .await;
    assert_eq!(untyped.response()["isRoomAdmin"], true, "{}", untyped.text);
    let events = p
        .get("/api/2.0/security/audit/events/filter?action=4000", OWNER)
        .await;
    assert_eq!(events.response().as_array().unwrap().len(), 3);
}

/// `UserController.AddMemberAsActivated` (`POST people/active`) only demands
/// `Action_AddRemoveUser` for the type, so guests can be added, and an admin adds any
/// type. The password is trimmed, generated when blank, otherwise held to the default
/// policy (`PasswordSettingsManager.CheckPassword`: 8 to 30 printable ASCII
/// characters). `AddUserAsync` makes the user Active with activation Pending (2, not
/// "after invite"); the action logs nothing and answers the `EmployeeFullDto`.
#[tokio::test]
async fn post_people_active_adds_any_type_guests_included() {
    let p = Portal::start().await;
    let add = |key: &'static str, body: serde_json::Value| {
        p.call("POST", "/api/2.0/people/active", key, Some(body))
    };
    let guest = add(
        MANAGER,
        json!({"email": "visitor@example.com", "firstName": "Vic", "lastName": "Visitor", "type": "Guest", "password": "  visitor-pass  "}),
    )
    .await;
    assert_eq!(guest.status, 200, "{}", guest.text);
    let dto = guest.response();
    assert_eq!(
        (
            dto["isVisitor"].clone(),
            dto["status"].clone(),
            dto["activationStatus"].clone(),
            dto["displayName"].clone(),
        ),
        (json!(true), json!(1), json!(2), json!("Vic Visitor"))
    );
    assert!(dto["createdBy"].is_null(), "a room admin is no admin");
    // The trimmed password signs in.
    let token = p.login("visitor@example.com", "visitor-pass").await;
    let me = p.get("/api/2.0/people/@self", &token).await;
    assert_eq!(me.response()["email"], "visitor@example.com");

    let admin = add(
        ADMIN,
        json!({"email": "boss@example.com", "firstName": "Bo", "type": 3}),
    )
    .await;
    assert_eq!(admin.response()["isAdmin"], true, "{}", admin.text);
    let admin_id = p.user_id("admin@example.com");
    assert_eq!(admin.response()["createdBy"]["id"], admin_id.as_str());
    for (key, kind) in [(MANAGER, "RoomAdmin"), (MANAGER, "All"), (PLAIN, "Guest")] {
        let refused = add(key, json!({"email": "no@example.com", "type": kind})).await;
        assert_eq!(
            (refused.status, refused.error_message()),
            (403, "Access denied".into()),
            "{kind}"
        );
    }
    let weak = add(
        OWNER,
        json!({"email": "weak@example.com", "password": "short"}),
    )
    .await;
    assert_eq!(
        (weak.status, weak.error_message()),
        (
            400,
            "Password must contain from 8 to 30 characters, only latin letters, no spaces".into()
        )
    );
    let twice = add(
        OWNER,
        json!({"email": "VISITOR@example.com", "type": "Guest"}),
    )
    .await;
    assert_eq!(
        (twice.status, twice.error_message()),
        (400, "User with this email is already registered".into())
    );
    let bad_type = add(OWNER, json!({"email": "t@example.com", "type": "Boss"})).await;
    assert_eq!(bad_type.status, 400);
    assert!(
        bad_type.response()["errors"]["$.type"].is_array(),
        "{}",
        bad_type.text
    );
    let events = p
        .get("/api/2.0/security/audit/events/filter?action=4000", OWNER)
        .await;
    assert_eq!(
        events.response(),
        json!([]),
        "AddMemberAsActivated logs nothing"
    );
}

/// `UserController.GetSimpleByFilter` (`people/simple/filter`) builds the same
/// `UserFilter` as `people/filter` and runs the same `GetByFilterAsync` (User and
/// Guest callers 403, paging with a total), but answers `EmployeeDto`s
/// (common/ASC.Api.Core/Model/EmployeeDto.cs: id, displayName, the avatars,
/// profileUrl, hasAvatar, isAnonim).
#[tokio::test]
async fn the_simple_filter_answers_short_dtos() {
    let p = Portal::start().await;
    let full = p
        .get(
            "/api/2.0/people/filter?filterValue=e&count=4&startIndex=1",
            OWNER,
        )
        .await;
    let simple = p
        .get(
            "/api/2.0/people/simple/filter?filterValue=e&count=4&startIndex=1",
            OWNER,
        )
        .await;
    assert_eq!(simple.status, 200, "{}", simple.text);
    assert_eq!(simple.json()["total"], full.json()["total"]);
    let ids = |a: &Answer| -> Vec<serde_json::Value> {
        a.response()
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].clone())
            .collect()
    };
    assert_eq!(ids(&simple), ids(&full));
    assert_eq!(ids(&simple).len(), 4);
    let mut keys: Vec<String> = simple.response()[0]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "avatar",
            "avatarMax",
            "avatarMedium",
            "avatarOriginal",
            "avatarSmall",
            "displayName",
            "hasAvatar",
            "id",
            "isAnonim",
            "profileUrl"
        ]
    );
    let disabled = p
        .get("/api/2.0/people/simple/filter?employeeStatus=2", OWNER)
        .await;
    assert_eq!(disabled.response()[0]["displayName"], "Gina Gone");
    let guest = p.login("guest@example.com", "guest-password").await;
    for key in [PLAIN, guest.as_str()] {
        let refused = p.get("/api/2.0/people/simple/filter", key).await;
        assert_eq!(
            (refused.status, refused.error_message()),
            (403, "Access denied".into())
        );
    }
    assert_eq!(
        p.get("/api/2.0/people/simple/filter", MANAGER).await.status,
        200
    );
}
