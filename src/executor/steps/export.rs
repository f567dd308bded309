//! The `export` step: downloads the leaver's workspace as a zip into the run
//! directory (`PUT files/fileops/bulkdownload`, then the archive link), with its
//! sha256 in the journal. It changes nothing on the portal, so a download whose
//! finished record or link was lost is started again; after an earlier session left
//! it in doubt, the caller's running file operations settle first.

use std::path::PathBuf;

use serde_json::json;

use super::shared::{ONCE_TRIES, OrFail, SETTLE_WAIT, StepError};
use crate::executor::engine::{Engine, Job, StepEnd};
use crate::executor::pacer::Lane;
use crate::manifest::Step;
use crate::plan::export_problem;
use crate::run_dir::{file_stem, sha256_hex, write_atomically};

pub(super) async fn run(engine: &Engine, job: &Job) -> Result<StepEnd, StepError> {
    let workspace = job.workspace().id;
    let folders = [workspace];
    // A room that restricts downloads refuses the key's user (404 "The required folder
    // was not found", DownloadPermissionsCheck): say why instead.
    if let Some(problem) = export_problem(workspace as u64, job.workspace()) {
        return Ok(StepEnd::Failed(problem, json!({})));
    }
    if job.in_doubt.contains(&Step::Export) {
        engine.fileops.wait_idle(SETTLE_WAIT).await;
    }
    // The finished record and the archive link are each good for one read: when a
    // dropped answer loses either, the download is started again (it changes nothing
    // on the portal).
    // DocSpace runs one bulk download per user at a time ("Too many downloads."):
    // exports of the run take turns.
    let _turn = engine
        .exports
        .acquire()
        .await
        .expect("the export semaphore is never closed");
    let mut tries = 0;
    let bytes = loop {
        tries += 1;
        let operations = engine
            .write(
                job,
                Step::Export,
                Some(Lane::Write),
                "PUT files/fileops/bulkdownload",
                json!({ "folder": workspace }),
                || engine.client.bulk_download(&folders),
            )
            .await?
            .or_fail("cannot start the download")?;
        let Some(started) = operations.into_iter().next() else {
            return Ok(StepEnd::Failed(
                "the portal started no download".into(),
                json!({}),
            ));
        };
        let finished = if started.finished {
            Ok(started)
        } else {
            engine.fileops.wait(&started.id).await
        };
        let finished = match finished {
            Ok(finished) => finished,
            Err(_) if tries < ONCE_TRIES => continue,
            Err(lost) => return Ok(StepEnd::Failed(format!("download: {lost}"), json!({}))),
        };
        if let Some(error) = finished.failure() {
            return Ok(StepEnd::Failed(
                format!("the download failed: {error}"),
                json!({}),
            ));
        }
        let Some(url) = finished.url.clone() else {
            return Ok(StepEnd::Failed(
                "the finished download has no URL".into(),
                json!({}),
            ));
        };
        match engine.read(job, || engine.client.download(&url)).await {
            Ok(bytes) => break bytes,
            Err(_) if tries < ONCE_TRIES => continue,
            Err(err) => {
                return Ok(StepEnd::Failed(
                    format!("cannot fetch the archive: {err}"),
                    json!({}),
                ));
            }
        }
    };
    let relative =
        PathBuf::from("exports").join(format!("{}-{workspace}.zip", file_stem(&job.label)));
    let path = engine.run_dir.join(&relative);
    if let Err(err) = write_atomically(&path, &bytes) {
        return Ok(StepEnd::Failed(
            format!("cannot write {}: {err}", path.display()),
            json!({}),
        ));
    }
    let sha256 = sha256_hex(&bytes);
    Ok(StepEnd::Done(json!({
        "path": relative.to_string_lossy(),
        "sha256": sha256,
        "bytes": bytes.len(),
    })))
}
