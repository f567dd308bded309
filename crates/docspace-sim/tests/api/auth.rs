//! Authentication (§1) and the envelope (§0).

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn missing_or_unknown_credentials_are_an_empty_401() {
    let p = Portal::start().await;
    for auth in [
        None,
        Some("Bearer sk-ffff"),
        Some("Bearer not-a-token"),
        Some("Basic Ym9ndXM6Ym9ndXM="),
    ] {
        let answer = p.send("GET", "/api/2.0/people/@self", auth, None).await;
        assert_eq!((answer.status, answer.text.as_str()), (401, ""), "{auth:?}");
    }
}

#[tokio::test]
async fn an_api_key_acts_as_its_creator() {
    let p = Portal::start().await;
    let me = p.get("/api/2.0/people/@self", LEAVER_KEY).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.response()["email"], "leaver@example.com");
    assert_eq!(me.response()["isRoomAdmin"], true);
    // Without `Bearer ` the value goes to the cookie handler: not a session, so 401.
    let raw = p
        .send("GET", "/api/2.0/people/@self", Some(LEAVER_KEY), None)
        .await;
    assert_eq!((raw.status, raw.text.as_str()), (401, ""));
}

#[tokio::test]
async fn session_tokens_and_basic_auth_work_until_the_user_is_disabled() {
    let p = Portal::start().await;
    let login = p
        .send(
            "POST",
            "/api/2.0/authentication",
            None,
            Some(json!({"userName": "leaver@example.com", "password": "leaver-password"})),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.text);
    let token = login.response()["token"].as_str().unwrap().to_owned();
    let by_token = p
        .send(
            "GET",
            "/api/2.0/people/@self",
            Some(&format!("Bearer {token}")),
            None,
        )
        .await;
    assert_eq!(by_token.response()["id"], LEAVER);
    let basic = p
        .send(
            "GET",
            "/api/2.0/people/@self",
            Some("Basic bGVhdmVyQGV4YW1wbGUuY29tOmxlYXZlci1wYXNzd29yZA=="),
            None,
        )
        .await;
    assert_eq!(basic.response()["id"], LEAVER);

    p.disable(&[LEAVER]).await;
    for auth in [
        format!("Bearer {token}"),
        format!("Bearer {LEAVER_KEY}"),
        "Basic bGVhdmVyQGV4YW1wbGUuY29tOmxlYXZlci1wYXNzd29yZA==".to_owned(),
    ] {
        let answer = p
            .send("GET", "/api/2.0/people/@self", Some(&auth), None)
            .await;
        assert_eq!((answer.status, answer.text.as_str()), (401, ""));
    }
}

#[tokio::test]
async fn a_wrong_password_is_refused() {
    let p = Portal::start().await;
    let login = p
        .send(
            "POST",
            "/api/2.0/authentication",
            None,
            Some(json!({"userName": "leaver@example.com", "password": "nope"})),
        )
        .await;
    assert_eq!(login.status, 401);
    assert_eq!(login.json()["status"], 1);
}

#[tokio::test]
async fn the_success_envelope_has_links_status_and_status_code() {
    let p = Portal::start().await;
    let answer = p.get("/api/2.0/people/@self", OWNER).await;
    let body = answer.json();
    assert_eq!(body["status"], 0);
    assert_eq!(body["statusCode"], 200);
    assert_eq!(body["count"], 1);
    assert_eq!(body["links"][0]["action"], "GET");
    assert!(
        body["links"][0]["href"]
            .as_str()
            .unwrap()
            .ends_with("/api/2.0/people/@self")
    );
    // The owner is not `isAdmin`; dates are in the portal's zone (Moscow, +03:00).
    assert_eq!(body["response"]["isOwner"], true);
    assert_eq!(body["response"]["isAdmin"], false);
    let registered = body["response"]["registrationDate"].as_str().unwrap();
    assert_eq!(registered, "2026-01-05T12:00:00.0000000+03:00");
}

#[tokio::test]
async fn unknown_routes_are_empty_404s_and_wrong_verbs_405s() {
    let p = Portal::start().await;
    let unknown = p.get("/api/2.0/people/1/status", OWNER).await;
    assert_eq!((unknown.status, unknown.text.as_str()), (404, ""));
    let missing_route = p
        .call(
            "PUT",
            "/api/2.0/people/11111111-1111-4111-8111-111111111111/status",
            OWNER,
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(
        (missing_route.status, missing_route.text.as_str()),
        (404, "")
    );
    let verb = p
        .call("PUT", "/api/2.0/files/owner", OWNER, Some(json!({})))
        .await;
    assert_eq!(verb.status, 405);
}

#[tokio::test]
async fn validation_errors_are_400_inside_the_success_envelope() {
    let p = Portal::start().await;
    for count in ["0", "101", "x"] {
        let answer = p
            .get(&format!("/api/2.0/people/filter?count={count}"), OWNER)
            .await;
        assert_eq!(answer.status, 400);
        let body = answer.json();
        assert_eq!(body["status"], 1);
        assert_eq!(body["statusCode"], 400);
        assert_eq!(
            body["response"]["title"],
            "One or more validation errors occurred."
        );
        assert!(body["response"]["errors"]["count"].is_array());
    }
}

#[tokio::test]
async fn exceptions_use_the_error_envelope() {
    let p = Portal::start().await;
    let answer = p
        .get(
            "/api/2.0/people/33333333-3333-4333-8333-333333333333",
            OWNER,
        )
        .await;
    assert_eq!(answer.status, 404);
    let body = answer.json();
    assert_eq!(body["status"], 1);
    assert_eq!(body["statusCode"], 404);
    assert_eq!(body["error"]["message"], "The user could not be found");
    assert_eq!(
        body["error"]["type"],
        "ASC.Common.Web.ItemNotFoundException"
    );
    assert!(body.get("response").is_none());
}

#[tokio::test]
async fn json_input_is_case_insensitive_and_ignores_unknown_fields() {
    let p = Portal::start().await;
    let answer = p
        .call(
            "PUT",
            "/api/2.0/people/status/2",
            OWNER,
            Some(json!({"USERIDS": [SECOND], "whatever": 1})),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.response()[0]["status"], 2);
}
