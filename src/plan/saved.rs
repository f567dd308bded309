//! Saved plans (`offboard plan --out PLAN`, `offboard apply PLAN`): the plan as
//! `plan --format json` writes it, with the manifest's hash, when it was made, and per
//! leaver the portal state it relied on. Applying it re-reads the portal and refuses,
//! leaver by leaver, where that state has changed (`drifted`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::model::{Lookup, Observed, Outcome, Plan, StepStatus};
use crate::manifest::Manifest;

/// What a saved plan says it is (its `kind`).
pub const KIND: &str = "offboard-saved-plan";

/// A saved plan: `schemas/saved-plan.schema.json`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "offboard saved plan")]
pub struct SavedPlan {
    /// Always `offboard-saved-plan`.
    pub kind: String,
    /// When the plan was made (RFC 3339, UTC).
    pub saved_at: String,
    /// The manifest the plan was made from, as given to `plan`.
    pub manifest: String,
    /// The sha256 of that manifest and the leavers it resolves to; `apply` refuses the
    /// plan when the manifest differs now.
    pub manifest_sha256: String,
    /// The plan itself, as `plan --format json` prints it.
    #[serde(flatten)]
    pub plan: Plan,
    /// Per leaver (as the manifest names them), the portal state the plan relied on.
    pub relies_on: BTreeMap<String, ReliedOn>,
}

/// The portal state a leaver's plan relied on: what `apply PLAN` checks again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReliedOn {
    /// The leaver's account: `active`, `disabled`, `missing` or `hidden`.
    pub account: String,
    /// The workspace, when it could be read.
    pub workspace: Option<WorkspaceState>,
}

/// A workspace as the plan saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WorkspaceState {
    pub title: String,
    /// The owner's user id (lowercase).
    pub owner: Option<String>,
    pub parent: Option<i64>,
    pub archived: bool,
    /// A room's members (user or group id, lowercase, and `FileShare` access),
    /// sorted; `None` when they were not read (a folder).
    pub members: Option<Vec<(String, u8)>>,
}

/// The state each leaver of `manifest` relies on, from what was observed.
pub fn relied_on(manifest: &Manifest, observed: &Observed) -> BTreeMap<String, ReliedOn> {
    manifest
        .leavers
        .iter()
        .map(|leaver| {
            let account = match observed.users.get(&leaver.user.key()) {
                Some(Lookup::Found(user)) if user.is_disabled() => "disabled",
                Some(Lookup::Found(_)) => "active",
                Some(Lookup::Hidden(_)) => "hidden",
                Some(Lookup::Missing) | None => "missing",
            };
            let workspace = match observed.folders.get(&(leaver.workspace as i64)) {
                Some(Lookup::Found(folder)) => Some(WorkspaceState {
                    title: folder.title.clone(),
                    owner: folder.owner_id().map(str::to_lowercase),
                    parent: folder.parent_id,
                    archived: folder.is_archived(),
                    members: observed.members.get(&folder.id).map(|shares| {
                        let mut members: Vec<(String, u8)> = shares
                            .iter()
                            .filter_map(|s| s.subject().map(|id| (id.to_lowercase(), s.access)))
                            .collect();
                        members.sort();
                        members
                    }),
                }),
                _ => None,
            };
            let state = ReliedOn {
                account: account.to_owned(),
                workspace,
            };
            (leaver.user.to_string(), state)
        })
        .collect()
}

/// What changed between the state a plan relied on and the state now, in words; empty
/// when nothing did.
pub fn drift(then: &ReliedOn, now: &ReliedOn) -> Vec<String> {
    let mut changes = Vec::new();
    if then.account != now.account {
        changes.push(format!(
            "the account was {} and is {} now",
            then.account, now.account
        ));
    }
    match (&then.workspace, &now.workspace) {
        (Some(a), Some(b)) => {
            if a.owner != b.owner {
                changes.push(format!(
                    "the workspace's owner was {} and is {} now",
                    a.owner.as_deref().unwrap_or("nobody"),
                    b.owner.as_deref().unwrap_or("nobody")
                ));
            }
            if a.parent != b.parent || a.archived != b.archived {
                changes.push("the workspace was moved or archived".into());
            }
            if a.title != b.title {
                changes.push(format!(
                    "the workspace was renamed from `{}` to `{}`",
                    a.title, b.title
                ));
            }
            if let (Some(before), Some(after)) = (&a.members, &b.members) {
                let added: Vec<String> = after
                    .iter()
                    .filter(|m| !before.contains(m))
                    .map(|(id, access)| format!("{id} ({access})"))
                    .collect();
                let removed: Vec<String> = before
                    .iter()
                    .filter(|m| !after.contains(m))
                    .map(|(id, access)| format!("{id} ({access})"))
                    .collect();
                if !added.is_empty() {
                    changes.push(format!("members new or changed: {}", added.join(", ")));
                }
                if !removed.is_empty() {
                    changes.push(format!("members gone or changed: {}", removed.join(", ")));
                }
            }
        }
        (None, Some(_)) => changes.push("the workspace can be read now and could not then".into()),
        (Some(_), None) => changes.push("the workspace cannot be read any more".into()),
        (None, None) => {}
    }
    changes
}

