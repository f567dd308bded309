//! Folders, rooms, shares, owners and file operations (§6, §7, §8).

use std::io::Read;

use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn admins_cannot_read_other_users_my_documents() {
    let p = Portal::start().await;
    let leaver_my = p.state()["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == LEAVER)
        .unwrap()["myDocuments"]
        .as_i64()
        .unwrap();
    let listing = p.get(&format!("/api/2.0/files/{leaver_my}"), OWNER).await;
    assert_eq!(listing.status, 403);
    assert_eq!(
        listing.error_message(),
        "You don't have enough permission to view the folder content"
    );
    // `@my` is always the caller's own.
    let mine = p.get("/api/2.0/files/@my", LEAVER_KEY).await;
    assert_eq!(mine.response()["current"]["id"], leaver_my);
    assert_eq!(mine.response()["total"], 2);
    // A user with a share sees the shared folder.
    let shared = p.get("/api/2.0/files/folder/300", PLAIN).await;
    assert_eq!(shared.status, 200);
    // ... under "Shared with me" (FolderType.SHARE, 6), not USER: FolderDtoHelper
    // rewrites the root of another user's My documents item. Its owner sees USER.
    assert_eq!(shared.response()["rootFolderType"], 6);
    let own = p.get("/api/2.0/files/folder/300", LEAVER_KEY).await;
    assert_eq!(own.response()["rootFolderType"], 5);
}

#[tokio::test]
async fn folders_rooms_and_paths() {
    let p = Portal::start().await;
    let info = p.get("/api/2.0/files/folder/210", OWNER).await;
    assert_eq!(info.response()["title"], "Lea work");
    assert_eq!(info.response()["rootFolderType"], 14);
    assert_eq!(info.response()["parentId"], 200);
    let room = p.get("/api/2.0/files/rooms/100", OWNER).await;
    assert_eq!(room.response()["roomType"], 5);
    let path = p.get("/api/2.0/files/folder/110/path", OWNER).await;
    let titles: Vec<_> = path
        .response()
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["title"].clone())
        .collect();
    assert_eq!(
        titles,
        vec![json!("Rooms"), json!("Lea's projects"), json!("Drafts")]
    );
    let contents = p.get("/api/2.0/files/100?count=1", OWNER).await;
    assert_eq!(
        contents.json()["count"],
        1,
        "the envelope counts the one DTO"
    );
    assert_eq!(
        (
            contents.response()["total"].clone(),
            contents.response()["count"].clone()
        ),
        (json!(2), json!(1))
    );
    assert_eq!(
        p.get("/api/2.0/files/folder/999", OWNER)
            .await
            .error_message(),
        "The required folder was not found"
    );
    let anonymous = p.send("GET", "/api/2.0/files/folder/100", None, None).await;
    assert_eq!(
        (anonymous.status, anonymous.json()["statusCode"].clone()),
        (401, json!(401))
    );
}

