//! When there is no portal where the user points: the cause in words, one announced
//! retry (no backoff loop), and hints for the usual mistakes.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;

use crate::support::{Run, repo};

const KEY: &str = "sk-0000000000000000000000000000000000000000000000000000000000000001";

/// `offboard plan manifests/example.yaml` with `env`, the key set unless `no_key`.
fn plan(portal: Option<&str>, no_key: bool) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_offboard"));
    command
        .args(["plan", "manifests/example.yaml"])
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("DOCSPACE_URL")
        .env_remove("DOCSPACE_API_KEY");
    if let Some(portal) = portal {
        command.args(["--portal", portal]);
    }
    if !no_key {
        command.env("DOCSPACE_API_KEY", KEY);
    }
    let output = command.output().expect("offboard runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

#[test]
fn a_port_nobody_listens_on_is_refused_in_words_after_one_retry() {
    // A port that was free a moment ago: nothing listens there now.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let run = plan(Some(&format!("http://127.0.0.1:{port}")), false);
    assert_eq!(run.code, 3, "{}", run.transcript());
    assert!(
        run.stderr
            .contains("connection refused: nothing listens at that address and port"),
        "{}",
        run.transcript()
    );
    assert_eq!(
        run.stderr.matches("retrying").count(),
        1,
        "one announced retry, no backoff: {}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("error sending request"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_server_that_is_not_docspace_is_named_so() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Answers every request with an empty 404, as a web server without the API does.
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    let run = plan(Some(&format!("http://127.0.0.1:{port}/api/2.0")), false);
    assert_eq!(run.code, 3, "{}", run.transcript());
    assert!(
        run.stderr.contains(&format!(
            "http://127.0.0.1:{port}/api/2.0/ is not a DocSpace portal: it answered 404 on the API root"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: give the portal's root URL"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_portal_without_a_scheme_gets_a_suggestion_and_missing_settings_come_together() {
    let run = plan(Some("127.0.0.1:45451"), false);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr
            .contains("`127.0.0.1:45451` has no scheme: did you mean http://127.0.0.1:45451?"),
        "{}",
        run.stderr
    );
    let run = plan(None, true);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr.contains("error: no portal given and no API key"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("DOCSPACE_URL") && run.stderr.contains("DOCSPACE_API_KEY"));
}

/// A key pasted into the wrong flag, or into `DOCSPACE_URL`, is refused without
/// being echoed, and nothing is created from it (`--run-dir sk-…` makes no folder).
#[test]
fn a_key_in_the_wrong_place_is_refused_without_echo() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["plan", "manifests/example.yaml", "--portal", KEY],
        vec!["apply", "manifests/example.yaml", "--yes", "--run-dir", KEY],
        vec!["plan", "manifests/example.yaml", "--protect", KEY],
        vec!["validate", KEY],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_offboard"))
            .args(&args)
            .current_dir(repo())
            .env("DOCSPACE_API_KEY", KEY)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.status.code(), Some(2), "{args:?}: {text}");
        assert!(text.contains("looks like an API key"), "{text}");
        assert!(!text.contains(&KEY[3..]), "{args:?} echoed the key: {text}");
    }
    assert!(
        !repo().join(KEY).exists(),
        "no run directory named after the key"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_offboard"))
        .args(["plan", "manifests/example.yaml"])
        .current_dir(dir.path())
        .env("DOCSPACE_URL", KEY)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error: DOCSPACE_URL holds what looks like an API key"),
        "{stderr}"
    );
    assert!(!stderr.contains(&KEY[3..]));
}

/// The portal goes down behind its gateway (every answer a 502) in the middle of a
/// run: apply gives up after `--give-up-after`, says so once, leaves the leavers in
/// flight interrupted (not failed), writes the reports and exits 3; once the
/// portal is back, the same command finishes the run without doing anything twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_that_goes_down_mid_run_is_given_up_on_and_the_resume_finishes() {
    use crate::apply::{
        apply, audit_actions, quick, report, start_and_wait, synthetic, two_at_a_time,
    };
    let dir = tempfile::tempdir().unwrap();
    let leavers = 30;
    let (sim, manifest) = synthetic(leavers, quick(), dir.path()).await;
    let run_dir = dir.path().join("run");
    let args = two_at_a_time(&manifest, &run_dir, &["--give-up-after", "1"]);
    let child = start_and_wait(&sim, &args, &run_dir, leavers + 2).await;
    sim.set_outage(true);
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert_eq!(
        stderr.matches("answered nothing for 1 s").count(),
        1,
        "said once: {stderr}"
    );
    let stopped = report(&run_dir);
    assert_eq!(stopped["run"]["state"], "interrupted", "{stopped:#}");
    let totals = &stopped["run"]["totals"];
    assert_eq!(totals["failed"], 0, "cut short is not failed: {totals}");
    assert!(totals["interrupted"].as_u64().unwrap() > 0, "{totals}");
    let journal = std::fs::read_to_string(run_dir.join("journal.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(journal.lines().last().unwrap()).unwrap();
    assert_eq!(last["type"], "interrupted");
    assert!(
        last["reason"]
            .as_str()
            .unwrap()
            .contains("answered nothing"),
        "{last}"
    );

    sim.set_outage(false);
    let resumed = apply(&sim, &args).await;
    assert_eq!(resumed.code, 0, "{}", resumed.transcript());
    let finished = report(&run_dir);
    assert_eq!(finished["run"]["totals"]["done"], leavers, "{finished:#}");
    let audit = audit_actions(&sim).await;
    assert_eq!(audit.get(&4030), Some(&leavers), "reassigns: {audit:?}");
}
