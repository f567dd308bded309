//! The journal's tests: resume, torn tails, damage, ownership of a directory, locks.

use std::fs::OpenOptions;
use std::io::Write;

use serde_json::Value;

use super::*;

fn header(hash: &str) -> RunHeader {
    RunHeader {
        format: FORMAT,
        tool_version: "test".into(),
        run_id: "run-1".into(),
        manifest: "m.yaml".into(),
        manifest_sha256: hash.into(),
        portal: "http://127.0.0.1:1/".into(),
        started: "2026-11-29T08:00:00Z".into(),
        reverts: None,
    }
}

#[test]
fn a_resumed_journal_knows_its_open_intents() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut journal, replay) = Journal::open(dir.path(), header("abc")).unwrap();
        assert!(replay.records.is_empty());
        let done = journal
            .intent(
                "ann@example.com",
                "disable",
                "PUT people/status/2",
                Value::Null,
            )
            .unwrap();
        journal
            .outcome(
                Some(done),
                "ann@example.com",
                "disable",
                "done",
                Value::Null,
            )
            .unwrap();
        journal
            .intent(
                "ann@example.com",
                "reassign",
                "POST people/reassign/start",
                Value::Null,
            )
            .unwrap();
        // Killed here: the reassign intent has no outcome.
    }
    let (mut journal, replay) = Journal::open(dir.path(), header("abc")).unwrap();
    assert_eq!(replay.outcome("ann@example.com", "disable"), Some("done"));
    let open = replay.open_intents();
    assert_eq!(open.len(), 1);
    assert!(matches!(open[0], Record::Intent { step, .. } if step == "reassign"));
    // Sequence numbers go on where they stopped.
    assert_eq!(
        journal
            .intent("ann@example.com", "archive", "PUT", Value::Null)
            .unwrap(),
        4
    );
}

#[test]
fn a_step_finished_by_a_later_session_leaves_no_open_intent() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut journal, _) = Journal::open(dir.path(), header("abc")).unwrap();
        for step in ["reassign", "archive"] {
            journal
                .intent("ann@example.com", step, "POST", Value::Null)
                .unwrap();
        }
        // Killed: both writes in doubt.
    }
    {
        let (mut journal, replay) = Journal::open(dir.path(), header("abc")).unwrap();
        assert_eq!(replay.open_intents().len(), 2);
        // The next session settles the reassign from the portal; the archive
        // it only skips (an earlier step failed): still in doubt.
        journal
            .outcome(None, "ann@example.com", "reassign", "done", Value::Null)
            .unwrap();
        journal
            .outcome(None, "ann@example.com", "archive", "skipped", Value::Null)
            .unwrap();
    }
    let (_, replay) = Journal::open(dir.path(), header("abc")).unwrap();
    let open = replay.open_intents();
    assert_eq!(open.len(), 1, "{open:?}");
    assert!(matches!(open[0], Record::Intent { step, .. } if step == "archive"));
}

#[test]
fn a_torn_last_line_is_dropped_and_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut journal, _) = Journal::open(dir.path(), header("abc")).unwrap();
        journal
            .intent("ann@example.com", "disable", "PUT", Value::Null)
            .unwrap();
    }
    let path = dir.path().join(JOURNAL);
    let mut file = OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all(br#"{"type":"outcome","seq":2,"int"#)
        .unwrap();
    drop(file);
    let (mut journal, replay) = Journal::open(dir.path(), header("abc")).unwrap();
    assert!(replay.torn_tail);
    assert_eq!(replay.open_intents().len(), 1);
    journal
        .outcome(Some(1), "ann@example.com", "disable", "done", Value::Null)
        .unwrap();
    drop(journal);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.lines()
            .all(|l| serde_json::from_str::<Record>(l).is_ok()),
        "{text}"
    );
}

#[test]
fn damage_before_the_end_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(JOURNAL), "not json\n{}\n").unwrap();
    assert!(matches!(
        Journal::open(dir.path(), header("abc")),
        Err(JournalError::Corrupt { line: 1, .. })
    ));
}

#[test]
fn another_manifest_cannot_take_over_a_run() {
    let dir = tempfile::tempdir().unwrap();
    drop(Journal::open(dir.path(), header("abc")).unwrap());
    assert!(matches!(
        Journal::open(dir.path(), header("def")),
        Err(JournalError::Mismatch {
            what: "the manifest",
            ..
        })
    ));
}

#[test]
fn two_runs_cannot_share_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let first = Journal::open(dir.path(), header("abc")).unwrap();
    assert!(matches!(
        Journal::open(dir.path(), header("abc")),
        Err(JournalError::Locked(_))
    ));
    drop(first);
    assert!(Journal::open(dir.path(), header("abc")).is_ok());
}
