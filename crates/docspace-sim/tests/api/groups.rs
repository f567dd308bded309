//! Groups (§11): a user's groups and creating groups, as `GroupController`
//! (products/ASC.People/Server/Api/GroupsController.cs) answers them.

use serde_json::json;

use crate::support::*;

fn group_id(p: &Portal, name: &str) -> String {
    p.state()["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == name)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `GroupController.GetGroupByUserId` (`group/user/{userid:guid}`): `Action_ReadGroups`,
/// then `GetUserGroupsAsync` (the user's non-system groups, by name in ordinal order)
/// as `GroupSummaryDto` `{id, name, manager, isSystem}`: `manager` is the manager's
/// user name and is left out without a manager (the lost user has no user name);
/// `isSystem` only when true. `EmployeeFullDto.groups` is the same list.
#[tokio::test]
async fn a_users_groups_are_summaries_with_the_managers_user_name() {
    let p = Portal::start().await;
    let manager = p.user_id("manager@example.com");
    let hr = group_id(&p, "HR");
    let sales = group_id(&p, "Sales");
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