/// Marks the leavers of `plan` (made now) whose state differs from what `saved`
/// relied on, or whose outcome differs from the saved one, as [`Outcome::Drifted`]
/// with what changed as the reason; their steps are skipped. Leavers for whom
/// `worked_on` is true (this run's journal changed them already) are not compared:
/// the portal differs because of the run itself. Returns how many drifted.
pub fn mark_drifted(
    plan: &mut Plan,
    saved: &SavedPlan,
    now: &BTreeMap<String, ReliedOn>,
    worked_on: impl Fn(&str) -> bool,
) -> usize {
    let mut drifted = 0;
    for leaver in &mut plan.leavers {
        if worked_on(&leaver.leaver) {
            continue;
        }
        let then = saved.relies_on.get(&leaver.leaver);
        let mut changes = match (then, now.get(&leaver.leaver)) {
            (Some(then), Some(now)) => drift(then, now),
            _ => vec!["the saved plan has no record of this leaver".to_owned()],
        };
        let planned = saved
            .plan
            .leavers
            .iter()
            .find(|l| l.leaver == leaver.leaver)
            .map(|l| l.outcome);
        if let Some(planned) = planned
            && planned != leaver.outcome
        {
            changes.insert(
                0,
                format!(
                    "the plan said {}, the portal says {} now",
                    outcome_name(planned),
                    outcome_name(leaver.outcome)
                ),
            );
        }
        if changes.is_empty() {
            continue;
        }
        drifted += 1;
        leaver.outcome = Outcome::Drifted;
        leaver.reason = Some(format!(
            "the portal changed since the plan was saved: {}",
            changes.join("; ")
        ));
        for step in &mut leaver.steps {
            step.status = StepStatus::Skipped;
            step.detail = "drifted: make a new plan".into();
        }
    }
    recount(plan);
    drifted
}

/// The summary's counts by outcome, after outcomes changed.
fn recount(plan: &mut Plan) {
    let count = |o: Outcome| plan.leavers.iter().filter(|l| l.outcome == o).count();
    let (will_change, unchanged, deferred, protected, invalid, drifted) = (
        count(Outcome::WillChange),
        count(Outcome::Unchanged),
        count(Outcome::Deferred),
        count(Outcome::Protected),
        count(Outcome::Invalid),
        count(Outcome::Drifted),
    );
    let summary = &mut plan.summary;
    summary.will_change = will_change;
    summary.unchanged = unchanged;
    summary.deferred = deferred;
    summary.protected = protected;
    summary.invalid = invalid;
    summary.drifted = drifted;
}

/// An outcome as the plan's JSON writes it.
fn outcome_name(outcome: Outcome) -> String {
    serde_json::to_value(outcome)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `schemas/saved-plan.schema.json`, generated from [`SavedPlan`], keys sorted.
pub fn saved_plan_schema_text() -> String {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let schema = serde_json::to_value(generator.into_root_schema_for::<SavedPlan>())
        .expect("a schema is JSON");
    crate::manifest::sorted_json_text(&schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(members: &[(&str, u8)]) -> ReliedOn {
        ReliedOn {
            account: "active".into(),
            workspace: Some(WorkspaceState {
                title: "Sales".into(),
                owner: Some("u1".into()),
                parent: Some(1),
                archived: false,
                members: Some(members.iter().map(|(i, a)| ((*i).into(), *a)).collect()),
            }),
        }
    }

    #[test]
    fn drift_names_what_changed_and_nothing_else() {
        let then = room(&[("u2", 9), ("g1", 2)]);
        assert!(drift(&then, &then).is_empty());
        let mut now = room(&[("u2", 9), ("u3", 2)]);
        now.account = "active".into();
        let changes = drift(&then, &now);
        assert_eq!(
            changes,
            [
                "members new or changed: u3 (2)",
                "members gone or changed: g1 (2)"
            ]
        );
        let mut reenabled = then.clone();
        reenabled.account = "disabled".into();
        assert_eq!(
            drift(&reenabled, &then),
            ["the account was disabled and is active now"]
        );
        let mut moved = then.clone();
        if let Some(w) = moved.workspace.as_mut() {
            w.owner = Some("u9".into());
        }
        assert_eq!(
            drift(&then, &moved),
            ["the workspace's owner was u1 and is u9 now"]
        );
    }
}
