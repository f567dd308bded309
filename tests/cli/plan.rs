//! `offboard plan` against an in-process simulator: every classification, the
//! exit codes, and that nothing but GET requests reach the portal.

use std::path::Path;
use std::process::Command;

use docspace_sim::{Config, SimHandle, Source, spawn};

use crate::support::{Run, against, finish, repo};

pub(crate) const OWNER: &str =
    "sk-0000000000000000000000000000000000000000000000000000000000000001";
const ADMIN: &str = "sk-0000000000000000000000000000000000000000000000000000000000000002";
const MANAGER: &str = "sk-0000000000000000000000000000000000000000000000000000000000000003";

pub(crate) async fn portal() -> SimHandle {
    let fixture = repo().join("tests/fixtures/plan/portal.yaml");
    spawn(
        Config::for_tests(),
        &Source::fixture_file(&fixture).expect("fixture"),
    )
    .await
    .expect("simulator")
}

/// `offboard plan ARGS` (in the repository root) against `sim` with `key`, without
/// colour.
pub(crate) fn command(sim: &SimHandle, key: &str, args: &[&str]) -> Command {
    against(&sim.url(), key, "plan", args)
}

/// Runs `offboard plan` (in the repository root) against `sim` with `key`.
async fn plan(sim: &SimHandle, key: &str, args: &[&str]) -> Run {
    finish(command(sim, key, args)).await
}

/// The transcript with the run's port and today's date filtered out.
fn stable(run: &Run, sim: &SimHandle) -> String {
    let today = portal_today().to_string();
    run.transcript()
        .replace(&sim.url(), "http://127.0.0.1:PORT")
        .replace(&today, "[today]")
}

/// Today as `plan` reads it for these portals: the offset of the fixtures'
/// registration dates (January in Europe/Berlin, +01:00), not today's zone rules.
fn portal_today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(1)))
        .date()
}

