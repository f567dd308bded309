//! The plan as a safety gate: a workspace that is not the leaver's own (a mistyped
//! id, a room they only belong to) is never archived unless the row names its title
//! in `confirm_workspace`, and a workspace this tool handed on (to the key's user
//! while taking it over, to the archive owner by reassigning) is still recognised,
//! on resume from the journal and in a fresh run directory from the audit trail.

use std::time::Duration;

use serde_json::{Value, json};

use crate::apply::{
    apply, cut_journal_after_intent, demo_portal, folder, leaver, plan_json, quick, report, shares,
    step, user, write_manifest, yes,
};

const DEFAULTS: &str = "\
version: 1
defaults:
  archive_owner: it.archive@example.com
  archive_folder: 5001
  hr_group: HR
leavers:
";

fn reason(leaver: &Value) -> &str {
    leaver["reason"].as_str().unwrap_or_default()
}

/// A one-digit typo (2008 for 3108) and a department room the leaver belongs to:
/// both are somebody else's rooms. Neither plan nor apply touches them; a row that
/// names the room's title lets it through, a wrong title does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_of_someone_else_is_never_archived_unless_the_row_names_it() {
    let sim = demo_portal(quick()).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(
        dir.path(),
        &format!(
            "{DEFAULTS}  - user: kenji.mori@example.com\n    workspace: 2008\n  - user: mei.chen@example.com\n    workspace: 2001\n  - user: liam.oconnor@example.com\n    workspace: 4102\n"
        ),
    );
    let plan = plan_json(&sim, &manifest);
    // A folder somebody else created (Dmitri's, in the Sales room) is not Liam's.
    let liam = leaver(&plan, "liam.oconnor@example.com");
    assert_eq!(liam["outcome"], "invalid", "{liam:#}");
    assert!(
        reason(liam)
            .contains("is owned by Dmitri Volkov, and liam.oconnor@example.com did not create it"),
        "{liam:#}"
    );
    let kenji = leaver(&plan, "kenji.mori@example.com");
    assert_eq!(kenji["outcome"], "invalid", "{kenji:#}");
    assert!(
        reason(kenji).starts_with(
            "room 2008 \"Company policies\" is owned by Grace Okafor, and kenji.mori@example.com only belongs to it, through group \"Marketing\""
        ),
        "{kenji:#}"
    );
    assert!(reason(kenji).contains("confirm_workspace: \"Company policies\""));
    assert_eq!(kenji["workspace_relation"], "member");
    assert_eq!(kenji["workspace_owner"]["display_name"], "Grace Okafor");
    let mei = leaver(&plan, "mei.chen@example.com");
    assert_eq!(mei["outcome"], "invalid", "{mei:#}");
    assert!(
        reason(mei).starts_with(
            "room 2001 \"Sales\" is owned by Sofia Rossi, and mei.chen@example.com only belongs to it:"
        ),
        "{mei:#}"
    );

    // apply --yes locks both out (they are leavers) but leaves both rooms alone.
    let before = sim.state();
    let run_dir = dir.path().join("run");
    let run = apply(&sim, &yes(&manifest, &run_dir)).await;
    let after = sim.state();
    let report = report(&run_dir);
    // The summary names invalid leavers with their reasons, as it does failed ones.
    assert!(
        run.stdout
            .contains("  invalid: kenji.mori@example.com: room 2008 \"Company policies\" is owned by Grace Okafor"),
        "{}",
        run.stdout
    );
    for (email, room) in [
        ("kenji.mori@example.com", 2008),
        ("mei.chen@example.com", 2001),
        ("liam.oconnor@example.com", 4102),
    ] {
        let row = leaver(&report, email);
        assert_eq!(row["outcome"], "invalid", "{}\n{row:#}", run.transcript());
        assert_eq!(step(row, "archive"), "skipped");
        assert_eq!(
            (
                shares(folder(&after, room)),
                &folder(&after, room)["parent"],
                &folder(&after, room)["createdBy"]
            ),
            (
                shares(folder(&before, room)),
                &folder(&before, room)["parent"],
                &folder(&before, room)["createdBy"]
            ),
            "workspace {room} is untouched"
        );
    }

    // Naming the room's title says it is meant; the plan shows who loses access.
    let confirmed = write_manifest(
        dir.path(),
        &format!(
            "{DEFAULTS}  - user: mei.chen@example.com\n    workspace: 2001\n    confirm_workspace: Sales\n"
        ),
    );
    let plan = plan_json(&sim, &confirmed);
    let mei = leaver(&plan, "mei.chen@example.com");
    assert_eq!(mei["outcome"], "will_change", "{mei:#}");
    let losing: Vec<&str> = mei["member_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["to"].is_null())
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(losing.contains(&"Sofia Rossi"), "{losing:?}");
    assert!(
        losing.contains(&"Sales"),
        "the group loses it too: {losing:?}"
    );
    assert!(
        plan["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().starts_with(&format!(
                "archiving room 2001 \"Sales\" for mei.chen@example.com takes access from {} members",
                losing.len()
            ))),
        "{:#}",
        plan["warnings"]
    );
    let mistyped = write_manifest(
        dir.path(),
        &format!(
            "{DEFAULTS}  - user: mei.chen@example.com\n    workspace: 2008\n    confirm_workspace: Sales\n"
        ),
    );
    let plan = plan_json(&sim, &mistyped);
    assert!(
        reason(leaver(&plan, "mei.chen@example.com")).starts_with(
            "`confirm_workspace` says \"Sales\", but room 2008 is \"Company policies\""
        ),
        "{plan:#}"
    );
}

