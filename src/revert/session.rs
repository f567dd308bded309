//! One `offboard revert` session: read the `apply` run's journal, read the portal
//! as it is now, show the revert plan and confirm, then restore what can be
//! restored, journaled in the revert's own run directory (resumable like apply),
//! and write the reports.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::execute::{RevertJob, Reverter, run};
use super::plan::{
    ACTIONS, ENABLE, ItemStatus, LeaverRevert, MEMBERS, NO_PRIOR, Now, OWNER, RevertOutcome,
};
use super::source::{Applied, AppliedLeaver, leavers};
use crate::docspace::{ApiError, Client};
use crate::executor::fileops::FileOps;
use crate::executor::{Lane, Pacer, PacerConfig};
use crate::exit;
use crate::journal::{FORMAT, LeaverRecord, Record, RunHeader, now, read_only, step_status};
use crate::plan::Lookup;
use crate::run_dir::hex;
use crate::stops::Stops;

/// Everything `revert` needs once the command line is read.
pub struct Revert {
    /// The `apply` run's directory.
    pub source: PathBuf,
    /// The revert's own run directory.
    pub run_dir: PathBuf,
    pub client: Client,
    /// `--leaver`: only these (as the manifest named them, or by email or id).
    pub leavers: Vec<String>,
    /// Ask before changing anything (no `--yes`).
    pub confirm: bool,
    /// There is a terminal to ask on; without one, revert shows its plan and stops.
    pub can_ask: bool,
    pub force: bool,
    pub only_failed: bool,
    pub concurrency: usize,
    pub pacer: PacerConfig,
    pub terminal: bool,
}

/// `RUN_DIR/revert`: the revert of a run beside the run.
pub fn default_run_dir(source: &Path) -> PathBuf {
    source.join("revert")
}

