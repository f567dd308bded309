//! How close `offboard apply` runs to the portal's rate limit, and what it costs the
//! portal per leaver.
//!
//! Starts the simulator in this process with a synthetic portal of [`LEAVERS`]
//! leavers (half with a room workspace, half with a folder in a department room,
//! a third with an API key, a quarter with shared personal files) and the limiter
//! on, scaled up [`SCALE`] times from DocSpace's 1500 requests a minute so the run
//! is short; the in-flight caps stay DocSpace's (50 reads, 15 writes) and jobs take
//! the simulator's default 2 s. Then runs the real release `offboard apply --yes`
//! on the manifest the simulator wrote, with `--rate-limit-per-minute` set to the
//! same limit and every other setting at its default.
//!
//! It prints, from the run's report and journal and the simulator's counters:
//! - wall time ÷ (requests ÷ rate limit): 1.00 means every request went out as
//!   soon as the limit allowed (target ≤ 1.10);
//! - requests and POST+PUT writes per leaver (targets ≤ 10 and ≤ 3; two of the reads
//!   record what `offboard revert` needs: a room workspace's members before the run,
//!   the rooms the reassign hands over);
//! - seconds from the start of the process until the last leaver was disabled
//!   (≤ 5 s): pre-flight, the people list, the lock-out batches;
//! - 429s, retries and failed leavers (target: none failed).
//!
//! A missed target is reported (MISS), not turned into a failure. Run it with:
//!
//! ```text
//! cargo bench --bench apply
//! ```
//!
//! `LEAVERS=200 cargo bench --bench apply` runs a smaller portal;
//! `CONCURRENCY=N` passes `--concurrency N`; `SCALE=N` sets the limit to N × 1500.

use std::process::Command;
use std::time::{Duration, Instant};

use docspace_sim::{Config, Source};
use serde_json::Value;

