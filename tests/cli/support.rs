//! A small DSL for running `offboard` and describing what it did.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The root of the repository.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The manifest fixtures; tests run in this folder so paths in output stay short.
pub fn fixtures() -> PathBuf {
    repo().join("tests/fixtures/manifests")
}

/// What one run of the binary did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Exit code, stdout and stderr in one text, for snapshots.
    pub fn transcript(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    fn of(output: std::process::Output) -> Self {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }
}

/// `offboard SUBCOMMAND ARGS` in the repository root against the portal at `url` with
/// `key`: unpaced, without colour.
#[cfg(feature = "sim")]
pub fn against(url: &str, key: &str, subcommand: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_offboard"));
    command
        .arg(subcommand)
        .args(args)
        .current_dir(repo())
        .env("DOCSPACE_URL", url)
        .env("DOCSPACE_API_KEY", key)
        .env("OFFBOARD_RATE_LIMIT_PER_MINUTE", "0")
        .env("NO_COLOR", "1");
    command
}

/// Runs `command` to its end, off the async runtime (the simulator serves on it).
#[cfg(feature = "sim")]
pub async fn finish(mut command: Command) -> Run {
    tokio::task::spawn_blocking(move || Run::of(command.output().expect("offboard runs")))
        .await
        .expect("the run ends")
}

/// Runs `offboard ARGS` in `dir`, with no colour and no terminal.
pub fn offboard_in(dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_offboard"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("DOCSPACE_API_KEY")
        .output()
        .expect("the offboard binary runs");
    Run::of(output)
}

/// Runs `offboard ARGS` in the fixtures folder.
pub fn offboard(args: &[&str]) -> Run {
    offboard_in(&fixtures(), args)
}

/// Fails unless `document` is valid against `schemas/NAME.schema.json`.
pub fn assert_matches_schema(document: &serde_json::Value, name: &str) {
    let path = repo().join(format!("schemas/{name}.schema.json"));
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "the {name} breaks its schema: {errors:?}"
    );
}

/// A plain HTTP client for a test's own requests to the simulator (its `/__sim`
/// routes, or what `offboard` is not asked to do), with the TLS provider `offboard`
/// installs.
pub fn http() -> reqwest::Client {
    offboard::docspace::install_crypto_provider();
    reqwest::Client::new()
}
