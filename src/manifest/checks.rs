//! Checks across leavers: what no single entry shows but the batch as a whole gets
//! wrong. Each finding points at the later of two clashing entries and names the
//! earlier one; a finding that stems from a shared default is reported once, at the
//! default.

use std::collections::{HashMap, HashSet};

use super::checked::{Leaver, Site};
use super::diagnostic::{Diagnostic, Location};
use super::model::{Step, UserRef};

pub(super) fn across_leavers(
    leavers: &[Leaver],
    protected: &[(UserRef, Location)],
    leavers_place: &Location,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if leavers.is_empty() {
        if !diagnostics.iter().any(Diagnostic::is_error) {
            diagnostics.push(
                Diagnostic::error(
                    "empty-manifest",
                    leavers_place.clone(),
                    "the manifest lists no leavers",
                )
                .with_pointer("/leavers"),
            );
        }
        return;
    }

    let protected_keys: HashMap<String, &Location> = protected
        .iter()
        .map(|(user, location)| (user.key(), location))
        .collect();
    let mut users: HashMap<String, &Leaver> = HashMap::with_capacity(leavers.len());
    let mut workspaces: HashMap<u64, &Leaver> = HashMap::with_capacity(leavers.len());
    for leaver in leavers {
        let key = leaver.user.key();
        if let Some(first) = users.get(&key) {
            diagnostics.push(
                Diagnostic::error(
                    "duplicate-user",
                    leaver.sites.user.clone(),
                    format!("`{}` is listed twice ({})", leaver.user, named(first, true)),
                )
                .with_pointer(leaver.pointer("user", false))
                .with_related(first.sites.user.clone(), "first listed here")
                .with_help("emails are compared without case and user ids in any notation"),
            );
        } else {
            users.insert(key.clone(), leaver);
        }
        if let Some(first) = workspaces.get(&leaver.workspace) {
            diagnostics.push(
                Diagnostic::error(
                    "shared-workspace",
                    leaver.sites.workspace.clone(),
                    format!(
                        "workspace {} is also the workspace of `{}` ({})",
                        leaver.workspace,
                        first.user,
                        named(first, false)
                    ),
                )
                .with_pointer(leaver.pointer("workspace", false))
                .with_related(first.sites.workspace.clone(), "first listed here")
                .with_help(
                    "a workspace is archived once, for one leaver; list it with only one of them",
                ),
            );
        } else {
            workspaces.insert(leaver.workspace, leaver);
        }
        if let Some(location) = protected_keys.get(&key) {
            diagnostics.push(
                Diagnostic::error(
                    "protected-leaver",
                    leaver.sites.user.clone(),
                    format!(
                        "`{}` is on the manifest's `protected` list and must never be offboarded",
                        leaver.user
                    ),
                )
                .with_pointer(leaver.pointer("user", false))
                .with_related((*location).clone(), "protected here"),
            );
        }
    }

    // A problem with a default would otherwise repeat for every leaver inheriting it.
    let mut reported: HashSet<(&'static str, String)> = HashSet::new();
    let mut once = |diagnostic: Diagnostic| {
        if reported.insert((diagnostic.code, diagnostic.pointer.clone())) {
            diagnostics.push(diagnostic);
        }
    };
    for leaver in leavers {
        let owner_site = leaver.sites.archive_owner.clone().unwrap_or(Site {
            location: leaver.sites.entry.clone(),
            inherited: false,
        });
        let owner_pointer = leaver.pointer("archive_owner", owner_site.inherited);
        let owner_key = leaver.archive_owner.key();
        if owner_key == leaver.user.key() {
            once(
                Diagnostic::error(
                    "self-archive-owner",
                    owner_site.location.clone(),
                    format!("`{}` cannot be their own archive owner", leaver.user),
                )
                .with_pointer(&owner_pointer)
                .with_related(leaver.sites.user.clone(), "the leaver")
                .with_help(
                    "the archive owner receives the leaver's data, so it must be someone who stays",
                ),
            );
        } else if let Some(other) = users.get(&owner_key) {
            once(
                Diagnostic::error(
                    "archive-owner-is-leaver",
                    owner_site.location.clone(),
                    format!(
                        "archive owner `{}` is a leaver in this manifest ({})",
                        leaver.archive_owner,
                        named(other, false)
                    ),
                )
                .with_pointer(&owner_pointer)
                .with_related(other.sites.user.clone(), "offboarded here")
                .with_help("DocSpace only reassigns data to an active user; choose an archive owner who stays"),
            );
        }

        if let (Some(folder), Some(site)) = (leaver.archive_folder, &leaver.sites.archive_folder)
            && folder == leaver.workspace
        {
            let pointer = leaver.pointer("archive_folder", site.inherited);
            once(
                Diagnostic::error(
                    "workspace-is-archive-folder",
                    site.location.clone(),
                    format!("`archive_folder` {folder} is the leaver's own workspace"),
                )
                .with_pointer(pointer)
                .with_related(leaver.sites.workspace.clone(), "the workspace")
                .with_help(
                    "a workspace cannot be moved into itself; name the archive folder or room",
                ),
            );
        }

        if leaver.steps.contains(&Step::Reassign) && !leaver.steps.contains(&Step::Disable) {
            let site = leaver.sites.steps.clone().unwrap_or(Site {
                location: leaver.sites.entry.clone(),
                inherited: false,
            });
            let pointer = leaver.pointer("steps", site.inherited);
            once(
                Diagnostic::error(
                    "reassign-without-disable",
                    site.location.clone(),
                    "`reassign` needs `disable`: DocSpace refuses to reassign the data of an active user",
                )
                .with_pointer(&pointer)
                .with_help("add `disable` to the steps (it runs first)"),
            );
        }

        if let Some(site) = &leaver.sites.audit_days
            && !leaver.steps.contains(&Step::Audit)
        {
            let pointer = leaver.pointer("audit_days", site.inherited);
            once(
                Diagnostic::warning(
                    "unused-setting",
                    site.location.clone(),
                    "`audit_days` has no effect without the `audit` step",
                )
                .with_pointer(&pointer),
            );
        }
    }
}

/// How a message names another leaver: by its row in a CSV file (`row 2`), by its
/// number elsewhere (`leaver 1`); `first` words it as the first of two.
fn named(leaver: &Leaver, first: bool) -> String {
    match (leaver.sites.entry.cell(), first) {
        (Some(cell), true) => format!("first in row {}", cell.row),
        (Some(cell), false) => format!("row {}", cell.row),
        (None, true) => format!("first as leaver {}", leaver.index + 1),
        (None, false) => format!("leaver {}", leaver.index + 1),
    }
}
