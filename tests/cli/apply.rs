//! `offboard apply` (the real binary) against in-process simulators: the happy path
//! for room and folder workspaces, idempotence, faults, failed jobs, kill-and-resume,
//! Ctrl-C, and that the key never reaches what the run writes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use docspace_sim::{Config, Faults, Fixture, SimHandle, Source, spawn};
use serde_json::Value;

use crate::support::{Run, against, finish, repo};

pub(crate) async fn demo_portal(config: Config) -> SimHandle {
    let text = docspace_sim::DEMO_PORTAL;
    let fixture = Fixture::from_yaml(text).expect("demo fixture");
    spawn(config, &Source::Fixture(Box::new(fixture)))
        .await
        .expect("simulator")
}

pub(crate) fn quick() -> Config {
    Config {
        job_duration: Duration::from_millis(150),
        ..Config::for_tests()
    }
}

pub(crate) fn command(sim: &SimHandle, args: &[&str]) -> Command {
    against(&sim.url(), sim.owner_key(), "apply", args)
}

/// Runs `offboard apply ARGS` against `sim` to its end.
pub(crate) async fn apply(sim: &SimHandle, args: &[&str]) -> Run {
    finish(command(sim, args)).await
}

/// report.json of a run directory, checked against schemas/report.schema.json.
/// `MANIFEST --yes --run-dir RUN_DIR`.
pub(crate) fn yes<'a>(manifest: &'a Path, run_dir: &'a Path) -> Vec<&'a str> {
    vec![
        manifest.to_str().unwrap(),
        "--yes",
        "--run-dir",
        run_dir.to_str().unwrap(),
    ]
}

pub(crate) fn report(run_dir: &Path) -> Value {
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("report.json")).unwrap())
            .expect("report.json is JSON");
    crate::support::assert_matches_schema(&report, "report");
    report
}

/// The leaver `name` of a report.json or of a `plan --format json` document (both
/// list `leavers` by `leaver`).
pub(crate) fn leaver<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["leavers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["leaver"] == name)
        .unwrap_or_else(|| panic!("{name} is in the report"))
}

pub(crate) fn step<'a>(leaver: &'a Value, name: &str) -> &'a str {
    leaver["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == name)
        .and_then(|s| s["status"].as_str())
        .unwrap_or("absent")
}

/// POST, PUT and DELETE requests the simulator has answered so far.
pub(crate) fn writes(sim: &SimHandle) -> u64 {
    sim.stats()["byRoute"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(route, _)| !route.starts_with("GET "))
        .map(|(_, count)| count.as_u64().unwrap_or(0))
        .sum()
}

/// Routes other than GET that were called since `before`.
fn write_routes(sim: &SimHandle, before: &Value) -> Vec<String> {
    let now = sim.stats();
    now["byRoute"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(route, count)| {
            !route.starts_with("GET ") && before["byRoute"][route.as_str()] != **count
        })
        .map(|(route, _)| route.clone())
        .collect()
}

pub(crate) fn user<'a>(state: &'a Value, email: &str) -> &'a Value {
    state["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .unwrap_or_else(|| panic!("no user {email}"))
}

pub(crate) fn folder(state: &Value, id: i64) -> &Value {
    state["folders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no folder {id}"))
}

pub(crate) fn group_id(state: &Value, name: &str) -> String {
    state["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == name)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The shares of a folder as (subject, access), sorted.
pub(crate) fn shares(folder: &Value) -> Vec<(String, u64)> {
    let mut shares: Vec<(String, u64)> = folder["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["subject"].as_str().unwrap().to_owned(),
                s["access"].as_u64().unwrap(),
            )
        })
        .collect();
    shares.sort();
    shares
}

pub(crate) const DEMO_MANIFEST: &str = "\
version: 1
defaults:
  archive_owner: it.archive@example.com
  archive_folder: 5001
  hr_group: HR
  ticket: '=HYPERLINK(\"http://evil.example\")'
protected: [owner@example.com]
leavers:
  - user: carla.mendes@example.com
    workspace: 3101
    # Two exports in one run: DocSpace runs one bulk download per user at a time.
    steps: [disable, revoke_keys, reassign, export, archive, audit]
  - user: dmitri.volkov@example.com
    workspace: 4102
  - user: 0b5c1f7e-4a7d-4f55-9a53-2f8e2b1c6d10
    workspace: 3104
    hr_group: null
    steps: [disable, revoke_keys, reassign, export, archive, audit]
";

