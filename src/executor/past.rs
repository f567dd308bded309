//! What earlier sessions of a run left behind, read from its journal: which steps
//! ended how, which writes may or may not have happened, and when each step's
//! first write was announced.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::journal::{Record, Replay, is_final, step_status};
use crate::manifest::Step;

/// What earlier sessions of this run left behind, per (leaver, step).
#[derive(Debug, Default)]
pub struct Past {
    finals: HashMap<(String, String), String>,
    /// A write was announced after the step's last final outcome (or without one),
    /// or the step failed after a write whose answer was lost: it may or may not
    /// have happened.
    in_doubt: HashSet<(String, String)>,
    /// When the first write of each (leaver, step) was announced: evidence that does
    /// not expire (the audit trail) is looked for from then on.
    first_intent: HashMap<(String, String), String>,
    /// Leavers whose account as it was before the run is journaled.
    prior_account: HashSet<String>,
    /// Leavers whose workspace as it was before the run is journaled.
    prior_workspace: HashSet<String>,
}

impl Past {
    /// What the journal says, with one check of the files it names: an export
    /// counts as done only while its zip is in `run_dir` with the recorded sha256.
    pub fn of(replay: &Replay, run_dir: &std::path::Path) -> Self {
        let mut past = Past::default();
        let mut exports: HashMap<String, Value> = HashMap::new();
        // Writes of a step whose answer was lost, since the step's last end.
        let mut lost: HashSet<(String, String)> = HashSet::new();
        for record in &replay.records {
            match record {
                Record::Prior(prior) => {
                    if prior.account.is_some() {
                        past.prior_account.insert(prior.leaver.clone());
                    }
                    if prior.workspace.is_some() {
                        past.prior_workspace.insert(prior.leaver.clone());
                    }
                }
                Record::Outcome {
                    leaver,
                    step,
                    status,
                    detail,
                    ..
                } if status == step_status::SENT && detail["in_doubt"] == true => {
                    lost.insert((leaver.clone(), step.clone()));
                }
                Record::Intent {
                    leaver, step, at, ..
                } => {
                    past.in_doubt.insert((leaver.clone(), step.clone()));
                    past.first_intent
                        .entry((leaver.clone(), step.clone()))
                        .or_insert_with(|| at.clone());
                }
                Record::Outcome {
                    leaver,
                    step,
                    status,
                    detail,
                    ..
                } if is_final(status) => {
                    if step == Step::Export.as_str() {
                        exports.insert(leaver.clone(), detail.clone());
                    }
                    let key = (leaver.clone(), step.clone());
                    // A skipped step did nothing: a write an earlier session left in
                    // doubt is still in doubt. A failed one settled nothing it lost
                    // the answer of.
                    let unsettled = status == step_status::SKIPPED
                        || (status == step_status::FAILED && lost.contains(&key));
                    if !unsettled {
                        past.in_doubt.remove(&key);
                    } else if status == step_status::FAILED {
                        past.in_doubt.insert(key.clone());
                    }
                    if status != step_status::SKIPPED {
                        lost.remove(&key);
                    }
                    past.finals.insert(key, status.clone());
                }
                _ => {}
            }
        }
        for (leaver, detail) in exports {
            let key = (leaver, Step::Export.as_str().to_owned());
            if past.finals.get(&key).map(String::as_str) != Some(step_status::DONE) {
                continue;
            }
            let intact = detail["path"]
                .as_str()
                .and_then(|path| std::fs::read(run_dir.join(path)).ok())
                .is_some_and(|bytes| {
                    Some(crate::run_dir::sha256_hex(&bytes).as_str()) == detail["sha256"].as_str()
                });
            if !intact {
                // Gone or changed since: download it again.
                past.finals.remove(&key);
            }
        }
        past
    }

    pub(super) fn status(&self, leaver: &str, step: Step) -> Option<&str> {
        self.finals
            .get(&(leaver.to_owned(), step.as_str().to_owned()))
            .map(String::as_str)
    }

