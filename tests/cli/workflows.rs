//! The CI examples in `examples/ci/` cannot rot: every `offboard` command line in them
//! is parsed by the real command line (`Cli::try_parse_from`), the workflows keep the
//! parts that make them safe (one apply at a time, a schedule, the key from the secret
//! store), and the README's own CI example passes on this repository.

use std::path::{Path, PathBuf};

use clap::Parser;
use serde_json::Value;

use crate::support::repo;

/// Every workflow file under `examples/ci/`.
fn workflows() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["examples/ci/github", "examples/ci/gitlab"] {
        for entry in std::fs::read_dir(repo().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The shell scripts of a workflow: GitHub's `run`, GitLab's `script`,
/// `before_script` and `after_script`, wherever they are.
fn scripts(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("run", Value::String(script)) => out.push(script.clone()),
                    ("script" | "before_script" | "after_script", Value::Array(lines)) => {
                        out.extend(lines.iter().filter_map(Value::as_str).map(str::to_owned));
                    }
                    _ => scripts(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| scripts(v, out)),
        _ => {}
    }
}

/// Splits a shell line into words: quotes kept together, `${{ … }}` and `$VAR`
/// standing for a value, and the command cut at `|`, `||`, `&&`, `;`, `>`, `>>`
/// and parentheses.
fn commands(line: &str) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = line.chars().peekable();
    let mut quote: Option<char> = None;
    let end_word = |word: &mut String, words: &mut Vec<String>| {
        if !word.is_empty() {
            words.push(std::mem::take(word));
        }
    };
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            // Single quotes keep `$` as it is; double quotes expand it.
            (Some('\''), c) => word.push(c),
            (Some(_), c) if c != '$' => word.push(c),
            (None, '"' | '\'') => quote = Some(c),
            (_, '$') if chars.peek() == Some(&'{') => {
                // `${{ expression }}` or `${VAR}`: a value.
                let mut depth = 0;
                for c in chars.by_ref() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                word.push('X');
            }
            (_, '$') => {
                while chars
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    chars.next();
                }
                word.push('X');
            }
            (Some(_), c) => word.push(c),
            (None, ' ' | '\t') => end_word(&mut word, &mut words),
            (None, '|' | '&' | ';' | '>' | '(' | ')') => {
                end_word(&mut word, &mut words);
                if !words.is_empty() {
                    commands.push(std::mem::take(&mut words));
                }
            }
            (None, c) => word.push(c),
        }
    }
    end_word(&mut word, &mut words);
    if !words.is_empty() {
        commands.push(words);
    }
    commands
}

/// The `offboard` command lines of a workflow file.
fn offboard_commands(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let workflow: Value = serde_saphyr::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()));
    let mut all = Vec::new();
    scripts(&workflow, &mut all);
    all.iter()
        .flat_map(|script| script.lines().flat_map(commands).collect::<Vec<_>>())
        .filter(|words| words.first().is_some_and(|w| w == "offboard"))
        .collect()
}

#[test]
fn every_offboard_command_in_the_ci_examples_is_accepted_by_the_cli() {
    let files = workflows();
    assert!(files.len() >= 4, "{files:?}");
    let mut seen = Vec::new();
    for file in &files {
        let commands = offboard_commands(file);
        assert!(!commands.is_empty(), "{} runs no offboard", file.display());
        for words in commands {
            if let Err(err) = offboard::cli::Cli::try_parse_from(&words) {
                panic!(
                    "{}: `{}` is refused by the CLI:\n{err}",
                    file.display(),
                    words.join(" ")
                );
            }
            seen.push(words[..words.len().min(2)].join(" "));
        }
    }
    for needed in [
        "offboard validate",
        "offboard plan",
        "offboard apply",
        "offboard report",
    ] {
        assert!(
            seen.iter().any(|s| s == needed),
            "no `{needed}` in {seen:?}"
        );
    }
}

#[test]
fn the_ci_examples_keep_applies_apart_run_on_a_schedule_and_take_the_key_from_secrets() {
    let read = |name: &str| std::fs::read_to_string(repo().join("examples/ci").join(name)).unwrap();
    let apply = read("github/offboard-apply.yml");
    let scheduled = read("github/offboard-scheduled.yml");
    for workflow in [&apply, &scheduled] {
        assert!(workflow.contains("group: offboard-apply"), "{workflow}");
        assert!(workflow.contains("cancel-in-progress: false"), "{workflow}");
        assert!(
            workflow.contains("DOCSPACE_API_KEY: ${{ secrets.DOCSPACE_API_KEY }}"),
            "{workflow}"
        );
    }
    assert!(
        apply.contains("offboard apply plan.json"),
        "the merge applies the saved plan"
    );
    assert!(scheduled.contains("cron:"), "{scheduled}");
    let gitlab = read("gitlab/.gitlab-ci.yml");
    assert_eq!(
        gitlab.matches("\n  resource_group: offboard\n").count(),
        2,
        "{gitlab}"
    );
    assert!(
        gitlab.contains("$CI_PIPELINE_SOURCE == \"schedule\""),
        "{gitlab}"
    );
    // No key in any example, only the name of the secret that holds it.
    for file in workflows() {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains("sk-"), "{}", file.display());
    }
}

#[test]
fn the_shell_words_of_a_workflow_line_are_read_as_the_shell_reads_them() {
    assert_eq!(
        commands(
            r#"offboard plan "m.yaml" --out plan.json --format markdown >> "$GITHUB_STEP_SUMMARY""#
        ),
        vec![
            vec![
                "offboard",
                "plan",
                "m.yaml",
                "--out",
                "plan.json",
                "--format",
                "markdown"
            ],
            vec!["X"]
        ]
    );
    assert_eq!(
        commands("offboard apply --run-dir offboard-runs/pr-${{ github.event.number }} || exit 1"),
        vec![
            vec!["offboard", "apply", "--run-dir", "offboard-runs/pr-X"],
            vec!["exit", "1"]
        ]
    );
}

/// The README's CI example (`- run: offboard validate …` in its yaml block) passes on
/// this repository: `manifests/` holds manifests only.
#[test]
fn the_readme_ci_example_passes_on_this_repository() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let line = readme
        .lines()
        .find_map(|l| l.trim().strip_prefix("- run: offboard validate"))
        .expect("the README shows a CI step that validates");
    let mut args = vec!["validate".to_owned()];
    for word in line.split_whitespace() {
        match word.strip_suffix("*.yaml") {
            // The shell's glob, as the CI runner expands it.
            Some(dir) => {
                let mut matched: Vec<String> = std::fs::read_dir(repo().join(dir))
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
                    .map(|p| p.strip_prefix(repo()).unwrap().display().to_string())
                    .collect();
                matched.sort();
                assert!(!matched.is_empty());
                args.extend(matched);
            }
            None => args.push(word.to_owned()),
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = crate::support::offboard_in(&repo(), &args);
    assert_eq!(run.code, 0, "{args:?}\n{}{}", run.stdout, run.stderr);
}
