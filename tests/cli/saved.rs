//! Saved plans: `offboard plan --out PLAN`, then `offboard apply PLAN` applies exactly
//! that plan, leaving alone (as `drifted`) the leavers whose portal state changed
//! since, and refusing old plans and changed manifests.

use std::path::{Path, PathBuf};
use std::process::Command;

use docspace_sim::SimHandle;
use serde_json::Value;

use crate::apply::{
    DEMO_MANIFEST, apply, demo_portal, leaver, quick, report, step, user, write_manifest,
};

/// `offboard plan MANIFEST --out PLAN` against `sim`: the saved plan, checked against
/// `schemas/saved-plan.schema.json`.
fn save_plan(sim: &SimHandle, manifest: &Path, dir: &Path) -> (PathBuf, Value) {
    let out = dir.join("plan.json");
    let run = Command::new(env!("CARGO_BIN_EXE_offboard"))
        .args([
            "plan",
            manifest.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .env("DOCSPACE_URL", sim.url())
        .env("DOCSPACE_API_KEY", sim.owner_key())
        .env("OFFBOARD_RATE_LIMIT_PER_MINUTE", "0")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    crate::support::assert_matches_schema(&saved, "saved-plan");
    (out, saved)
}

/// `PUT people/status/2` for `email`: somebody disabled the account by hand.
async fn disable_by_hand(sim: &SimHandle, email: &str) {
    let id = user(&sim.state(), email)["id"].as_str().unwrap().to_owned();
    let answer = crate::support::http()
        .put(format!("{}/api/2.0/people/status/2", sim.url()))
        .bearer_auth(sim.owner_key())
        .json(&serde_json::json!({ "userIds": [id], "resendAll": false }))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_is_applied_and_a_leaver_changed_since_is_left_alone_as_drifted() {
    let sim = demo_portal(quick()).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path(), DEMO_MANIFEST);
    let (plan, saved) = save_plan(&sim, &manifest, dir.path());
    assert_eq!(saved["kind"], "offboard-saved-plan");
    assert_eq!(
        saved["relies_on"]["dmitri.volkov@example.com"]["account"],
        "active"
    );
    assert!(
        saved["relies_on"]["carla.mendes@example.com"]["workspace"]["members"].is_array(),
        "{saved:#}"
    );
    // After the review, somebody disables Dmitri by hand.
    disable_by_hand(&sim, "dmitri.volkov@example.com").await;

    let run_dir = dir.path().join("run");
    let applied = apply(
        &sim,
        &[
            plan.to_str().unwrap(),
            "--yes",
            "--run-dir",
            run_dir.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(applied.code, 1, "{}", applied.transcript());
    assert!(
        applied
            .stdout
            .contains("drifted: dmitri.volkov@example.com"),
        "{}",
        applied.stdout
    );
    let report = report(&run_dir);
    assert_eq!(report["run"]["totals"]["drifted"], 1, "{report:#}");
    let dmitri = leaver(&report, "dmitri.volkov@example.com");
    assert_eq!(dmitri["outcome"], "drifted", "{dmitri:#}");
    assert!(
        dmitri["reason"]
            .as_str()
            .unwrap()
            .contains("the account was active and is disabled now"),
        "{dmitri:#}"
    );
    for name in ["disable", "reassign", "archive"] {
        assert_eq!(step(dmitri, name), "not_run", "{dmitri:#}");
    }
    // Nothing was done to Dmitri's folder; Carla was offboarded as planned.
    let state = sim.state();
    assert_eq!(
        crate::apply::folder(&state, 4102)["parent"],
        saved_parent(&saved, "dmitri.volkov@example.com")
    );
    assert_eq!(
        leaver(&report, "carla.mendes@example.com")["outcome"],
        "done"
    );
    // The run as Markdown for the pull request: counts, the table, the drifted leaver.
    let markdown = Command::new(env!("CARGO_BIN_EXE_offboard"))
        .args(["report", run_dir.to_str().unwrap(), "--format", "markdown"])
        .output()
        .unwrap();
    assert!(markdown.status.success());
    let text = String::from_utf8(markdown.stdout).unwrap();
    insta::assert_snapshot!(redact_counts(
        &text.replace(&sim.url(), "http://127.0.0.1:PORT")
    ));
}

/// The request counts of a run (they vary with scheduling) as `N`.
fn redact_counts(text: &str) -> String {
    text.lines()
        .map(|line| match line.find(" requests (") {
            Some(at) => {
                let start = line[..at].rfind(' ').map_or(0, |i| i + 1);
                let end = line[at..].find(" writes)").map_or(line.len(), |i| at + i);
                format!("{}N requests (N{}", &line[..start], &line[end..])
            }
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn saved_parent(saved: &Value, leaver: &str) -> Value {
    saved["relies_on"][leaver]["workspace"]["parent"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_plan_or_a_changed_manifest_is_refused_and_nothing_is_sent() {
    let sim = demo_portal(quick()).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path(), DEMO_MANIFEST);
    let (plan, _) = save_plan(&sim, &manifest, dir.path());
    let run_dir = dir.path().join("run");
    let plan_arg = plan.to_str().unwrap();
    let run_arg = run_dir.to_str().unwrap();
    let writes_before = sim.stats()["postPut"].as_u64().unwrap();

    let old = apply(
        &sim,
        &[
            plan_arg,
            "--yes",
            "--max-plan-age",
            "0",
            "--run-dir",
            run_arg,
        ],
    )
    .await;
    assert_eq!(old.code, 2, "{}", old.transcript());
    assert!(
        old.stderr.contains("more than --max-plan-age 0"),
        "{}",
        old.stderr
    );

    std::fs::write(
        &manifest,
        format!("{DEMO_MANIFEST}# edited after the review\n"),
    )
    .unwrap();
    let changed = apply(&sim, &[plan_arg, "--yes", "--run-dir", run_arg]).await;
    assert_eq!(changed.code, 2, "{}", changed.transcript());
    assert!(
        changed.stderr.contains("changed since the plan"),
        "{}",
        changed.stderr
    );

    assert_eq!(
        sim.stats()["postPut"].as_u64().unwrap(),
        writes_before,
        "nothing was sent"
    );
    assert!(
        !run_dir.join("journal.jsonl").exists(),
        "no run was started"
    );
}
