//! The plan converges: after a successful apply nothing is left to change (audit
//! trails and exports are collected, not changes), and the plan's estimate of
//! requests and writes is what apply then sends, within 15 %.

use std::process::Command;

use serde_json::Value;

use crate::apply::{
    apply, create_key, demo_portal, leaver, plan_json, quick, report, synthetic, user,
    write_manifest, yes,
};

/// `offboard plan MANIFEST --detailed-exitcode` against `sim`: the exit code.
fn detailed_exit_code(sim: &docspace_sim::SimHandle, manifest: &std::path::Path) -> i32 {
    Command::new(env!("CARGO_BIN_EXE_offboard"))
        .args(["plan", manifest.to_str().unwrap(), "--detailed-exitcode"])
        .env("DOCSPACE_URL", sim.url())
        .env("DOCSPACE_API_KEY", sim.owner_key())
        .env("OFFBOARD_RATE_LIMIT_PER_MINUTE", "0")
        .output()
        .unwrap()
        .status
        .code()
        .unwrap_or(-1)
}

/// The plan's estimates (`summary`) within 15 % of what the run sent (`run` of
/// report.json).
fn estimated_well(summary: &Value, run: &Value) {
    for (sent, estimate) in [
        ("requests", "estimated_requests"),
        ("writes", "estimated_writes"),
    ] {
        let (planned, done) = (
            summary[estimate].as_f64().unwrap(),
            run[sent].as_f64().unwrap(),
        );
        assert!(
            (planned - done).abs() <= 0.15 * done,
            "{sent}: planned {planned}, sent {done}"
        );
    }
}
/// The example manifest on the demo company: before apply, changes are pending
/// (exit 2) and the estimate is what apply sends; after it, the plan has nothing left
/// to change (exit 0), though it would collect the audit trails and the export again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_apply_the_plan_has_nothing_left_to_change() {
    let sim = demo_portal(quick()).await;
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(crate::support::repo().join("manifests/example.yaml"))
        .unwrap()
        .replace("../schemas", "schemas");
    let manifest = write_manifest(dir.path(), &text);
    assert_eq!(detailed_exit_code(&sim, &manifest), 2);
    let before = plan_json(&sim, &manifest);

    let run_dir = dir.path().join("run");
    let run = apply(&sim, &yes(&manifest, &run_dir)).await;
    assert_eq!(run.code, 0, "{}", run.transcript());
    estimated_well(&before["summary"], &report(&run_dir)["run"]);

    assert_eq!(
        detailed_exit_code(&sim, &manifest),
        0,
        "nothing left to change"
    );
    let after = plan_json(&sim, &manifest);
    let carla = leaver(&after, "carla.mendes@example.com");
    assert_eq!(carla["outcome"], "unchanged", "{carla:#}");
    let audit = carla["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "audit")
        .unwrap();
    assert_eq!(audit["status"], "will_collect");
}

/// A synthetic batch (rooms taken over, folders moved in batches, API keys): the
/// estimate is within 15 % of what apply sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_estimates_what_apply_sends() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, manifest) = synthetic(40, quick(), dir.path()).await;
    let planned = plan_json(&sim, &manifest)["summary"].clone();
    let run_dir = dir.path().join("run");
    let run = apply(&sim, &yes(&manifest, &run_dir)).await;
    assert_eq!(run.code, 0, "{}", run.transcript());
    estimated_well(&planned, &report(&run_dir)["run"]);
}

/// `apply --yes` says where, as whom and who is due before it starts; a resumed run
/// counts what its journal shows finished as unchanged, so what it announces is what
/// it then does (here: nothing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_apply_announces_what_it_will_do() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, manifest) = synthetic(3, quick(), dir.path()).await;
    let run_dir = dir.path().join("run");
    let first = apply(&sim, &yes(&manifest, &run_dir)).await;
    assert_eq!(first.code, 0, "{}", first.transcript());
    assert!(
        first.stderr.contains(&format!(
            "apply to {}/ as Portal Owner <owner@synthetic.example> (owner)\nleavers: 3 due (3 will change, 0 unchanged), 0 deferred, 0 protected, 0 invalid\n",
            sim.url()
        )),
        "{}",
        first.stderr
    );
    let again = apply(&sim, &yes(&manifest, &run_dir)).await;
    assert_eq!(again.code, 0, "{}", again.transcript());
    assert!(
        again.stderr.contains(
            "leavers: 3 due (0 will change, 3 unchanged), 0 deferred, 0 protected, 0 invalid"
        ),
        "{}",
        again.stderr
    );
}