#[tokio::test]
async fn rooms_list_by_owner_or_member_and_area() {
    let p = Portal::start().await;
    let owned = p
        .get(
            &format!("/api/2.0/files/rooms?subjectId={LEAVER}&subjectFilter=0"),
            OWNER,
        )
        .await;
    let ids: Vec<_> = owned.response()["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(100)]);
    let member = p
        .get(
            &format!("/api/2.0/files/rooms?subjectId={LEAVER}&subjectFilter=1"),
            OWNER,
        )
        .await;
    let ids: Vec<_> = member.response()["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(200)]);
    let archived = p.get("/api/2.0/files/rooms?searchArea=1", OWNER).await;
    assert_eq!(archived.response()["total"], 0);
}

#[tokio::test]
async fn room_members_follow_the_access_rules() {
    let p = Portal::start().await;
    let listing = p.get("/api/2.0/files/rooms/100/share", OWNER).await;
    let members = listing.response();
    assert_eq!(members[0]["isOwner"], true);
    assert_eq!(members[0]["access"], 1);
    assert_eq!(members[0]["sharedToUser"]["id"], LEAVER);
    assert_eq!(listing.json()["total"], 3);

    // A DocSpace admin who is not a member may not change members.
    let plain = p.user_id("plain@example.com");
    let by_admin = p
        .call(
            "PUT",
            "/api/2.0/files/rooms/100/share",
            OWNER,
            Some(json!({"invitations": [{"id": plain, "access": 0}]})),
        )
        .await;
    assert_eq!(
        (by_admin.status, by_admin.error_message()),
        (403, "Access denied".into())
    );
    // RoomManager is not a role for a User-type member.
    let by_owner = p
        .call(
            "PUT",
            "/api/2.0/files/rooms/100/share",
            LEAVER_KEY,
            Some(json!({"invitations": [{"id": plain, "access": 9}]})),
        )
        .await;
    assert_eq!(
        (by_owner.status, by_owner.error_message()),
        (403, "The role is not available for this user type".into())
    );
    // The owner removes a member and adds a group; an unknown access name means None.
    let hr = p.state()["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "HR")
        .unwrap()["id"]
        .clone();
    let changed = p
        .call("PUT", "/api/2.0/files/rooms/100/share", LEAVER_KEY, Some(json!({"invitations": [{"id": plain, "access": "Nonsense"}, {"id": hr, "access": "Read"}], "notify": false})))
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.response()["error"], 0);
    let shares = p.folder(100).unwrap()["shares"].clone();
    assert!(
        !shares
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["subject"] == plain.as_str())
    );
    assert!(
        shares
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["subject"] == hr && s["access"] == 2)
    );
    // Empty invitations do nothing, even for a bogus room.
    let empty = p
        .call(
            "PUT",
            "/api/2.0/files/rooms/99999/share",
            OWNER,
            Some(json!({"invitations": []})),
        )
        .await;
    assert_eq!((empty.status, empty.response()), (200, json!({"error": 0})));
}

#[tokio::test]
async fn disabled_users_cannot_be_added_to_rooms_but_can_be_removed() {
    let p = Portal::start().await;
    let gone = p.user_id("gone@example.com");
    let added = p
        .call(
            "PUT",
            "/api/2.0/files/rooms/100/share",
            LEAVER_KEY,
            Some(json!({"invitations": [{"id": gone, "access": 2}]})),
        )
        .await;
    assert_eq!(
        (added.status, added.response()["members"].clone()),
        (200, json!([]))
    );
    p.disable(&[SECOND]).await;
    let removed = p
        .call(
            "PUT",
            "/api/2.0/files/rooms/200/share",
            MANAGER,
            Some(json!({"invitations": [{"id": SECOND, "access": 0}]})),
        )
        .await;
    assert_eq!(removed.status, 200);
    assert!(
        !p.folder(200).unwrap()["shares"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["subject"] == SECOND)
    );
}

#[tokio::test]
async fn folders_inside_rooms_take_no_user_shares() {
    let p = Portal::start().await;
    let plain = p.user_id("plain@example.com");
    let answer = p
        .call(
            "PUT",
            "/api/2.0/files/folder/110/share",
            LEAVER_KEY,
            Some(json!({"share": [{"shareTo": plain, "access": 2}]})),
        )
        .await;
    assert_eq!(
        (answer.status, answer.error_message()),
        (403, "The role is not available for this user type".into())
    );
    // The example script's body (`entries`) is silently ignored: 200, nothing shared.
    let wrong_body = p
        .call(
            "PUT",
            "/api/2.0/files/folder/300/share",
            LEAVER_KEY,
            Some(json!({"entries": [{"id": plain, "isGroup": false, "access": 4}]})),
        )
        .await;
    assert_eq!((wrong_body.status, wrong_body.response()), (200, json!([])));
    // A personal folder takes shares from its owner.
    let second = p
        .call(
            "PUT",
            "/api/2.0/files/folder/310/share",
            LEAVER_KEY,
            Some(json!({"share": [{"shareTo": SECOND, "access": 2}]})),
        )
        .await;
    assert_eq!(second.response()[0]["access"], 2);
    // Unknown folder: 200 and an empty list.
    let bogus = p
        .call(
            "PUT",
            "/api/2.0/files/folder/99999/share",
            OWNER,
            Some(json!({"share": [{"shareTo": SECOND, "access": 2}]})),
        )
        .await;
    assert_eq!((bogus.status, bogus.response()), (200, json!([])));
}

