//! `offboard revert` (the real binary) against the simulator: an applied demo run
//! reverted leaver by leaver, the portal's state compared with the state before
//! apply.

use std::path::Path;

use docspace_sim::SimHandle;
use serde_json::{Value, json};

use crate::apply::{
    DEMO_MANIFEST, apply, demo_portal, folder, leaver, quick, report, shares, step, user,
    write_manifest, yes,
};
use crate::support::{Run, against, finish};

const CARLA: &str = "carla.mendes@example.com";
const CARLA_ROOM: i64 = 3101;
const DMITRI: &str = "dmitri.volkov@example.com";
const DMITRI_FOLDER: i64 = 4102;

async fn revert(sim: &SimHandle, run_dir: &Path, args: &[&str]) -> Run {
    let mut all = vec![run_dir.to_str().unwrap()];
    all.extend_from_slice(args);
    finish(against(&sim.url(), sim.owner_key(), "revert", &all)).await
}

/// What revert gives back of a leaver: the account's status and type, and the
/// workspace's place, title, owner and members.
fn restorable(state: &Value, email: &str, workspace: i64) -> Value {
    let u = user(state, email);
    let f = folder(state, workspace);
    json!({
        "status": u["status"], "type": u["type"],
        "parent": f["parent"], "title": f["title"], "owner": f["createdBy"],
        "members": shares(f),
    })
}

fn keys_of(state: &Value, email: &str) -> Vec<Value> {
    let id = user(state, email)["id"].clone();
    state["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["createdBy"] == id)
        .cloned()
        .collect()
}

/// The demo manifest applied: the simulator, the state before, the run directory.
async fn applied(dir: &Path) -> (SimHandle, Value, std::path::PathBuf) {
    let sim = demo_portal(quick()).await;
    let before = sim.state();
    let manifest = write_manifest(dir, DEMO_MANIFEST);
    let run_dir = dir.join("run");
    let run = apply(&sim, &yes(&manifest, &run_dir)).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    (sim, before, run_dir)
}

fn writes(sim: &SimHandle) -> u64 {
    sim.stats()["byRoute"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(route, _)| !route.starts_with("GET "))
        .map(|(_, n)| n.as_u64().unwrap())
        .sum()
}

#[tokio::test]
async fn one_leaver_gets_their_account_and_room_back_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, before, run_dir) = applied(dir.path()).await;
    let offboarded = sim.state();
    assert_ne!(
        restorable(&offboarded, CARLA, CARLA_ROOM),
        restorable(&before, CARLA, CARLA_ROOM),
        "apply changed the room and the account"
    );

    let run = revert(&sim, &run_dir, &["--leaver", CARLA, "--yes"]).await;
    // Dmitri, a member of her room, is a leaver of the run too and still disabled:
    // DocSpace adds no disabled user to a room. The rest is back.
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("members: not added back: Dmitri Volkov (disabled"),
        "{}",
        run.stdout
    );
    let after = sim.state();
    let dmitri_id = user(&before, DMITRI)["id"].clone();
    let mut expected = restorable(&before, CARLA, CARLA_ROOM);
    expected["members"]
        .as_array_mut()
        .unwrap()
        .retain(|m| m[0] != dmitri_id);
    assert_eq!(restorable(&after, CARLA, CARLA_ROOM), expected);
    // The documented irreversibles: the API key is gone, and said so; her other
    // data stays with the archive owner.
    assert!(!keys_of(&before, CARLA).is_empty());
    assert!(keys_of(&after, CARLA).is_empty());
    assert!(
        run.stderr.contains("cannot undo: API keys deleted"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("reassigned to"), "{}", run.stderr);
    // The other leavers stay offboarded.
    assert_eq!(
        restorable(&after, DMITRI, DMITRI_FOLDER),
        restorable(&offboarded, DMITRI, DMITRI_FOLDER)
    );
    let revert_dir = run_dir.join("revert");
    let report = report(&revert_dir);
    let carla = leaver(&report, CARLA);
    assert_eq!(carla["outcome"], "failed");
    for action in ["enable", "unarchive", "owner"] {
        assert_eq!(step(carla, action), "done", "{action}: {carla:#}");
    }
    assert_eq!(step(carla, "members"), "failed");
    assert_eq!(report["leavers"].as_array().unwrap().len(), 1);

    // Dmitri back (the run's report still counts Carla failed), then Carla's failed
    // item again: her room is as it was.
    let run = revert(&sim, &run_dir, &["--leaver", DMITRI, "--yes"]).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("run the same revert with --only-failed"),
        "{}",
        run.stdout
    );
    let run = revert(&sim, &run_dir, &["--only-failed", "--yes"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        restorable(&sim.state(), CARLA, CARLA_ROOM),
        restorable(&before, CARLA, CARLA_ROOM)
    );
    let report = crate::apply::report(&revert_dir);
    assert_eq!(leaver(&report, CARLA)["outcome"], "done");
    assert_eq!(step(leaver(&report, CARLA), "members"), "done");

    // The last leaver, then everyone again: as it was, nothing is sent.
    let run = revert(&sim, &run_dir, &["--yes"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let sent = writes(&sim);
    let again = revert(&sim, &run_dir, &["--yes"]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        writes(&sim),
        sent,
        "a revert of a reverted run writes nothing"
    );
}

#[tokio::test]
async fn a_folder_workspace_moves_back_where_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, before, run_dir) = applied(dir.path()).await;
    assert_ne!(
        folder(&sim.state(), DMITRI_FOLDER)["parent"],
        folder(&before, DMITRI_FOLDER)["parent"]
    );
    let run = revert(&sim, &run_dir, &["--leaver", DMITRI, "--yes"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Everything but the owner: reassigning gave the archive owner his data, which
    // stays with them (a documented irreversible).
    let after = restorable(&sim.state(), DMITRI, DMITRI_FOLDER);
    let mut expected = restorable(&before, DMITRI, DMITRI_FOLDER);
    expected["owner"] = user(&before, "it.archive@example.com")["id"].clone();
    assert_eq!(after, expected);
    let report = report(&run_dir.join("revert"));
    assert_eq!(step(leaver(&report, DMITRI), "move_back"), "done");
}