/// `--only-failed` retries the failed leavers of an earlier run: without one it is a
/// usage error, and with nothing failed it says so and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_failed_needs_an_earlier_run_with_failures() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, manifest) = synthetic(2, quick(), dir.path()).await;
    let run_dir = dir.path().join("run");
    let mut args = yes(&manifest, &run_dir);
    args.push("--only-failed");
    let none = apply(&sim, &args).await;
    assert_eq!(none.code, 2, "{}", none.transcript());
    assert!(
        none.stderr
            .contains("--only-failed retries the failed leavers of an earlier run"),
        "{}",
        none.stderr
    );
    assert!(
        !run_dir.join("journal.jsonl").exists(),
        "no run was started"
    );
    let first = apply(&sim, &yes(&manifest, &run_dir)).await;
    assert_eq!(first.code, 0, "{}", first.transcript());
    let writes = sim.stats()["byRoute"].clone();
    let nothing = apply(&sim, &args).await;
    assert_eq!(nothing.code, 0, "{}", nothing.transcript());
    assert!(
        nothing.stderr.contains("nothing failed in the earlier run"),
        "{}",
        nothing.stderr
    );
    assert_eq!(
        sim.stats()["byRoute"]["PUT /api/2.0/people/status/{status}"],
        writes["PUT /api/2.0/people/status/{status}"]
    );
}

/// Declining the confirmation (on a terminal: `script` gives apply one) sends
/// nothing and exits 4, so a wrapper script can tell it from success.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declining_the_confirmation_changes_nothing_and_exits_4() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, manifest) = synthetic(2, quick(), dir.path()).await;
    let line = format!(
        "{} apply {} --run-dir {}",
        env!("CARGO_BIN_EXE_offboard"),
        manifest.display(),
        dir.path().join("run").display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("DOCSPACE_URL", sim.url())
        .env("DOCSPACE_API_KEY", sim.owner_key())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("script(1) runs");
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(b"n\n").unwrap();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(4), "{text}");
    assert!(text.contains("declined: nothing was changed"), "{text}");
    let stats = sim.stats();
    assert!(
        stats["byRoute"]
            .as_object()
            .unwrap()
            .keys()
            .all(|route| route.starts_with("GET ")),
        "{stats:#}"
    );
}

/// A key created with `*:read` reads everything a plan needs, so `plan` works and
/// says what it cannot do; `apply` stops at the pre-flight instead of failing every
/// leaver on 403s (`keys/@self` tells the key's scopes, ApiKeysController.GetApiKey).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_key_can_plan_but_not_apply() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, manifest) = synthetic(2, quick(), dir.path()).await;
    let key = create_key(&sim, "read only", &["*:read"]).await;
    let plan = Command::new(env!("CARGO_BIN_EXE_offboard"))
        .args(["plan", manifest.to_str().unwrap()])
        .env("DOCSPACE_URL", sim.url())
        .env("DOCSPACE_API_KEY", &key)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&plan.stdout);
    assert_eq!(plan.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("warning: the API key is restricted to *:read: it can plan, but apply needs a key with full permissions"),
        "{stdout}"
    );
    let before = sim.stats()["byRoute"].clone();
    let applied = Command::new(env!("CARGO_BIN_EXE_offboard"))
        .args(["apply", manifest.to_str().unwrap(), "--yes", "--run-dir"])
        .arg(dir.path().join("run"))
        .env("DOCSPACE_URL", sim.url())
        .env("DOCSPACE_API_KEY", &key)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&applied.stderr);
    assert_eq!(applied.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("the API key is restricted to *:read"),
        "{stderr}"
    );
    let after = sim.stats()["byRoute"].clone();
    for (route, count) in after.as_object().unwrap() {
        if !route.starts_with("GET ") {
            assert_eq!(&before[route.as_str()], count, "{route} was sent");
        }
    }
}

/// A leaver somebody else is offboarding right now (their reassign job runs on the
/// portal: another apply, or an admin by hand) is named in the plan's warnings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reassign_someone_else_runs_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let config = docspace_sim::Config {
        job_duration: std::time::Duration::from_secs(60),
        ..quick()
    };
    let (sim, manifest) = synthetic(1, config, dir.path()).await;
    let state = sim.state();
    let leaver = user(&state, "leaver0@synthetic.example")["id"].clone();
    let keeper = user(&state, "archive.owner@synthetic.example")["id"].clone();
    let http = crate::support::http();
    let send = |method: reqwest::Method, path: &str, body: Value| {
        http.request(method, format!("{}{path}", sim.url()))
            .bearer_auth(sim.owner_key())
            .json(&body)
            .send()
    };
    let disabled = send(
        reqwest::Method::PUT,
        "/api/2.0/people/status/2",
        serde_json::json!({"userIds": [leaver]}),
    )
    .await
    .unwrap();
    assert!(disabled.status().is_success());
    let started = send(
        reqwest::Method::POST,
        "/api/2.0/people/reassign/start",
        serde_json::json!({"fromUserId": leaver, "toUserId": keeper}),
    )
    .await
    .unwrap();
    assert!(started.status().is_success());
    let plan = plan_json(&sim, &manifest);
    assert!(
        plan["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().starts_with(
                "a reassign of leaver0@synthetic.example's data is running on the portal now"
            )),
        "{:#}",
        plan["warnings"]
    );
}
