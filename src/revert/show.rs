//! The revert plan as `offboard revert` shows it before it asks.

use std::fmt::Write as _;

use super::plan::{ItemStatus, LeaverRevert, RevertOutcome};
use super::source::AppliedLeaver;
use crate::journal::step_status;

fn outcome(outcome: RevertOutcome) -> &'static str {
    match outcome {
        RevertOutcome::WillChange => "will change",
        RevertOutcome::Unchanged => "unchanged",
        RevertOutcome::Drifted => "drifted",
        RevertOutcome::NoPrior => "no prior state",
    }
}

fn status(status: ItemStatus) -> &'static str {
    match status {
        ItemStatus::WillChange => "will change",
        ItemStatus::Unchanged => "unchanged",
        ItemStatus::Drifted => "drifted",
        ItemStatus::Cannot => "cannot",
    }
}

/// Per leaver: each item with what will happen or why not, then what cannot be
/// undone; leavers an earlier session of this revert planned, with what is left.
pub fn human(plans: &[LeaverRevert], resumed: &[&AppliedLeaver], portal: &str) -> String {
    let mut out = format!("Revert plan on {portal}\n");
    for plan in plans {
        let _ = writeln!(out, "\n{}: {}", plan.leaver, outcome(plan.outcome));
        if plan.items.is_empty() {
            let _ = writeln!(out, "  the run changed nothing of theirs");
        }
        for item in &plan.items {
            let _ = writeln!(
                out,
                "  {:<10} {:<12} {}",
                item.action,
                status(item.status),
                item.detail
            );
        }
        for what in &plan.cannot_undo {
            let _ = writeln!(out, "  cannot undo: {what}");
        }
    }
    for earlier in resumed {
        let left: Vec<&str> = earlier
            .record
            .steps
            .iter()
            .filter(|s| !earlier.ended.contains_key(*s) || earlier.ended[*s] == step_status::FAILED)
            .map(String::as_str)
            .collect();
        let _ = writeln!(
            out,
            "\n{}: resumed as an earlier session planned it; left: {}",
            earlier.label,
            if left.is_empty() {
                "nothing".to_owned()
            } else {
                left.join(", ")
            }
        );
    }
    let drifted = plans
        .iter()
        .flat_map(|p| &p.items)
        .filter(|i| i.status == ItemStatus::Drifted)
        .count();
    if drifted > 0 {
        let _ = writeln!(
            out,
            "\n{drifted} item{} changed on the portal since the run: left alone (--force restores them too)",
            if drifted == 1 { "" } else { "s" }
        );
    }
    out.push('\n');
    crate::text::visible(&out).into_owned()
}