const LEAVERS: usize = 1000;
/// DocSpace's limit, and how many times faster the benchmark's portal allows.
const DOCSPACE_LIMIT: u32 = 1500;
const SCALE: u32 = 10;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let leavers: usize = std::env::var("LEAVERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(LEAVERS);
    let scale: u32 = std::env::var("SCALE")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(SCALE);
    let limit = DOCSPACE_LIMIT * scale;
    let config = Config {
        rate_limit_per_minute: limit,
        // The daily budget scales with the run, like the minute's.
        daily_write_limit: 10_000 * scale,
        ..Config::default()
    };
    let sim = docspace_sim::spawn(config, &Source::Synthetic(leavers))
        .await
        .expect("the simulator starts");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let manifest = dir.path().join("synthetic.yaml");
    std::fs::write(&manifest, sim.manifest().expect("a synthetic manifest")).unwrap();
    let run_dir = dir.path().join("run");

    let mut command = Command::new(env!("CARGO_BIN_EXE_offboard"));
    command
        .args(["apply", "--yes", "--force", "--rate-limit-per-minute"])
        .arg(limit.to_string())
        .arg("--run-dir")
        .arg(&run_dir)
        .arg(&manifest)
        .args(
            std::env::var("CONCURRENCY")
                .ok()
                .map(|n| vec!["--concurrency".to_owned(), n])
                .unwrap_or_default(),
        )
        .env("DOCSPACE_URL", sim.url())
        .env("DOCSPACE_API_KEY", sim.owner_key());
    let started = Instant::now();
    let started_at = jiff::Timestamp::now();
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("offboard runs");
    let wall = started.elapsed();
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    }

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("report.json")).unwrap())
            .unwrap();
    let stats = sim.stats();
    let requests: u64 = stats["byRoute"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_u64)
        .sum();
    let writes: u64 = stats["byRoute"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(route, _)| route.starts_with("POST ") || route.starts_with("PUT "))
        .filter_map(|(_, n)| n.as_u64())
        .sum();
    let last_disabled = last_disabled(&run_dir, started_at);
    let ideal = Duration::from_secs_f64(requests as f64 / (f64::from(limit) / 60.0));
    let ratio = wall.as_secs_f64() / ideal.as_secs_f64();
    let per_leaver = requests as f64 / leavers as f64;
    let writes_per_leaver = writes as f64 / leavers as f64;
    let failed = report["run"]["totals"]["failed"]
        .as_u64()
        .unwrap_or(u64::MAX);
    let mark = |ok: bool| if ok { "ok" } else { "MISS" };

    println!(
        "apply: {leavers} synthetic leavers, limit {limit}/min ({scale}× DocSpace's {DOCSPACE_LIMIT}), caps 50 reads / 15 writes, jobs 2 s"
    );
    println!("  exit status                  {}", output.status);
    println!(
        "  wall time                    {:.2} s (ideal at the limit {:.2} s)",
        wall.as_secs_f64(),
        ideal.as_secs_f64()
    );
    println!(
        "  wall ÷ (requests ÷ limit)    {ratio:.2}   target ≤ 1.10  {}",
        mark(ratio <= 1.10)
    );
    println!(
        "  requests per leaver          {per_leaver:.2}   target ≤ 10    {}   ({requests} in all)",
        mark(per_leaver <= 10.0)
    );
    println!(
        "  POST+PUT per leaver          {writes_per_leaver:.2}   target ≤ 3     {}   ({writes} in all)",
        mark(writes_per_leaver <= 3.0)
    );
    println!(
        "  last leaver disabled after   {:.2} s  target ≤ 5 s   {}",
        last_disabled.as_secs_f64(),
        mark(last_disabled <= Duration::from_secs(5))
    );
    println!(
        "  429s {}, retries {}, failed leavers {failed}  target 0 failed  {}",
        stats["limiter429"].as_u64().unwrap_or(0),
        report["run"]["retries"],
        mark(failed == 0)
    );
    let starts = stats["byRoute"]["POST /api/2.0/people/reassign/start"]
        .as_u64()
        .unwrap_or(0);
    let reassigned = report["leavers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| {
            l["steps"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["step"] == "reassign" && s["status"] == "done")
        })
        .count();
    println!(
        "  reassigned leavers           {reassigned} of {leavers} ({starts} jobs started)  {}",
        mark(reassigned == leavers && starts as usize == leavers)
    );
    let (last_write, last_step) = journal_times(&run_dir, started_at);
    println!(
        "  timeline: last write sent {:.2} s, last step ended {:.2} s, process ended {:.2} s",
        last_write.as_secs_f64(),
        last_step.as_secs_f64(),
        wall.as_secs_f64()
    );
    println!("  requests by route:");
    let mut routes: Vec<(&String, u64)> = stats["byRoute"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(r, n)| (r, n.as_u64().unwrap_or(0)))
        .collect();
    routes.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    for (route, n) in routes {
        println!(
            "    {:>6}  {:>5.2}/leaver  {route}",
            n,
            n as f64 / leavers as f64
        );
    }
    sim.shutdown().await;
}

/// From the start of the process to the answer of the last disable batch.
fn last_disabled(run_dir: &std::path::Path, started: jiff::Timestamp) -> Duration {
    let journal = std::fs::read_to_string(run_dir.join("journal.jsonl")).unwrap();
    let start = Some(started);
    let mut last = None;
    for line in journal.lines() {
        let record: Value = serde_json::from_str(line).unwrap();
        let at = |v: &Value| v.as_str().and_then(|t| t.parse::<jiff::Timestamp>().ok());
        match record["type"].as_str() {
            Some("outcome")
                if record["step"] == "disable"
                    && matches!(record["status"].as_str(), Some("sent")) =>
            {
                last = at(&record["at"]).max(last);
            }
            _ => {}
        }
    }
    match (start, last) {
        (Some(s), Some(l)) => l.duration_since(s).unsigned_abs(),
        _ => Duration::MAX,
    }
}

/// From the start of the process to the last intent (the last write sent) and to
/// the last step's end.
fn journal_times(run_dir: &std::path::Path, started: jiff::Timestamp) -> (Duration, Duration) {
    let journal = std::fs::read_to_string(run_dir.join("journal.jsonl")).unwrap();
    let (mut write, mut step) = (started, started);
    for line in journal.lines() {
        let record: Value = serde_json::from_str(line).unwrap();
        let Some(at) = record["at"]
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        else {
            continue;
        };
        match record["type"].as_str() {
            Some("intent") => write = write.max(at),
            Some("outcome") => step = step.max(at),
            _ => {}
        }
    }
    let since = |t: jiff::Timestamp| t.duration_since(started).unsigned_abs();
    (since(write), since(step))
}
