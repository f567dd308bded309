//! Reassign and remove jobs (§5): preconditions, progress over time, effects,
//! cancellation and the vanishing records.

use std::time::Duration;

use docspace_sim::Config;
use serde_json::json;

use crate::support::*;

fn start_body(from: &str, to: &str) -> Option<serde_json::Value> {
    Some(json!({"fromUserId": from, "toUserId": to, "deleteProfile": false}))
}

#[tokio::test]
async fn reassign_refuses_an_active_leaver_and_unfit_targets() {
    let p = Portal::start().await;
    let keeper = p.user_id("keeper@example.com");
    let plain = p.user_id("plain@example.com");
    let gone = p.user_id("gone@example.com");

    let active = p
        .call(
            "POST",
            "/api/2.0/people/reassign/start",
            OWNER,
            start_body(LEAVER, &keeper),
        )
        .await;
    assert_eq!(active.status, 400);
    assert_eq!(
        active.error_message(),
        format!("Can not reassign data from user with id = {LEAVER}")
    );

    p.disable(&[LEAVER]).await;
    for (target, shown) in [
        (plain.as_str(), plain.as_str()),
        (gone.as_str(), gone.as_str()),
        (
            "33333333-3333-4333-8333-333333333333",
            "4a515a15-d4d6-4b8e-828e-e0586f18f3a3",
        ),
    ] {
        let answer = p
            .call(
                "POST",
                "/api/2.0/people/reassign/start",
                OWNER,
                start_body(LEAVER, target),
            )
            .await;
        assert_eq!(answer.status, 400, "{target}");
        assert_eq!(
            answer.error_message(),
            format!("Can not reassign data to user with id = {shown}")
        );
    }
    let owner = p.user_id("owner@example.com");
    let from_owner = p
        .call(
            "POST",
            "/api/2.0/people/reassign/start",
            ADMIN,
            start_body(&owner, &keeper),
        )
        .await;
    assert_eq!(from_owner.status, 400);
    let by_room_admin = p
        .call(
            "POST",
            "/api/2.0/people/reassign/start",
            MANAGER,
            start_body(LEAVER, &keeper),
        )
        .await;
    assert_eq!(by_room_admin.status, 403);
    let missing = p
        .call(
            "POST",
            "/api/2.0/people/reassign/start",
            OWNER,
            Some(json!({"fromUserId": LEAVER})),
        )
        .await;
    assert_eq!(
        (missing.status, missing.json()["status"].clone()),
        (400, json!(1))
    );
}

