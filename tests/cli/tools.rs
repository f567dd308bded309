//! What surrounds the commands: shell completions, the man pages, and `--color` with
//! the `NO_COLOR`, `CLICOLOR_FORCE` and `TERM=dumb` conventions (the plan's table
//! and the diagnostics' snippets, never JSON).

use crate::support::offboard;

const COMMANDS: [&str; 7] = [
    "validate",
    "schema",
    "plan",
    "apply",
    "report",
    "completions",
    "man",
];

#[test]
fn completions_name_every_command_in_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = offboard(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        for word in COMMANDS.iter().chain(&["color", "max-input-mib"]) {
            assert!(run.stdout.contains(word), "{shell} lacks {word}");
        }
    }
    assert!(
        offboard(&["completions", "bash"])
            .stdout
            .contains("_offboard()")
    );
    assert_eq!(offboard(&["completions", "tcsh"]).code, 2);
}

#[test]
fn the_man_page_is_roff_and_lists_the_commands() {
    let run = offboard(&["man"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let header = run
        .stdout
        .lines()
        .find(|l| !l.starts_with(".ie") && !l.starts_with(".el"));
    assert!(
        header.is_some_and(|l| l.starts_with(".TH offboard 1 ")),
        "{}",
        run.stdout
    );
    for command in COMMANDS {
        assert!(
            run.stdout.contains(&format!("offboard\\-{command}(1)")),
            "{command}"
        );
    }
}

#[test]
fn man_out_dir_writes_a_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("share/man/man1");
    let run = offboard(&["man", "--out-dir", pages.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    for command in COMMANDS {
        let page = std::fs::read_to_string(pages.join(format!("offboard-{command}.1"))).unwrap();
        assert!(
            page.contains(&format!(".TH offboard-{command} 1 ")),
            "{page}"
        );
    }
    let plan = std::fs::read_to_string(pages.join("offboard-plan.1")).unwrap();
    assert!(
        plan.contains("DOCSPACE_URL"),
        "the variables flags read: {plan}"
    );
    assert!(pages.join("offboard.1").is_file());
    assert!(!pages.join("offboard-help.1").exists());
}

/// An SGR escape sequence: what colour looks like in a stream.
const ESC: char = '\x1b';

#[test]
fn validate_colours_its_snippets_only_when_asked() {
    let invalid = "yaml/unknown-fields.yaml";
    // The helper sets NO_COLOR=1: the flag wins over it.
    let always = offboard(&["validate", invalid, "--color", "always"]);
    assert_eq!(always.code, 2, "{}", always.stderr);
    assert!(always.stderr.contains(ESC), "{}", always.stderr);
    let plain = offboard(&["validate", invalid]);
    assert!(!plain.stderr.contains(ESC), "{}", plain.stderr);
    let json = offboard(&["validate", invalid, "--format", "json", "--color", "always"]);
    assert!(!json.stdout.contains(ESC) && !json.stderr.contains(ESC));
}

#[cfg(feature = "sim")]
mod plan {
    use std::process::{Command, Stdio};

    use super::ESC;
    use crate::plan::{OWNER, command, portal};
    use crate::support::{Run, finish};

    const ALL_OUTCOMES: [&str; 3] = [
        "tests/fixtures/plan/all-outcomes.yaml",
        "--protect",
        "plain@example.com",
    ];

    /// `offboard plan` of every outcome with `extra` flags and only the colour
    /// variables in `vars` (none inherited from the test's own environment).
    fn with(extra: &[&str], vars: &[(&str, &str)], sim: &docspace_sim::SimHandle) -> Command {
        let args: Vec<&str> = ALL_OUTCOMES.iter().chain(extra).copied().collect();
        let mut command = command(sim, OWNER, &args);
        for name in ["NO_COLOR", "CLICOLOR_FORCE", "TERM"] {
            command.env_remove(name);
        }
        command.envs(vars.iter().copied());
        command
    }

    async fn run(sim: &docspace_sim::SimHandle, extra: &[&str], vars: &[(&str, &str)]) -> Run {
        let run = finish(with(extra, vars, sim)).await;
        assert_eq!(run.code, 0, "{}", run.transcript());
        run
    }

    /// The text without its SGR sequences.
    fn strip(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find(ESC) {
            out.push_str(&rest[..at]);
            let end = rest[at..].find('m').expect("an SGR sequence ends in m");
            rest = &rest[at + end + 1..];
        }
        out + rest
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn always_colours_each_outcome_and_keeps_the_columns() {
        let sim = portal().await;
        let coloured = run(&sim, &["--color", "always"], &[("NO_COLOR", "1")]).await;
        for painted in [
            "\x1b[33mwill change\x1b[0m",
            "\x1b[32munchanged\x1b[0m",
            "\x1b[36mdeferred\x1b[0m",
            "\x1b[36mprotected\x1b[0m",
        ] {
            assert!(coloured.stdout.contains(painted), "{}", coloured.stdout);
        }
        let never = run(&sim, &["--color", "never"], &[("CLICOLOR_FORCE", "1")]).await;
        assert!(!never.stdout.contains(ESC), "{}", never.stdout);
        assert_eq!(strip(&coloured.stdout), never.stdout);
        assert!(
            never
                .stdout
                .contains("LEAVER              WORKSPACE   OUTCOME")
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn auto_follows_no_color_and_clicolor_force() {
        let sim = portal().await;
        let forced = run(&sim, &[], &[("CLICOLOR_FORCE", "1")]).await;
        assert!(
            forced.stdout.contains("\x1b[33mwill change"),
            "{}",
            forced.stdout
        );
        let no_color = run(&sim, &[], &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]).await;
        assert!(!no_color.stdout.contains(ESC), "{}", no_color.stdout);
        let pipe = run(&sim, &[], &[]).await;
        assert!(
            !pipe.stdout.contains(ESC),
            "not a terminal: {}",
            pipe.stdout
        );
        let json = run(&sim, &["--format", "json", "--color", "always"], &[]).await;
        assert!(!json.stdout.contains(ESC), "{}", json.stdout);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_terminal_has_colour_unless_term_is_dumb() {
        let sim = portal().await;
        let xterm = on_terminal(with(&[], &[("TERM", "xterm")], &sim)).await;
        assert!(xterm.contains("\x1b[33mwill change"), "{xterm}");
        let dumb = on_terminal(with(&[], &[("TERM", "dumb")], &sim)).await;
        assert!(dumb.contains("will change"), "{dumb}");
        assert!(!dumb.contains(ESC), "{dumb}");
    }

    /// Runs `command` with its stdout on a pseudo-terminal; what it wrote there.
    async fn on_terminal(mut command: Command) -> String {
        use std::io::Read;
        use std::os::fd::{FromRawFd, OwnedFd};

        let (mut primary, mut secondary) = (-1, -1);
        // SAFETY: openpty writes two descriptors we then own; no name, default modes.
        let made = unsafe {
            libc::openpty(
                &mut primary,
                &mut secondary,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(made, 0, "openpty");
        // SAFETY: both descriptors are open and owned by nobody else.
        let (primary, secondary) = unsafe {
            (
                OwnedFd::from_raw_fd(primary),
                OwnedFd::from_raw_fd(secondary),
            )
        };
        command
            .stdout(secondary)
            .stdin(Stdio::null())
            .stderr(Stdio::null());
        let mut child = command.spawn().expect("offboard runs");
        // The command's copy of the terminal is the child's now: once it exits, reading
        // ends (EIO on Linux).
        drop(command);
        tokio::task::spawn_blocking(move || {
            let mut primary = std::fs::File::from(primary);
            let mut out = Vec::new();
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = primary.read(&mut chunk) {
                out.extend_from_slice(&chunk[..n]);
            }
            assert_eq!(child.wait().unwrap().code(), Some(0));
            String::from_utf8(out).expect("UTF-8")
        })
        .await
        .expect("the run ends")
    }
}