/// Sends `method path` with the owner's key and returns the JSON answer.
async fn call(sim: &docspace_sim::SimHandle, method: &str, path: &str, body: Value) -> Value {
    let http = crate::support::http();
    let request = match method {
        "PUT" => http.put(format!("{}{path}", sim.url())),
        _ => http.post(format!("{}{path}", sim.url())),
    };
    request
        .bearer_auth(sim.owner_key())
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Waits (bounded) until the simulator's state satisfies `done`.
async fn until(sim: &docspace_sim::SimHandle, done: impl Fn(&Value) -> bool) {
    for _ in 0..500 {
        if done(&sim.state()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the portal never reached the state waited for");
}

/// After an offboarding the leaver's room belongs to the archive owner (the reassign
/// and the archive hand it on), or, mid-archive, to the key's user. A fresh run
/// directory recognises the first from the audit trail (it shows them creating it,
/// and this row's archive owner holds it); a resumed run recognises both from its
/// journal. Someone else's room in the same state is still refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_this_tool_handed_on_is_still_the_leavers() {
    let sim = demo_portal(quick()).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(
        dir.path(),
        &format!("{DEFAULTS}  - user: carla.mendes@example.com\n    workspace: 3101\n"),
    );
    let run_dir = dir.path().join("run");
    let first = apply(&sim, &yes(&manifest, &run_dir)).await;
    assert_eq!(first.code, 0, "{}", first.transcript());
    let state = sim.state();
    let archive_owner = user(&state, "it.archive@example.com")["id"].clone();
    assert_eq!(folder(&state, 3101)["createdBy"], archive_owner);

    // Someone brings the room back from the archive: a fresh plan still knows it.
    call(
        &sim,
        "PUT",
        "/api/2.0/files/rooms/3101/unarchive",
        json!({}),
    )
    .await;
    until(&sim, |s| folder(s, 3101)["parent"] == s["roomsRoot"]).await;
    let plan = plan_json(&sim, &manifest);
    let carla = leaver(&plan, "carla.mendes@example.com");
    assert_eq!(carla["outcome"], "will_change", "{carla:#}");
    assert_eq!(carla["workspace_relation"], "handed_over");
    // The same room named for another leaver is refused: the audit trail shows Carla creating it.
    let elsewhere = tempfile::tempdir().unwrap();
    let other = write_manifest(
        elsewhere.path(),
        &format!("{DEFAULTS}  - user: liam.oconnor@example.com\n    workspace: 3101\n"),
    );
    let plan = plan_json(&sim, &other);
    assert_eq!(
        leaver(&plan, "liam.oconnor@example.com")["outcome"],
        "invalid"
    );

    // Mid-archive the key's user owns it: only the journal knows it is Carla's.
    let owner = user(&state, "owner@example.com")["id"].clone();
    call(
        &sim,
        "POST",
        "/api/2.0/files/owner",
        json!({"folderIds": [3101], "userId": owner}),
    )
    .await;
    let plan = plan_json(&sim, &manifest);
    assert_eq!(
        leaver(&plan, "carla.mendes@example.com")["outcome"],
        "invalid",
        "a fresh plan cannot tell"
    );
    cut_journal_after_intent(&run_dir, "archive");
    let resumed = apply(&sim, &yes(&manifest, &run_dir)).await;
    assert_eq!(resumed.code, 0, "{}", resumed.transcript());
    let report = report(&run_dir);
    let carla = leaver(&report, "carla.mendes@example.com");
    assert_eq!(step(carla, "archive"), "done", "{carla:#}");
    let state = sim.state();
    assert_eq!(folder(&state, 3101)["parent"], state["archiveRoot"]);
    assert_eq!(folder(&state, 3101)["createdBy"], archive_owner);
}
