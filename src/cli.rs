//! The command line: clap types only. What the commands do lives in `commands`.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::color::ColorChoice;
use crate::report::diagnostics::DiagnosticFormat;

/// Offboard leavers in bulk on an ONLYOFFICE DocSpace portal.
#[derive(Debug, Parser)]
#[command(name = "offboard", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Largest manifest, `leavers_csv` or key file read, in MiB.
    #[arg(long, global = true, value_name = "MIB", default_value_t = crate::input::DEFAULT_MAX_MIB)]
    pub max_input_mib: u64,
    /// When to colour what is meant for people (never JSON or report files).
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests offline against the schema and across leavers.
    Validate(ValidateArgs),
    /// Show, read-only, what `apply` would do to each leaver.
    Plan(PlanArgs),
    /// Offboard the leavers: plan, confirm, run, report.
    Apply(ApplyArgs),
    /// Give the leavers of an apply run their access back: account, room owner and
    /// members, the folder's place; says what cannot come back.
    Revert(RevertArgs),
    /// Re-create report.csv and report.json of a run directory from its journal.
    Report(ReportArgs),
    /// Print a JSON Schema (the manifest's by default).
    Schema(SchemaArgs),
    /// Run a DocSpace-compatible portal on loopback, for rehearsals and tests.
    #[cfg(feature = "sim")]
    Sim(SimArgs),
    /// Offboard the example leavers of a simulated demo company: no set-up needed.
    #[cfg(feature = "sim")]
    Demo(DemoArgs),
    /// Print the completion script of a shell (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write one per command with --out-dir.
    Man(ManArgs),
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write offboard.1 and a page per command (offboard-plan.1, …) into DIR instead,
    /// e.g. ~/.local/share/man/man1.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// The manifest: YAML (or JSON) with `version: 1`, or CSV; or a plan saved by
    /// `offboard plan --out`, applied exactly (leavers whose portal state changed since
    /// are `drifted` and left alone).
    #[arg(value_name = "MANIFEST|PLAN")]
    pub manifest: PathBuf,
    /// Refuse a saved plan older than this many hours.
    #[arg(long, default_value_t = 24, value_name = "HOURS")]
    pub max_plan_age: u64,
    #[command(flatten)]
    pub access: PortalArgs,
    /// Also never offboard this account (email or user id); repeatable.
    #[arg(long, value_name = "USER")]
    pub protect: Vec<String>,
    /// Where the journal, reports, audit trails and exports go
    /// [default: offboard-runs/<manifest name>]. Re-running with the same directory
    /// resumes the run.
    #[arg(long, value_name = "DIR")]
    pub run_dir: Option<PathBuf>,
    /// Do not ask for confirmation (needed when not on a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Refuse manifests with more due leavers than this, unless --force.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub max_leavers: usize,
    /// Go beyond --max-leavers.
    #[arg(long)]
    pub force: bool,
    /// Only the leavers whose last run failed (in the same run directory).
    #[arg(long)]
    pub only_failed: bool,
    #[command(flatten)]
    pub pacing: PacingArgs,
}

/// Where the portal is and where the key comes from (`plan`, `apply`, `revert`).
#[derive(Debug, clap::Args)]
pub struct PortalArgs {
    /// The portal's address, e.g. https://portal.example.com.
    #[arg(long, env = "DOCSPACE_URL", value_name = "URL")]
    pub portal: Option<String>,
    /// A file holding the API key (default: the DOCSPACE_API_KEY variable).
    #[arg(long, value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,
}

/// How fast `apply` and `revert` go: the one pacer's limits.
#[derive(Debug, clap::Args)]
pub struct PacingArgs {
    /// Leavers worked on at once [default: the rate limit ÷ 30, at least --max-writes].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Requests per minute to the portal (DocSpace allows 1500); 0 for no limit.
    #[arg(
        long,
        env = "OFFBOARD_RATE_LIMIT_PER_MINUTE",
        default_value_t = 1500,
        value_name = "N"
    )]
    pub rate_limit_per_minute: u32,
    /// GET requests in flight at once (DocSpace allows 50).
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub max_reads: usize,
    /// Other requests in flight at once (DocSpace allows 15).
    #[arg(long, default_value_t = 15, value_name = "N")]
    pub max_writes: usize,
    /// Stop when the portal has answered nothing for this many seconds (no
    /// connection, timeouts, gateway errors); the journal keeps the place and the
    /// same command again resumes. 0: keep trying.
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub give_up_after: u64,
}

impl PacingArgs {
    /// Leavers at once: `--concurrency`, or what the rate limit keeps busy.
    pub fn concurrency(&self) -> usize {
        self.concurrency.unwrap_or_else(|| {
            crate::session::default_concurrency(self.rate_limit_per_minute, self.max_writes)
        })
    }

    /// The pacer's limits.
    pub fn pacer(&self) -> crate::executor::PacerConfig {
        crate::executor::PacerConfig {
            per_minute: self.rate_limit_per_minute,
            max_reads: self.max_reads,
            max_writes: self.max_writes,
            give_up_after: (self.give_up_after > 0)
                .then(|| std::time::Duration::from_secs(self.give_up_after)),
            ..crate::executor::PacerConfig::default()
        }
    }
}

