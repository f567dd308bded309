//! The plan: a checked manifest plus what the portal looks like now, turned into what
//! `apply` would do to each leaver, step by step. Pure: no I/O and no async; the
//! observations are gathered by `observe`. Types in `model`, the workspace
//! rules in `workspace`, the request estimate in `estimate`.

use crate::docspace::model::{Employee, Folder, UserKind};
use crate::manifest::{Leaver, Manifest, Step, UserRef};

mod estimate;
mod model;
mod saved;
mod workspace;

use estimate::estimate;
pub use model::*;
pub use saved::*;
pub use workspace::*;

/// Builds the plan for every leaver of `manifest` from what was observed.
pub fn plan(manifest: &Manifest, observed: &Observed) -> Plan {
    let mut protected: Vec<String> = manifest.protected.iter().map(UserRef::key).collect();
    protected.extend(observed.protect.iter().map(UserRef::key));
    let mut warnings = Vec::new();
    if observed.audit.filters_ignored
        && manifest
            .leavers
            .iter()
            .any(|l| l.steps.contains(&Step::Audit))
    {
        warnings.push(
            "the portal's plan has no audit feature: audit filters are ignored and only the last 20 events come back, so collected audit trails will be incomplete".to_owned(),
        );
    }
    for leaver in &manifest.leavers {
        let user = observed
            .users
            .get(&leaver.user.key())
            .and_then(Lookup::found);
        if user.is_some_and(|u| observed.reassigning.contains(&u.id)) {
            warnings.push(format!(
                "a reassign of {}'s data is running on the portal now: somebody else (another apply?) is offboarding them; apply waits for that job rather than start its own",
                leaver.user
            ));
        }
    }
    if let Some(scopes) = &observed.restricted_key {
        warnings.push(format!(
            "the API key is restricted to {}: it can plan, but apply needs a key with full permissions (audit trails and sessions have no narrower scope)",
            scopes.join(", ")
        ));
    }
    let leavers: Vec<LeaverPlan> = manifest
        .leavers
        .iter()
        .map(|leaver| plan_leaver(leaver, observed, &protected))
        .collect();
    let mut summary = Summary {
        daily_write_budget: DAILY_WRITE_BUDGET,
        ..Summary::default()
    };
    for l in &leavers {
        match l.outcome {
            Outcome::WillChange => summary.will_change += 1,
            Outcome::Unchanged => summary.unchanged += 1,
            Outcome::Deferred => summary.deferred += 1,
            Outcome::Protected => summary.protected += 1,
            Outcome::Invalid => summary.invalid += 1,
            Outcome::Drifted => summary.drifted += 1,
        }
    }
    for l in &leavers {
        let losing: Vec<&MemberChange> =
            l.member_changes.iter().filter(|c| c.to.is_none()).collect();
        if losing.len() > BLAST_RADIUS {
            let names: Vec<&str> = losing.iter().map(|c| c.name.as_str()).collect();
            warnings.push(format!(
                "archiving room {} \"{}\" for {} takes access from {} members: {}",
                l.workspace,
                l.workspace_title.as_deref().unwrap_or_default(),
                l.leaver,
                losing.len(),
                names.join(", ")
            ));
        }
    }
    let (requests, writes) = estimate(manifest, &leavers, observed);
    summary.estimated_requests = requests;
    summary.estimated_writes = writes;
    if writes > DAILY_WRITE_BUDGET {
        warnings.push(format!(
            "apply would send about {writes} POST/PUT requests, more than the portal's daily budget of {DAILY_WRITE_BUDGET}: split the batch over several days"
        ));
    }
    Plan {
        version: 1,
        portal: observed.portal.clone(),
        key_user: KeyUser {
            id: observed.caller.id.clone(),
            display_name: observed.caller.display_name.clone(),
            email: observed.caller.email.clone(),
            role: role_name(observed.caller.kind()).to_owned(),
        },
        today: observed.today.to_string(),
        leavers,
        summary,
        warnings,
    }
}

/// The plan of a resumed run: steps its journal shows complete are unchanged ("done
/// earlier in this run"; `apply` does not run them again), and the outcomes, totals
/// and estimates follow.
pub fn resumed(
    mut plan: Plan,
    manifest: &Manifest,
    observed: &Observed,
    complete: impl Fn(&str, &str) -> bool,
) -> Plan {
    for leaver in &mut plan.leavers {
        if !matches!(leaver.outcome, Outcome::WillChange | Outcome::Unchanged) {
            continue;
        }
        for step in &mut leaver.steps {
            if step.status != StepStatus::Unchanged && complete(&leaver.leaver, &step.step) {
                step.status = StepStatus::Unchanged;
                step.detail = "done earlier in this run".into();
                if step.step == Step::Archive.as_str() {
                    leaver.member_changes.clear();
                }
            }
        }
        if !leaver
            .steps
            .iter()
            .any(|s| s.status == StepStatus::WillChange)
        {
            leaver.outcome = Outcome::Unchanged;
        }
    }
    let (requests, writes) = estimate(manifest, &plan.leavers, observed);
    let summary = &mut plan.summary;
    summary.will_change = count(&plan.leavers, Outcome::WillChange);
    summary.unchanged = count(&plan.leavers, Outcome::Unchanged);
    summary.estimated_requests = requests;
    summary.estimated_writes = writes;
    plan
}