/// Runs one `revert` session and returns the exit code.
pub async fn revert(r: Revert) -> u8 {
    let applied = match Applied::read(&r.source) {
        Ok(applied) => applied,
        Err(err) => {
            say!("error: {err}");
            eprintln!(
                "hint: pass the run directory of an `offboard apply` (it holds journal.jsonl)"
            );
            return exit::INVALID;
        }
    };
    let portal = r.client.portal().to_string();
    if applied.header.reverts.is_some() {
        say!(
            "error: {} is the run directory of a revert; revert the apply run it reverted",
            r.source.display()
        );
        return exit::INVALID;
    }
    if applied.header.portal != portal {
        say!(
            "error: the run in {} was made on {}, not {portal}; nothing was sent",
            r.source.display(),
            applied.header.portal
        );
        return exit::INVALID;
    }
    let selected = match select(&applied.leavers, &r.leavers) {
        Ok(selected) => selected,
        Err(unknown) => {
            say!(
                "error: --leaver {unknown} is not a leaver of the run in {}",
                r.source.display()
            );
            return exit::INVALID;
        }
    };
    // What an earlier session of this revert decided and did.
    let earlier = read_only(&r.run_dir)
        .ok()
        .filter(|replay| {
            replay
                .header()
                .is_some_and(|h| h.reverts.as_deref() == Some(applied.header.run_id.as_str()))
        })
        .map(|replay| leavers(&replay.records))
        .unwrap_or_default();
    let earlier_of = |label: &str| earlier.iter().find(|l| l.label == label);
    let failed_before = |label: &str| {
        earlier_of(label).is_some_and(|l| l.ended.values().any(|s| s == step_status::FAILED))
    };
    let selected: Vec<&AppliedLeaver> = if r.only_failed {
        let failed: Vec<&AppliedLeaver> = selected
            .into_iter()
            .filter(|l| failed_before(&l.label))
            .collect();
        if failed.is_empty() {
            eprintln!(
                "nothing failed in the revert in {}: nothing to retry",
                r.run_dir.display()
            );
            return exit::SUCCESS;
        }
        failed
    } else {
        selected
    };

    let pacer = Arc::new(Pacer::new(&r.pacer));
    let client = Arc::new(r.client);
    // The key's pre-flight, as apply's: a portal, an admin's key with full
    // permissions (a restricted one would be refused at every write).
    let caller = match crate::observe::preflight(&client, &pacer).await {
        Ok(preflight) if preflight.restricted_key.is_some() => {
            say!(
                "error: pre-flight failed: the API key is restricted to {}; revert would be refused at every write",
                preflight.restricted_key.unwrap_or_default().join(", ")
            );
            return exit::PORTAL;
        }
        Ok(preflight) => preflight.caller,
        Err(err) => {
            crate::session::say_error(&err);
            return exit::PORTAL;
        }
    };
    // The portal now, for the leavers this session plans afresh.
    let fresh: Vec<&AppliedLeaver> = selected
        .iter()
        .copied()
        .filter(|l| earlier_of(&l.label).is_none())
        .collect();
    let reads = futures_util::stream::iter(fresh.iter().map(|l| {
        let (client, pacer) = (client.clone(), pacer.clone());
        async move { (l.label.clone(), read_now(&client, &pacer, l).await) }
    }))
    .buffer_unordered(8)
    .collect::<Vec<_>>()
    .await;
    let mut plans: Vec<LeaverRevert> = Vec::new();
    for leaver in &fresh {
        let now = reads
            .iter()
            .find(|(label, _)| *label == leaver.label)
            .map(|(_, now)| now)
            .expect("every fresh leaver was read");
        match now {
            Ok(now) => plans.push(super::plan::leaver(leaver, now, r.force)),
            Err(err) => {
                say!("error: cannot read the portal for {}: {err}", leaver.label);
                return exit::PORTAL;
            }
        }
    }
    let resumed: Vec<&AppliedLeaver> = selected
        .iter()
        .filter_map(|l| earlier_of(&l.label))
        .collect();
    let text = super::show::human(&plans, &resumed, &portal);
    eprint!("{text}");
    let due = plans
        .iter()
        .filter(|p| p.outcome == RevertOutcome::WillChange)
        .count()
        + resumed.len();
    if r.confirm && !r.can_ask {
        eprintln!("error: revert changes the portal and there is no terminal to confirm on");
        eprintln!("hint: read the revert plan above, then pass --yes");
        return exit::INVALID;
    }
    if r.confirm
        && !crate::session::confirmed(&format!(
            "Revert {due} leaver{} on {portal}?",
            if due == 1 { "" } else { "s" }
        ))
    {
        return exit::DECLINED;
    }

    let header = RunHeader {
        format: FORMAT,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        run_id: crate::session::run_id(),
        manifest: r.source.display().to_string(),
        manifest_sha256: hex(&Sha256::digest(applied.header.run_id.as_bytes())),
        portal: portal.clone(),
        started: now(),
        reverts: Some(applied.header.run_id.clone()),
    };
    let Some((journal, replay)) = crate::session::open_journal(&r.run_dir, header) else {
        return exit::INVALID;
    };
    if replay.header().is_some() {
        eprintln!("resuming {}", r.run_dir.display());
    }
    drop(replay);
    let journal = journal.share();

    // A leaver record per leaver, then the ends of what will not run.
    let mut jobs = Vec::new();
    for plan in &plans {
        let applied = fresh
            .iter()
            .find(|l| l.label == plan.leaver)
            .expect("a plan per fresh leaver");
        if let Err(err) = record_plan(&journal, applied, plan).await {
            return journal_failed(&err);
        }
        let todo: Vec<&'static str> = ACTIONS
            .into_iter()
            .filter(|a| {
                plan.items
                    .iter()
                    .any(|i| i.action == *a && i.status == ItemStatus::WillChange)
            })
            .collect();
        if !todo.is_empty() {
            jobs.push(job(applied, todo));
        }
    }
    for earlier in &resumed {
        let source = applied
            .leavers
            .iter()
            .find(|l| l.label == earlier.label)
            .expect("resumed leavers are the run's");
        // `--force` takes up what an earlier session left as drifted, where the run
        // recorded what to restore.
        let restorable = |action: &str| {
            if action == ENABLE {
                source.account.is_some()
            } else {
                source.workspace.is_some()
            }
        };
        let unfinished = |action: &str| {
            earlier.record.steps.iter().any(|s| s == action)
                && match earlier.ended.get(action).map(String::as_str) {
                    Some(step_status::DONE | step_status::UNCHANGED) => false,
                    Some(step_status::SKIPPED) => r.force && restorable(action),
                    _ => true,
                }
        };
        // Giving the room back makes its owner now a manager: the members again.
        let todo: Vec<&'static str> = ACTIONS
            .into_iter()
            .filter(|a| {
                unfinished(a)
                    || (*a == MEMBERS
                        && unfinished(OWNER)
                        && earlier.record.steps.iter().any(|s| s == MEMBERS))
            })
            .collect();
        let mut record = earlier.record.clone();
        record.at = now();
        if !todo.is_empty() && record.class == "drifted" {
            // `--force`: what was left alone is restored now.
            record.class = "due".into();
            record.reason = None;
        }
        if let Err(err) = journal.record(Record::Leaver(record)).await {
            return journal_failed(&err);
        }
        if !todo.is_empty() {
            jobs.push(job(source, todo));
        }
    }

    let (events, receiver) = mpsc::unbounded_channel();
    let stops = Stops::watch(pacer.clone(), &events, "offboard revert");
    let progress = tokio::spawn(crate::report::progress::show(
        receiver,
        r.terminal,
        pacer.clone(),
    ));
    let reverter = Arc::new(Reverter {
        fileops: FileOps::spawn(client.clone(), pacer.clone()),
        client,
        pacer: pacer.clone(),
        journal: journal.clone(),
        cancel: stops.cancel.clone(),
        events,
        caller: caller.id.to_lowercase(),
    });
    let result = run(reverter.clone(), jobs, r.concurrency).await;
    let interrupted = reverter.cancel.is_cancelled() || pacer.gone().is_cancelled();
    drop(reverter);
    let result = result.map(|failed| (interrupted, failed));
    crate::session::close(
        &journal,
        &r.run_dir,
        &pacer,
        (stops, progress),
        result,
        "revert",
    )
    .await
}

