//! Compact Markdown for a pull request comment or `$GITHUB_STEP_SUMMARY`:
//! `offboard plan --format markdown` and `offboard report RUN_DIR --format markdown`.
//! Counts, a table of leavers with their outcome and what changes, warnings, and for
//! a run the failures with their reasons. No times or ids that change from run to
//! run besides the counts.

use std::fmt::Write as _;

use crate::plan::{LeaverPlan, Outcome, Plan, StepStatus, WorkspaceKind};
use crate::report::run::RunReport;

/// A table cell: one line, control characters escaped, pipes and backticks that
/// would break the table or its code spans escaped, long text cut.
fn cell(text: &str) -> String {
    let text = crate::text::one_line(text);
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        if i == 200 {
            out.push('…');
            break;
        }
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

fn outcome_words(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::WillChange => "will change",
        Outcome::Unchanged => "unchanged",
        Outcome::Deferred => "deferred",
        Outcome::Protected => "protected",
        Outcome::Invalid => "**invalid**",
        Outcome::Drifted => "**drifted**",
    }
}

fn workspace(kind: WorkspaceKind, id: u64, title: Option<&str>) -> String {
    let kind = match kind {
        WorkspaceKind::Room => "room ",
        WorkspaceKind::Folder => "folder ",
        WorkspaceKind::Unknown => "",
    };
    match title {
        Some(title) => format!("{kind}{id} {}", cell(title)),
        None => format!("{kind}{id}"),
    }
}

/// What the plan changes for one leaver, in a few words.
fn changes(leaver: &LeaverPlan) -> String {
    if let Some(reason) = &leaver.reason {
        return cell(reason);
    }
    let steps: Vec<&str> = leaver
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::WillChange)
        .map(|s| s.step.as_str())
        .collect();
    let mut words = if steps.is_empty() {
        "nothing".to_owned()
    } else {
        steps.join(", ")
    };
    let losing = leaver
        .member_changes
        .iter()
        .filter(|c| c.to.is_none())
        .count();
    if losing > 0 {
        let _ = write!(
            words,
            " ({losing} member{} lose access)",
            if losing == 1 { "" } else { "s" }
        );
    }
    words
}

/// The plan as Markdown.
pub fn plan(plan: &Plan) -> String {
    let s = &plan.summary;
    let mut out = String::new();
    let _ = writeln!(out, "### offboard plan for {}\n", cell(&plan.portal));
    let mut counts = format!(
        "**{} leavers**: {} will change, {} unchanged, {} deferred, {} protected, {} invalid",
        plan.leavers.len(),
        s.will_change,
        s.unchanged,
        s.deferred,
        s.protected,
        s.invalid
    );
    if s.drifted > 0 {
        let _ = write!(counts, ", {} drifted", s.drifted);
    }
    let _ = writeln!(
        out,
        "{counts}. `apply` would send about {} requests, {} of them writes (the daily budget is {}).\n",
        s.estimated_requests, s.estimated_writes, s.daily_write_budget
    );
    let _ = writeln!(out, "| leaver | workspace | outcome | what changes |");
    let _ = writeln!(out, "|---|---|---|---|");
    for l in &plan.leavers {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(&l.leaver),
            workspace(l.workspace_kind, l.workspace, l.workspace_title.as_deref()),
            outcome_words(l.outcome),
            changes(l)
        );
    }
    warnings(&mut out, &plan.warnings);
    out
}

fn warnings(out: &mut String, warnings: &[String]) {
    if warnings.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n**Warnings**\n");
    for warning in warnings {
        let _ = writeln!(out, "- {}", cell(warning));
    }
}

/// A run's report as Markdown.
pub fn run(report: &RunReport) -> String {
    let run = &report.run;
    let t = &run.totals;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### offboard apply on {}: {}\n",
        cell(&run.portal),
        run.state
    );
    let mut counts = format!(
        "**{} leavers**: {} done, {} unchanged, {} failed, {} deferred, {} protected, {} invalid, {} interrupted",
        t.leavers, t.done, t.unchanged, t.failed, t.deferred, t.protected, t.invalid, t.interrupted
    );
    if t.drifted > 0 {
        let _ = write!(counts, ", {} drifted", t.drifted);
    }
    let _ = writeln!(
        out,
        "{counts}. {} requests ({} writes) in {} session{}.\n",
        run.requests,
        run.writes,
        run.sessions,
        if run.sessions == 1 { "" } else { "s" }
    );
    let _ = writeln!(out, "| leaver | workspace | outcome | archived to |");
    let _ = writeln!(out, "|---|---|---|---|");
    for l in &report.leavers {
        let outcome = match l.outcome.as_str() {
            "failed" | "invalid" | "drifted" => format!("**{}**", l.outcome),
            other => other.to_owned(),
        };
        let _ = writeln!(
            out,
            "| {} | {} {} | {} | {} |",
            cell(&l.leaver),
            cell(&l.workspace_kind),
            l.workspace,
            outcome,
            l.archive_location.as_deref().map(cell).unwrap_or_default()
        );
    }
    let problems: Vec<String> = report
        .leavers
        .iter()
        .filter_map(|l| {
            let why = l.error.as_deref().or(match l.outcome.as_str() {
                "invalid" | "drifted" => l.reason.as_deref(),
                _ => None,
            })?;
            Some(format!(
                "- {} ({}): {}",
                cell(&l.leaver),
                l.outcome,
                cell(why)
            ))
        })
        .collect();
    if !problems.is_empty() {
        let _ = writeln!(out, "\n**Failures**\n");
        for problem in problems {
            let _ = writeln!(out, "{problem}");
        }
    }
    let all: Vec<String> = report
        .leavers
        .iter()
        .flat_map(|l| l.warnings.iter().map(move |w| format!("{}: {w}", l.leaver)))
        .collect();
    warnings(&mut out, &all);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc <script>"), "a\\|b\\nc &lt;script&gt;");
        assert_eq!(cell(&"x".repeat(300)).chars().count(), 201);
    }
}