/// On `PUT files/rooms/{id}/share` the entries are applied in the request's order
/// (`RoomInvitationMapper` sets no SubjectGroup, so the helper's stable sort keeps
/// it): a refused role stops the request after the entries before it, and a group
/// after it is not written. (The folder route puts groups first; see below.)
#[tokio::test]
async fn room_invitations_are_applied_in_the_order_sent() {
    let p = Portal::start().await;
    let plain = p.user_id("plain@example.com");
    let hr = p.group_id("HR");
    let refused = p
        .call(
            "PUT",
            "/api/2.0/files/rooms/100/share",
            LEAVER_KEY,
            Some(json!({"invitations": [{"id": SECOND, "access": 2}, {"id": plain, "access": 9}, {"id": hr, "access": 2}]})),
        )
        .await;
    assert_eq!(refused.status, 403);
    let shares = p.folder(100).unwrap()["shares"].clone();
    let subjects: Vec<&str> = shares
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["subject"].as_str().unwrap())
        .collect();
    assert!(subjects.contains(&SECOND), "written before the refusal");
    assert!(!subjects.contains(&hr.as_str()), "not reached");
}

/// How many audit events of `action` the portal holds.
fn audited(p: &Portal, action: u64) -> usize {
    p.state()["audit"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .count()
}

/// `PUT files/folder/{id}/share` on a ROOM runs the room's rules, as `PUT
/// files/rooms/{id}/share` does: both end in `FileSharingAceHelper.SetAceObjectAsync`
/// (products/ASC.Files/Core/Utils/FileSharing.cs) through
/// `SecurityControllerHelper.SetSecurityInfoAsync`. Groups go first; a role the room
/// or user type forbids is a 403 that keeps earlier writes but audits none
/// (`FileStorageService.SetAceObjectAsync` audits after the helper returns); an
/// unchanged role is skipped; the answer repeats, per changed entry, the current
/// records of every subject sent (`GetPureSharesAsync`).
#[tokio::test]
async fn a_room_takes_member_changes_through_the_folder_share_route_too() {
    let p = Portal::start().await;
    let plain = p.user_id("plain@example.com");
    let hr = p.group_id("HR");
    let share = |items: Value| Some(json!({ "share": items }));
    // A DocSpace admin who is not a member: no EditAccess.
    let by_admin = p
        .call(
            "PUT",
            "/api/2.0/files/folder/100/share",
            OWNER,
            share(json!([{"shareTo": SECOND, "access": 2}])),
        )
        .await;
    assert_eq!(
        (by_admin.status, by_admin.error_message()),
        (403, "Access denied".into())
    );
    // RoomManager is not a User's role: refused, after the group (first) was written,
    // and with no audit event for it.
    let before = audited(&p, 5094);
    let refused = p
        .call(
            "PUT",
            "/api/2.0/files/folder/100/share",
            LEAVER_KEY,
            share(json!([{"shareTo": plain, "access": 9}, {"shareTo": hr, "access": 2}])),
        )
        .await;
    assert_eq!(
        (refused.status, refused.error_message()),
        (403, "The role is not available for this user type".into())
    );
    let shares = p.folder(100).unwrap()["shares"].clone();
    assert!(
        shares
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["subject"] == hr.as_str() && s["access"] == 2),
        "{shares}"
    );
    assert_eq!(audited(&p, 5094), before, "nothing audited");
    // A room role through the folder route: the member is added, audited as the
    // room route does (RoomCreateUser), and plain's unchanged role is skipped.
    let created = audited(&p, 5085);
    let updated = audited(&p, 5075);
    let added = p
        .call(
            "PUT",
            "/api/2.0/files/folder/100/share",
            LEAVER_KEY,
            share(json!([{"shareTo": plain, "access": 10}, {"shareTo": SECOND, "access": 11}])),
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.text);
    let records = added.response();
    let records = records.as_array().unwrap();
    assert_eq!(
        records.len(),
        2,
        "one changed entry: both subjects' records once"
    );
    assert!(
        records
            .iter()
            .any(|r| r["sharedToUser"]["id"] == SECOND && r["access"] == 11)
    );
    assert_eq!(
        (audited(&p, 5085), audited(&p, 5075)),
        (created + 1, updated)
    );
    // The room route on a folder inside a room: links only, so a user is refused.
    let on_folder = p
        .call(
            "PUT",
            "/api/2.0/files/rooms/110/share",
            LEAVER_KEY,
            Some(json!({"invitations": [{"id": SECOND, "access": 2}]})),
        )
        .await;
    assert_eq!(
        (on_folder.status, on_folder.error_message()),
        (403, "The role is not available for this user type".into())
    );
}

