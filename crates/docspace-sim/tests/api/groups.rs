//! Groups (§11): a user's groups and creating groups, as `GroupController`
//! (products/ASC.People/Server/Api/GroupsController.cs) answers them.

use serde_json::json;

use crate::support::*;

/// `GroupController.GetGroupByUserId` (`group/user/{userid:guid}`): `Action_ReadGroups`,
/// then `GetUserGroupsAsync` (the user's non-system groups, by name in ordinal order)
/// as `GroupSummaryDto` `{id, name, manager, isSystem}`: `manager` is the manager's
/// user name and is left out without a manager (the lost user has no user name);
/// `isSystem` only when true. `EmployeeFullDto.groups` is the same list.
#[tokio::test]
async fn a_users_groups_are_summaries_with_the_managers_user_name() {
    let p = Portal::start().await;
    let manager = p.user_id("manager@example.com");
    let hr = p.group_id("HR");
    let sales = p.group_id("Sales");
    let of_manager = p
        .get(&format!("/api/2.0/group/user/{manager}"), OWNER)
        .await;
    assert_eq!(
        of_manager.response(),
        json!([{"id": hr, "name": "HR", "manager": "manager"}])
    );
    // Ordinal order puts "Sales" before "apple".
    let apple = p
        .call(
            "POST",
            "/api/2.0/group",
            OWNER,
            Some(json!({"groupName": "apple", "members": [SECOND]})),
        )
        .await
        .response()["id"]
        .clone();
    let of_second = p
        .get(&format!("/api/2.0/group/user/{SECOND}"), MANAGER)
        .await;
    assert_eq!(
        of_second.response(),
        json!([{"id": sales, "name": "Sales"}, {"id": apple, "name": "apple"}])
    );
    let profile = p.get(&format!("/api/2.0/people/{SECOND}"), OWNER).await;
    assert_eq!(profile.response()["groups"], of_second.response());
    assert_eq!(profile.response()["department"], "Sales, apple");

    let nobody = p
        .get(
            "/api/2.0/group/user/33333333-3333-4333-8333-333333333333",
            OWNER,
        )
        .await;
    assert_eq!((nobody.status, nobody.response()), (200, json!([])));
    let not_a_guid = p.get("/api/2.0/group/user/manager", OWNER).await;
    assert_eq!((not_a_guid.status, not_a_guid.text.as_str()), (404, ""));
    let by_user = p
        .get(&format!("/api/2.0/group/user/{manager}"), PLAIN)
        .await;
    assert_eq!(
        (by_user.status, by_user.error_message()),
        (403, "Access denied".into())
    );
}

/// `GroupController.AddGroup` binds a `GroupRequestDto` first: `GroupName` a string of
/// 1 to 128 characters (`[StringLength(128, MinimumLength = 1)]`), `GroupManager` a
/// GUID, `Members` GUIDs; a wrong JSON type is a System.Text.Json error under its JSON
/// path, all 400 validation answers. Then `ThrowIfNullOrWhiteSpace(GroupName)` and
/// `ValidateUserAsync` for every member and the manager (active, not a guest); the
/// members are a set (`ToHashSet`).
#[tokio::test]
async fn creating_a_group_validates_the_request_and_collapses_members() {
    let p = Portal::start().await;
    let manager = p.user_id("manager@example.com");
    let create = |body: serde_json::Value| p.call("POST", "/api/2.0/group", OWNER, Some(body));
    for (body, field) in [
        (json!({"groupName": 42}), "$.groupName"),
        (json!({"GROUPNAME": ["x"]}), "$.GROUPNAME"),
        (json!({"groupName": "x".repeat(129)}), "GroupName"),
        (json!({"groupName": ""}), "GroupName"),
        (
            json!({"groupName": "Ops", "groupManager": 7}),
            "$.groupManager",
        ),
        (
            json!({"groupName": "Ops", "groupManager": "manager"}),
            "$.groupManager",
        ),
        (json!({"groupName": "Ops", "members": SECOND}), "$.members"),
        (
            json!({"groupName": "Ops", "members": [SECOND, 5]}),
            "$.members[1]",
        ),
    ] {
        let answer = create(body.clone()).await;
        assert_eq!(
            (answer.status, answer.json()["status"].clone()),
            (400, json!(1)),
            "{body}"
        );
        let errors = answer.response()["errors"].clone();
        assert!(errors[field].is_array(), "{body}: {errors}");
    }
    let too_long = create(json!({"groupName": "x".repeat(129)})).await;
    assert_eq!(
        too_long.response()["errors"]["GroupName"][0],
        "The field GroupName must be a string with a minimum length of 1 and a maximum length of 128."
    );
    let blank = create(json!({"groupName": "   "})).await;
    assert_eq!(
        (blank.status, blank.error_message()),
        (
            400,
            "The value cannot be an empty string or composed entirely of whitespace. (Parameter 'inDto.GroupName')".into()
        )
    );
    let guest = p.user_id("guest@example.com");
    let gone = p.user_id("gone@example.com");
    for member in [
        guest.as_str(),
        gone.as_str(),
        "33333333-3333-4333-8333-333333333333",
    ] {
        let refused = create(json!({"groupName": "Ops", "members": [member]})).await;
        assert_eq!(
            (refused.status, refused.error_message()),
            (400, "The user could not be found".into()),
            "{member}"
        );
    }
    assert_eq!(
        p.state()["groups"].as_array().unwrap().len(),
        2,
        "nothing created"
    );

    let name = "x".repeat(128);
    let created = create(json!({
        "groupName": name,
        "groupManager": manager,
        "members": [SECOND, SECOND, manager, LEAVER],
    }))
    .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let group = created.response();
    assert_eq!(group["name"], name.as_str());
    assert_eq!(group["membersCount"], 3);
    let mut members: Vec<String> = group["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    members.sort();
    let mut expected = vec![SECOND.to_owned(), manager.clone(), LEAVER.to_owned()];
    expected.sort();
    assert_eq!(members, expected);
    assert_eq!(group["manager"]["id"], manager.as_str());
}
