//! Files a user names are read with care: regular files only and within a size
//! limit, a manifest that links out of the current folder is not followed, and a
//! key that turns up in any input is never echoed.

use std::process::Command;

use crate::support::{Run, offboard_in};

const KEY: &str = "sk-5f1e0c2d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d";

fn text(run: &Run) -> String {
    format!("{}{}", run.stdout, run.stderr)
}

#[cfg(unix)]
#[test]
fn a_manifest_linking_out_of_the_folder_is_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("environ");
    std::fs::write(&secret, format!("HOME=/root\nDOCSPACE_API_KEY={KEY}\n")).unwrap();
    let here = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&secret, here.path().join("leavers.yaml")).unwrap();
    let run = offboard_in(here.path(), &["validate", "leavers.yaml"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        text(&run).contains("symbolic link to a place outside the current folder"),
        "{}",
        run.transcript()
    );
    assert!(!text(&run).contains(&KEY[3..]), "{}", run.transcript());
}

#[test]
fn a_key_inside_an_input_is_never_echoed() {
    let here = tempfile::tempdir().unwrap();
    std::fs::write(
        here.path().join("leavers.yaml"),
        format!("version: 1\nleavers:\n  - user: {KEY}\n    workspace: 1\n"),
    )
    .unwrap();
    for format in ["human", "json", "github"] {
        let run = offboard_in(
            here.path(),
            &["validate", "leavers.yaml", "--format", format],
        );
        assert_eq!(run.code, 2, "{}", run.transcript());
        assert!(
            !text(&run).contains(&KEY[3..]),
            "{format}: {}",
            run.transcript()
        );
        assert!(
            text(&run).contains("sk-***"),
            "{format}: {}",
            run.transcript()
        );
    }
}

#[cfg(unix)]
#[test]
fn pipes_and_oversized_files_are_refused_at_once() {
    let here = tempfile::tempdir().unwrap();
    let fifo = here.path().join("leavers.yaml");
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    // Nobody writes to the pipe: reading it would block for ever.
    let run = offboard_in(here.path(), &["validate", "leavers.yaml"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        text(&run).contains("not a regular file"),
        "{}",
        run.transcript()
    );

    std::fs::remove_file(&fifo).unwrap();
    std::fs::write(&fifo, "version: 1\nleavers: []\n").unwrap();
    let run = offboard_in(
        here.path(),
        &["validate", "leavers.yaml", "--max-input-mib", "0"],
    );
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        text(&run).contains("larger than 0 MiB (raise the limit with --max-input-mib)"),
        "{}",
        run.transcript()
    );
}

/// Thousands of bad rows: the human output shows the first hundred problems and
/// says how many more there are (printing every snippet took time quadratic in the
/// file's size); `--format json` still lists every one.
#[test]
fn many_problems_are_summed_up_not_all_printed() {
    let here = tempfile::tempdir().unwrap();
    let mut csv = String::from("user,workspace,archive_owner\n");
    for i in 0..500 {
        csv.push_str(&format!("bad-{i},x{i},nobody\n"));
    }
    std::fs::write(here.path().join("leavers.csv"), csv).unwrap();
    let human = offboard_in(here.path(), &["validate", "leavers.csv"]);
    assert_eq!(human.code, 2);
    let json = offboard_in(
        here.path(),
        &["validate", "leavers.csv", "--format", "json"],
    );
    let all: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let total = all.as_array().unwrap().len();
    assert!(total > 100, "{total}");
    assert!(
        human.stderr.contains(&format!(
            "… and {} more problems; `--format json` lists every one",
            total - 100
        )),
        "{}",
        &human.stderr[human.stderr.len().saturating_sub(400)..]
    );
}