#[tokio::test]
async fn changing_a_room_owner_needs_post_and_an_eligible_user() {
    let p = Portal::start().await;
    let keeper = p.user_id("keeper@example.com");
    let plain = p.user_id("plain@example.com");
    let unfit = p
        .call(
            "POST",
            "/api/2.0/files/owner",
            OWNER,
            Some(json!({"folderIds": [100], "userId": plain})),
        )
        .await;
    assert_eq!(
        (unfit.status, unfit.error_message()),
        (403, "You cannot select this user".into())
    );
    let moved = p
        .call(
            "POST",
            "/api/2.0/files/owner",
            OWNER,
            Some(json!({"folderIds": [100], "fileIds": [], "userId": keeper})),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    let room = p.folder(100).unwrap();
    assert_eq!(room["createdBy"], keeper.as_str());
    // The previous owner (active) becomes a room manager.
    assert!(
        room["shares"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["subject"] == LEAVER && s["access"] == 9)
    );
}

#[tokio::test]
async fn moving_a_folder_is_asynchronous_and_read_once() {
    let p = Portal::start().await;
    // The Sales room's manager may not move into a room they are not a member of.
    let denied = p
        .call(
            "PUT",
            "/api/2.0/files/fileops/move",
            MANAGER,
            Some(json!({"folderIds": [210], "destFolderId": 500})),
        )
        .await;
    assert_eq!(
        (denied.status, denied.error_message()),
        (403, "Access denied".into())
    );
    let into_itself = p
        .call(
            "PUT",
            "/api/2.0/files/fileops/move",
            MANAGER,
            Some(json!({"folderIds": [210], "destFolderId": 210})),
        )
        .await;
    assert_eq!(into_itself.status, 403);
    let missing = p
        .call(
            "PUT",
            "/api/2.0/files/fileops/move",
            MANAGER,
            Some(json!({"folderIds": [210], "destFolderId": 99999})),
        )
        .await;
    assert_eq!(
        (missing.status, missing.error_message()),
        (404, "The required folder was not found".into())
    );

    // Made owner of the archive room, the manager may move it there.
    let manager = p.user_id("manager@example.com");
    let owner_of_archive = p
        .call(
            "POST",
            "/api/2.0/files/owner",
            OWNER,
            Some(json!({"folderIds": [500], "userId": manager})),
        )
        .await;
    assert_eq!(owner_of_archive.status, 200);
    let started = p
        .call("PUT", "/api/2.0/files/fileops/move", MANAGER, Some(json!({"folderIds": [210], "destFolderId": 500, "deleteAfter": false, "returnSingleOperation": true})))
        .await;
    assert_eq!(started.status, 200, "{}", started.text);
    assert_eq!(started.json()["count"], 1);
    let op = started.response()[0].clone();
    assert_eq!(
        (op["Operation"].clone(), op["finished"].clone()),
        (json!(0), json!(false))
    );
    let id = op["id"].as_str().unwrap().to_owned();
    let done = p
        .poll_until(&format!("/api/2.0/files/fileops?id={id}"), MANAGER, |a| {
            a.response()[0]["finished"] == true
        })
        .await;
    assert_eq!(done.response()[0]["status"], 2);
    assert_eq!(done.response()[0]["folders"][0]["id"], 210);
    assert_eq!(p.folder(210).unwrap()["parent"], 500);
    // Read once: the finished operation is gone from the next listing.
    assert_eq!(
        p.get("/api/2.0/files/fileops", MANAGER).await.response(),
        json!([])
    );
    // The folder keeps its creator.
    assert_eq!(p.folder(210).unwrap()["createdBy"], LEAVER);
}

#[tokio::test]
async fn archiving_is_for_owners_and_admins_and_freezes_the_room() {
    let p = Portal::start().await;
    let plain_key_denied = p
        .call(
            "PUT",
            "/api/2.0/files/rooms/200/archive",
            LEAVER_KEY,
            Some(json!({})),
        )
        .await;
    assert_eq!(
        plain_key_denied.status, 403,
        "a content creator may not archive"
    );
    let started = p
        .call(
            "PUT",
            "/api/2.0/files/rooms/100/archive",
            OWNER,
            Some(json!({"deleteAfter": false})),
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.text);
    let op = started.response();
    assert!(op.is_object(), "a single operation, not a list");
    assert_eq!(op["Operation"], 0);
    let id = op["id"].as_str().unwrap().to_owned();
    p.poll_until(&format!("/api/2.0/files/fileops?id={id}"), OWNER, |a| {
        a.response()[0]["finished"] == true
    })
    .await;
    let room = p.get("/api/2.0/files/rooms/100", OWNER).await.response();
    assert_eq!(room["rootFolderType"], 20);
    // Members stay, but nobody may change them any more.
    let listing = p.get("/api/2.0/files/rooms?searchArea=1", OWNER).await;
    assert_eq!(listing.response()["total"], 1);
    let plain = p.user_id("plain@example.com");
    let frozen = p
        .call(
            "PUT",
            "/api/2.0/files/rooms/100/share",
            LEAVER_KEY,
            Some(json!({"invitations": [{"id": plain, "access": 0}]})),
        )
        .await;
    assert_eq!(frozen.status, 403);
    let events = p
        .get("/api/2.0/security/audit/events/filter?action=5072", OWNER)
        .await;
    assert_eq!(events.response()[0]["action"], "Room archived");
}

#[tokio::test]
async fn bulk_download_gives_a_zip_for_its_requester() {
    let p = Portal::start().await;
    let started = p
        .call(
            "PUT",
            "/api/2.0/files/fileops/bulkdownload",
            LEAVER_KEY,
            Some(json!({"folderIds": [100]})),
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.text);
    let op = started.response()[0].clone();
    assert_eq!(op["Operation"], 3);
    let second = p
        .call(
            "PUT",
            "/api/2.0/files/fileops/bulkdownload",
            LEAVER_KEY,
            Some(json!({"fileIds": [101]})),
        )
        .await;
    assert_eq!(
        (second.status, second.error_message()),
        (403, "Too many downloads.".into())
    );
    let id = op["id"].as_str().unwrap().to_owned();
    let done = p
        .poll_until(
            &format!("/api/2.0/files/fileops/3?id={id}"),
            LEAVER_KEY,
            |a| a.response()[0]["finished"] == true,
        )
        .await;
    let url = done.response()[0]["url"].as_str().unwrap().to_owned();
    assert!(url.contains("/filehandler.ashx?action=bulk&filename="));
    let path = url.trim_start_matches(&p.sim.url()).to_owned();
    let bytes = crate::support::http()
        .get(&url)
        .header("Authorization", format!("Bearer {LEAVER_KEY}"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut zip =
        zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip archive");
    let mut names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "Lea's projects/Drafts/Plan.docx",
            "Lea's projects/Notes.docx"
        ]
    );
    let mut content = String::new();
    zip.by_name("Lea's projects/Notes.docx")
        .unwrap()
        .read_to_string(&mut content)
        .unwrap();
    assert_eq!(content, "Notes.docx\n");
    // Someone else may not fetch it.
    assert_eq!(p.get(&path, PLAIN).await.status, 403);
}

#[tokio::test]
async fn fileops_by_type_and_the_check_move_route() {
    let p = Portal::start().await;
    let check = p.get("/api/2.0/files/fileops/move", OWNER).await;
    assert_eq!((check.status, check.response()), (200, json!([])));
    let bad_id = p.get("/api/2.0/files/fileops?id=nope", OWNER).await;
    assert_eq!(
        bad_id.status, 400,
        "a malformed id does not mean every operation"
    );
    let convert = p.get("/api/2.0/files/fileops/6", OWNER).await;
    assert_eq!(convert.status, 400);
    let none = p.get("/api/2.0/files/fileops/0", OWNER).await;
    assert_eq!(none.response(), json!([]));
}

#[tokio::test]
async fn rooms_folders_and_files_can_be_created() {
    let p = Portal::start().await;
    let room = p
        .call(
            "POST",
            "/api/2.0/files/rooms",
            MANAGER,
            Some(json!({"title": "New room", "roomType": 2})),
        )
        .await;
    assert_eq!(room.status, 200, "{}", room.text);
    let room_id = room.response()["id"].as_i64().unwrap();
    assert_eq!(room.response()["roomType"], 2);
    let by_user = p
        .call(
            "POST",
            "/api/2.0/files/rooms",
            PLAIN,
            Some(json!({"title": "Nope", "roomType": 5})),
        )
        .await;
    assert_eq!(by_user.status, 403);
    let folder = p
        .call(
            "POST",
            &format!("/api/2.0/files/folder/{room_id}"),
            MANAGER,
            Some(json!({"title": "Inside"})),
        )
        .await;
    assert_eq!(folder.response()["parentId"], room_id);
    let folder_id = folder.response()["id"].as_i64().unwrap();
    let file = p
        .call(
            "POST",
            &format!("/api/2.0/files/{folder_id}/file"),
            MANAGER,
            Some(json!({"title": "Memo"})),
        )
        .await;
    assert_eq!(file.response()["title"], "Memo.docx");
    let mine = p
        .call(
            "POST",
            "/api/2.0/files/@my/file",
            PLAIN,
            Some(json!({"title": "Mine.xlsx"})),
        )
        .await;
    assert_eq!(mine.response()["fileExst"], ".xlsx");
}

#[tokio::test]
async fn a_content_creator_moves_only_what_they_created() {
    let p = Portal::start().await;
    // Make the leaver a content creator of the archive room, then try to move the
    // folder they created in Sales, once with a colleague's file inside.
    let owner_of_archive = p
        .call(
            "POST",
            "/api/2.0/files/owner",
            OWNER,
            Some(json!({"folderIds": [500], "userId": LEAVER})),
        )
        .await;
    assert_eq!(owner_of_archive.status, 200);
    let second_file = p
        .call(
            "POST",
            "/api/2.0/files/210/file",
            MANAGER,
            Some(json!({"title": "Manager note"})),
        )
        .await;
    assert_eq!(second_file.status, 200, "{}", second_file.text);
    let denied = p
        .call(
            "PUT",
            "/api/2.0/files/fileops/move",
            LEAVER_KEY,
            Some(json!({"folderIds": [210], "destFolderId": 500})),
        )
        .await;
    assert_eq!(
        denied.status, 403,
        "a file inside was created by someone else"
    );
    let file_id = second_file.response()["id"].as_i64().unwrap();
    let by_manager = p
        .call(
            "PUT",
            "/api/2.0/files/fileops/move",
            MANAGER,
            Some(json!({"fileIds": [file_id], "destFolderId": 200})),
        )
        .await;
    assert_eq!(by_manager.status, 200);
    p.poll_until("/api/2.0/files/fileops", MANAGER, |a| {
        a.response() == json!([])
    })
    .await;
    let allowed = p
        .call(
            "PUT",
            "/api/2.0/files/fileops/move",
            LEAVER_KEY,
            Some(json!({"folderIds": [210], "destFolderId": 500})),
        )
        .await;
    assert_eq!(allowed.status, 200, "{}", allowed.text);
}

/// A room that denies downloads (`SettingsDenyDownload`; FileSecurity.FilterEntryAsync,
/// the `VirtualRooms` admin shortcut and the `Download` case): its owner and members
/// above Read may download, Read members and admins who are not members may not.
/// `FolderDto.denyDownload` is always sent; `security.Download` follows the caller.
/// A bulk download that keeps nothing is a synchronous 404
/// (`DownloadPermissionsCheck.CheckPermissionsAsync`).
#[tokio::test]
async fn a_room_that_denies_downloads_refuses_readers_and_admins() {
    let p = Portal::start().await;
    let as_admin = p.get("/api/2.0/files/rooms/600", OWNER).await.response();
    assert_eq!(as_admin["denyDownload"], true);
    assert_eq!(
        (
            as_admin["security"]["Read"].clone(),
            as_admin["security"]["Download"].clone()
        ),
        (json!(true), json!(false))
    );
    let as_owner = p.get("/api/2.0/files/rooms/600", MANAGER).await.response();
    assert_eq!(as_owner["security"]["Download"], true);
    let reader = p.login("second@example.com", "second-password").await;
    let as_reader = p.get("/api/2.0/files/rooms/600", &reader).await.response();
    assert_eq!(as_reader["security"]["Download"], false);
    // Other rooms and plain folders say false, never nothing.
    let other = p.get("/api/2.0/files/rooms/100", OWNER).await.response();
    assert_eq!(
        (
            other["denyDownload"].clone(),
            other["security"]["Download"].clone()
        ),
        (json!(false), json!(true))
    );
    assert_eq!(
        p.get("/api/2.0/files/folder/110", OWNER).await.response()["denyDownload"],
        false
    );

    let download = |ids: Value| Some(json!({ "folderIds": ids }));
    for key in [OWNER, reader.as_str()] {
        let refused = p
            .call(
                "PUT",
                "/api/2.0/files/fileops/bulkdownload",
                key,
                download(json!([600])),
            )
            .await;
        assert_eq!(
            (refused.status, refused.error_message()),
            (404, "The required folder was not found".into())
        );
    }
    let files = p
        .call(
            "PUT",
            "/api/2.0/files/fileops/bulkdownload",
            OWNER,
            Some(json!({"fileIds": [601]})),
        )
        .await;
    assert_eq!(
        (files.status, files.error_message()),
        (404, "The required file was not found".into())
    );
    // The owner may; and a denied room beside an allowed one is left out, not fatal.
    let by_owner = p
        .call(
            "PUT",
            "/api/2.0/files/fileops/bulkdownload",
            MANAGER,
            download(json!([600])),
        )
        .await;
    assert_eq!(by_owner.status, 200, "{}", by_owner.text);
    let mixed = p
        .call(
            "PUT",
            "/api/2.0/files/fileops/bulkdownload",
            OWNER,
            download(json!([600, 100])),
        )
        .await;
    assert_eq!(mixed.status, 200, "{}", mixed.text);
}
