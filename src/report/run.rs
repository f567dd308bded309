//! The run report, `report.json` and `report.csv`: a pure function of the journal,
//! so `offboard report RUN_DIR` re-creates it after a crash and it never says more
//! than the journal can prove.
//!
//! `report.json` keeps names and messages exact; `report.csv` and the summary are
//! read by people (in a terminal too), so their text has its control characters
//! escaped (`crate::text`), and each CSV cell is one line.

use std::collections::HashMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::journal::{Record, Replay, SESSION_SO_FAR, SessionCounters, is_final};
use crate::manifest::Step;
use crate::run_dir::write_atomically;

pub use crate::run_dir::{REPORT_CSV, REPORT_JSON};

/// `report.json` (`schemas/report.schema.json`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RunReport {
    /// Format of this report.
    pub version: u32,
    pub run: RunSummary,
    pub leavers: Vec<LeaverReport>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RunSummary {
    pub id: String,
    /// The manifest as given to `apply`.
    pub manifest: String,
    pub manifest_sha256: String,
    pub portal: String,
    pub tool_version: String,
    pub started: String,
    /// When the last session ended (absent when it was killed).
    pub ended: Option<String>,
    /// `finished`, `interrupted` (Ctrl-C) or `incomplete` (the last session was
    /// killed: its journal ends without a last word).
    pub state: String,
    /// `offboard revert`: the id of the `apply` run it reverts (`manifest` names that
    /// run's directory); absent for an `apply` run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reverts: Option<String>,
    /// Sessions that worked on this run directory.
    pub sessions: u32,
    pub totals: Totals,
    /// HTTP requests sent, retries included, as counted by sessions that ended.
    pub requests: u64,
    /// POST and PUT requests among them.
    pub writes: u64,
    pub retries: u64,
    /// 429 answers.
    pub rate_limited: u64,
}

/// Leavers by outcome.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Totals {
    pub leavers: usize,
    pub done: usize,
    pub unchanged: usize,
    pub failed: usize,
    pub deferred: usize,
    pub protected: usize,
    pub invalid: usize,
    pub interrupted: usize,
    /// `apply PLAN`: leavers whose portal state changed since the plan was saved.
    pub drifted: usize,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LeaverReport {
    pub leaver: String,
    pub user_id: Option<String>,
    pub display_name: Option<String>,
    pub workspace: u64,
    /// `room`, `folder` or `unknown`.
    pub workspace_kind: String,
    /// `done` (every requested step done or unchanged, at least one of them
    /// changed the portal),
    /// `unchanged`, `failed`, `deferred`, `protected`, `invalid` or `interrupted`
    /// (some step has not run yet).
    pub outcome: String,
    /// Why the leaver is deferred, protected or invalid.
    pub reason: Option<String>,
    pub steps: Vec<StepReport>,
    pub archive_location: Option<String>,
    pub archive_link: Option<String>,
    pub audit_events: Option<u64>,
    pub login_events: Option<u64>,
    pub export_sha256: Option<String>,
    /// The first failure.
    pub error: Option<String>,
    /// HTTP requests for this leaver, retries included.
    pub attempts: u64,
    /// Calls for this leaver (a call and its retries count once).
    pub requests: u64,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub ticket: Option<String>,
    /// Things worth a look that did not fail the leaver.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StepReport {
    pub step: String,
    /// `done`, `unchanged`, `skipped`, `failed` or `not_run`.
    pub status: String,
    /// What the step recorded: counts, paths, the error.
    pub detail: Value,
}

/// `schemas/report.schema.json`, generated from [`RunReport`], keys sorted.
pub fn report_schema_text() -> String {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let schema = serde_json::to_value(generator.into_root_schema_for::<RunReport>())
        .expect("a schema is JSON");
    crate::manifest::sorted_json_text(&schema)
}

#[derive(Default)]
struct StepState {
    status: Option<String>,
    detail: Value,
}

#[derive(Default)]
struct LeaverState {
    record: Option<crate::journal::LeaverRecord>,
    steps: HashMap<String, StepState>,
    first: Option<String>,
    last: Option<String>,
    attempts: u64,
    requests: u64,
}