fn count(leavers: &[LeaverPlan], outcome: Outcome) -> usize {
    leavers.iter().filter(|l| l.outcome == outcome).count()
}

fn skipped(leaver: &Leaver, detail: &str) -> Vec<StepPlan> {
    leaver
        .steps
        .iter()
        .map(|s| StepPlan {
            step: s.as_str().to_owned(),
            status: StepStatus::Skipped,
            detail: detail.to_owned(),
        })
        .collect()
}

fn plan_leaver(leaver: &Leaver, observed: &Observed, protected: &[String]) -> LeaverPlan {
    let user = observed
        .users
        .get(&leaver.user.key())
        .and_then(Lookup::found);
    let folder = observed.folders.get(&(leaver.workspace as i64));
    let workspace_kind = match folder.and_then(Lookup::found) {
        Some(f) if f.is_room() => WorkspaceKind::Room,
        Some(_) => WorkspaceKind::Folder,
        None => WorkspaceKind::Unknown,
    };
    let found = folder.and_then(Lookup::found);
    let relation = match (user, found) {
        (Some(user), Some(f)) => Some(relation(
            user,
            f,
            observed.members.get(&f.id).map(Vec::as_slice),
            observed.handed_over.contains(&leaver.user.key()),
        )),
        _ => None,
    };
    let base = |outcome, reason: Option<String>, steps| LeaverPlan {
        leaver: leaver.user.to_string(),
        user_id: user.map(|u| u.id.clone()),
        display_name: user.map(|u| u.display_name.clone()),
        workspace: leaver.workspace,
        workspace_kind,
        workspace_title: found.map(|f| f.title.clone()),
        workspace_owner: found.and_then(|f| f.created_by.as_ref()).map(|c| Person {
            id: c.id.clone(),
            display_name: c.display_name.clone(),
        }),
        workspace_relation: relation.map(|(r, _)| r),
        member_changes: Vec::new(),
        outcome,
        reason,
        steps,
    };

    let Some(user) = user else {
        let reason = match observed.users.get(&leaver.user.key()) {
            Some(Lookup::Hidden(why)) => {
                format!("the key's user may not see `{}` ({why})", leaver.user)
            }
            _ => format!("no DocSpace user `{}`", leaver.user),
        };
        return base(
            Outcome::Invalid,
            Some(reason.clone()),
            skipped(leaver, &reason),
        );
    };

    if let Some(why) = protection(leaver, user, observed, protected) {
        return base(Outcome::Protected, Some(why.clone()), skipped(leaver, &why));
    }
    if let Some(why) = invalidity(leaver, observed) {
        return base(Outcome::Invalid, Some(why.clone()), skipped(leaver, &why));
    }
    if let Some(date) = leaver.effective
        && date > observed.today
    {
        let why = format!("effective {date}, after today ({})", observed.today);
        return base(Outcome::Deferred, Some(why.clone()), skipped(leaver, &why));
    }

    let Some(folder) = folder.and_then(Lookup::found) else {
        // Workspaces not read yet (`apply --yes`): each pipeline reads and judges its own.
        let steps = leaver
            .steps
            .iter()
            .map(|s| StepPlan {
                step: s.as_str().to_owned(),
                status: if matches!(s, Step::Export | Step::Audit) {
                    StepStatus::WillCollect
                } else {
                    StepStatus::WillChange
                },
                detail: "decided once the workspace is read".into(),
            })
            .collect();
        return base(Outcome::WillChange, None, steps);
    };
    let steps: Vec<StepPlan> = leaver
        .steps
        .iter()
        .map(|step| plan_step(*step, leaver, user, folder, observed))
        .collect();
    // Exports and audit trails are collected, not changes: a leaver whose portal
    // state is offboarded is unchanged, whatever apply would collect again.
    let changes = steps.iter().any(|s| s.status == StepStatus::WillChange);
    let outcome = if changes {
        Outcome::WillChange
    } else {
        Outcome::Unchanged
    };
    let archive_changes = steps
        .iter()
        .any(|s| s.step == "archive" && s.status == StepStatus::WillChange);
    let mut planned = base(outcome, None, steps);
    if archive_changes && folder.is_room() {
        planned.member_changes = member_changes(leaver, folder, observed);
    }
    planned
}

