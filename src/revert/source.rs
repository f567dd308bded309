//! What an `apply` run did, read from its journal: per leaver, the state it
//! replaced (`prior` records), the steps that may have changed the portal, and what
//! it left (the archive step's `after`). Pure: a function of the records.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde_json::Value;

use crate::journal::{
    JournalError, LeaverRecord, PriorAccount, PriorWorkspace, Record, RunHeader, is_final,
    read_only, step_status,
};

/// An `apply` run as its journal tells it.
#[derive(Debug)]
pub struct Applied {
    pub header: RunHeader,
    /// In the order the journal first names them.
    pub leavers: Vec<AppliedLeaver>,
}

/// One leaver of the run.
#[derive(Debug, Clone)]
pub struct AppliedLeaver {
    pub label: String,
    /// Their last leaver record.
    pub record: LeaverRecord,
    pub account: Option<PriorAccount>,
    pub workspace: Option<PriorWorkspace>,
    /// Steps a write was announced for: they may have changed the portal.
    pub touched: HashSet<String>,
    /// The last final status of each step.
    pub ended: HashMap<String, String>,
    /// API keys a delete was sent for (their names).
    pub keys_deleted: Vec<String>,
    /// Whom their data was reassigned to (a user id), when a reassign was sent.
    pub reassigned_to: Option<String>,
    /// What the reassign handed over, as the journal named it before: the archive
    /// owner's email, how many rooms the leaver owned, the first hundred titles.
    pub reassigned: Option<Value>,
    /// A room as the archive step left it: owner, members (id → access, the owner
    /// counted as manager), archived.
    pub room_after: Option<RoomAfter>,
    /// The folder a folder workspace was moved into.
    pub folder_after: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomAfter {
    pub owner: String,
    pub members: BTreeMap<String, u8>,
}

impl Applied {
    /// Reads the run directory's journal (without locking it: a run still going
    /// on is refused later, by the portal state it has not finished changing).
    pub fn read(run_dir: &Path) -> Result<Self, JournalError> {
        let replay = read_only(run_dir)?;
        let header = replay
            .header()
            .cloned()
            .ok_or_else(|| JournalError::Corrupt {
                path: run_dir.join(crate::journal::JOURNAL),
                line: 1,
                reason: "the first record is not the run header".into(),
            })?;
        Ok(Self {
            header,
            leavers: leavers(&replay.records),
        })
    }
}

/// The leavers of a journal's records.
pub fn leavers(records: &[Record]) -> Vec<AppliedLeaver> {
    let mut order: Vec<String> = Vec::new();
    let mut by_label: HashMap<String, AppliedLeaver> = HashMap::new();
    // Intents by sequence number, to read what a delete was for.
    let mut intents: HashMap<u64, (String, String, Value)> = HashMap::new();
    for record in records {
        match record {
            Record::Leaver(l) => {
                let entry = by_label.entry(l.leaver.clone()).or_insert_with(|| {
                    order.push(l.leaver.clone());
                    AppliedLeaver {
                        label: l.leaver.clone(),
                        record: l.clone(),
                        account: None,
                        workspace: None,
                        touched: HashSet::new(),
                        ended: HashMap::new(),
                        keys_deleted: Vec::new(),
                        reassigned_to: None,
                        reassigned: None,
                        room_after: None,
                        folder_after: None,
                    }
                });
                entry.record = l.clone();
            }
            Record::Prior(prior) => {
                if let Some(entry) = by_label.get_mut(&prior.leaver) {
                    // The first of each part is what the run replaced.
                    if entry.account.is_none() {
                        entry.account = prior.account.clone();
                    }
                    if entry.workspace.is_none() {
                        entry.workspace = prior.workspace.clone();
                    }
                }
            }
            Record::Intent {
                seq,
                leaver,
                step,
                action,
                detail,
                ..
            } => {
                intents.insert(*seq, (step.clone(), action.clone(), detail.clone()));
                if let Some(entry) = by_label.get_mut(leaver) {
                    entry.touched.insert(step.clone());
                    if step == "reassign"
                        && let Some(to) = detail["to"].as_str()
                    {
                        entry.reassigned_to = Some(to.to_lowercase());
                        entry.reassigned.get_or_insert_with(|| detail.clone());
                    }
                }
            }
            Record::Outcome {
                intent: Some(intent),
                leaver,
                status,
                detail,
                ..
            } if status == step_status::SENT => {
                let Some((step, _, sent)) = intents.get(intent) else {
                    continue;
                };
                // A delete answered with an error did not happen; one whose
                // answer was lost may have.
                let refused = detail.get("error").is_some() && detail["in_doubt"] != true;
                if step == "revoke_keys"
                    && !refused
                    && let Some(entry) = by_label.get_mut(leaver)
                    && let Some(name) = sent["name"].as_str()
                {
                    entry.keys_deleted.push(name.to_owned());
                }
            }
            Record::Outcome {
                leaver,
                step,
                status,
                detail,
                ..
            } if is_final(status) => {
                let Some(entry) = by_label.get_mut(leaver) else {
                    continue;
                };
                entry.ended.insert(step.clone(), status.clone());
                if step == "archive"
                    && matches!(status.as_str(), step_status::DONE | step_status::UNCHANGED)
                {
                    let after = &detail["after"];
                    if let Some(parent) = after["parent_id"].as_i64() {
                        entry.folder_after = Some(parent);
                    }
                    if let (Some(owner), Some(members)) =
                        (after["owner"].as_str(), after["members"].as_object())
                    {
                        entry.room_after = Some(RoomAfter {
                            owner: owner.to_lowercase(),
                            members: members
                                .iter()
                                .filter_map(|(id, a)| {
                                    Some((id.to_lowercase(), u8::try_from(a.as_u64()?).ok()?))
                                })
                                .collect(),
                        });
                    }
                }
            }
            _ => {}
        }
    }
    order
        .into_iter()
        .filter_map(|label| by_label.remove(&label))
        .collect()
}
