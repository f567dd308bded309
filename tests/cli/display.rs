//! Control characters from inputs never reach a person raw: text from a manifest or
//! from the portal shows an escape sequence as `\u{1b}` in the plan's table, apply's
//! lines, the summary and report.csv; report.json keeps it exact.

use docspace_sim::{Fixture, Source, spawn};

use crate::apply::{apply, quick, write_manifest, yes};
use crate::support::{Run, finish};

/// Raw control characters a terminal acts on: ESC, BEL, CR, backspace, a C1 CSI and a
/// right-to-left override.
const RAW: [char; 6] = ['\x1b', '\x07', '\r', '\x08', '\u{9b}', '\u{202e}'];

fn assert_no_raw(what: &str, text: &str) {
    for c in RAW {
        assert!(
            !text.contains(c),
            "{what} holds a raw {c:?}:\n{}",
            text.escape_debug()
        );
    }
}

/// `offboard plan MANIFEST` (the table) against `sim` with the owner's key.
async fn plan_table(sim: &docspace_sim::SimHandle, manifest: &std::path::Path) -> Run {
    let args = [manifest.to_str().unwrap()];
    finish(crate::plan::command(sim, sim.owner_key(), &args)).await
}

/// The demo portal with escape sequences in the names of the key's user (shown in
/// every plan and apply header) and of Carla (report.csv), and in the title of the
/// Sales room (quoted by the reason Dmitri cannot be offboarded with it).
async fn hostile_portal() -> docspace_sim::SimHandle {
    let text = docspace_sim::DEMO_PORTAL.to_owned();
    let edited = text
        .replacen(
            "first_name: Margit,",
            "first_name: \"Margit\\e]0;owned\\a\\e[2J\",",
            1,
        )
        .replacen(
            "first_name: Carla,",
            "first_name: \"Carla\\e[31m\\r\\b\\u202e\\x9b\",",
            1,
        )
        .replacen("    title: Sales\n", "    title: \"Sales\\e[5m\\a\"\n", 1);
    assert_ne!(text, edited);
    let fixture = Fixture::from_yaml(&edited).expect("demo fixture");
    spawn(quick(), &Source::Fixture(Box::new(fixture)))
        .await
        .expect("simulator")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_sequences_in_a_manifest_do_not_reach_the_plan_table() {
    let sim = hostile_portal().await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(
        dir.path(),
        "version: 1\ndefaults:\n  archive_owner: it.archive@example.com\n  archive_folder: 5001\n\
         leavers:\n  - user: carla.mendes@example.com\n    workspace: 3101\n    \
         confirm_workspace: \"Nordics\\e]0;pwned\\a\\r\\u202e\"\n  \
         - user: dmitri.volkov@example.com\n    workspace: 4102\n    hr_group: \"HR\\e[31m\"\n",
    );
    let run = plan_table(&sim, &manifest).await;
    assert_eq!(run.code, 2, "{}", run.transcript().escape_debug());
    assert_no_raw("plan's table", &run.stdout);
    assert_no_raw("plan's stderr", &run.stderr);
    // The values are there, visibly escaped.
    assert!(
        run.stdout
            .contains("\"Nordics\\u{1b}]0;pwned\\u{7}\\r\\u{202e}\""),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("`HR\\u{1b}[31m`"), "{}", run.stdout);
    assert!(
        run.stdout.contains("Margit\\u{1b}]0;owned"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_sequences_from_the_portal_do_not_reach_apply_or_report_csv() {
    let sim = hostile_portal().await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(
        dir.path(),
        "version: 1\ndefaults:\n  archive_owner: it.archive@example.com\n  archive_folder: 5001\n\
         leavers:\n  - user: carla.mendes@example.com\n    workspace: 3101\n    \
         steps: [disable, revoke_keys]\n  - user: dmitri.volkov@example.com\n    workspace: 2001\n",
    );
    let run_dir = dir.path().join("run");
    let run = apply(&sim, &yes(&manifest, &run_dir)).await;
    // Dmitri's workspace is the Sales room, which is not his: invalid, so exit 1.
    assert_eq!(run.code, 1, "{}", run.transcript().escape_debug());
    assert_no_raw("apply's stderr", &run.stderr);
    assert_no_raw("apply's summary", &run.stdout);
    assert!(
        run.stderr.contains("Margit\\u{1b}]0;owned"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("\"Sales\\u{1b}[5m\\u{7}\""),
        "{}",
        run.stdout
    );

    let csv = std::fs::read_to_string(run_dir.join("report.csv")).unwrap();
    assert_no_raw("report.csv", &csv);
    assert!(
        csv.contains("Carla\\u{1b}[31m\\r\\u{8}\\u{202e}\\u{9b} Mendes"),
        "{csv}"
    );
    assert!(csv.contains("\"\"Sales\\u{1b}[5m\\u{7}\"\""), "{csv}");

    // report.json is data: the names as the portal has them.
    let report = crate::apply::report(&run_dir);
    let carla = crate::apply::leaver(&report, "carla.mendes@example.com");
    assert_eq!(
        carla["display_name"],
        "Carla\x1b[31m\r\x08\u{202e}\u{9b} Mendes"
    );

    // `offboard report` prints the same summary.
    let again = crate::support::offboard_in(dir.path(), &["report", run_dir.to_str().unwrap()]);
    assert_eq!(again.code, 0, "{}", again.transcript().escape_debug());
    assert_no_raw("report's summary", &again.stdout);
}