fn journal_failed(err: &crate::journal::JournalError) -> u8 {
    say!("error: cannot write the journal: {err}");
    exit::FAILED
}

/// The leavers `--leaver` names (all when none), or the first name that is none of
/// them.
fn select<'a>(
    all: &'a [AppliedLeaver],
    wanted: &[String],
) -> Result<Vec<&'a AppliedLeaver>, String> {
    if wanted.is_empty() {
        return Ok(all.iter().collect());
    }
    let matches = |l: &AppliedLeaver, name: &str| {
        l.label.eq_ignore_ascii_case(name)
            || l.record
                .user_id
                .as_deref()
                .is_some_and(|id| id.eq_ignore_ascii_case(name))
            || l.account
                .as_ref()
                .is_some_and(|a| a.email.eq_ignore_ascii_case(name))
    };
    for name in wanted {
        if !all.iter().any(|l| matches(l, name)) {
            return Err(name.clone());
        }
    }
    Ok(all
        .iter()
        .filter(|l| wanted.iter().any(|name| matches(l, name)))
        .collect())
}

/// What the portal shows now of what the run changed for `leaver`.
async fn read_now(client: &Client, pacer: &Pacer, leaver: &AppliedLeaver) -> Result<Now, ApiError> {
    let read_user = async |id: &str| Lookup::of(pacer.call(Lane::Read, || client.user(id)).await);
    let user = match &leaver.record.user_id {
        Some(id) => read_user(id).await?,
        None => Lookup::Missing,
    };
    let mut now = Now {
        user,
        workspace: None,
        members: Vec::new(),
        prior_owner: None,
    };
    if let Some(prior) = &leaver.workspace {
        let folder = Lookup::of(pacer.call(Lane::Read, || client.folder(prior.id)).await)?;
        if let Lookup::Found(found) = &folder
            && found.is_room()
        {
            now.members = pacer
                .call(Lane::Read, || client.room_members(prior.id))
                .await?;
        }
        now.workspace = Some(folder);
        let leaver_id = leaver.record.user_id.as_deref().map(str::to_lowercase);
        if let Some(owner) = prior
            .owner
            .as_deref()
            .filter(|o| Some(*o) != leaver_id.as_deref())
        {
            now.prior_owner = Some(read_user(owner).await?);
        }
    }
    Ok(now)
}

/// The leaver's revert plan into the journal: their record, and the end of every
/// item that will not run (as it was before, changed by someone since, not
/// allowed).
async fn record_plan(
    journal: &crate::journal::SharedJournal,
    applied: &AppliedLeaver,
    plan: &LeaverRevert,
) -> Result<(), crate::journal::JournalError> {
    let (class, reason) = match plan.outcome {
        RevertOutcome::WillChange => ("due", None),
        RevertOutcome::Unchanged => ("due", None),
        RevertOutcome::Drifted => (
            "drifted",
            Some("changed on the portal since the run".to_owned()),
        ),
        RevertOutcome::NoPrior => ("invalid", Some(NO_PRIOR.to_owned())),
    };
    let record = LeaverRecord {
        at: now(),
        leaver: applied.label.clone(),
        user_id: applied.record.user_id.clone(),
        display_name: applied.record.display_name.clone(),
        workspace: applied.record.workspace,
        workspace_kind: applied.record.workspace_kind.clone(),
        class: class.to_owned(),
        reason,
        steps: plan.items.iter().map(|i| i.action.clone()).collect(),
        ticket: applied.record.ticket.clone(),
    };
    journal.record(Record::Leaver(record)).await?;
    for item in &plan.items {
        let (status, detail) = match item.status {
            ItemStatus::WillChange => continue,
            ItemStatus::Unchanged => (step_status::UNCHANGED, json!({ "detail": item.detail })),
            ItemStatus::Drifted => (
                step_status::SKIPPED,
                json!({
                    "reason": item.detail,
                    "drifted": true,
                    "warnings": [format!("{}: left as it is: {}", item.action, item.detail)],
                }),
            ),
            ItemStatus::Cannot if item.detail == NO_PRIOR => {
                (step_status::SKIPPED, json!({ "reason": item.detail }))
            }
            ItemStatus::Cannot => (step_status::FAILED, json!({ "error": item.detail })),
        };
        journal
            .outcome(None, &applied.label, &item.action, status, detail)
            .await?;
    }
    Ok(())
}

fn job(applied: &AppliedLeaver, todo: Vec<&'static str>) -> RevertJob {
    RevertJob {
        label: applied.label.clone(),
        user_id: applied.record.user_id.clone().unwrap_or_default(),
        restore_owner: todo.contains(&OWNER),
        todo,
        workspace: applied.workspace.clone(),
        tally: Default::default(),
    }
}
