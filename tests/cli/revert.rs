//! `offboard revert` (the real binary) against the simulator: an applied demo run
//! reverted leaver by leaver, the portal's state compared with the state before
//! apply.

use std::path::Path;

use docspace_sim::SimHandle;
use serde_json::{Value, json};

use crate::apply::{
    DEMO_MANIFEST, apply, demo_portal, folder, leaver, quick, report, shares, step, user,
    write_manifest, writes, yes,
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

    // Without --yes and no terminal to ask on: the plan, and nothing else.
    let sent = writes(&sim);
    let shown = revert(&sim, &run_dir, &["--leaver", CARLA]).await;
    assert_eq!(shown.code, 2, "{}", shown.stderr);
    assert!(
        shown
            .stderr
            .contains("carla.mendes@example.com: will change")
            && shown.stderr.contains("no terminal to confirm on"),
        "{}",
        shown.stderr
    );
    assert_eq!(writes(&sim), sent);
    assert!(
        !run_dir.join("revert").exists(),
        "no journal for work not done"
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
    assert!(
        run.stderr.contains(
            "their data was reassigned to it.archive@example.com and stays there: 1 room(s) they owned (Nordics expansion) and their documents"
        ),
        "{}",
        run.stderr
    );
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

/// Sends `METHOD PATH BODY` as the portal's owner; fails the test unless it succeeds.
async fn as_owner(sim: &SimHandle, method: reqwest::Method, path: &str, body: Value) {
    let answer = crate::support::http()
        .request(method, format!("{}/api/2.0/{path}", sim.url()))
        .bearer_auth(sim.owner_key())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        answer.status().is_success(),
        "{}",
        answer.text().await.unwrap()
    );
}

/// Moves a folder through the API as the portal's owner (someone tidying up after
/// the run), and waits until the portal shows it moved.
async fn move_folder(sim: &SimHandle, folder_id: i64, to: i64) {
    as_owner(
        sim,
        reqwest::Method::PUT,
        "files/fileops/move",
        json!({ "folderIds": [folder_id], "fileIds": [], "destFolderId": to }),
    )
    .await;
    until_in(sim, folder_id, &json!(to)).await;
}

/// Returns once the simulator's state shows `folder_id` in `parent` (a file
/// operation the test started has done its work); fails the test if it never does.
async fn until_in(sim: &SimHandle, folder_id: i64, parent: &Value) {
    for _ in 0..1000 {
        if folder(&sim.state(), folder_id)["parent"] == *parent {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("folder {folder_id} never reached {parent}");
}

#[tokio::test]
async fn what_someone_changed_after_the_run_is_left_alone_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, before, run_dir) = applied(dir.path()).await;
    // Someone moves Dmitri's archived folder on to the Engineering room.
    move_folder(&sim, DMITRI_FOLDER, 2002).await;

    let run = revert(&sim, &run_dir, &["--leaver", DMITRI, "--yes"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("move_back  drifted      someone moved the folder after the run (it is in folder 2002 now)"),
        "{}",
        run.stderr
    );
    let state = sim.state();
    assert_eq!(folder(&state, DMITRI_FOLDER)["parent"], 2002, "left alone");
    assert_eq!(user(&state, DMITRI)["status"], 1, "the account is back");
    let report = report(&run_dir.join("revert"));
    let dmitri = leaver(&report, DMITRI);
    assert_eq!(step(dmitri, "move_back"), "skipped");
    assert_eq!(step(dmitri, "enable"), "done");
    assert!(
        dmitri["warnings"][0]
            .as_str()
            .unwrap()
            .starts_with("move_back: left as it is"),
        "{dmitri:#}"
    );

    // --force: the same revert takes it up and puts the folder back.
    let forced = revert(&sim, &run_dir, &["--leaver", DMITRI, "--yes", "--force"]).await;
    assert_eq!(forced.code, 0, "{}\n{}", forced.stdout, forced.stderr);
    assert_eq!(
        folder(&sim.state(), DMITRI_FOLDER)["parent"],
        folder(&before, DMITRI_FOLDER)["parent"]
    );
    let report = crate::apply::report(&run_dir.join("revert"));
    assert_eq!(step(leaver(&report, DMITRI), "move_back"), "done");
}

#[tokio::test]
async fn a_run_made_without_prior_state_is_not_guessed_at() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, _, run_dir) = applied(dir.path()).await;
    // As an older version journaled it: no `prior` records.
    let journal = run_dir.join("journal.jsonl");
    let text = std::fs::read_to_string(&journal).unwrap();
    let older: String = text
        .lines()
        .filter(|l| !l.contains(r#""type":"prior""#))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(older, text, "the run journaled prior state");
    std::fs::write(&journal, older).unwrap();

    let sent = writes(&sim);
    let run = revert(&sim, &run_dir, &["--yes"]).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(writes(&sim), sent, "nothing was guessed at");
    assert!(
        run.stderr
            .contains("carla.mendes@example.com: no prior state"),
        "{}",
        run.stderr
    );
    let report = report(&run_dir.join("revert"));
    for l in report["leavers"].as_array().unwrap() {
        assert_eq!(l["outcome"], "invalid", "{l:#}");
        assert!(
            l["reason"].as_str().unwrap().contains("older version"),
            "{l:#}"
        );
    }
}

#[tokio::test]
async fn a_room_whose_owner_cannot_own_rooms_stays_with_the_archive_owner() {
    // Kai owned his room before the run but is a User on this portal (a type
    // changed after the room was made): DocSpace gives rooms only to room admins
    // and DocSpace admins (`FileStorageService.ChangeOwnerAsync`).
    let text = docspace_sim::DEMO_PORTAL.replace(
        "last_name: Contractor, type: RoomAdmin",
        "last_name: Contractor, type: User",
    );
    assert_ne!(text, docspace_sim::DEMO_PORTAL);
    let fixture = docspace_sim::Fixture::from_yaml(&text).unwrap();
    let sim = docspace_sim::spawn(quick(), &docspace_sim::Source::Fixture(Box::new(fixture)))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path(), DEMO_MANIFEST);
    let run_dir = dir.path().join("run");
    let run = apply(&sim, &yes(&manifest, &run_dir)).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let kai = "0b5c1f7e-4a7d-4f55-9a53-2f8e2b1c6d10";

    let run = revert(&sim, &run_dir, &["--leaver", kai, "--yes"]).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "is a User now, and DocSpace gives rooms only to room admins and DocSpace admins"
        ),
        "{}",
        run.stderr
    );
    let state = sim.state();
    let room = folder(&state, 3104);
    assert_eq!(
        room["createdBy"],
        user(&state, "it.archive@example.com")["id"],
        "the room stays with the archive owner"
    );
    assert_eq!(user(&state, "kai.contractor@example.com")["status"], 1);
    let report = report(&run_dir.join("revert"));
    let kai = leaver(&report, kai);
    assert_eq!(step(kai, "owner"), "failed");
    assert_eq!(step(kai, "unarchive"), "done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revert_killed_half_way_resumes_to_the_same_portal_as_a_whole_one() {
    let dir = tempfile::tempdir().unwrap();
    let leavers = 12;
    for sub in ["whole", "killed"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    let (whole, _, whole_run) =
        crate::apply::applied(leavers, quick(), &dir.path().join("whole")).await;
    let offboarded = crate::apply::offboarding_state(&whole.state());
    let run = revert(&whole, &whole_run, &["--yes", "--concurrency", "2"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    let (sim, _, run_dir) =
        crate::apply::applied(leavers, quick(), &dir.path().join("killed")).await;
    let revert_dir = run_dir.join("revert");
    let mut command = against(
        &sim.url(),
        sim.owner_key(),
        "revert",
        &[run_dir.to_str().unwrap(), "--yes", "--concurrency", "2"],
    );
    command.env("NO_COLOR", "1");
    let mut child = crate::apply::spawn_and_wait(command, &revert_dir, leavers + 4).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let resumed = revert(&sim, &run_dir, &["--yes", "--concurrency", "2"]).await;
    assert_eq!(
        resumed.code, run.code,
        "{}\n{}",
        resumed.stdout, resumed.stderr
    );
    assert!(resumed.stderr.contains("resuming"), "{}", resumed.stderr);
    let reverted = crate::apply::offboarding_state(&whole.state());
    assert_ne!(reverted, offboarded, "the whole revert changed the portal");
    assert_eq!(crate::apply::offboarding_state(&sim.state()), reverted);
    let report = report(&revert_dir);
    assert_eq!(report["run"]["sessions"], 2);
}

#[tokio::test]
async fn a_room_someone_took_over_after_the_run_keeps_its_new_owner_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, before, run_dir) = applied(dir.path()).await;
    // The portal's owner brings Carla's room back and takes it over.
    as_owner(
        &sim,
        reqwest::Method::PUT,
        &format!("files/rooms/{CARLA_ROOM}/unarchive"),
        json!({}),
    )
    .await;
    until_in(&sim, CARLA_ROOM, &folder(&before, CARLA_ROOM)["parent"]).await;
    let owner_id = sim.state()["owner"].clone();
    as_owner(
        &sim,
        reqwest::Method::POST,
        "files/owner",
        json!({ "folderIds": [CARLA_ROOM], "fileIds": [], "userId": owner_id }),
    )
    .await;
    let taken = restorable(&sim.state(), CARLA, CARLA_ROOM);

    let run = revert(&sim, &run_dir, &["--leaver", CARLA, "--yes"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("owner      drifted      someone made"),
        "{}",
        run.stderr
    );
    let state = sim.state();
    let now = restorable(&state, CARLA, CARLA_ROOM);
    assert_eq!(now["owner"], taken["owner"], "the new owner keeps the room");
    assert_eq!(now["members"], taken["members"], "and its members");
    assert_eq!(now["status"], 1, "the account is back");
    let report = report(&run_dir.join("revert"));
    let carla = leaver(&report, CARLA);
    assert_eq!(step(carla, "owner"), "skipped");
    assert_eq!(step(carla, "members"), "skipped");

    // --force: owner and members as before the run (Dmitri, still offboarded, aside).
    let forced = revert(&sim, &run_dir, &["--leaver", CARLA, "--yes", "--force"]).await;
    let after = restorable(&sim.state(), CARLA, CARLA_ROOM);
    assert_eq!(
        after["owner"],
        folder(&before, CARLA_ROOM)["createdBy"],
        "{}",
        forced.stderr
    );
    let report = crate::apply::report(&run_dir.join("revert"));
    assert_eq!(step(leaver(&report, CARLA), "owner"), "done");
}

#[tokio::test]
async fn a_read_only_key_is_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, _, run_dir) = applied(dir.path()).await;
    let key = crate::apply::create_key(&sim, "read only", &["*:read"]).await;
    let sent = writes(&sim);
    let run = finish(against(
        &sim.url(),
        &key,
        "revert",
        &[run_dir.to_str().unwrap(), "--yes"],
    ))
    .await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("the API key is restricted to *:read"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(&key), "the key stays out of sight");
    assert_eq!(writes(&sim), sent);
}