/// A user's id in the simulator's portal.
fn user_id(sim: &SimHandle, email: &str) -> String {
    let state = sim.state();
    let user = state["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email);
    user.unwrap_or_else(|| panic!("no user {email}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn writes(sim: &SimHandle) -> Vec<String> {
    sim.stats()["byRoute"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| !k.starts_with("GET "))
        .cloned()
        .collect()
}

/// `plan` of the all-outcomes manifest with the owner's key, `--protect` and `extra`.
async fn all_outcomes(extra: &[&str]) -> (SimHandle, Run) {
    let sim = portal().await;
    let mut args = vec![
        "tests/fixtures/plan/all-outcomes.yaml",
        "--protect",
        "plain@example.com",
    ];
    args.extend_from_slice(extra);
    let run = plan(&sim, OWNER, &args).await;
    (sim, run)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_outcome_with_the_owners_key() {
    let (sim, run) = all_outcomes(&[]).await;
    insta::assert_snapshot!(stable(&run, &sim));
    assert_eq!(writes(&sim), Vec::<String>::new(), "plan only reads");
}

/// The same plan as Markdown, for a pull request comment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_outcome_as_markdown() {
    let (sim, run) = all_outcomes(&["--format", "markdown"]).await;
    insta::assert_snapshot!(stable(&run, &sim));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_invalid_reason() {
    let sim = portal().await;
    let run = plan(&sim, OWNER, &["tests/fixtures/plan/invalid.yaml"]).await;
    insta::assert_snapshot!(stable(&run, &sim));
    assert_eq!(run.code, 2);
    assert!(writes(&sim).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admins_key_may_not_offboard_admins_and_not_itself() {
    let sim = portal().await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("admins.yaml");
    std::fs::write(
        &manifest,
        "version: 1\ndefaults: {archive_owner: manager@example.com, archive_folder: 500}\nleavers:\n  - {user: admin@example.com, workspace: 100}\n  - {user: owner@example.com, workspace: 200}\n  - {user: keeper@example.com, workspace: 300}\n",
    )
    .unwrap();
    let run = plan(
        &sim,
        ADMIN,
        &[manifest.to_str().unwrap(), "--format", "json"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let reasons: Vec<(String, String)> = json["leavers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["outcome"].as_str().unwrap().to_owned(),
                l["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        vec![
            ("protected".to_owned(), "the API key's own user".to_owned()),
            ("protected".to_owned(), "the portal owner".to_owned()),
            (
                "protected".to_owned(),
                "a DocSpace admin; only the owner's key may offboard admins".to_owned()
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detailed_exit_codes_follow_terraform() {
    let sim = portal().await;
    let dir = tempfile::tempdir().unwrap();
    let pending = write(
        dir.path(),
        "pending.yaml",
        "version: 1\nleavers:\n  - {user: leaver@example.com, workspace: 100, archive_owner: keeper@example.com}\n",
    );
    let done = write(
        dir.path(),
        "done.yaml",
        "version: 1\nleavers:\n  - {user: gone@example.com, workspace: 400, archive_owner: keeper@example.com, hr_group: HR, steps: [disable, revoke_keys, reassign, archive]}\n",
    );
    let broken = write(
        dir.path(),
        "broken.yaml",
        "version: 1\nleavers:\n  - {user: nobody@example.com, workspace: 100, archive_owner: keeper@example.com}\n",
    );
    for (manifest, code) in [(&pending, 2), (&done, 0), (&broken, 1)] {
        let run = plan(&sim, OWNER, &[manifest, "--detailed-exitcode"]).await;
        assert_eq!(run.code, code, "{manifest}: {}", run.transcript());
    }
    let run = plan(&sim, OWNER, &[&done]).await;
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.contains("0 will change, 1 unchanged"),
        "{}",
        run.stdout
    );
}

/// The `;` file a European Excel saves (BOM, CRLF, capitalised headers, a quoted
/// `;` in a cell) plans as its `,` twin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_semicolon_csv_plans_like_its_comma_twin() {
    let sim = portal().await;
    let dir = tempfile::tempdir().unwrap();
    let commas = write(
        dir.path(),
        "commas.csv",
        "user,workspace,archive_folder,archive_owner,hr_group,steps\n\
         leaver@example.com,100,500,keeper@example.com,HR,\n\
         folks@example.com,210,500,keeper@example.com,HR,\"disable;revoke_keys;reassign;archive\"\n",
    );
    let excel = write(
        dir.path(),
        "excel.csv",
        "\u{feff}User;Workspace;Archive_Folder;Archive_Owner;HR_Group;Steps\r\n\
         leaver@example.com;100;500;keeper@example.com;HR;\r\n\
         folks@example.com;210;500;keeper@example.com;HR;\"disable;revoke_keys;reassign;archive\"\r\n",
    );
    let twin = plan(&sim, OWNER, &[&commas]).await;
    assert_eq!(twin.code, 0, "{}", twin.transcript());
    assert!(twin.stdout.contains("2 will change"), "{}", twin.stdout);
    let run = plan(&sim, OWNER, &[&excel]).await;
    assert_eq!(run.transcript(), twin.transcript());
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_cannot_do_the_job_stops_the_plan() {
    let sim = portal().await;
    let run = plan(&sim, MANAGER, &["tests/fixtures/plan/all-outcomes.yaml"]).await;
    insta::assert_snapshot!(stable(&run, &sim));
    let run = plan(
        &sim,
        "sk-ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        &["tests/fixtures/plan/all-outcomes.yaml"],
    )
    .await;
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("the portal refused the API key"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("sk-ffff"), "the key never shows");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_portal_and_missing_settings() {
    let sim = portal().await;
    let url = sim.url();
    sim.shutdown().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_offboard"))
        .args(["plan", "manifests/example.yaml", "--portal", &url])
        .current_dir(repo())
        .env("DOCSPACE_API_KEY", OWNER)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot reach the portal"));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_offboard"))
        .args([
            "plan",
            "manifests/example.yaml",
            "--portal",
            "https://portal.example.com",
        ])
        .current_dir(repo())
        .env_remove("DOCSPACE_API_KEY")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no API key"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_manifest_reads_nothing_from_the_portal() {
    let sim = portal().await;
    let run = plan(
        &sim,
        OWNER,
        &["tests/fixtures/manifests/yaml/duplicate-user.yaml"],
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("duplicate-user"));
    assert_eq!(sim.stats()["requests"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_plan_follows_its_schema() {
    let sim = portal().await;
    let run = plan(
        &sim,
        OWNER,
        &["tests/fixtures/plan/all-outcomes.yaml", "--format", "json"],
    )
    .await;
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    crate::support::assert_matches_schema(&plan, "plan");
    assert_eq!(plan["summary"]["will_change"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_manifest_against_the_demo_company() {
    let fixture = docspace_sim::Fixture::from_yaml(docspace_sim::DEMO_PORTAL).expect("demo portal");
    let sim = spawn(Config::for_tests(), &Source::Fixture(Box::new(fixture)))
        .await
        .unwrap();
    let run = plan(
        &sim,
        sim.owner_key(),
        &["manifests/example.yaml", "--format", "json"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let outcomes: Vec<(&str, &str)> = json["leavers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["leaver"].as_str().unwrap(),
                l["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    // Dmitri's effective date is 2026-12-18 (in the portal's calendar).
    let today = portal_today();
    let dmitri = if today < jiff::civil::date(2026, 12, 18) {
        "deferred"
    } else {
        "will_change"
    };
    assert_eq!(
        outcomes,
        vec![
            ("carla.mendes@example.com", "will_change"),
            ("dmitri.volkov@example.com", dmitri),
            ("0b5c1f7e-4a7d-4f55-9a53-2f8e2b1c6d10", "will_change"),
        ]
    );
    assert!(writes(&sim).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_with_restricted_permissions_is_refused_up_front() {
    let sim = portal().await;
    let key = crate::apply::create_key(&sim, "rooms only", &["rooms:read"]).await;
    let run = plan(&sim, &key, &["tests/fixtures/plan/all-outcomes.yaml"]).await;
    assert_eq!(run.code, 3, "{}", run.transcript());
    assert!(
        run.stderr.contains("restricted permissions"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint: "), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synthetic_batch_costs_few_requests_per_leaver() {
    let sim = spawn(Config::for_tests(), &Source::Synthetic(300))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(dir.path(), "synthetic.yaml", sim.manifest().unwrap());
    let run = plan(&sim, sim.owner_key(), &[&manifest, "--format", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        json["summary"]["will_change"], 300,
        "every synthetic leaver is offboardable"
    );
    let stats = sim.stats();
    let requests = stats["requests"].as_f64().unwrap();
    assert!(
        requests / 300.0 <= 3.5,
        "{requests} requests for 300 leavers: {}",
        stats["byRoute"]
    );
    assert!(writes(&sim).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reassigned_leaver_plans_as_unchanged_though_still_a_room_member() {
    let sim = portal().await;
    let http = crate::support::http();
    let folks = user_id(&sim, "folks@example.com");
    let keeper = user_id(&sim, "keeper@example.com");
    let call = |method: reqwest::Method, path: &str, body: serde_json::Value| {
        http.request(method, format!("{}{path}", sim.url()))
            .bearer_auth(OWNER)
            .json(&body)
            .send()
    };
    call(
        reqwest::Method::PUT,
        "/api/2.0/people/status/2",
        serde_json::json!({"userIds": [folks]}),
    )
    .await
    .unwrap();
    call(
        reqwest::Method::POST,
        "/api/2.0/people/reassign/start",
        serde_json::json!({"fromUserId": folks, "toUserId": keeper}),
    )
    .await
    .unwrap();
    let progress = format!("/api/2.0/people/reassign/progress/{folks}");
    for _ in 0..250 {
        let answer: serde_json::Value = http
            .get(format!("{}{progress}", sim.url()))
            .bearer_auth(OWNER)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if answer["response"]["isCompleted"] == true {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(
        dir.path(),
        "folks.yaml",
        "version: 1\nleavers:\n  - {user: folks@example.com, workspace: 210, archive_owner: keeper@example.com, steps: [disable, reassign]}\n",
    );
    let run = plan(&sim, OWNER, &[&manifest, "--format", "json"]).await;
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let leaver = &json["leavers"][0];
    assert_eq!(leaver["outcome"], "unchanged", "{}", run.stdout);
    assert_eq!(
        leaver["steps"][1]["detail"],
        "already reassigned: disabled and owns no room"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protect_values_must_name_a_user() {
    let sim = portal().await;
    let run = plan(
        &sim,
        OWNER,
        &[
            "tests/fixtures/plan/all-outcomes.yaml",
            "--protect",
            "leaver",
        ],
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--protect `leaver`"), "{}", run.stderr);
    let run = plan(
        &sim,
        OWNER,
        &[
            "tests/fixtures/plan/all-outcomes.yaml",
            "--protect",
            " Leaver@Example.com ",
            "--format",
            "json",
        ],
    )
    .await;
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["leavers"][0]["outcome"], "protected");
}