    pub(super) fn complete(&self, leaver: &str, step: Step) -> bool {
        self.finished(leaver, step.as_str())
    }

    /// Whether the journal shows the leaver's step (by name) done or unchanged.
    pub fn finished(&self, leaver: &str, step: &str) -> bool {
        matches!(
            self.finals
                .get(&(leaver.to_owned(), step.to_owned()))
                .map(String::as_str),
            Some(step_status::DONE | step_status::UNCHANGED)
        )
    }

    /// When a write of the leaver's step was first announced, if ever.
    pub(super) fn first_intent(&self, leaver: &str, step: Step) -> Option<jiff::Timestamp> {
        self.first_intent
            .get(&(leaver.to_owned(), step.as_str().to_owned()))
            .and_then(|at| at.parse().ok())
    }

    /// Whether this session journals the leaver's account as it is now, for
    /// `offboard revert`: not when the journal holds it already, nor when an earlier
    /// session announced a write to the account without it (a run made by an older
    /// build): the account now is not what the run replaced.
    pub(super) fn needs_prior_account(&self, leaver: &str) -> bool {
        !self.prior_account.contains(leaver)
            && [Step::Disable, Step::RevokeKeys]
                .iter()
                .all(|s| self.first_intent(leaver, *s).is_none())
    }

    /// The same for the workspace, which the reassign and the archive change.
    pub(super) fn needs_prior_workspace(&self, leaver: &str) -> bool {
        !self.prior_workspace.contains(leaver)
            && [Step::Reassign, Step::Archive]
                .iter()
                .all(|s| self.first_intent(leaver, *s).is_none())
    }

    /// How many steps earlier sessions left in doubt.
    pub fn in_doubt_count(&self) -> usize {
        self.in_doubt.len()
    }

    pub(super) fn in_doubt(&self, leaver: &str, step: Step) -> bool {
        self.in_doubt
            .contains(&(leaver.to_owned(), step.as_str().to_owned()))
    }

    /// Leavers (as labelled in the journal) whose workspace an earlier session
    /// announced an archive or export write for: that happens only after the
    /// ownership check passed, and the owner the workspace has now may be the one this
    /// tool gave it. Outcomes prove nothing (a failed read ends a step too).
    pub fn worked_on_workspace(replay: &Replay) -> HashSet<String> {
        replay
            .records
            .iter()
            .filter_map(|record| match record {
                Record::Intent { leaver, step, .. }
                    if step == Step::Archive.as_str() || step == Step::Export.as_str() =>
                {
                    Some(leaver.clone())
                }
                _ => None,
            })
            .collect()
    }

    /// Did the leaver's last session end with a failed step?
    pub fn failed(&self, leaver: &str) -> bool {
        Step::ALL
            .iter()
            .any(|s| self.status(leaver, *s) == Some(step_status::FAILED))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::json;

    #[test]
    fn a_step_that_failed_after_a_lost_answer_stays_in_doubt() {
        let leaver = "ann@example.com";
        let replay = |lost: bool| {
            let closing = if lost {
                json!({ "error": "timed out", "in_doubt": true })
            } else {
                json!({ "error": "403" })
            };
            Replay {
                records: vec![
                    Record::intent(
                        1,
                        leaver,
                        "archive",
                        "PUT files/rooms/{id}/archive",
                        json!({}),
                    ),
                    Record::outcome(2, Some(1), leaver, "archive", step_status::SENT, closing),
                    Record::outcome(3, None, leaver, "archive", step_status::FAILED, json!({})),
                ],
                torn_tail: false,
            }
        };
        let dir = std::path::Path::new("/nonexistent");
        let past = Past::of(&replay(true), dir);
        assert!(past.in_doubt(leaver, Step::Archive));
        assert_eq!(past.in_doubt_count(), 1);
        let past = Past::of(&replay(false), dir);
        assert!(
            !past.in_doubt(leaver, Step::Archive),
            "a refusal settles it"
        );
        assert_eq!(past.in_doubt_count(), 0);
    }
}