/// Ctrl-C stops a revert as it stops apply: no new work, exit 130, the reports of an
/// interrupted run; the same command resumes it.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_a_revert_and_the_same_command_resumes_it() {
    let dir = tempfile::tempdir().unwrap();
    let leavers = 12;
    let (sim, _, run_dir) = crate::apply::applied(leavers, quick(), dir.path()).await;
    let revert_dir = run_dir.join("revert");
    let args = [run_dir.to_str().unwrap(), "--yes", "--concurrency", "2"];
    let child = crate::apply::spawn_and_wait(
        against(&sim.url(), sim.owner_key(), "revert", &args),
        &revert_dir,
        leavers + 4,
    )
    .await;
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(130));
    let report = report(&revert_dir);
    assert_eq!(report["run"]["state"], "interrupted");
    assert!(
        report["run"]["totals"]["interrupted"].as_u64().unwrap() > 0,
        "{report:#}"
    );
    let resumed = revert(&sim, &run_dir, &args[1..]).await;
    assert_eq!(resumed.code, 0, "{}\n{}", resumed.stdout, resumed.stderr);
    let report = crate::apply::report(&revert_dir);
    assert_eq!(report["run"]["state"], "finished");
    assert_eq!(report["run"]["totals"]["interrupted"], 0, "{report:#}");
}