/// `offboard revert RUN_DIR`.
#[derive(Debug, clap::Args)]
pub struct RevertArgs {
    /// The run directory of the `offboard apply` to revert (it holds journal.jsonl).
    #[arg(value_name = "RUN_DIR")]
    pub source: PathBuf,
    /// Only this leaver (as the manifest named them, or by email or user id);
    /// repeatable. Default: every leaver of the run.
    #[arg(long, value_name = "USER")]
    pub leaver: Vec<String>,
    #[command(flatten)]
    pub access: PortalArgs,
    /// Where the revert's journal and reports go [default: RUN_DIR/revert].
    /// Re-running with the same directory resumes the revert.
    #[arg(long, value_name = "DIR")]
    pub run_dir: Option<PathBuf>,
    /// Do not ask for confirmation (needed when not on a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Also restore what someone changed on the portal after the run (drifted
    /// items), overwriting their change.
    #[arg(long)]
    pub force: bool,
    /// Only the leavers whose last revert session failed (in the same run directory).
    #[arg(long)]
    pub only_failed: bool,
    #[command(flatten)]
    pub pacing: PacingArgs,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A run directory of `offboard apply`.
    #[arg(value_name = "RUN_DIR")]
    pub run_dir: PathBuf,
    /// How to print the summary (report.csv and report.json are written either way).
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
}

/// `offboard demo`: starts the simulator with the demo company, shows the plan for
/// manifests/example.yaml, applies it and says where the reports are.
#[cfg(feature = "sim")]
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Where the run directory goes [default: offboard-runs/demo-<time>].
    #[arg(long, value_name = "DIR")]
    pub run_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Manifest files: YAML (or JSON) with `version: 1`, or CSV with a header row.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// How to print the problems found.
    #[arg(long, value_enum, default_value_t = DiagnosticFormat::Human)]
    pub format: DiagnosticFormat,
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The manifest: YAML (or JSON) with `version: 1`, or CSV.
    #[arg(value_name = "MANIFEST")]
    pub manifest: PathBuf,
    #[command(flatten)]
    pub access: PortalArgs,
    /// Also never offboard this account (email or user id); repeatable.
    #[arg(long, value_name = "USER")]
    pub protect: Vec<String>,
    /// How to print the plan.
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub format: PlanFormat,
    /// Exit 0 when there is nothing to do, 2 when changes are pending, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Also save the plan to PLAN (JSON, `schemas/saved-plan.schema.json`), for
    /// `offboard apply PLAN` to apply exactly.
    #[arg(long, value_name = "PLAN")]
    pub out: Option<PathBuf>,
    /// Requests per minute to the portal (DocSpace allows 1500); 0 for no limit.
    #[arg(
        long,
        env = "OFFBOARD_RATE_LIMIT_PER_MINUTE",
        default_value_t = 1500,
        value_name = "N"
    )]
    pub rate_limit_per_minute: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// A table for people.
    Human,
    /// JSON described by `schemas/plan.schema.json`.
    Json,
    /// A compact Markdown summary, for a pull request comment or `$GITHUB_STEP_SUMMARY`.
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// The summary, as `apply` prints it.
    Human,
    /// A compact Markdown summary, for a pull request comment or `$GITHUB_STEP_SUMMARY`.
    Markdown,
}

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Which schema to print.
    #[arg(value_enum, default_value_t = SchemaName::Manifest)]
    pub name: SchemaName,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaName {
    /// The leaver manifest (`schemas/manifest.schema.json`).
    Manifest,
    /// `offboard plan --format json` (`schemas/plan.schema.json`).
    Plan,
    /// `report.json` of `offboard apply` (`schemas/report.schema.json`).
    Report,
    /// A plan saved by `offboard plan --out` (`schemas/saved-plan.schema.json`).
    SavedPlan,
}

/// `offboard sim`: the simulator's settings. Prints `listening on URL` and
/// `owner api key: KEY` as its first two lines, then serves until Ctrl-C.
#[cfg(feature = "sim")]
#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// Portal fixture (YAML); default: the built-in demo company (crates/docspace-sim/fixtures/demo-portal.yaml).
    #[arg(long, value_name = "FILE", conflicts_with = "synthetic")]
    pub fixture: Option<PathBuf>,
    /// Build a synthetic portal with N leavers instead of a fixture.
    #[arg(long, value_name = "N")]
    pub synthetic: Option<usize>,
    /// With --synthetic: write the manifest that offboards its leavers to FILE.
    #[arg(long, value_name = "FILE", requires = "synthetic")]
    pub write_manifest: Option<PathBuf>,
    /// Seed for generated ids, keys and faults.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Requests per sliding minute per user; 0 turns the whole limiter off.
    #[arg(long, default_value_t = 1500, value_name = "N")]
    pub rate_limit_per_minute: u32,
    /// Concurrent GETs per user.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub max_concurrent_reads: u32,
    /// Concurrent non-GET requests per user.
    #[arg(long, default_value_t = 15, value_name = "N")]
    pub max_concurrent_writes: u32,
    /// POST + PUT requests per user per day.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub daily_write_limit: u32,
    /// How long a reassign or file operation takes, e.g. `2s` or `250ms`.
    #[arg(long, default_value = "2s", value_name = "DURATION", value_parser = parse_duration)]
    pub job_duration: std::time::Duration,
    /// Faults, e.g. `429=0.05,500=0.03,502=0.01,503=0.01,drop=0.01,latency=5ms..40ms,job-fail=0.02,job-stuck=0.01,job-silent=0.01`.
    #[arg(long, value_name = "SPEC", value_parser = parse_faults)]
    pub faults: Option<docspace_sim::Faults>,
}

#[cfg(feature = "sim")]
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    docspace_sim::parse_duration(text)
}

#[cfg(feature = "sim")]
fn parse_faults(text: &str) -> Result<docspace_sim::Faults, String> {
    docspace_sim::Faults::parse(text)
}