pub(crate) fn write_manifest(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("leavers.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A new API key of the portal owner's with `permissions` (`POST keys`): its secret.
pub(crate) async fn create_key(sim: &SimHandle, name: &str, permissions: &[&str]) -> String {
    let created: Value = crate::support::http()
        .post(format!("{}/api/2.0/keys", sim.url()))
        .bearer_auth(sim.owner_key())
        .json(&serde_json::json!({"name": name, "permissions": permissions}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["response"]["key"].as_str().unwrap().to_owned()
}

/// `offboard plan MANIFEST --format json` against `sim` with the owner's key.
pub(crate) fn plan_json(sim: &SimHandle, manifest: &Path) -> Value {
    let plan = Command::new(env!("CARGO_BIN_EXE_offboard"))
        .args(["plan", manifest.to_str().unwrap(), "--format", "json"])
        .env("DOCSPACE_URL", sim.url())
        .env("DOCSPACE_API_KEY", sim.owner_key())
        .env("OFFBOARD_RATE_LIMIT_PER_MINUTE", "0")
        .output()
        .unwrap();
    serde_json::from_slice(&plan.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&plan.stderr)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_and_folders_are_offboarded_and_a_second_apply_writes_nothing() {
    let sim = demo_portal(quick()).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path(), DEMO_MANIFEST);
    let run_dir = dir.path().join("run");
    let run = apply(&sim, &yes(&manifest, &run_dir)).await;
    assert_eq!(run.code, 0, "{}", run.transcript());

    let report = report(&run_dir);
    assert_eq!(report["run"]["state"], "finished");
    assert_eq!(report["run"]["totals"]["done"], 3, "{report:#}");
    let state = sim.state();
    let archive_owner = user(&state, "it.archive@example.com")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let hr = group_id(&state, "HR");
    for email in ["carla.mendes@example.com", "dmitri.volkov@example.com"] {
        assert_eq!(user(&state, email)["status"], 2, "{email} is disabled");
    }
    // Room workspaces: archived, owned by the archive owner, HR reads, nobody else.
    let archive_root = state["archiveRoot"].as_i64().unwrap();
    let carla_room = folder(&state, 3101);
    assert_eq!(carla_room["parent"], archive_root);
    assert_eq!(carla_room["createdBy"], archive_owner.as_str());
    assert_eq!(shares(carla_room), vec![(hr.clone(), 2)]);
    let kai_room = folder(&state, 3104);
    assert_eq!(kai_room["parent"], archive_root);
    assert_eq!(shares(kai_room), Vec::<(String, u64)>::new());
    // The folder workspace sits in the archive room now.
    assert_eq!(folder(&state, 4102)["parent"], 5001);
    // Carla's API key is gone.
    let carla = user(&state, "carla.mendes@example.com")["id"].clone();
    assert!(
        state["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["createdBy"] != carla)
    );

    // What the run wrote: the audit trail, the export and its hash, a CSV that no
    // spreadsheet runs as a formula, and never the key.
    let kai = leaver(&report, "0b5c1f7e-4a7d-4f55-9a53-2f8e2b1c6d10");
    let zip = std::fs::read(
        run_dir.join(
            kai["steps"].as_array().unwrap()[3]["detail"]["path"]
                .as_str()
                .unwrap(),
        ),
    )
    .unwrap();
    assert!(zip.starts_with(b"PK"), "a zip archive");
    assert_eq!(
        kai["export_sha256"].as_str().unwrap(),
        // Computed here, not with offboard's own helper.
        format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(&zip))
    );
    let audit: Value = serde_json::from_str(
        &std::fs::read_to_string(run_dir.join("audit/carla.mendes@example.com.json")).unwrap(),
    )
    .unwrap();
    assert!(!audit["audit_events"].as_array().unwrap().is_empty());
    let csv = std::fs::read_to_string(run_dir.join("report.csv")).unwrap();
    assert!(csv.starts_with("leaver,user_id,display_name,workspace,workspace_kind,outcome,"));
    assert!(csv.contains(",\"'=HYPERLINK("), "{csv}");
    for file in ["journal.jsonl", "report.csv", "report.json"] {
        let text = std::fs::read_to_string(run_dir.join(file)).unwrap();
        assert!(!text.contains(sim.owner_key()), "{file} holds the key");
    }
    assert!(!run.stderr.contains(sim.owner_key()));

    // Again, in a new run directory: the portal says everything is done.
    let stats_before = sim.stats();
    let again_dir = dir.path().join("again");
    let again = apply(&sim, &yes(&manifest, &again_dir)).await;
    assert_eq!(again.code, 0, "{}", again.transcript());
    // Nothing changes; the one request that is no read is the export this new run
    // directory has no copy of yet.
    assert_eq!(
        write_routes(&sim, &stats_before),
        vec!["PUT /api/2.0/files/fileops/bulkdownload".to_owned()],
        "a second apply changes nothing"
    );
    let after_again = writes(&sim);
    let again = self::report(&again_dir);
    assert_eq!(again["run"]["totals"]["unchanged"], 3, "{again:#}");
    assert_eq!(again["run"]["writes"], 2, "the two exports");
    let carla = leaver(&again, "carla.mendes@example.com");
    for name in ["disable", "revoke_keys", "reassign", "archive"] {
        assert_eq!(step(carla, name), "unchanged", "{name}");
    }

    // And in the first run directory: the journal says it is all done.
    let resumed = apply(&sim, &yes(&manifest, &run_dir)).await;
    assert_eq!(resumed.code, 0, "{}", resumed.transcript());
    assert_eq!(
        writes(&sim),
        after_again,
        "resuming a finished run writes nothing"
    );
    assert_eq!(self::report(&run_dir)["run"]["totals"]["done"], 3);

    // An export whose zip went missing is downloaded again, and only that.
    let zip_path = run_dir.join(
        kai["steps"].as_array().unwrap()[3]["detail"]["path"]
            .as_str()
            .unwrap(),
    );
    std::fs::remove_file(&zip_path).unwrap();
    let stats_before = sim.stats();
    let args = yes(&manifest, &run_dir);
    let again = apply(&sim, &args).await;
    assert_eq!(again.code, 0, "{}", again.transcript());
    assert_eq!(
        write_routes(&sim, &stats_before),
        vec!["PUT /api/2.0/files/fileops/bulkdownload".to_owned()]
    );
    assert!(zip_path.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_and_deferred_leavers_are_left_alone() {
    let sim = demo_portal(quick()).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(
        dir.path(),
        "version: 1\ndefaults: {archive_owner: it.archive@example.com, archive_folder: 5001}\nleavers:\n  - {user: carla.mendes@example.com, workspace: 3101, effective: 2999-01-01}\n  - {user: dmitri.volkov@example.com, workspace: 4102}\n",
    );
    let run_dir = dir.path().join("run");
    let run = apply(
        &sim,
        &[
            manifest.to_str().unwrap(),
            "--yes",
            "--protect",
            "dmitri.volkov@example.com",
            "--run-dir",
            run_dir.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(writes(&sim), 0);
    let report = report(&run_dir);
    assert_eq!(
        leaver(&report, "carla.mendes@example.com")["outcome"],
        "deferred"
    );
    let dmitri = leaver(&report, "dmitri.volkov@example.com");
    assert_eq!(dmitri["outcome"], "protected");
    assert_eq!(step(dmitri, "disable"), "skipped");
    let state = sim.state();
    assert_eq!(user(&state, "carla.mendes@example.com")["status"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_terminal_or_beyond_the_limit_nothing_is_sent() {
    let sim = demo_portal(quick()).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path(), DEMO_MANIFEST);
    let run = apply(&sim, &[manifest.to_str().unwrap()]).await;
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    let run = apply(
        &sim,
        &[manifest.to_str().unwrap(), "--yes", "--max-leavers", "2"],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    assert_eq!(writes(&sim), 0);
}

/// Cuts `run_dir`'s journal after the first intent of `step`: what a kill -9 right
/// after announcing that write leaves behind.
pub(crate) fn cut_journal_after_intent(run_dir: &Path, step: &str) {
    let journal = run_dir.join("journal.jsonl");
    let text = std::fs::read_to_string(&journal).unwrap();
    let mut kept = String::new();
    for line in text.lines() {
        kept.push_str(line);
        kept.push('\n');
        if line.contains(r#""type":"intent""#) && line.contains(&format!(r#""step":"{step}""#)) {
            break;
        }
    }
    assert_ne!(kept, text, "the journal has an intent of {step}");
    std::fs::write(&journal, kept).unwrap();
}

/// Cuts the journal of `run_dir` just before its first line containing `needle`: what
/// a session killed right there leaves behind.
pub(crate) fn cut_journal_before(run_dir: &Path, needle: &str) {
    let journal = run_dir.join("journal.jsonl");
    let text = std::fs::read_to_string(&journal).unwrap();
    let kept: String = text
        .lines()
        .take_while(|line| !line.contains(needle))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_ne!(kept, text, "the journal has a line with {needle}");
    std::fs::write(&journal, kept).unwrap();
}

/// A synthetic portal of `n` leavers and its manifest in `dir`.
pub(crate) async fn synthetic(n: usize, config: Config, dir: &Path) -> (SimHandle, PathBuf) {
    let sim = spawn(config, &Source::Synthetic(n))
        .await
        .expect("simulator");
    let manifest = dir.join("synthetic.yaml");
    std::fs::write(&manifest, sim.manifest().unwrap()).unwrap();
    (sim, manifest)
}

/// A synthetic portal of `n` leavers, its manifest in `dir`, applied once to success
/// in `dir/run`: the portal, the manifest and the run directory.
pub(crate) async fn applied(n: usize, config: Config, dir: &Path) -> (SimHandle, PathBuf, PathBuf) {
    let (sim, manifest) = synthetic(n, config, dir).await;
    let run_dir = dir.join("run");
    let first = apply(&sim, &yes(&manifest, &run_dir)).await;
    assert_eq!(first.code, 0, "{}", first.transcript());
    (sim, manifest, run_dir)
}

/// Applies a synthetic portal of `n` leavers whose jobs meet `faults`: the portal,
/// the run, and its report.
async fn apply_with_faults(n: usize, faults: Faults, dir: &Path) -> (SimHandle, Run, Value) {
    let config = Config { faults, ..quick() };
    let (sim, manifest) = synthetic(n, config, dir).await;
    let run_dir = dir.join("run");
    let run = apply(&sim, &yes(&manifest, &run_dir)).await;
    let report = report(&run_dir);
    (sim, run, report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_reassign_jobs_fail_their_leaver_and_skip_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults {
        job_fail: 1.0,
        ..Faults::default()
    };
    let (_sim, run, report) = apply_with_faults(4, faults, dir.path()).await;
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert_eq!(report["run"]["totals"]["failed"], 4, "{report:#}");
    let first = &report["leavers"][0];
    assert_eq!(step(first, "disable"), "done");
    assert_eq!(step(first, "reassign"), "failed");
    // The archive runs beside the reassign job (its file operation fails here
    // too); the audit, after both, is skipped.
    assert_eq!(step(first, "audit"), "skipped");
    assert!(
        first["error"]
            .as_str()
            .unwrap()
            .starts_with("reassign: the reassign job failed"),
        "{first:#}"
    );
    assert!(run.stdout.contains("failed: leaver0@synthetic.example"));
    assert!(
        run.stdout
            .contains("then run the same apply with --only-failed"),
        "{}",
        run.stdout
    );
}

/// DocSpace reports a file operation that hit an unexpected exception as finished
/// without an error (`FileOperation.RunJob` only logs it): archives and moves are
/// confirmed from the portal's state, never from the record alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_operations_that_finish_without_effect_are_failures() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults {
        job_silent: 1.0,
        ..Faults::default()
    };
    let (sim, run, report) = apply_with_faults(2, faults, dir.path()).await;
    assert_eq!(run.code, 1, "{}", run.transcript());
    let state = sim.state();
    // leaver0 has a room (archived by a file operation), leaver1 a folder (moved).
    for (name, what) in [
        ("leaver0@synthetic.example", "archiving"),
        ("leaver1@synthetic.example", "moving"),
    ] {
        let row = leaver(&report, name);
        assert_eq!(step(row, "archive"), "failed", "{row:#}");
        assert!(
            row["error"].as_str().unwrap().contains(&format!(
                "{what} finished without an error, but the portal shows it did not happen"
            )),
            "{row:#}"
        );
        // Neither in the Archive section (the room) nor in the archive folder.
        let workspace = row["workspace"].as_i64().unwrap();
        let parent = &folder(&state, workspace)["parent"];
        assert_ne!(parent, &state["archiveRoot"]);
        assert!(
            !sim.manifest()
                .unwrap()
                .contains(&format!("archive_folder: {parent}")),
            "{name} was not moved"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canceled_reassign_fails_and_only_failed_runs_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        job_duration: Duration::from_secs(2),
        ..Config::for_tests()
    };
    let (sim, manifest) = synthetic(3, config, dir.path()).await;
    let run_dir = dir.path().join("run");
    let args = yes(&manifest, &run_dir);
    let child = command(&sim, &args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Cancel the first reassign job as soon as it runs, as another admin might.
    let http = crate::support::http();
    let canceled = loop {
        // The portal with its jobs (the handle's snapshot has none).
        let state: Value = http
            .get(format!("{}/__sim/state", sim.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let running = state["reassignJobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["isCompleted"] == false)
            .and_then(|j| j["id"].as_str())
            .and_then(|id| id.split('_').nth(1))
            .map(str::to_owned);
        if let Some(user) = running {
            break user;
        }
        tokio::task::yield_now().await;
    };
    let status = http
        .put(format!("{}/api/2.0/people/reassign/terminate", sim.url()))
        .bearer_auth(sim.owner_key())
        .json(&serde_json::json!({ "userId": canceled }))
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "terminate: {status}");
    let status = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(status.status.code(), Some(1));
    let first = report(&run_dir);
    assert_eq!(first["run"]["totals"]["failed"], 1, "{first:#}");
    assert_eq!(first["run"]["totals"]["done"], 2, "{first:#}");
    let failed = first["leavers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["outcome"] == "failed")
        .unwrap();
    assert_eq!(failed["user_id"].as_str().unwrap(), canceled);
    assert!(
        failed["error"].as_str().unwrap().contains("canceled"),
        "{failed:#}"
    );
    // The room was archived while the job ran; the audit after them is skipped.
    assert_eq!(step(failed, "archive"), "done");
    assert_eq!(step(failed, "audit"), "skipped");

    let mut again = args.to_vec();
    again.push("--only-failed");
    let run = apply(&sim, &again).await;
    assert_eq!(run.code, 0, "{}", run.transcript());
    let journal = std::fs::read_to_string(run_dir.join("journal.jsonl")).unwrap();
    let second_session = journal.split("\"type\":\"resumed\"").nth(1).unwrap();
    let worked_on: std::collections::BTreeSet<String> = second_session
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|record| record["type"] == "leaver")
        .map(|record| record["leaver"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        worked_on.len(),
        1,
        "only the failed leaver is worked on: {worked_on:?}"
    );
    let report = report(&run_dir);
    assert_eq!(report["run"]["totals"]["done"], 3, "{report:#}");
    // Its room went to the archive while the canceled job ran, so the portal now
    // says there is nothing to reassign; the journal knows better: a new job ran.
    let retried = report["leavers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["user_id"] == canceled.as_str())
        .unwrap();
    assert_eq!(step(retried, "reassign"), "done", "{retried:#}");
}

/// The parts of the portal an offboarding changes, in a form two portals built from
/// the same seed can be compared by.
pub(crate) fn offboarding_state(state: &Value) -> Value {
    let users: Vec<(String, u64)> = state["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["email"].as_str().unwrap().to_owned(),
                u["status"].as_u64().unwrap(),
            )
        })
        .collect();
    // Folders the portal creates while it runs (the "Documents of user …" folders of
    // reassigned shared items) get ids in the order jobs end: name parents by title.
    let all = state["folders"].as_array().unwrap();
    let title = |id: &Value| {
        all.iter()
            .find(|f| f["id"] == *id)
            .map_or(Value::Null, |f| f["title"].clone())
    };
    let mut folders: Vec<Value> = all
        .iter()
        .map(|f| {
            serde_json::json!({
                "title": f["title"], "parent": title(&f["parent"]), "createdBy": f["createdBy"],
                "shares": shares(f),
            })
        })
        .collect();
    folders.sort_by_key(|f| f.to_string());
    let keys = state["keys"].as_array().unwrap().len();
    serde_json::json!({ "users": users, "folders": folders, "keys": keys })
}

fn finished_steps(run_dir: &Path) -> usize {
    std::fs::read_to_string(run_dir.join("journal.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("\"status\":\"done\""))
        .count()
}

/// `MANIFEST --yes --concurrency 2 EXTRA --run-dir RUN_DIR`: a run slow enough to be
/// stopped half-way.
pub(crate) fn two_at_a_time<'a>(
    manifest: &'a Path,
    run_dir: &'a Path,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![manifest.to_str().unwrap(), "--yes", "--concurrency", "2"];
    args.extend_from_slice(extra);
    args.extend(["--run-dir", run_dir.to_str().unwrap()]);
    args
}

/// Starts `apply` and returns once its journal shows `steps` finished steps. Its
/// output is kept for `wait_with_output`.
pub(crate) async fn start_and_wait(
    sim: &SimHandle,
    args: &[&str],
    run_dir: &Path,
    steps: usize,
) -> Child {
    spawn_and_wait(command(sim, args), run_dir, steps).await
}

/// Starts `command` (an `apply` or a `revert`) and returns once the journal in
/// `run_dir` shows `steps` finished steps. Its output is kept for `wait_with_output`.
pub(crate) async fn spawn_and_wait(mut command: Command, run_dir: &Path, steps: usize) -> Child {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    loop {
        if finished_steps(run_dir) >= steps {
            return child;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended before it was stopped: {status}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_resumes_to_the_same_portal_as_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let leavers = 24;
    let (whole, whole_manifest) = synthetic(leavers, quick(), dir.path()).await;
    let whole_dir = dir.path().join("whole");
    let run = apply(&whole, &yes(&whole_manifest, &whole_dir)).await;
    assert_eq!(run.code, 0, "{}", run.transcript());
    // Every leaver had data to hand over: nothing (such as taking their room over
    // too early) may make the portal say there is nothing to reassign.
    let whole_report = report(&whole_dir);
    for leaver in whole_report["leavers"].as_array().unwrap() {
        assert_eq!(step(leaver, "reassign"), "done", "{leaver:#}");
    }

    let killed_dir = dir.path().join("killed");
    std::fs::create_dir_all(&killed_dir).unwrap();
    let (sim, manifest) = synthetic(leavers, quick(), &killed_dir).await;
    let args = yes(&manifest, &killed_dir);
    let mut child = start_and_wait(&sim, &args, &killed_dir, leavers + 10).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let resumed = apply(&sim, &args).await;
    assert_eq!(resumed.code, 0, "{}", resumed.transcript());
    assert!(resumed.stderr.contains("resuming"), "{}", resumed.stderr);
    let (resumed_state, whole_state) = (
        offboarding_state(&sim.state()),
        offboarding_state(&whole.state()),
    );
    for (a, b) in resumed_state["folders"]
        .as_array()
        .unwrap()
        .iter()
        .zip(whole_state["folders"].as_array().unwrap())
    {
        assert_eq!(
            a, b,
            "a folder differs between the resumed and the whole run"
        );
    }
    assert_eq!(resumed_state, whole_state);
    let report = report(&killed_dir);
    assert_eq!(report["run"]["sessions"], 2);
    assert_eq!(
        report["run"]["totals"]["done"], leavers as u64,
        "{report:#}"
    );
    // No write happened twice: one reassign and one archive or move per leaver.
    let audit = audit_actions(&sim).await;
    assert_eq!(audit.get(&4030), Some(&leavers), "reassigns: {audit:?}");
    assert_eq!(
        audit.get(&5072).copied().unwrap_or(0) + audit.get(&5025).copied().unwrap_or(0),
        leavers,
        "archives and moves: {audit:?}"
    );
}

/// How many audit events of each action the portal recorded.
pub(crate) async fn audit_actions(sim: &SimHandle) -> std::collections::HashMap<u64, usize> {
    let client = crate::support::http();
    let mut counts = std::collections::HashMap::new();
    let mut start = 0;
    loop {
        // The portal's faults hit these reads too: ask again until one gets through.
        let mut page = Value::Null;
        for _ in 0..50 {
            let answer = client
                .get(format!(
                    "{}/api/2.0/security/audit/events/filter?count=100&startIndex={start}",
                    sim.url()
                ))
                .bearer_auth(sim.owner_key())
                .send()
                .await;
            if let Ok(response) = answer
                && response.status().is_success()
                && let Ok(value) = response.json::<Value>().await
            {
                page = value;
                break;
            }
        }
        let events = page["response"].as_array().unwrap();
        for e in events {
            *counts
                .entry(e["actionId"].as_u64().unwrap_or(0))
                .or_default() += 1;
        }
        if events.len() < 100 {
            return counts;
        }
        start += 100;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storms_of_429s_and_5xx_slow_the_run_but_repeat_no_write() {
    let dir = tempfile::tempdir().unwrap();
    let leavers = 12;
    let config = Config {
        faults: Faults {
            status_429: 0.05,
            status_500: 0.03,
            status_502: 0.03,
            status_503: 0.03,
            drop: 0.03,
            ..Faults::default()
        },
        seed: 7,
        ..quick()
    };
    let (sim, manifest) = synthetic(leavers, config, dir.path()).await;
    let run_dir = dir.path().join("run");
    let run = apply(&sim, &yes(&manifest, &run_dir)).await;
    let report = report(&run_dir);
    assert_eq!(run.code, 0, "{}\n{report:#}", run.transcript());
    assert_eq!(
        report["run"]["totals"]["done"], leavers as u64,
        "{report:#}"
    );
    assert!(report["run"]["retries"].as_u64().unwrap() > 0);
    let audit = audit_actions(&sim).await;
    assert_eq!(audit.get(&4030), Some(&leavers), "reassigns: {audit:?}");
    assert_eq!(
        audit.get(&5072).copied().unwrap_or(0) + audit.get(&5025).copied().unwrap_or(0),
        leavers,
        "archives and moves: {audit:?}"
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_new_work_and_writes_valid_reports() {
    stopped_by_a_signal(libc::SIGINT, 130).await;
}

/// SIGTERM, what CI runners send when a job is cancelled, stops the run as Ctrl-C
/// does; the exit code is 128 + 15.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_run_like_ctrl_c() {
    stopped_by_a_signal(libc::SIGTERM, 143).await;
}

/// Stops a run with `signal` once some steps are done: exit `code`, valid reports
/// of an interrupted run, and a resume that finishes.
#[cfg(unix)]
async fn stopped_by_a_signal(signal: i32, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let (sim, manifest) = synthetic(30, quick(), dir.path()).await;
    let run_dir = dir.path().join("run");
    let args = two_at_a_time(&manifest, &run_dir, &[]);
    let child = start_and_wait(&sim, &args, &run_dir, 32).await;
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, signal) };
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(code));
    let report = report(&run_dir);
    assert_eq!(report["run"]["state"], "interrupted");
    assert!(
        report["run"]["totals"]["interrupted"].as_u64().unwrap() > 0,
        "{report:#}"
    );
    let resumed = apply(&sim, &args).await;
    assert_eq!(resumed.code, 0, "{}", resumed.transcript());
    assert_eq!(self::report(&run_dir)["run"]["totals"]["done"], 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_yes_a_leaver_is_locked_out_before_their_workspace_is_judged() {
    let sim = demo_portal(quick()).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(
        dir.path(),
        "version: 1\ndefaults: {archive_owner: it.archive@example.com, archive_folder: 5001}\nleavers:\n  - {user: carla.mendes@example.com, workspace: 999999}\n",
    );
    let run_dir = dir.path().join("run");
    let run = apply(&sim, &yes(&manifest, &run_dir)).await;
    assert_eq!(run.code, 1, "{}", run.transcript());
    let report = report(&run_dir);
    let carla = leaver(&report, "carla.mendes@example.com");
    assert_eq!(carla["outcome"], "invalid", "{carla:#}");
    assert_eq!(carla["reason"], "workspace 999999 not found");
    assert_eq!(step(carla, "disable"), "done");
    assert_eq!(step(carla, "reassign"), "skipped");
    assert_eq!(user(&sim.state(), "carla.mendes@example.com")["status"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archived_room_with_the_wrong_access_is_brought_back_fixed_and_archived() {
    let sim = demo_portal(quick()).await;
    let dir = tempfile::tempdir().unwrap();
    let without_hr = write_manifest(
        dir.path(),
        "version: 1\ndefaults: {archive_owner: it.archive@example.com, archive_folder: 5001}\nleavers:\n  - {user: carla.mendes@example.com, workspace: 3101, steps: [disable, reassign, archive]}\n",
    );
    let first = dir.path().join("first");
    let run = apply(&sim, &yes(&without_hr, &first)).await;
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(
        shares(folder(&sim.state(), 3101)),
        Vec::<(String, u64)>::new()
    );

    // Now HR is to read the archive too: a new manifest, a new run.
    let with_hr = dir.path().join("with-hr.yaml");
    std::fs::write(
        &with_hr,
        "version: 1\ndefaults: {archive_owner: it.archive@example.com, archive_folder: 5001, hr_group: HR}\nleavers:\n  - {user: carla.mendes@example.com, workspace: 3101, steps: [disable, reassign, archive]}\n",
    )
    .unwrap();
    let second = dir.path().join("second");
    let run = apply(&sim, &yes(&with_hr, &second)).await;
    assert_eq!(run.code, 0, "{}", run.transcript());
    let state = sim.state();
    let room = folder(&state, 3101);
    assert_eq!(room["parent"], state["archiveRoot"], "archived again");
    assert_eq!(shares(room), vec![(group_id(&state, "HR"), 2)]);
    let report = report(&second);
    assert_eq!(
        step(leaver(&report, "carla.mendes@example.com"), "archive"),
        "done"
    );
}

/// A run killed after `reassign/start` reached the portal but before its answer was
/// journaled leaves the step in doubt. On a real portal the finished job's record says
/// `"error": ""` (TaskProgressResponseDto.Get); the resumed run must read that as a
/// success and not start the reassign again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reassign_in_doubt_whose_job_finished_is_not_started_again() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, manifest, run_dir) = applied(1, quick(), dir.path()).await;
    let args = yes(&manifest, &run_dir);
    // What kill -9 right after the start's intent leaves behind.
    cut_journal_after_intent(&run_dir, "reassign");

    let resumed = apply(&sim, &args).await;
    assert_eq!(resumed.code, 0, "{}", resumed.transcript());
    let report = report(&run_dir);
    let only = &report["leavers"][0];
    assert_eq!(step(only, "reassign"), "done", "{only:#}");
    let audit = audit_actions(&sim).await;
    assert_eq!(audit.get(&4030), Some(&1), "reassigns: {audit:?}");
}

const USER_TYPES_MANIFEST: &str = "\
version: 1
defaults:
  archive_owner: keeper@example.com
  archive_folder: 500
  hr_group: HR
leavers:
  - user: ada.admin@example.com      # DocSpaceAdmin: only the owner may disable and reassign
    workspace: 100
  - user: rob.roomadmin@example.com  # RoomAdmin
    workspace: 200
  - user: uma.user@example.com       # User: a folder they made in someone's room
    workspace: 310
  - user: gus.guest@example.com      # Guest: the same, plus a shared file of their own
    workspace: 320
";

/// A leaver of each user type goes through plan and apply as on a real portal: every
/// type can be disabled and reassigned by the owner (ReassignController.StartReassign
/// refuses no type of from-user, only admins for a non-owner); Users and Guests own
/// no rooms, but the folders they made in rooms and the items they shared from My
/// documents go to the archive owner (ReassignProgressItem).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaver_of_every_user_type_is_offboarded() {
    let text =
        std::fs::read_to_string(repo().join("tests/fixtures/apply/user-types.yaml")).unwrap();
    let fixture = Fixture::from_yaml(&text).expect("fixture");
    let sim = spawn(quick(), &Source::Fixture(Box::new(fixture)))
        .await
        .expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path(), USER_TYPES_MANIFEST);

    let planned = plan_json(&sim, &manifest);
    for leaver in planned["leavers"].as_array().unwrap() {
        assert_eq!(leaver["outcome"], "will_change", "{leaver:#}");
    }

    let run_dir = dir.path().join("run");
    let run = apply(&sim, &yes(&manifest, &run_dir)).await;
    assert_eq!(run.code, 0, "{}", run.transcript());
    let report = report(&run_dir);
    let state = sim.state();
    let keeper = user(&state, "keeper@example.com")["id"].clone();
    for email in [
        "ada.admin@example.com",
        "rob.roomadmin@example.com",
        "uma.user@example.com",
        "gus.guest@example.com",
    ] {
        let row = leaver(&report, email);
        assert_eq!(row["outcome"], "done", "{row:#}");
        for name in ["disable", "reassign", "archive"] {
            assert_eq!(step(row, name), "done", "{email} {name}: {row:#}");
        }
        assert_eq!(user(&state, email)["status"], 2, "{email} is disabled");
    }
    // Rooms archived and owned by the archive owner; folders moved into the archive
    // room and, like the leaver's files in them, re-owned by the reassign.
    for room in [100, 200] {
        assert_eq!(folder(&state, room)["createdBy"], keeper, "room {room}");
        assert_eq!(
            folder(&state, room)["parent"],
            state["archiveRoot"],
            "room {room} is archived"
        );
    }
    for (dir_id, file_id) in [(310, 311), (320, 321)] {
        let moved = folder(&state, dir_id);
        assert_eq!(moved["parent"], 500, "folder {dir_id}");
        assert_eq!(moved["createdBy"], keeper, "folder {dir_id}");
        let file = state["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == file_id)
            .unwrap();
        assert_eq!(file["createdBy"], keeper, "file {file_id}");
    }
    // The guest's shared personal file went to the archive owner's "Documents of user".
    let gus_docs = state["folders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["title"] == "Documents of user Gus Guest")
        .expect("the guest's shared items were handed over");
    assert_eq!(gus_docs["createdBy"], keeper);
    assert_eq!(
        state["keys"].as_array().unwrap().len(),
        1,
        "only the owner's key is left"
    );
}

const DENY_DOWNLOAD_PORTAL: &str = "\
portal: {name: deny-download, owner: owner@example.com, time_zone: UTC, audit: true}
users:
  - {email: owner@example.com, first_name: Olga, last_name: Owner, type: DocSpaceAdmin,
     api_keys: [{key: sk-0000000000000000000000000000000000000000000000000000000000000001, name: owner}]}
  - {email: keeper@example.com, first_name: Kim, last_name: Keeper, type: DocSpaceAdmin}
  - {email: lea@example.com, first_name: Lea, last_name: Locked, type: RoomAdmin}
  - {email: max@example.com, first_name: Max, last_name: Open, type: RoomAdmin}
  - {email: nora@example.com, first_name: Nora, last_name: Noexport, type: RoomAdmin}
groups:
  - {name: HR, members: [keeper@example.com]}
rooms:
  - {id: 100, title: Board minutes, owner: lea@example.com, deny_download: true, files: [{id: 101, title: Minutes.docx}]}
  - {id: 200, title: Max's room, owner: max@example.com, files: [{id: 201, title: Notes.docx}]}
  - {id: 300, title: Nora's room, owner: nora@example.com, deny_download: true, files: [{id: 301, title: Plan.docx}]}
";

const DENY_DOWNLOAD_MANIFEST: &str = "\
version: 1
defaults:
  archive_owner: keeper@example.com
  hr_group: HR
  steps: [disable, revoke_keys, reassign, export, archive, audit]
leavers:
  - user: lea@example.com
    workspace: 100
  - user: max@example.com
    workspace: 200
  - user: nora@example.com
    workspace: 300
    steps: [disable, revoke_keys, reassign, archive, audit]
";

/// A room whose owner restricted copy and download (`denyDownload`) cannot be exported
/// by an admin who is not a member (FileSecurity.FilterEntryAsync; the bulk download
/// is refused). The plan says so before anything happens, and apply leaves that
/// leaver's room alone; without `export` the same room is offboarded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_that_restricts_downloads_cannot_be_exported_and_the_plan_says_so() {
    let fixture = Fixture::from_yaml(DENY_DOWNLOAD_PORTAL).expect("fixture");
    let sim = spawn(quick(), &Source::Fixture(Box::new(fixture)))
        .await
        .expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path(), DENY_DOWNLOAD_MANIFEST);
    let planned = plan_json(&sim, &manifest);
    let outcome = |email: &str| leaver(&planned, email).clone();
    let lea = outcome("lea@example.com");
    assert_eq!(lea["outcome"], "invalid", "{lea:#}");
    assert!(
        lea["reason"]
            .as_str()
            .unwrap()
            .contains("room 100 \"Board minutes\" restricts copy and download"),
        "{lea:#}"
    );
    assert_eq!(outcome("max@example.com")["outcome"], "will_change");
    assert_eq!(outcome("nora@example.com")["outcome"], "will_change");

    let run_dir = dir.path().join("run");
    let run = apply(&sim, &yes(&manifest, &run_dir)).await;
    let report = report(&run_dir);
    let lea = leaver(&report, "lea@example.com");
    assert_eq!(lea["outcome"], "invalid", "{lea:#}");
    assert!(
        lea["reason"]
            .as_str()
            .unwrap()
            .contains("restricts copy and download")
    );
    assert_eq!(step(lea, "archive"), "skipped", "{lea:#}");
    assert_eq!(
        leaver(&report, "max@example.com")["outcome"],
        "done",
        "{}",
        run.transcript()
    );
    assert_eq!(leaver(&report, "nora@example.com")["outcome"], "done");
    let state = sim.state();
    assert_eq!(
        folder(&state, 100)["parent"],
        state["roomsRoot"],
        "not archived"
    );
    assert_eq!(folder(&state, 300)["parent"], state["archiveRoot"]);
}

/// DocSpace forgets a finished reassign job about a minute after it ends: a resumed
/// run whose start was announced but never answered must not take the missing
/// record for "never started". The audit trail's UserDataReassigns event, which does
/// not expire, settles it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reassign_in_doubt_whose_record_expired_is_not_started_again() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        record_ttl: Duration::from_millis(1),
        ..quick()
    };
    let (sim, manifest, run_dir) = applied(1, config, dir.path()).await;
    let args = yes(&manifest, &run_dir);
    cut_journal_after_intent(&run_dir, "reassign");
    let resumed = apply(&sim, &args).await;
    assert_eq!(resumed.code, 0, "{}", resumed.transcript());
    let only = &report(&run_dir)["leavers"][0];
    assert_eq!(step(only, "reassign"), "done", "{only:#}");
    let audit = audit_actions(&sim).await;
    assert_eq!(audit.get(&4030), Some(&1), "reassigns: {audit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_whose_members_are_right_is_archived_without_a_second_take_over() {
    // A session stopped after the member change and before the archiving: the
    // archive owner owns the room, only the wanted members are left. The resume
    // archives it and changes neither owner nor members again.
    let dir = tempfile::tempdir().unwrap();
    let (sim, manifest, run_dir) = applied(1, quick(), dir.path()).await;
    let args = yes(&manifest, &run_dir);
    let room = report(&run_dir)["leavers"][0]["workspace"]
        .as_i64()
        .expect("a workspace id");
    let answer = crate::support::http()
        .put(format!(
            "{}/api/2.0/files/rooms/{room}/unarchive",
            sim.url()
        ))
        .bearer_auth(sim.owner_key())
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{answer:?}");
    wait_until_unarchived(&sim, room).await;
    cut_journal_before(&run_dir, "PUT files/rooms/{id}/archive");
    let before = audit_actions(&sim).await;
    assert!(
        before.get(&5159).is_some_and(|n| *n >= 1),
        "the first session took the room over: {before:?}"
    );

    let resumed = apply(&sim, &args).await;
    assert_eq!(resumed.code, 0, "{}", resumed.transcript());
    let only = &report(&run_dir)["leavers"][0];
    assert_eq!(step(only, "archive"), "done", "{only:#}");
    let state = sim.state();
    assert_eq!(folder(&state, room)["parent"], state["archiveRoot"]);
    let after = audit_actions(&sim).await;
    for action in [5159, 5075, 5084, 5085] {
        assert_eq!(
            after.get(&action),
            before.get(&action),
            "owner or member changes repeated (action {action}): {before:?} → {after:?}"
        );
    }
}

/// Waits (by polling the portal, not by sleeping a guess) until `room` is out of the Archive.
async fn wait_until_unarchived(sim: &SimHandle, room: i64) {
    for _ in 0..500 {
        let state = sim.state();
        if folder(&state, room)["parent"] != state["archiveRoot"] {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("room {room} is still archived");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_in_doubt_are_counted_only_until_a_session_settles_them() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, manifest, run_dir) = applied(1, quick(), dir.path()).await;
    let args = yes(&manifest, &run_dir);
    cut_journal_after_intent(&run_dir, "reassign");
    let settling = apply(&sim, &args).await;
    assert_eq!(settling.code, 0, "{}", settling.transcript());
    assert!(
        settling
            .stderr
            .contains("1 step of earlier sessions may have half happened"),
        "{}",
        settling.stderr
    );
    // Settled by that session: the next one has nothing in doubt.
    let after = apply(&sim, &args).await;
    assert_eq!(after.code, 0, "{}", after.transcript());
    let resuming = after.stderr.lines().find(|l| l.starts_with("resuming"));
    assert_eq!(
        resuming,
        Some(format!("resuming {}", run_dir.display()).as_str()),
        "nothing left in doubt: {}",
        after.stderr
    );
}

/// A session killed with kill -9 writes no last record; the report still counts the
/// requests it sent, as far as its journal saw them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_session_s_requests_are_counted_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, manifest) = synthetic(20, quick(), dir.path()).await;
    let run_dir = dir.path().join("run");
    let args = two_at_a_time(&manifest, &run_dir, &[]);
    let mut child = start_and_wait(&sim, &args, &run_dir, 25).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let received = sim.stats()["requests"].as_u64().unwrap();
    let rebuilt = Command::new(env!("CARGO_BIN_EXE_offboard"))
        .args(["report", run_dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(rebuilt.status.success(), "{rebuilt:?}");
    let counted = report(&run_dir)["run"]["requests"].as_u64().unwrap();
    assert!(
        counted > received / 2 && counted <= received,
        "the killed session sent {received} requests; the report counts {counted}"
    );
}

/// A damaged line in the middle of the journal: apply stops, names the line and
/// says how to recover. An emptied journal next to the reports of an earlier run:
/// apply refuses rather than start over, and the reports stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_or_emptied_journal_is_explained_and_the_reports_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, manifest, run_dir) = applied(2, quick(), dir.path()).await;
    let args = yes(&manifest, &run_dir);
    let journal = run_dir.join("journal.jsonl");
    let text = std::fs::read_to_string(&journal).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[3] = "{\"type\":\"outcome\",\"seq\":";
    std::fs::write(&journal, lines.join("\n") + "\n").unwrap();
    let damaged = apply(&sim, &args).await;
    assert_eq!(damaged.code, 2, "{}", damaged.transcript());
    assert!(damaged.stderr.contains("line 4"), "{}", damaged.stderr);
    assert!(
        damaged.stderr.contains("hint: ") && damaged.stderr.contains("head -n 3"),
        "{}",
        damaged.stderr
    );

    let reports = std::fs::read(run_dir.join("report.json")).unwrap();
    std::fs::write(&journal, "").unwrap();
    let emptied = apply(&sim, &args).await;
    assert_eq!(emptied.code, 2, "{}", emptied.transcript());
    assert!(
        emptied.stderr.contains("journal is empty or missing"),
        "{}",
        emptied.stderr
    );
    assert_eq!(std::fs::read(run_dir.join("report.json")).unwrap(), reports);
    assert_eq!(
        std::fs::read_to_string(&journal).unwrap(),
        "",
        "nothing started"
    );
}
