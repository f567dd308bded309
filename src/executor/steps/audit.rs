//! The `audit` step: writes the leaver's audit trail and login history over their
//! `audit_days` to `audit/<leaver>.json` in the run directory. It only reads the
//! portal, so there is no write to settle: a step left in doubt simply runs again.
//! The login history is read once for the whole run, over the longest window.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::shared::{OrFail, StepError, same_id};
use crate::docspace::HistoryFilter;
use crate::executor::engine::{Engine, Job, StepEnd};
use crate::run_dir::{file_stem, write_atomically};

pub(super) async fn run(engine: &Engine, job: &Job) -> Result<StepEnd, StepError> {
    let to = jiff::Timestamp::now();
    let from = to
        .checked_sub(jiff::SignedDuration::from_hours(
            24 * i64::from(job.leaver.audit_days),
        ))
        .unwrap_or(to);
    let filter = HistoryFilter {
        user: Some(job.user.id.clone()),
        from: Some(from),
        to: Some(to),
        ..HistoryFilter::default()
    };
    let events = engine
        .read(job, || engine.client.audit_events(&filter))
        .await
        .or_fail("cannot read the audit trail")?;
    let logins = engine
        .logins
        .get_or_init(|| async {
            let longest = to
                .checked_sub(jiff::SignedDuration::from_hours(
                    24 * i64::from(engine.longest_audit_days),
                ))
                .unwrap_or(to);
            let everyone = HistoryFilter {
                from: Some(longest),
                to: Some(to),
                ..HistoryFilter::default()
            };
            engine
                .read(job, || engine.client.login_events(&everyone))
                .await
                .map_err(|e| e.to_string())
        })
        .await;
    let logins = logins.as_ref().or_fail("cannot read the login history")?;
    let logins: Vec<&Value> = logins
        .iter()
        .filter(|e| {
            e["userId"]
                .as_str()
                .is_some_and(|id| same_id(id, &job.user.id))
        })
        .filter(|e| {
            e["date"]
                .as_str()
                .and_then(|d| d.parse::<jiff::Timestamp>().ok())
                .is_none_or(|d| d >= from)
        })
        .collect();
    let relative = PathBuf::from("audit").join(format!("{}.json", file_stem(&job.label)));
    let document = json!({
        "leaver": job.label,
        "user_id": job.user.id,
        "from": from.to_string(),
        "to": to.to_string(),
        "filters_ignored": engine.audit.filters_ignored,
        "audit_events": events,
        "login_events": logins,
    });
    let text = serde_json::to_vec_pretty(&document).expect("JSON values serialize");
    let path = engine.run_dir.join(&relative);
    if let Err(err) = write_atomically(&path, &text) {
        return Ok(StepEnd::Failed(
            format!("cannot write {}: {err}", path.display()),
            json!({}),
        ));
    }
    let mut detail = json!({
        "path": relative.to_string_lossy(),
        "audit_events": events.len(),
        "login_events": logins.len(),
    });
    if engine.audit.filters_ignored {
        detail["warnings"] =
            json!(["the portal's plan ignores audit filters: only its last 20 events came back"]);
    }
    Ok(StepEnd::Done(detail))
}
