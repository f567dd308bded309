//! The plan converges: after a successful apply nothing is left to change (audit
//! trails and exports are collected, not changes), and the plan's estimate of
//! requests and writes is what apply then sends, within 15 %.

use std::process::Command;

use serde_json::Value;

use crate::apply::{apply, demo_portal, plan_json, quick, report, synthetic, write_manifest, yes};

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

/// `estimated` within 15 % of `sent`.
fn close(estimated: &Value, sent: &Value) -> bool {
    let (estimated, sent) = (estimated.as_f64().unwrap(), sent.as_f64().unwrap());
    (estimated - sent).abs() <= 0.15 * sent
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
    let sent = report(&run_dir)["run"].clone();
    for (what, field) in [
        ("requests", "estimated_requests"),
        ("writes", "estimated_writes"),
    ] {
        assert!(
            close(&before["summary"][field], &sent[what]),
            "{what}: planned {}, sent {}",
            before["summary"][field],
            sent[what]
        );
    }

    assert_eq!(
        detailed_exit_code(&sim, &manifest),
        0,
        "nothing left to change"
    );
    let after = plan_json(&sim, &manifest);
    let carla = after["leavers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["leaver"] == "carla.mendes@example.com")
        .unwrap();
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
    let sent = report(&run_dir)["run"].clone();
    for (what, field) in [
        ("requests", "estimated_requests"),
        ("writes", "estimated_writes"),
    ] {
        assert!(
            close(&planned[field], &sent[what]),
            "{what}: planned {}, sent {}",
            planned[field],
            sent[what]
        );
    }
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