/// Builds the report from a journal's records.
pub fn build(replay: &Replay) -> Option<RunReport> {
    let header = replay.header()?.clone();
    let mut order: Vec<String> = Vec::new();
    let mut leavers: HashMap<String, LeaverState> = HashMap::new();
    let mut sessions = 0;
    let mut counters = SessionCounters::default();
    let mut state = "incomplete";
    let mut ended = None;
    // A session killed before its last record: its counters as its last step's end
    // saw them.
    let mut unclosed: Option<SessionCounters> = None;
    let add = |counters: &mut SessionCounters, c: &SessionCounters| {
        counters.requests += c.requests;
        counters.writes += c.writes;
        counters.retries += c.retries;
        counters.rate_limited += c.rate_limited;
    };
    for record in &replay.records {
        match record {
            Record::Run(_) | Record::Resumed { .. } => {
                if let Some(c) = unclosed.take() {
                    add(&mut counters, &c);
                }
                sessions += 1;
                state = "incomplete";
                ended = None;
            }
            Record::Leaver(l) => {
                let entry = leavers.entry(l.leaver.clone()).or_insert_with(|| {
                    order.push(l.leaver.clone());
                    LeaverState::default()
                });
                entry.record = Some(l.clone());
            }
            Record::Intent { leaver, at, .. } => {
                if let Some(entry) = leavers.get_mut(leaver) {
                    entry.first.get_or_insert_with(|| at.clone());
                }
            }
            Record::Outcome {
                leaver,
                step,
                status,
                detail,
                at,
                ..
            } if is_final(status) => {
                let mut detail = detail.clone();
                if let Some(so_far) = detail
                    .as_object_mut()
                    .and_then(|d| d.remove(SESSION_SO_FAR))
                    .and_then(|v| serde_json::from_value::<SessionCounters>(v).ok())
                {
                    unclosed = Some(so_far);
                }
                if let Some(entry) = leavers.get_mut(leaver) {
                    entry.first.get_or_insert_with(|| at.clone());
                    entry.last = Some(at.clone());
                    entry.attempts += detail["attempts"].as_u64().unwrap_or(0);
                    entry.requests += detail["requests"].as_u64().unwrap_or(0);
                    entry.steps.insert(
                        step.clone(),
                        StepState {
                            status: Some(status.clone()),
                            detail: detail.clone(),
                        },
                    );
                }
            }
            // What the run replaced: `offboard revert` reads it, the report does not.
            Record::Outcome { .. } | Record::Prior(_) => {}
            Record::Interrupted {
                at, counters: c, ..
            }
            | Record::Finished { at, counters: c } => {
                state = if matches!(record, Record::Finished { .. }) {
                    "finished"
                } else {
                    "interrupted"
                };
                ended = Some(at.clone());
                unclosed = None;
                add(&mut counters, c);
            }
        }
    }
    if let Some(c) = unclosed {
        add(&mut counters, &c);
    }
    let mut totals = Totals::default();
    let leavers: Vec<LeaverReport> = order
        .iter()
        .filter_map(|label| {
            let state = leavers.remove(label)?;
            let report = leaver_report(state)?;
            totals.leavers += 1;
            match report.outcome.as_str() {
                "done" => totals.done += 1,
                "unchanged" => totals.unchanged += 1,
                "failed" => totals.failed += 1,
                "deferred" => totals.deferred += 1,
                "protected" => totals.protected += 1,
                "invalid" => totals.invalid += 1,
                "drifted" => totals.drifted += 1,
                _ => totals.interrupted += 1,
            }
            Some(report)
        })
        .collect();
    Some(RunReport {
        version: 1,
        run: RunSummary {
            id: header.run_id,
            manifest: header.manifest,
            manifest_sha256: header.manifest_sha256,
            portal: header.portal,
            tool_version: header.tool_version,
            started: header.started,
            reverts: header.reverts,
            ended,
            state: state.to_owned(),
            sessions,
            totals,
            requests: counters.requests,
            writes: counters.writes,
            retries: counters.retries,
            rate_limited: counters.rate_limited,
        },
        leavers,
    })
}

