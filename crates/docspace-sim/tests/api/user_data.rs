//! What users ask for about their own data, as `RemoveUserDataController`
//! (products/ASC.People/Server/Api/RemoveUserDataController.cs) answers it: the
//! profile deletion instructions and a guest's personal-folder deletion.

use serde_json::json;

use crate::support::*;

/// `SendInstructionsToDelete` (`PUT people/self/delete`): an LDAP user or the owner
/// gets `SecurityException` (403 "Access denied"); anyone else gets the instructions
/// mailed, the audit event `UserSentDeleteInstructions` (4016, logged without a target)
/// and `SuccessfullySentNotificationDeleteUserInfoMessage` with the e-mail in bold. It
/// is no `[AllowAnonymous]` action: without credentials, the pipeline's empty 401.
#[tokio::test]
async fn self_delete_sends_instructions_but_not_to_the_owner_or_ldap_users() {
    let p = Portal::start().await;
    let anonymous = p
        .send("PUT", "/api/2.0/people/self/delete", None, None)
        .await;
    assert_eq!((anonymous.status, anonymous.text.as_str()), (401, ""));
    let ldap = p.login("ldap@example.com", "ldap-password").await;
    for key in [OWNER, ldap.as_str()] {
        let refused = p
            .call("PUT", "/api/2.0/people/self/delete", key, None)
            .await;
        assert_eq!(
            (refused.status, refused.error_message()),
            (403, "Access denied".into())
        );
    }
    let guest = p.login("guest@example.com", "guest-password").await;
    for (key, email) in [
        (PLAIN, "plain@example.com"),
        (ADMIN, "admin@example.com"),
        (guest.as_str(), "guest@example.com"),
    ] {
        let sent = p
            .call("PUT", "/api/2.0/people/self/delete", key, None)
            .await;
        assert_eq!(sent.status, 200, "{}", sent.text);
        assert_eq!(
            sent.response(),
            json!(format!(
                "Instructions to disable your profile has been sent to <b>{email}</b> email address"
            ))
        );
    }
    let plain = p.user_id("plain@example.com");
    let events = p
        .get(
            &format!("/api/2.0/security/audit/events/filter?action=4016&userId={plain}"),
            OWNER,
        )
        .await
        .response();
    assert_eq!(events.as_array().unwrap().len(), 1);
    assert_eq!(events[0]["action"], "Sent Delete Profile Instructions");
    assert_eq!(events[0]["actionType"], 8);
    assert!(events[0].get("target").is_none(), "{}", events[0]);
    assert_eq!(
        p.state()["users"].as_array().unwrap().len(),
        10,
        "nobody is deleted"
    );
}

/// `StartDeletePersonalFolder` (`POST people/delete/personal/start`) is for guests
/// only (`GetUserTypeAsync` != Guest: 403) and needs their My documents
/// (`QueueDeletePersonalFolder.StartAsync`: 403 without). The job
/// (`DeletePersonalFolderProgressItem`, id `1_{user}_DeletePersonalFolderProgressItem`)
/// hands what the guest shares to the portal owner (the folder was last modified by a
/// guest) and then deletes My documents with its contents (`DeletePersonalFolderAsync`);
/// `GET people/delete/personal/progress` shows the caller's job.
#[tokio::test]
async fn a_guest_deletes_their_personal_folder() {
    let p = Portal::start().await;
    let anonymous = p
        .send("POST", "/api/2.0/people/delete/personal/start", None, None)
        .await;
    assert_eq!((anonymous.status, anonymous.text.as_str()), (401, ""));
    for key in [OWNER, ADMIN, MANAGER, PLAIN] {
        let refused = p
            .call("POST", "/api/2.0/people/delete/personal/start", key, None)
            .await;
        assert_eq!(
            (refused.status, refused.error_message()),
            (403, "Access denied".into())
        );
    }
    let guest = p.login("guest@example.com", "guest-password").await;
    let guest_id = p.user_id("guest@example.com");
    let progress = "/api/2.0/people/delete/personal/progress";
    let none = p.get(progress, &guest).await;
    assert_eq!((none.status, none.json()["count"].clone()), (200, json!(0)));
    assert!(none.json().get("response").is_none());

    let my = p.get("/api/2.0/files/@my", &guest).await.response()["current"]["id"]
        .as_i64()
        .unwrap();
    let kept = create_folder(&p, &guest, my, "Kept").await;
    let shared = create_folder(&p, &guest, kept, "Shared").await;
    let share = p
        .call(
            "PUT",
            &format!("/api/2.0/files/folder/{shared}/share"),
            &guest,
            Some(json!({"share": [{"shareTo": SECOND, "access": 2}]})),
        )
        .await;
    assert_eq!(share.status, 200, "{}", share.text);

    let started = p
        .call(
            "POST",
            "/api/2.0/people/delete/personal/start",
            &guest,
            None,
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.text);
    assert_eq!(
        started.response()["id"],
        format!("1_{guest_id}_DeletePersonalFolderProgressItem")
    );
    assert_eq!(started.response()["status"], 1);
    let done = p
        .poll_until(progress, &guest, |a| a.response()["isCompleted"] == true)
        .await;
    assert_eq!(
        (
            done.response()["status"].clone(),
            done.response()["percentage"].clone()
        ),
        (json!(2), json!(100))
    );
    // My documents is gone with what was in it; the shared folder went to the owner.
    assert!(p.folder(my).is_none());
    assert!(p.folder(kept).is_none());
    let owner_my = p.get("/api/2.0/files/@my", OWNER).await.response()["current"]["id"].clone();
    let holder = p.state()["folders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["title"] == "Documents of user Gus Guest")
        .cloned()
        .expect("a folder for the guest's shared items");
    assert_eq!(holder["parent"], owner_my);
    let owner = p.user_id("owner@example.com");
    assert_eq!(p.folder(shared).unwrap()["parent"], holder["id"]);
    assert_eq!(p.folder(shared).unwrap()["createdBy"], owner.as_str());
    // Without My documents there is nothing to start.
    let again = p
        .call(
            "POST",
            "/api/2.0/people/delete/personal/start",
            &guest,
            None,
        )
        .await;
    assert_eq!(
        (again.status, again.error_message()),
        (403, "Access denied".into())
    );
}

async fn create_folder(p: &Portal, key: &str, parent: i64, title: &str) -> i64 {
    let created = p
        .call(
            "POST",
            &format!("/api/2.0/files/folder/{parent}"),
            key,
            Some(json!({"title": title})),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    created.response()["id"].as_i64().unwrap()
}
