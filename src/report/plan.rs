//! The plan as a table for people and as JSON (`schemas/plan.schema.json`).
//!
//! The table quotes the manifest and the portal (names, titles): its cells are
//! single lines with control characters escaped, and so is the rest of its text
//! (`crate::text`); the JSON keeps every value exact.

use std::fmt::Write as _;

use crate::color::{Paint, paint};
use crate::text::{one_line, visible};

use crate::plan::{LeaverPlan, MemberChange, Outcome, Plan, Relation, StepStatus, WorkspaceKind};

fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::WillChange => "will change",
        Outcome::Unchanged => "unchanged",
        Outcome::Deferred => "deferred",
        Outcome::Protected => "protected",
        Outcome::Invalid => "invalid",
        Outcome::Drifted => "drifted",
    }
}

/// How an outcome is coloured in the table.
fn outcome_paint(outcome: Outcome) -> Paint {
    match outcome {
        Outcome::WillChange => Paint::Yellow,
        Outcome::Unchanged => Paint::Green,
        Outcome::Deferred | Outcome::Protected => Paint::Cyan,
        Outcome::Invalid | Outcome::Drifted => Paint::Red,
    }
}

/// One line per leaver, then the summary; the outcomes coloured when `color`.
///
/// Every piece of text is escaped (`crate::text`) before the colours go in, and
/// widths are measured without them.
pub fn human(plan: &Plan, color: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        visible(&format!(
            "Plan for {} as {} <{}> ({}), today {}",
            plan.portal,
            plan.key_user.display_name,
            plan.key_user.email,
            plan.key_user.role,
            plan.today
        ))
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
            let collects: Vec<String> = l
                .steps
                .iter()
                .filter(|s| s.status == StepStatus::WillCollect)
                .map(|s| s.detail.clone())
                .collect();
            let collects = if collects.is_empty() {
                String::new()
            } else {
                format!("; collect: {}", collects.join("; "))
            };
            let detail = match (&l.reason, l.outcome) {
                (Some(reason), _) => reason.clone(),
                (None, Outcome::Unchanged) => format!("nothing to change{collects}"),
                (None, _) => {
                    l.steps
                        .iter()
                        .filter(|s| s.status == StepStatus::WillChange)
                        .map(|s| s.detail.clone())
                        .collect::<Vec<_>>()
                        .join("; ")
                        + &collects
                }
            };
            [
                one_line(&l.leaver).into_owned(),
                one_line(&workspace).into_owned(),
                outcome_name(l.outcome).to_owned(),
                one_line(&detail).into_owned(),
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
    let indent = " ".repeat(widths[0] + 2);
    // Where the outcome starts in a row: after two padded cells of plain text.
    let outcome_at = widths[0] + 2 + widths[1] + 2;
    for (r, l) in rows.iter().zip(&plan.leavers) {
        let mut row = line([&r[0], &r[1], &r[2], &r[3]]);
        if let Some((at, _)) = row.char_indices().nth(outcome_at).filter(|_| color) {
            row.replace_range(at..at + r[2].len(), &paint(&r[2], outcome_paint(l.outcome)));
        }
        let _ = writeln!(out, "{row}");
        for detail in workspace_lines(l) {
            let _ = writeln!(out, "{indent}{}", one_line(&detail));
        }
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
        let _ = writeln!(out, "warning: {}", visible(warning));
    }
    out
}

/// What `apply --yes` says before it starts: where, as whom, and who is due.
pub fn header(plan: &Plan) -> String {
    let s = &plan.summary;
    let text = format!(
        "apply to {} as {} <{}> ({})\nleavers: {} due ({} will change, {} unchanged), {} deferred, {} protected, {} invalid\n",
        plan.portal,
        plan.key_user.display_name,
        plan.key_user.email,
        plan.key_user.role,
        s.will_change + s.unchanged,
        s.will_change,
        s.unchanged,
        s.deferred,
        s.protected,
        s.invalid
    );
    visible(&text).into_owned()
}

/// Under a leaver's row: the workspace's title, owner and relation to the leaver,
/// then who loses access and who gains what when it is archived.
fn workspace_lines(l: &LeaverPlan) -> Vec<String> {
    let mut lines = Vec::new();
    let Some(title) = &l.workspace_title else {
        return lines;
    };
    let owner = l
        .workspace_owner
        .as_ref()
        .map_or_else(|| "unknown".to_owned(), |o| o.display_name.clone());
    let relation = match l.workspace_relation {
        Some(Relation::Own) => "the leaver's own",
        Some(Relation::HandedOver) => "the leaver's, handed on by an earlier offboarding",
        Some(Relation::Member) => "NOT the leaver's: they only belong to it",
        Some(Relation::Unrelated) => "NOT the leaver's",
        None => "relation unknown",
    };
    lines.push(format!("\"{title}\", owner {owner} ({relation})"));
    let person = |c: &MemberChange| {
        if c.kind == "group" {
            format!("group {}", c.name)
        } else {
            format!("{} ({})", c.name, c.id)
        }
    };
    let losing: Vec<String> = l
        .member_changes
        .iter()
        .filter(|c| c.to.is_none())
        .map(|c| format!("{} [{}]", person(c), c.from.as_deref().unwrap_or_default()))
        .collect();
    let gaining: Vec<String> = l
        .member_changes
        .iter()
        .filter_map(|c| c.to.as_deref().map(|to| format!("{} [{to}]", person(c))))
        .collect();
    if !losing.is_empty() {
        lines.push(format!("loses access: {}", losing.join(", ")));
    }
    if !gaining.is_empty() {
        lines.push(format!("gets: {}", gaining.join(", ")));
    }
    lines
}

/// The plan as pretty JSON, newline-terminated.
pub fn json(plan: &Plan) -> String {
    let mut text = serde_json::to_string_pretty(plan).expect("a plan serializes");
    text.push('\n');
    text
}