fn leaver_report(mut state: LeaverState) -> Option<LeaverReport> {
    let record = state.record.take()?;
    let class = record.class.as_str();
    let mut steps = Vec::new();
    let mut error = None;
    let mut warnings = Vec::new();
    for step in &record.steps {
        let (status, detail) = match state.steps.remove(step) {
            Some(StepState {
                status: Some(status),
                detail,
            }) => (status, detail),
            // A drifted leaver was due by the plan: their steps are not run.
            _ if class != "due" && class != "drifted" => ("skipped".to_owned(), Value::Null),
            _ => ("not_run".to_owned(), Value::Null),
        };
        if status == "failed" && error.is_none() {
            error = detail["error"].as_str().map(|e| format!("{step}: {e}"));
        }
        if let Some(list) = detail["warnings"].as_array() {
            warnings.extend(list.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        steps.push(StepReport {
            step: step.clone(),
            status,
            detail,
        });
    }
    let find = |name: &str| steps.iter().find(|s| s.step == name);
    let outcome = match class {
        "deferred" | "protected" | "invalid" | "drifted" => class.to_owned(),
        _ if steps.iter().any(|s| s.status == "failed") => "failed".into(),
        _ if steps.iter().any(|s| s.status == "not_run") => "interrupted".into(),
        // Collecting the audit trail and exporting change nothing on the portal.
        _ if steps.iter().any(|s| {
            s.status == "done" && s.step != Step::Audit.as_str() && s.step != Step::Export.as_str()
        }) =>
        {
            "done".into()
        }
        _ => "unchanged".into(),
    };
    let archive = find("archive").filter(|s| matches!(s.status.as_str(), "done" | "unchanged"));
    let audit = find("audit").map(|s| &s.detail);
    let duration_ms = match (&state.first, &state.last) {
        (Some(a), Some(b)) => a
            .parse::<jiff::Timestamp>()
            .ok()
            .zip(b.parse::<jiff::Timestamp>().ok())
            .map(|(a, b)| b.duration_since(a).as_millis() as i64),
        _ => None,
    };
    Some(LeaverReport {
        leaver: record.leaver,
        user_id: record.user_id,
        display_name: record.display_name,
        workspace: record.workspace,
        workspace_kind: record.workspace_kind,
        outcome,
        reason: record.reason,
        archive_location: archive.and_then(|s| s.detail["location"].as_str().map(str::to_owned)),
        archive_link: archive.and_then(|s| s.detail["link"].as_str().map(str::to_owned)),
        audit_events: audit.and_then(|d| d["audit_events"].as_u64()),
        login_events: audit.and_then(|d| d["login_events"].as_u64()),
        export_sha256: find("export").and_then(|s| s.detail["sha256"].as_str().map(str::to_owned)),
        error,
        attempts: state.attempts,
        requests: state.requests,
        started_at: state.first,
        finished_at: state.last,
        duration_ms,
        ticket: record.ticket,
        warnings,
        steps,
    })
}

/// The summary `apply` and `report` print: totals, costs, failures, where the
/// reports are.
pub fn summary(report: &RunReport, run_dir: &Path) -> String {
    use std::fmt::Write as _;
    let t = &report.run.totals;
    let mut out = String::from("Summary\n");
    let _ = writeln!(
        out,
        "  leavers {}: done {}, unchanged {}, failed {}, deferred {}, protected {}, invalid {}, interrupted {}",
        t.leavers, t.done, t.unchanged, t.failed, t.deferred, t.protected, t.invalid, t.interrupted
    );
    if t.drifted > 0 {
        let _ = writeln!(
            out,
            "  drifted {} (the portal changed since the plan was saved; nothing done for them)",
            t.drifted
        );
        for leaver in report.leavers.iter().filter(|l| l.outcome == "drifted") {
            let _ = writeln!(
                out,
                "  drifted: {}: {}",
                leaver.leaver,
                leaver.reason.as_deref().unwrap_or_default()
            );
        }
    }
    let _ = writeln!(
        out,
        "  requests {} (writes {}), retries {}, rate-limited {}",
        report.run.requests, report.run.writes, report.run.retries, report.run.rate_limited
    );
    for leaver in report.leavers.iter().filter(|l| l.error.is_some()) {
        let _ = writeln!(
            out,
            "  failed: {}: {}",
            leaver.leaver,
            leaver.error.as_deref().unwrap_or_default()
        );
    }
    for leaver in report.leavers.iter().filter(|l| l.outcome == "invalid") {
        let _ = writeln!(
            out,
            "  invalid: {}: {}",
            leaver.leaver,
            leaver.reason.as_deref().unwrap_or_default()
        );
    }
    if t.failed > 0 {
        let _ = writeln!(
            out,
            "  next: fix the causes, then run the same {} with --only-failed to retry just those leavers",
            if report.run.reverts.is_some() {
                "revert"
            } else {
                "apply"
            }
        );
    }
    let _ = writeln!(
        out,
        "  reports: {} and {}",
        run_dir.join(REPORT_CSV).display(),
        run_dir.join(REPORT_JSON).display()
    );
    crate::text::visible(&out).into_owned()
}

/// `report.json`.
pub fn json(report: &RunReport) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("reports serialize");
    text.push('\n');
    text
}

/// The CSV columns, in order (stable: scripts read them by name or position).
pub const CSV_COLUMNS: [&str; 28] = [
    "leaver",
    "user_id",
    "display_name",
    "workspace",
    "workspace_kind",
    "outcome",
    "disable",
    "revoke_keys",
    "reassign",
    "export",
    "archive",
    "audit",
    "archive_location",
    "archive_link",
    "audit_events",
    "login_events",
    "export_sha256",
    "error",
    "attempts",
    "requests",
    "started_at",
    "finished_at",
    "duration_ms",
    "ticket",
    "reason",
    "warnings",
    "run_id",
    "manifest_sha256",
];

/// A cell as `report.csv` holds it: one line, control characters escaped, and a
/// cell a spreadsheet would run as a formula starting with a quote instead.
pub fn neutralise(cell: &str) -> String {
    // A leading tab or carriage return (which spreadsheets also run) is escaped here.
    let cell = crate::text::one_line(cell);
    if cell.starts_with(['=', '+', '-', '@']) {
        format!("'{cell}")
    } else {
        cell.into_owned()
    }
}

/// `report.csv`: one row per leaver.
pub fn csv(report: &RunReport) -> String {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    writer.write_record(CSV_COLUMNS).expect("writing to memory");
    for l in &report.leavers {
        let step = |name: &str| {
            l.steps
                .iter()
                .find(|s| s.step == name)
                .map_or(String::new(), |s| s.status.clone())
        };
        let text = |v: &Option<String>| neutralise(v.as_deref().unwrap_or_default());
        let number = |v: Option<u64>| v.map_or(String::new(), |n| n.to_string());
        let row = [
            neutralise(&l.leaver),
            text(&l.user_id),
            text(&l.display_name),
            l.workspace.to_string(),
            l.workspace_kind.clone(),
            l.outcome.clone(),
            step("disable"),
            step("revoke_keys"),
            step("reassign"),
            step("export"),
            step("archive"),
            step("audit"),
            text(&l.archive_location),
            text(&l.archive_link),
            number(l.audit_events),
            number(l.login_events),
            text(&l.export_sha256),
            text(&l.error),
            l.attempts.to_string(),
            l.requests.to_string(),
            text(&l.started_at),
            text(&l.finished_at),
            l.duration_ms.map_or(String::new(), |d| d.to_string()),
            text(&l.ticket),
            text(&l.reason),
            neutralise(&l.warnings.join("; ")),
            report.run.id.clone(),
            report.run.manifest_sha256.clone(),
        ];
        writer.write_record(&row).expect("writing to memory");
    }
    String::from_utf8(writer.into_inner().expect("writing to memory")).expect("CSV of UTF-8")
}

/// Writes both reports into the run directory, each atomically.
pub fn write(dir: &Path, report: &RunReport) -> std::io::Result<()> {
    write_atomically(&dir.join(REPORT_JSON), json(report).as_bytes())?;
    write_atomically(&dir.join(REPORT_CSV), csv(report).as_bytes())
}

/// Builds the reports from the journal and writes them into the run directory.
pub fn write_reports(run_dir: &Path) -> Result<RunReport, String> {
    let replay = crate::journal::read_only(run_dir).map_err(|e| match e.hint() {
        Some(hint) => format!("{e}\nhint: {hint}"),
        None => e.to_string(),
    })?;
    let report =
        build(&replay).ok_or_else(|| format!("{} has no run header", run_dir.display()))?;
    write(run_dir, &report)
        .map_err(|e| format!("cannot write the reports in {}: {e}", run_dir.display()))?;
    Ok(report)
}

/// The summary block, on stdout.
pub fn print_summary(report: &RunReport, run_dir: &Path) {
    let _ = std::io::Write::write_all(
        &mut std::io::stdout().lock(),
        summary(report, run_dir).as_bytes(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("+1"), "'+1");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("ann@example.com"), "ann@example.com");
        assert_eq!(neutralise("\t=1+1"), "\\t=1+1");
        assert_eq!(neutralise("a\x1b[2J\r\nb"), "a\\u{1b}[2J\\r\\nb");
    }
}