/// Why a leaver may never be offboarded by this key, if so.
fn protection(
    leaver: &Leaver,
    user: &Employee,
    observed: &Observed,
    protected: &[String],
) -> Option<String> {
    let caller = &observed.caller;
    if protected.contains(&leaver.user.key())
        || protected.contains(&user.id.to_lowercase())
        || protected.contains(&user.email.to_lowercase())
    {
        return Some("on the protected list".into());
    }
    if user.is_owner {
        return Some("the portal owner".into());
    }
    if user.id == caller.id {
        return Some("the API key's own user".into());
    }
    if user.is_ldap {
        return Some("an LDAP user (DocSpace refuses to change their status)".into());
    }
    if user.is_admin && !caller.is_owner {
        return Some("a DocSpace admin; only the owner's key may offboard admins".into());
    }
    None
}

/// Why the leaver cannot be offboarded as written, if so.
fn invalidity(leaver: &Leaver, observed: &Observed) -> Option<String> {
    match observed.users.get(&leaver.archive_owner.key()) {
        Some(Lookup::Found(owner)) => {
            let fit = owner.is_active()
                && matches!(
                    owner.kind(),
                    UserKind::Owner | UserKind::DocSpaceAdmin | UserKind::RoomAdmin
                );
            if !fit {
                return Some(format!(
                    "archive owner `{}` must be an active DocSpace admin or room admin (DocSpace reassigns only to those)",
                    leaver.archive_owner
                ));
            }
        }
        _ => {
            return Some(format!(
                "no DocSpace user `{}` (archive owner)",
                leaver.archive_owner
            ));
        }
    }
    if observed.folders_read
        && let Some(problem) = workspace_problem(
            leaver,
            observed.folders.get(&(leaver.workspace as i64)),
            leaver
                .archive_folder
                .and_then(|id| observed.folders.get(&(id as i64))),
        )
    {
        return Some(problem);
    }
    if observed.folders_read
        && let Some(Lookup::Found(folder)) = observed.folders.get(&(leaver.workspace as i64))
        && let Some(Lookup::Found(user)) = observed.users.get(&leaver.user.key())
    {
        let members = observed.members.get(&folder.id).map(Vec::as_slice);
        let (owner, hr) = archive_subjects(leaver, observed);
        if let Some(problem) = workspace_use_problem(
            leaver,
            user,
            folder,
            members,
            observed.handed_over.contains(&leaver.user.key()),
            archived_already(leaver, folder, members, &owner, hr.as_deref()),
        ) {
            return Some(problem);
        }
    }
    if let Some(group) = &leaver.hr_group
        && !matches!(
            observed.groups.get(&group_key(group)),
            Some(Lookup::Found(_))
        )
    {
        return Some(format!("no group `{group}` (hr_group)"));
    }
    None
}

fn plan_step(
    step: Step,
    leaver: &Leaver,
    user: &Employee,
    folder: &Folder,
    observed: &Observed,
) -> StepPlan {
    let (status, detail) = match step {
        Step::Disable if user.is_disabled() => {
            (StepStatus::Unchanged, "already disabled".to_owned())
        }
        Step::Disable => (
            StepStatus::WillChange,
            "disable the account (ends every session)".to_owned(),
        ),
        Step::RevokeKeys => {
            let keys = observed
                .keys
                .iter()
                .filter(|k| k.created_by(&user.id))
                .count();
            if keys == 0 {
                (StepStatus::Unchanged, "no API keys".to_owned())
            } else {
                (
                    StepStatus::WillChange,
                    format!("delete {keys} API key{}", if keys == 1 { "" } else { "s" }),
                )
            }
        }
        Step::Reassign => {
            let owns_workspace = folder
                .owner_id()
                .is_some_and(|id| id.eq_ignore_ascii_case(&user.id));
            let reassigned = user.is_disabled()
                && observed.rooms_owned.get(&user.id) == Some(&0)
                && !owns_workspace;
            match observed.necessary.get(&user.id) {
                Some(false) => (StepStatus::Unchanged, "nothing to reassign".to_owned()),
                _ if reassigned => (
                    StepStatus::Unchanged,
                    "already reassigned: disabled and owns no room".to_owned(),
                ),
                _ => (
                    StepStatus::WillChange,
                    format!("reassign their data to {}", leaver.archive_owner),
                ),
            }
        }
        Step::Export => (
            StepStatus::WillCollect,
            format!("workspace {} as a zip", leaver.workspace),
        ),
        Step::Archive => archive_step(leaver, folder, observed),
        Step::Audit => (
            StepStatus::WillCollect,
            format!("{} days of audit and login history", leaver.audit_days),
        ),
    };
    StepPlan {
        step: step.as_str().to_owned(),
        status,
        detail,
    }
}