/// A problem on a 1 MB line: each format prints a bounded amount, and the snippet
/// still names the line and column (in characters) of the problem, with the place
/// shown and the rest of the line cut.
#[test]
fn a_problem_on_a_very_long_line_prints_a_window_of_it() {
    let here = tempfile::tempdir().unwrap();
    let long = "é".repeat(1 << 20);
    // The note is too long (the span under it 1 M characters), the workspace after
    // it is 0, and a key of 1 M characters is unknown.
    let yaml = format!(
        "version: 1\nleavers:\n  - {{user: a@example.com, archive_owner: b@example.com, note: \"{long}\", workspace: 0}}\n  - user: c@example.com\n    archive_owner: b@example.com\n    workspace: 2\n    ? {long}\n    : 1\n"
    );
    std::fs::write(here.path().join("leavers.yaml"), &yaml).unwrap();
    // Characters before `0`, plus one: its column.
    let column = yaml
        .lines()
        .nth(2)
        .unwrap()
        .split(", workspace: ")
        .next()
        .unwrap()
        .chars()
        .count()
        + ", workspace: ".len()
        + 1;
    let csv = format!("user,note,workspace,archive_owner\na@example.com,{long},0,b@example.com\n");
    std::fs::write(here.path().join("leavers.csv"), &csv).unwrap();
    let csv_column = "a@example.com,".len() + (1 << 20) + ",".len() + 1;

    for (file, place) in [
        ("leavers.yaml", format!("leavers.yaml:3:{column}")),
        ("leavers.csv", format!("leavers.csv:2:{csv_column}")),
    ] {
        let human = offboard_in(here.path(), &["validate", file]);
        let head: String = human.stderr.chars().take(2000).collect();
        assert_eq!(human.code, 2, "{head}");
        assert!(
            human.stderr.len() < 10_000,
            "{file}: {} bytes of diagnostics:\n{head}",
            human.stderr.len(),
        );
        assert!(
            human.stderr.contains(&format!("[{place}]")),
            "{file}: {}",
            human.stderr
        );
        // The bad value is in the window, and the line is cut on both sides.
        let line = human
            .stderr
            .lines()
            .find(|l| l.contains("…") && l.contains("é,") || l.contains("é\", workspace: 0"))
            .unwrap_or_else(|| panic!("{file}: no cut line in\n{}", human.stderr));
        assert!(line.contains("…ééé"), "{file}: {line}");
        for format in ["json", "github"] {
            let run = offboard_in(here.path(), &["validate", file, "--format", format]);
            assert_eq!(run.code, 2);
            assert!(
                run.stdout.len() < 10_000,
                "{file} as {format}: {} bytes",
                run.stdout.len()
            );
        }
    }
}

/// Raw control characters in a manifest (an escape sequence, a carriage return, a
/// right-to-left override) reach neither the snippet nor the messages: they are
/// written as `\u{1b}`, `\r`, `\u{202e}`.
#[test]
fn control_characters_in_a_manifest_are_shown_escaped() {
    let here = tempfile::tempdir().unwrap();
    let raw = "\x1b]0;owned\x07\x1b[2J\r\u{202e}\u{9b}1m";
    std::fs::write(
        here.path().join("leavers.yaml"),
        format!("version: 1\nleavers:\n  - user: a@example.com{raw}\n    workspace: 1\n"),
    )
    .unwrap();
    std::fs::write(
        here.path().join("leavers.csv"),
        format!("user,workspace,archive_owner,{raw}\nx{raw}y,1,b@example.com,z\n"),
    )
    .unwrap();
    for file in ["leavers.yaml", "leavers.csv"] {
        for format in ["human", "github"] {
            let run = offboard_in(here.path(), &["validate", file, "--format", format]);
            assert_eq!(run.code, 2, "{}", run.transcript().escape_debug());
            let out = text(&run);
            for c in ['\x1b', '\x07', '\r', '\u{202e}', '\u{9b}'] {
                assert!(
                    !out.contains(c),
                    "{file} as {format}: raw {c:?} in\n{}",
                    out.escape_debug()
                );
            }
            if format == "human" {
                // The snippet shows the line, escaped.
                assert!(
                    out.contains("\\u{1b}]0;owned\\u{7}"),
                    "{file}: {}",
                    out.escape_debug()
                );
            }
        }
    }
}
