//! Defaults merged into each leaver, with the places they came from, so a problem
//! with an inherited value points at the default that set it.

use std::sync::Arc;

use serde_saphyr::Spanned;

use super::checked::*;
use super::diagnostic::{Diagnostic, Location, SourceFile};
use super::model::{Defaults, LeaverEntry, Step};
use super::yaml::Node;

/// A leaver as written, with the places of its fields.
pub(super) struct Entry {
    pub(super) index: usize,
    pub(super) entry: LeaverEntry,
    pub(super) sites: EntrySites,
}

pub(super) struct EntrySites {
    pub(super) entry: Location,
    pub(super) user: Location,
    pub(super) workspace: Location,
    pub(super) archive_owner: Option<Location>,
    pub(super) archive_folder: Option<Location>,
    pub(super) steps: Option<Location>,
    pub(super) audit_days: Option<Location>,
}

/// Where the defaults stand, for leavers that inherit them.
#[derive(Default)]
pub(super) struct DefaultSites {
    archive_owner: Option<Location>,
    archive_folder: Option<Location>,
    steps: Option<Location>,
    audit_days: Option<Location>,
}

impl DefaultSites {
    pub(super) fn from_node(
        source: &Arc<SourceFile>,
        defaults: Option<&(Spanned<String>, Spanned<Node>)>,
    ) -> Self {
        let Some((_, node)) = defaults else {
            return Self::default();
        };
        let at = |field: &str| {
            node.value
                .get(field)
                .map(|(_, value)| super::yaml::location(source, &value.referenced))
        };
        Self {
            archive_owner: at("archive_owner"),
            archive_folder: at("archive_folder"),
            steps: at("steps"),
            audit_days: at("audit_days"),
        }
    }
}

/// Applies the defaults to each entry. A leaver left without an archive owner is an
/// error here; a date the calendar does not have is another. With `defaults` unknown
/// (they were invalid) a leaver that needs them is left out, without a second error.
pub(super) fn resolve(
    entries: Vec<Entry>,
    defaults: Option<&Defaults>,
    default_sites: &DefaultSites,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Leaver> {
    let site = |own: Option<Location>, inherited: &Option<Location>| {
        own.map(|location| Site {
            location,
            inherited: false,
        })
        .or_else(|| {
            inherited.clone().map(|location| Site {
                location,
                inherited: true,
            })
        })
    };
    let defaults_known = defaults.is_some();
    let empty = Defaults::default();
    let defaults = defaults.unwrap_or(&empty);
    let mut leavers = Vec::with_capacity(entries.len());
    for Entry {
        index,
        entry,
        sites,
    } in entries
    {
        let pointer = format!("/leavers/{index}");
        let Some(archive_owner) = entry
            .archive_owner
            .or_else(|| defaults.archive_owner.clone())
        else {
            if !defaults_known {
                continue;
            }
            diagnostics.push(
                Diagnostic::error(
                    "missing-archive-owner",
                    sites.entry.clone(),
                    format!(
                        "leaver `{}` has no `archive_owner`",
                        crate::text::quoted(&entry.user.to_string())
                    ),
                )
                .with_pointer(pointer)
                .with_help("set `archive_owner` on the leaver, or once in `defaults`"),
            );
            continue;
        };
        let effective = match entry.effective.as_ref().or(defaults.effective.as_ref()) {
            None => None,
            Some(text) => match text.parse::<jiff::civil::Date>() {
                Ok(date) => Some(date),
                Err(_) => {
                    diagnostics.push(
                        Diagnostic::error(
                            "invalid-format",
                            sites.entry.clone(),
                            format!(
                                "`effective` must be a date written YYYY-MM-DD, found \"{}\"",
                                crate::text::quoted(text)
                            ),
                        )
                        .with_pointer(format!("{pointer}/effective")),
                    );
                    continue;
                }
            },
        };
        let mut steps = entry
            .steps
            .or_else(|| defaults.steps.clone())
            .unwrap_or_else(Step::default_steps);
        steps.sort();
        steps.dedup();
        leavers.push(Leaver {
            index,
            user: entry.user,
            workspace: entry.workspace,
            confirm_workspace: entry.confirm_workspace,
            archive_folder: entry.archive_folder.or(defaults.archive_folder),
            archive_owner,
            hr_group: match entry.hr_group {
                Some(own) => own,
                None => defaults.hr_group.clone().flatten(),
            },
            effective,
            steps,
            audit_days: entry
                .audit_days
                .or(defaults.audit_days)
                .unwrap_or(DEFAULT_AUDIT_DAYS),
            ticket: entry.ticket.or_else(|| defaults.ticket.clone()),
            note: entry.note.or_else(|| defaults.note.clone()),
            sites: LeaverSites {
                entry: sites.entry,
                user: sites.user,
                workspace: sites.workspace,
                archive_owner: site(sites.archive_owner, &default_sites.archive_owner),
                archive_folder: site(sites.archive_folder, &default_sites.archive_folder),
                steps: site(sites.steps, &default_sites.steps),
                audit_days: site(sites.audit_days, &default_sites.audit_days),
            },
        });
    }
    leavers
}