#[tokio::test]
async fn reassign_moves_ownership_and_shared_personal_items() {
    let p = Portal::start().await;
    let keeper = p.user_id("keeper@example.com");
    let necessary = p
        .get(
            &format!("/api/2.0/people/reassign/necessary?userId={LEAVER}&type=RoomAdmin"),
            OWNER,
        )
        .await;
    assert_eq!(necessary.response(), json!(true));
    // A shared folder inside the private one: `FileStorageService.GetSharedEntriesAsync`
    // finds shared entries at any depth below My documents, and
    // `MoveSharedEntriesAsync` moves each one into the new folder.
    let deep = p
        .call(
            "POST",
            "/api/2.0/files/folder/310",
            LEAVER_KEY,
            Some(json!({"title": "Deep"})),
        )
        .await
        .response()["id"]
        .as_i64()
        .unwrap();
    let plain = p.user_id("plain@example.com");
    let shared = p
        .call(
            "PUT",
            &format!("/api/2.0/files/folder/{deep}/share"),
            LEAVER_KEY,
            Some(json!({"share": [{"shareTo": plain, "access": 2}]})),
        )
        .await;
    assert_eq!(shared.status, 200, "{}", shared.text);
    p.disable(&[LEAVER]).await;

    let started = p
        .call(
            "POST",
            "/api/2.0/people/reassign/start",
            OWNER,
            start_body(LEAVER, &keeper),
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.text);
    let job = started.response();
    assert_eq!(job["id"], format!("1_{LEAVER}_ReassignProgressItem"));
    assert_eq!(
        (job["status"].clone(), job["isCompleted"].clone()),
        (json!(1), json!(false))
    );
    // Before the job is done nothing has changed.
    assert_eq!(p.folder(100).unwrap()["createdBy"], LEAVER);

    let progress = format!("/api/2.0/people/reassign/progress/{LEAVER}");
    let done = p
        .poll_until(&progress, OWNER, |a| a.response()["isCompleted"] == true)
        .await;
    assert_eq!(
        (
            done.response()["status"].clone(),
            done.response()["percentage"].clone()
        ),
        (json!(2), json!(100))
    );

    // Rooms and folders the leaver created, in rooms, now belong to the target.
    assert_eq!(p.folder(100).unwrap()["createdBy"], keeper.as_str());
    assert_eq!(p.folder(210).unwrap()["createdBy"], keeper.as_str());
    // The shared personal folder moved into "Documents of user …" in the target's My
    // documents; the private one stayed where it was.
    let state = p.state();
    let keeper_my = state["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == keeper.as_str())
        .unwrap()["myDocuments"]
        .clone();
    let holder = state["folders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["title"] == "Documents of user Lea Ver")
        .unwrap()
        .clone();
    assert_eq!(holder["parent"], keeper_my);
    assert_eq!(p.folder(300).unwrap()["parent"], holder["id"]);
    assert_eq!(p.folder(300).unwrap()["createdBy"], keeper.as_str());
    assert_eq!(p.folder(310).unwrap()["createdBy"], LEAVER);
    assert_eq!(p.folder(deep).unwrap()["parent"], holder["id"]);
    assert_eq!(p.folder(deep).unwrap()["createdBy"], keeper.as_str());
    // The leaver's room memberships stay without deleteProfile.
    assert!(
        p.folder(200).unwrap()["shares"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["subject"] == LEAVER)
    );
    // The audit trail has the reassignment: `ReassignProgressItem.SendSuccessNotifyAsync`
    // logs UserDataReassigns (4030) with `MessageTarget.Create(FromUser)`, so the
    // leaver is the only target; both names go into the description
    // (AuditReportResource.resx "UserDataReassigns").
    let audit = p
        .get("/api/2.0/security/audit/events/filter?action=4030", OWNER)
        .await;
    let events = audit.response();
    assert_eq!(events.as_array().unwrap().len(), 1);
    assert_eq!(
        events[0]["action"],
        "Data Reassigned: from user Lea Ver to user Kim Keeper"
    );
    assert_eq!(events[0]["target"], json!([LEAVER]));
    // With nothing left, reassign is no longer necessary.
    let necessary = p
        .get(
            &format!("/api/2.0/people/reassign/necessary?userId={LEAVER}&type=RoomAdmin"),
            OWNER,
        )
        .await;
    assert_eq!(
        necessary.response(),
        json!(true),
        "still a member of the Sales room"
    );
}

#[tokio::test]
async fn a_running_job_is_returned_again_and_can_be_terminated() {
    let p = Portal::with(Config {
        job_duration: Duration::from_secs(30),
        ..Config::for_tests()
    })
    .await;
    let keeper = p.user_id("keeper@example.com");
    let admin = p.user_id("admin@example.com");
    p.disable(&[LEAVER]).await;
    let first = p
        .call(
            "POST",
            "/api/2.0/people/reassign/start",
            OWNER,
            start_body(LEAVER, &keeper),
        )
        .await;
    let second = p
        .call(
            "POST",
            "/api/2.0/people/reassign/start",
            OWNER,
            start_body(LEAVER, &admin),
        )
        .await;
    assert_eq!(first.response()["id"], second.response()["id"]);
    // TaskProgressResponseDto.Get: `Error = progressItem.Exception?.Message`, and
    // DistributedTask.Exception always wraps `_exeption` (default ""): a job without
    // an error says `"error": ""` in start, progress and terminate alike.
    assert_eq!(first.response()["error"], "");
    let running = p
        .get(
            &format!("/api/2.0/people/reassign/progress/{LEAVER}"),
            OWNER,
        )
        .await;
    assert_eq!(running.response()["error"], "");
    let stopped = p
        .call(
            "PUT",
            "/api/2.0/people/reassign/terminate",
            OWNER,
            Some(json!({"userId": LEAVER})),
        )
        .await;
    assert_eq!(
        (
            stopped.response()["status"].clone(),
            stopped.response()["isCompleted"].clone()
        ),
        (json!(3), json!(true))
    );
    assert_eq!(stopped.response()["error"], "");
    assert_eq!(
        p.folder(100).unwrap()["createdBy"],
        LEAVER,
        "a canceled job changes nothing"
    );
}

#[tokio::test]
async fn progress_without_a_job_is_an_empty_envelope_and_records_vanish() {
    let p = Portal::with(Config {
        record_ttl: Duration::from_millis(300),
        ..Config::for_tests()
    })
    .await;
    let none = p
        .get(
            &format!("/api/2.0/people/reassign/progress/{LEAVER}"),
            OWNER,
        )
        .await;
    assert_eq!(none.status, 200);
    assert!(none.json().get("response").is_none());
    assert_eq!(none.json()["count"], 0);
    let not_guid = p
        .get("/api/2.0/people/reassign/progress/leaver", OWNER)
        .await;
    assert_eq!(not_guid.status, 404);

    let keeper = p.user_id("keeper@example.com");
    p.disable(&[LEAVER]).await;
    p.call(
        "POST",
        "/api/2.0/people/reassign/start",
        OWNER,
        start_body(LEAVER, &keeper),
    )
    .await;
    let progress = format!("/api/2.0/people/reassign/progress/{LEAVER}");
    let done = p
        .poll_until(&progress, OWNER, |a| a.response()["isCompleted"] == true)
        .await;
    assert_eq!(
        (
            done.response()["status"].clone(),
            done.response()["error"].clone()
        ),
        (json!(2), json!("")),
        "a completed job has an empty error, not none"
    );
    // A finished record goes away a while after its last update.
    p.poll_until(&progress, OWNER, |a| a.json().get("response").is_none())
        .await;
}

#[tokio::test]
async fn failing_and_stuck_jobs() {
    let failing = Portal::with(Config {
        faults: docspace_sim::Faults::parse("job-fail=1").unwrap(),
        ..Config::for_tests()
    })
    .await;
    let keeper = failing.user_id("keeper@example.com");
    failing.disable(&[LEAVER]).await;
    failing
        .call(
            "POST",
            "/api/2.0/people/reassign/start",
            OWNER,
            start_body(LEAVER, &keeper),
        )
        .await;
    let progress = format!("/api/2.0/people/reassign/progress/{LEAVER}");
    let failed = failing
        .poll_until(&progress, OWNER, |a| a.response()["isCompleted"] == true)
        .await;
    assert_eq!(failed.response()["status"], 4);
    assert_ne!(failed.response()["error"], "");
    assert!(failed.response()["error"].is_string());
    assert_eq!(failing.folder(100).unwrap()["createdBy"], LEAVER);

    let stuck = Portal::with(Config {
        faults: docspace_sim::Faults::parse("job-stuck=1").unwrap(),
        ..Config::for_tests()
    })
    .await;
    stuck.disable(&[LEAVER]).await;
    stuck
        .call(
            "POST",
            "/api/2.0/people/reassign/start",
            OWNER,
            start_body(LEAVER, &keeper),
        )
        .await;
    let first = stuck.get(&progress, OWNER).await.response();
    assert_eq!(
        (first["status"].clone(), first["isCompleted"].clone()),
        (json!(1), json!(false))
    );
    assert_eq!(first["percentage"], 30);
}

#[tokio::test]
async fn remove_deletes_the_profile_and_hands_rooms_to_the_caller() {
    let p = Portal::start().await;
    let active = p
        .call(
            "POST",
            "/api/2.0/people/remove/start",
            OWNER,
            Some(json!({"userId": LEAVER})),
        )
        .await;
    assert_eq!(
        (active.status, active.error_message()),
        (400, format!("Can not delete user with id = {LEAVER}"))
    );
    p.disable(&[LEAVER]).await;
    let started = p
        .call(
            "POST",
            "/api/2.0/people/remove/start",
            OWNER,
            Some(json!({"userId": LEAVER})),
        )
        .await;
    assert_eq!(
        started.response()["id"],
        format!("1_{LEAVER}_RemoveProgressItem")
    );
    let progress = format!("/api/2.0/people/remove/progress/{LEAVER}");
    p.poll_until(&progress, OWNER, |a| a.response()["isCompleted"] == true)
        .await;
    let owner = p.user_id("owner@example.com");
    assert_eq!(p.folder(100).unwrap()["createdBy"], owner.as_str());
    // A folder the leaver made inside someone else's room goes to that room's owner.
    let manager = p.user_id("manager@example.com");
    assert_eq!(p.folder(210).unwrap()["createdBy"], manager.as_str());
    assert!(p.folder(310).is_none(), "unshared personal data is deleted");
    assert_eq!(
        p.get(&format!("/api/2.0/people/{LEAVER}"), OWNER)
            .await
            .status,
        404
    );
}

/// `ReassignController.NecessaryReassign` checks
/// `DemandPermissions(new UserSecurityProvider(Type), Action_AddRemoveUser)` before
/// anything else: users and guests are refused, a room admin only asks about User or
/// Guest (`Security.Rules`), `All` (the default) is for admins only. Then a non-owner
/// asking about a user whose actual type (`GetUserTypeAsync`) is DocSpaceAdmin is
/// refused. `UserId` and `Type` are optional (`NecessaryReassignDto`: empty GUID,
/// `All`); only a value model binding cannot read is a 400.
#[tokio::test]
async fn necessary_checks_the_permission_first_and_needs_no_parameters() {
    let p = Portal::start().await;
    let guest = p.login("guest@example.com", "guest-password").await;
    let keeper = p.user_id("keeper@example.com");
    let necessary = |query: &str| format!("/api/2.0/people/reassign/necessary{query}");
    let about_keeper = format!("?userId={keeper}&type=RoomAdmin");
    for (key, query) in [
        (PLAIN, ""),
        (PLAIN, "?type=User"),
        (guest.as_str(), ""),
        (guest.as_str(), "?type=Guest"),
        (MANAGER, ""),
        (MANAGER, "?type=RoomAdmin"),
        (MANAGER, "?type=DocSpaceAdmin"),
        // The admin rule follows the user's real type, whatever `type` says.
        (ADMIN, about_keeper.as_str()),
    ] {
        let answer = p.get(&necessary(query), key).await;
        assert_eq!(
            (answer.status, answer.error_message()),
            (403, "Access denied".into()),
            "{query}"
        );
    }
    // The owner may ask about an admin; keeper owns room 500.
    let by_owner = p.get(&necessary(&about_keeper), OWNER).await;
    assert_eq!((by_owner.status, by_owner.response()), (200, json!(true)));
    // No parameters at all: an admin's question about the empty GUID.
    let bare = p.get(&necessary(""), ADMIN).await;
    assert_eq!((bare.status, bare.response()), (200, json!(true)));
    for query in ["?type=Sleeping", "?userId=leaver"] {
        let bad = p.get(&necessary(query), OWNER).await;
        assert_eq!((bad.status, bad.json()["status"].clone()), (400, json!(1)));
    }
}

/// The answer is `FileStorageService.AnyRoomsAsync(UserId)`: the caller's own listing
/// of active rooms (`FileSecurity.GetVirtualRoomsAsync`: all of them for an admin,
/// the rooms they are in for anyone else), kept when the user created the room or
/// has a record of their own in it (`FolderDao.BuildRoomsQuery`; the empty GUID keeps
/// every room). For `Type=Guest` without a room, whatever the user shares from My
/// documents counts, at any depth (`GetSharedEntriesCountAsync`,
/// `FolderDao.GetSharedFoldersQuery`).
#[tokio::test]
async fn necessary_answers_for_the_rooms_the_caller_sees() {
    let p = Portal::start().await;
    let plain = p.user_id("plain@example.com");
    let necessary = |query: &str| format!("/api/2.0/people/reassign/necessary{query}");
    // Without a user: does the caller see any room? The manager sees room 200.
    let any = p.get(&necessary("?type=User"), MANAGER).await;
    assert_eq!(any.response(), json!(true));
    // A new room admin sees none.
    let created = p
        .call(
            "POST",
            "/api/2.0/people",
            OWNER,
            Some(json!({"email": "fresh@example.com", "firstName": "Fay", "type": "RoomAdmin", "password": "fresh-password"})),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let fresh = p.login("fresh@example.com", "fresh-password").await;
    let none = p.get(&necessary("?type=Guest"), &fresh).await;
    assert_eq!((none.status, none.response()), (200, json!(false)));
    // plain@ is a member of room 100, which the owner sees and the manager does not
    // (the manager's HR group record on room 500 is not plain@'s own record).
    let about_plain = format!("?userId={plain}&type=User");
    assert_eq!(
        p.get(&necessary(&about_plain), OWNER).await.response(),
        json!(true)
    );
    assert_eq!(
        p.get(&necessary(&about_plain), MANAGER).await.response(),
        json!(false)
    );

    // The owner has no room; a folder shared two levels down in their My documents
    // counts for Type=Guest only.
    let owner = p.user_id("owner@example.com");
    let my = p.get("/api/2.0/files/@my", OWNER).await.response()["current"]["id"].clone();
    let outer = p
        .call(
            "POST",
            &format!("/api/2.0/files/folder/{my}"),
            OWNER,
            Some(json!({"title": "Outer"})),
        )
        .await
        .response()["id"]
        .clone();
    let inner = p
        .call(
            "POST",
            &format!("/api/2.0/files/folder/{outer}"),
            OWNER,
            Some(json!({"title": "Inner"})),
        )
        .await
        .response()["id"]
        .clone();
    let about_owner = |kind: &str| necessary(&format!("?userId={owner}&type={kind}"));
    assert_eq!(
        p.get(&about_owner("Guest"), OWNER).await.response(),
        json!(false)
    );
    let shared = p
        .call(
            "PUT",
            &format!("/api/2.0/files/folder/{inner}/share"),
            OWNER,
            Some(json!({"share": [{"shareTo": plain, "access": 2}]})),
        )
        .await;
    assert_eq!(shared.status, 200, "{}", shared.text);
    assert_eq!(
        p.get(&about_owner("Guest"), OWNER).await.response(),
        json!(true)
    );
    assert_eq!(
        p.get(&about_owner("RoomAdmin"), OWNER).await.response(),
        json!(false)
    );
}
