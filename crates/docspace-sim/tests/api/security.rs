//! Audit and login history, sessions, API keys, groups, portal registration (§9–§11, §16).

use docspace_sim::Config;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn audit_filters_by_action_user_and_date_newest_first() {
    let p = Portal::start().await;
    p.disable(&[LEAVER]).await;
    let owner = p.user_id("owner@example.com");
    let status = p
        .get("/api/2.0/security/audit/events/filter?action=4020", OWNER)
        .await;
    let event = status.response()[0].clone();
    assert_eq!(event["actionId"], 4020);
    assert_eq!(event["action"], "Users [Lea Ver]. Updated Status");
    assert_eq!(event["userId"], owner.as_str());
    assert_eq!(event["target"], json!([LEAVER]));
    assert_eq!(
        (
            event["actionType"].clone(),
            event["product"].clone(),
            event["location"].clone()
        ),
        (json!(2), json!(8), json!(30))
    );
    // The fixture's history is older than a window starting today.
    let today = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT00:00:00Z")
        .to_string();
    let recent = p
        .get(
            &format!("/api/2.0/security/audit/events/filter?from={today}"),
            OWNER,
        )
        .await;
    assert!(
        recent
            .response()
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actionId"] != 5000)
    );
    let by_user = p
        .get(
            "/api/2.0/security/audit/events/filter?userId=11111111-1111-4111-8111-111111111111",
            OWNER,
        )
        .await;
    assert_eq!(by_user.response()[0]["actionId"], 5000);
    // Targets match as substrings with entryType and without action.
    let by_target = p
        .get(
            &format!("/api/2.0/security/audit/events/filter?entryType=23&target={LEAVER}"),
            OWNER,
        )
        .await;
    assert_eq!(by_target.response().as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn audit_dates_need_a_zone_and_the_caller_an_admin() {
    let p = Portal::start().await;
    let no_zone = p
        .get(
            "/api/2.0/security/audit/events/filter?from=2026-01-31T00:00:00",
            OWNER,
        )
        .await;
    assert_eq!(
        (no_zone.status, no_zone.json()["status"].clone()),
        (400, json!(1))
    );
    let date_only = p
        .get(
            "/api/2.0/security/audit/login/filter?from=2026-01-31",
            OWNER,
        )
        .await;
    assert_eq!(date_only.status, 400);
    let by_manager = p
        .get("/api/2.0/security/audit/events/filter", MANAGER)
        .await;
    assert_eq!(by_manager.status, 403);
}

#[tokio::test]
async fn login_history_pages_before_it_filters() {
    let p = Portal::start().await;
    // The newest login event is the plain user's; a page of one therefore holds no
    // event of the leaver even though the leaver has one.
    let first = p
        .get(
            &format!("/api/2.0/security/audit/login/filter?userId={LEAVER}&count=1"),
            OWNER,
        )
        .await;
    assert_eq!(first.response(), json!([]));
    let wider = p
        .get(
            &format!("/api/2.0/security/audit/login/filter?userId={LEAVER}&count=2"),
            OWNER,
        )
        .await;
    assert_eq!(wider.response()[0]["actionId"], 1000);
}

#[tokio::test]
async fn without_the_audit_feature_filters_are_ignored() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small.yaml");
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("audit: true", "audit: false");
    let fixture = docspace_sim::Fixture::from_yaml(&text).unwrap();
    let sim = docspace_sim::spawn(
        Config::for_tests(),
        &docspace_sim::Source::Fixture(Box::new(fixture)),
    )
    .await
    .unwrap();
    let http = crate::support::http();
    for _ in 0..25 {
        http.post(format!("{}/api/2.0/keys", sim.url()))
            .bearer_auth(OWNER)
            .json(&json!({"name": "k"}))
            .send()
            .await
            .unwrap();
    }
    let events: serde_json::Value = http
        .get(format!(
            "{}/api/2.0/security/audit/events/filter?action=4020",
            sim.url()
        ))
        .bearer_auth(OWNER)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = events["response"].as_array().unwrap();
    assert_eq!(list.len(), 20, "the last 20 events, whatever the filter");
    assert!(list.iter().all(|e| e["actionId"] == 6058));
}

#[tokio::test]
async fn logout_all_ends_sessions_but_keeps_keys() {
    let p = Portal::start().await;
    let login = p
        .send(
            "POST",
            "/api/2.0/authentication",
            None,
            Some(json!({"userName": "leaver@example.com", "password": "leaver-password"})),
        )
        .await;
    let token = login.response()["token"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {token}");
    let sessions = p
        .send(
            "GET",
            "/api/2.0/security/activeconnections",
            Some(&bearer),
            None,
        )
        .await;
    assert_eq!(sessions.response()["items"].as_array().unwrap().len(), 1);
    let out = p
        .call(
            "PUT",
            &format!("/api/2.0/security/activeconnections/logoutall/{LEAVER}"),
            OWNER,
            None,
        )
        .await;
    assert_eq!((out.status, out.json()["count"].clone()), (200, json!(0)));
    assert_eq!(
        p.send("GET", "/api/2.0/people/@self", Some(&bearer), None)
            .await
            .status,
        401
    );
    assert_eq!(p.get("/api/2.0/people/@self", LEAVER_KEY).await.status, 200);
    let by_user = p
        .call(
            "PUT",
            &format!("/api/2.0/security/activeconnections/logoutall/{LEAVER}"),
            PLAIN,
            None,
        )
        .await;
    assert_eq!(by_user.status, 403);
}

#[tokio::test]
async fn api_keys_are_listed_for_admins_and_deleted_by_id() {
    let p = Portal::start().await;
    let all = p.get("/api/2.0/keys", OWNER).await.response();
    assert_eq!(all.as_array().unwrap().len(), 5);
    let leavers: Vec<_> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["createBy"]["id"] == LEAVER)
        .cloned()
        .collect();
    assert_eq!(leavers.len(), 1);
    assert_eq!(leavers[0]["key"], "sk-***0004");
    let own = p.get("/api/2.0/keys", PLAIN).await.response();
    assert_eq!(own.as_array().unwrap().len(), 1);

    let id = leavers[0]["id"].as_str().unwrap();
    let not_theirs = p
        .call("DELETE", &format!("/api/2.0/keys/{id}"), PLAIN, None)
        .await;
    assert_eq!(
        (not_theirs.status, not_theirs.response()),
        (200, json!(false))
    );
    let deleted = p
        .call("DELETE", &format!("/api/2.0/keys/{id}"), OWNER, None)
        .await;
    assert_eq!((deleted.status, deleted.response()), (200, json!(true)));
    assert_eq!(p.get("/api/2.0/people/@self", LEAVER_KEY).await.status, 401);
    let again = p
        .call("DELETE", &format!("/api/2.0/keys/{id}"), OWNER, None)
        .await;
    assert_eq!(
        again.status, 500,
        "an unknown key id is a null dereference on the server"
    );
    let events = p
        .get("/api/2.0/security/audit/events/filter?action=6060", OWNER)
        .await;
    assert_eq!(
        events.response()[0]["action"],
        "User Api Key Deleted: sk-***0004"
    );
}

#[tokio::test]
async fn created_keys_show_their_secret_once_and_can_be_deactivated() {
    let p = Portal::start().await;
    let created = p
        .call(
            "POST",
            "/api/2.0/keys",
            PLAIN,
            Some(json!({"name": "laptop", "expiresInDays": 30})),
        )
        .await;
    let key = created.response();
    let secret = key["key"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("sk-") && secret.len() == 67);
    assert_eq!(p.get("/api/2.0/people/@self", &secret).await.status, 200);
    let id = key["id"].as_str().unwrap();
    let off = p
        .call(
            "PUT",
            &format!("/api/2.0/keys/{id}"),
            PLAIN,
            Some(json!({"isActive": false})),
        )
        .await;
    assert_eq!(off.response(), json!(true));
    assert_eq!(p.get("/api/2.0/people/@self", &secret).await.status, 401);
    let long_name = p
        .call(
            "POST",
            "/api/2.0/keys",
            PLAIN,
            Some(json!({"name": "x".repeat(31)})),
        )
        .await;
    assert_eq!(long_name.status, 400);
}

#[tokio::test]
async fn groups_by_name_substring_and_by_id() {
    let p = Portal::start().await;
    let found = p.get("/api/2.0/group?filterValue=hr", OWNER).await;
    assert_eq!(found.json()["total"], 1);
    let group = found.response()[0].clone();
    assert_eq!(group["name"], "HR");
    assert!(group.get("members").is_none());
    assert_eq!(group["membersCount"], 2);
    let id = group["id"].as_str().unwrap();
    let full = p.get(&format!("/api/2.0/group/{id}"), OWNER).await;
    assert_eq!(full.response()["members"].as_array().unwrap().len(), 2);
    let missing = p
        .get("/api/2.0/group/33333333-3333-4333-8333-333333333333", OWNER)
        .await;
    assert_eq!(
        (missing.status, missing.error_message()),
        (404, "The group could not be found".into())
    );
    assert_eq!(p.get("/api/2.0/group", PLAIN).await.status, 403);
}

#[tokio::test]
async fn registering_a_portal_starts_over() {
    let p = Portal::start().await;
    let registered = p
        .send("POST", "/apisystem/portal/register", None, Some(json!({"portalName": "rehearsal", "firstName": "Reg", "lastName": "Owner", "email": "reg@example.com", "password": "long-password", "timeZoneName": "Europe/Berlin"})))
        .await;
    assert_eq!(registered.status, 200, "{}", registered.text);
    let body = registered.json();
    assert_eq!(body["tenant"]["status"], "Active");
    assert!(body.get("response").is_none(), "not the api/2.0 envelope");
    assert_eq!(
        p.get("/api/2.0/people/@self", OWNER).await.status,
        401,
        "the old portal is gone"
    );
    let login = p
        .send(
            "POST",
            "/api/2.0/authentication",
            None,
            Some(json!({"userName": "reg@example.com", "password": "long-password"})),
        )
        .await;
    let token = login.response()["token"].as_str().unwrap().to_owned();
    let me = p
        .send(
            "GET",
            "/api/2.0/people/@self",
            Some(&format!("Bearer {token}")),
            None,
        )
        .await;
    assert_eq!(me.response()["isOwner"], true);
    let short = p
        .send(
            "POST",
            "/apisystem/portal/register",
            None,
            Some(json!({"portalName": "x", "email": "a@b.c", "password": "short"})),
        )
        .await;
    assert_eq!(
        (short.status, short.json()["error"].clone()),
        (400, json!("passPolicyError"))
    );
}

#[tokio::test]
async fn stats_count_requests_by_route_template() {
    let p = Portal::start().await;
    p.get(&format!("/api/2.0/people/{LEAVER}"), OWNER).await;
    p.get(&format!("/api/2.0/people/{SECOND}"), OWNER).await;
    p.disable(&[LEAVER]).await;
    let stats = p.sim.stats();
    assert_eq!(stats["byRoute"]["GET /api/2.0/people/{userid}"], 2);
    assert_eq!(stats["byRoute"]["PUT /api/2.0/people/status/{status}"], 1);
    assert_eq!(stats["postPut"], 1);
    let over_http: serde_json::Value = reqwest::get(format!("{}/__sim/stats", p.sim.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(over_http["byRoute"]["GET /api/2.0/people/{userid}"], 2);
    let state: serde_json::Value = reqwest::get(format!("{}/__sim/state", p.sim.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["users"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn restricted_keys_are_held_to_their_scopes() {
    let p = Portal::start().await;
    let created = p
        .call(
            "POST",
            "/api/2.0/keys",
            OWNER,
            Some(json!({"name": "reader", "permissions": ["accounts:read", "rooms:read"]})),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let key = created.response()["key"].as_str().unwrap().to_owned();
    assert_eq!(p.get("/api/2.0/people/filter", &key).await.status, 200);
    assert_eq!(p.get("/api/2.0/files/rooms", &key).await.status, 200);
    for (method, path) in [
        ("GET", "/api/2.0/security/audit/events/filter"),
        ("GET", "/api/2.0/keys"),
        ("GET", "/api/2.0/files/folder/110"),
        ("PUT", "/api/2.0/people/status/2"),
    ] {
        let answer = p
            .call(method, path, &key, Some(json!({"userIds": [SECOND]})))
            .await;
        assert_eq!(
            (answer.status, answer.text.as_str()),
            (403, ""),
            "{method} {path}"
        );
    }
    assert_eq!(
        p.state()["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == SECOND)
            .unwrap()["status"],
        1
    );
    let full = p
        .call(
            "POST",
            "/api/2.0/keys",
            OWNER,
            Some(json!({"name": "all", "permissions": ["*"]})),
        )
        .await;
    let full = full.response()["key"].as_str().unwrap().to_owned();
    assert_eq!(
        p.get("/api/2.0/security/audit/events/filter", &full)
            .await
            .status,
        200
    );
}

/// `GET keys/@self` (`ApiKeysController.GetApiKey`): the calling key itself, found by
/// the bearer token, as one `ApiKeyResponseDto` with its permissions (never the
/// list of keys); a session token has no key, so no response.
#[tokio::test]
async fn keys_self_is_the_calling_key() {
    let p = Portal::start().await;
    let own = p.get("/api/2.0/keys/@self", LEAVER_KEY).await;
    assert_eq!(own.status, 200);
    let key = own.response();
    assert!(key.is_object(), "{key}");
    assert_eq!(key["name"], "script");
    assert!(key["permissions"].is_array());
    let session = p.login("leaver@example.com", "leaver-password").await;
    let none = p.get("/api/2.0/keys/@self", &session).await;
    assert_eq!(none.status, 200);
    assert!(none.json().get("response").is_none(), "{}", none.text);
}
