//! The plan as a table for people and as JSON (`schemas/plan.schema.json`).

use std::fmt::Write as _;

use crate::plan::{Outcome, Plan, StepStatus, WorkspaceKind};

fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::WillChange => "will change",
        Outcome::Unchanged => "unchanged",
        Outcome::Deferred => "deferred",
        Outcome::Protected => "protected",
        Outcome::Invalid => "invalid",
    }
}

/// One line per leaver, then the summary.
pub fn human(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Plan for {} as {} <{}> ({}), today {}",
        plan.portal,
        plan.key_user.display_name,
        plan.key_user.email,
        plan.key_user.role,
        plan.today
    );
    let _ = writeln!(out);
    let rows: Vec<[String; 4]> = plan
        .leavers
        .iter()
        .map(|l| {
            let workspace = match l.workspace_kind {
                WorkspaceKind::Room => format!("room {}", l.workspace),
                WorkspaceKind::Folder => format!("folder {}", l.workspace),
                WorkspaceKind::Unknown => format!("{}", l.workspace),
            };
            let detail = match (&l.reason, l.outcome) {
                (Some(reason), _) => reason.clone(),
                (None, Outcome::Unchanged) => "everything already done".to_owned(),
                (None, _) => l
                    .steps
                    .iter()
                    .filter(|s| s.status == StepStatus::WillChange)
                    .map(|s| s.detail.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
            };
            [
                l.leaver.clone(),
                workspace,
                outcome_name(l.outcome).to_owned(),
                detail,
            ]
        })
        .collect();
    let headers = ["LEAVER", "WORKSPACE", "OUTCOME", "WHAT HAPPENS"];
    let widths: Vec<usize> = (0..3)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([headers[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: [&str; 4]| {
        format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        )
        .trim_end()
        .to_owned()
    };
    let _ = writeln!(out, "{}", line(headers));
    for r in &rows {
        let _ = writeln!(out, "{}", line([&r[0], &r[1], &r[2], &r[3]]));
    }
    let s = &plan.summary;
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} will change, {} unchanged, {} deferred, {} protected, {} invalid",
        s.will_change, s.unchanged, s.deferred, s.protected, s.invalid
    );
    let _ = writeln!(
        out,
        "apply would send about {} requests, {} of them POST/PUT (the portal allows {} a day)",
        s.estimated_requests, s.estimated_writes, s.daily_write_budget
    );
    for warning in &plan.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    out
}

/// The plan as pretty JSON, newline-terminated.
pub fn json(plan: &Plan) -> String {
    let mut text = serde_json::to_string_pretty(plan).expect("a plan serializes");
    text.push('\n');
    text
}
