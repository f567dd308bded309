//! Progress of `apply` on stderr. On a terminal: a line per finished leaver above
//! one bar (done / failed / running / rate-limited, ETA). Elsewhere (CI, pipes):
//! one line per finished leaver with a counter, nothing that redraws. Lines quote
//! leavers and the portal's messages: their control characters are escaped
//! (`crate::text`).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::executor::Event;
use crate::executor::Pacer;
use crate::text::visible;

/// Consumes the executor's events until the run drops its sender.
pub async fn show(mut events: UnboundedReceiver<Event>, terminal: bool, pacer: Arc<Pacer>) {
    let mut total = 0usize;
    let mut finished = 0usize;
    let (mut done, mut failed) = (0usize, 0usize);
    let mut running = std::collections::HashSet::new();
    let bar = terminal.then(|| {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} eta {eta}")
                .expect("a valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    });
    while let Some(event) = events.recv().await {
        match event {
            Event::Started { leavers } => {
                total = leavers;
                if let Some(bar) = &bar {
                    bar.set_length(leavers as u64);
                }
            }
            Event::Step { leaver, .. } => {
                running.insert(leaver);
            }
            Event::Notice(text) => {
                let text = visible(&text);
                match &bar {
                    Some(bar) => bar.println(text),
                    None => eprintln!("{text}"),
                }
            }
            Event::Finished {
                leaver,
                outcome,
                error,
            } => {
                running.remove(&leaver);
                finished += 1;
                match outcome {
                    "failed" | "invalid" => failed += 1,
                    "interrupted" => {}
                    _ => done += 1,
                }
                let line = match &error {
                    Some(error) => format!("{outcome:>11}  {leaver}  ({error})"),
                    None => format!("{outcome:>11}  {leaver}"),
                };
                let line = visible(&line);
                match &bar {
                    Some(bar) => {
                        bar.println(line);
                        bar.inc(1);
                    }
                    None => eprintln!("[{finished}/{total}] {}", line.trim_start()),
                }
            }
        }
        if let Some(bar) = &bar {
            let limited = pacer.counters.rate_limited.load(Ordering::Relaxed);
            bar.set_message(format!(
                "done {done} · failed {failed} · running {} · 429s {limited}",
                running.len()
            ));
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

/// Runs `work` (the reads of `plan`) and, on a terminal, shows a counter of the
/// requests `pacer` has sent meanwhile; elsewhere it shows nothing.
pub async fn counting<T>(work: impl Future<Output = T>, pacer: &Pacer, terminal: bool) -> T {
    if !terminal {
        return work.await;
    }
    let spinner = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    spinner.set_style(
        ProgressStyle::with_template("{spinner} reading the portal: {pos} requests")
            .expect("a valid template"),
    );
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tokio::pin!(work);
    let result = loop {
        tokio::select! {
            result = &mut work => break result,
            _ = tick.tick() => {
                spinner.set_position(pacer.counters.attempts.load(Ordering::Relaxed));
                spinner.tick();
            }
        }
    };
    spinner.finish_and_clear();
    result
}
