//! `offboard sim`: the first two lines scripts rely on, synthetic portals with their
//! manifest, and the demo company matching the example manifests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use crate::support::{offboard_in, repo};

/// A running `offboard sim`, killed when dropped.
struct Sim {
    child: Child,
    url: String,
    key: String,
}

impl Sim {
    fn start(args: &[&str], dir: &std::path::Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_offboard"))
            .arg("sim")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("offboard sim starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        let mut second = String::new();
        lines.read_line(&mut first).expect("first line");
        lines.read_line(&mut second).expect("second line");
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        let key = second
            .trim()
            .strip_prefix("owner api key: ")
            .unwrap_or_else(|| panic!("unexpected second line {second:?}"))
            .to_owned();
        Sim { child, url, key }
    }

    /// A plain HTTP/1.1 GET; returns status and body.
    fn get(&self, path: &str, key: Option<&str>) -> (u16, String) {
        let host = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(host).expect("connect");
        let auth = key
            .map(|k| format!("Authorization: Bearer {k}\r\n"))
            .unwrap_or_default();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n"
        )
        .expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        let status = response[9..12].parse().expect("a status code");
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }

    fn json(&self, path: &str) -> serde_json::Value {
        let (status, body) = self.get(path, Some(&self.key.clone()));
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).expect("JSON")
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn sim_prints_its_address_and_owner_key_then_serves() {
    let sim = Sim::start(&[], &repo());
    assert!(sim.url.starts_with("http://127.0.0.1:"));
    assert!(sim.key.starts_with("sk-") && sim.key.len() == 67);
    let me = sim.json("/api/2.0/people/@self");
    assert_eq!(me["response"]["isOwner"], true);
    assert_eq!(sim.get("/api/2.0/people/@self", None).0, 401);
}

#[test]
fn the_demo_company_has_every_leaver_and_workspace_of_the_example_manifests() {
    let sim = Sim::start(&["--rate-limit-per-minute", "0"], &repo());
    let state: serde_json::Value = {
        let (_, body) = sim.get("/__sim/state", None);
        serde_json::from_str(&body).expect("state JSON")
    };
    let users = state["users"].as_array().expect("users");
    assert!(
        users.len() >= 40,
        "a realistic company: {} users",
        users.len()
    );
    let folders = state["folders"].as_array().expect("folders");
    for file in [
        "manifests/example.yaml",
        "manifests/batch.yaml",
        "manifests/leavers.csv",
    ] {
        let checked = offboard::manifest::load(&repo().join(file));
        let m = checked.manifest.expect("the example manifests are valid");
        for leaver in &m.leavers {
            let key = leaver.user.key();
            let user = users
                .iter()
                .find(|u| {
                    u["email"]
                        .as_str()
                        .is_some_and(|e| e.eq_ignore_ascii_case(&key))
                        || u["id"] == key.as_str()
                })
                .unwrap_or_else(|| panic!("{file}: no user {key}"));
            assert_eq!(user["status"], 1, "{key} is active");
            let workspace = folders
                .iter()
                .find(|f| f["id"] == leaver.workspace)
                .unwrap_or_else(|| panic!("{file}: no workspace {}", leaver.workspace));
            let is_room = workspace["roomType"].is_number();
            assert!(
                is_room || leaver.archive_folder.is_some(),
                "{file}: folder workspace {} needs an archive folder",
                leaver.workspace
            );
            let owner = leaver.archive_owner.key();
            assert!(
                users.iter().any(|u| u["email"] == owner.as_str()),
                "{file}: archive owner {owner}"
            );
        }
    }
}

#[test]
fn a_synthetic_portal_comes_with_its_manifest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = Sim::start(
        &["--synthetic", "25", "--write-manifest", "synthetic.yaml"],
        dir.path(),
    );
    let people = sim.json("/api/2.0/people/filter?count=1");
    assert!(people["total"].as_u64().unwrap() > 25);
    let run = offboard_in(dir.path(), &["validate", "synthetic.yaml"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(run.stderr.contains("(25 leavers)"), "{}", run.stderr);
}

#[test]
fn bad_simulator_flags_are_usage_errors() {
    let run = offboard_in(&repo(), &["sim", "--faults", "500=2"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("between 0 and 1"), "{}", run.stderr);
    let run = offboard_in(&repo(), &["sim", "--fixture", "no/such/portal.yaml"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no/such/portal.yaml"), "{}", run.stderr);
    let run = offboard_in(&repo(), &["sim", "--write-manifest", "x.yaml"]);
    assert_eq!(run.code, 2, "--write-manifest needs --synthetic");
}
