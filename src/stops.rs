//! What stops a session that writes (`apply`, `revert`): Ctrl-C and SIGTERM (which
//! CI runners send on cancel) stop it the same way, and a portal silent for
//! `--give-up-after` stops it too. No new work starts; calls in flight finish and
//! are journaled; the exit code says why.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::executor::{Event, Pacer};
use crate::exit;

/// The watchers of one session.
pub struct Stops {
    /// Cancelled when the session is to stop.
    pub cancel: CancellationToken,
    code: Arc<AtomicU8>,
    signals: JoinHandle<()>,
    silence: JoinHandle<()>,
    pacer: Arc<Pacer>,
    command: &'static str,
}

impl Stops {
    /// Starts watching; what happens is told through `events` (the progress display
    /// prints it above its bar). `command` is what resumes (`offboard apply`).
    pub fn watch(
        pacer: Arc<Pacer>,
        events: &mpsc::UnboundedSender<Event>,
        command: &'static str,
    ) -> Self {
        let cancel = CancellationToken::new();
        let code = Arc::new(AtomicU8::new(exit::INTERRUPTED));
        let signals = {
            let (interrupt, notices, code) = (cancel.clone(), events.clone(), code.clone());
            tokio::spawn(async move {
                if let Some(signal) = stop_signal().await {
                    code.store(signal, Ordering::Relaxed);
                    // Through the progress display, so the bar is not torn.
                    let _ = notices.send(Event::Notice(
                        "interrupted: no new work starts; calls in flight finish and are journaled (Ctrl-C again stops at once)".into(),
                    ));
                    interrupt.cancel();
                    if let Some(signal) = stop_signal().await {
                        // The journal is fsynced record by record: it replays as it stands.
                        std::process::exit(i32::from(signal));
                    }
                }
            })
        };
        // A portal that answers nothing for --give-up-after: said once, then the
        // session stops as on Ctrl-C (the pacer already sends nothing more).
        let silence = {
            let (pacer, cancel, notices, code) =
                (pacer.clone(), cancel.clone(), events.clone(), code.clone());
            tokio::spawn(async move {
                pacer.gone().cancelled().await;
                code.store(exit::PORTAL, Ordering::Relaxed);
                let _ = notices.send(Event::Notice(gave_up(&pacer, command)));
                cancel.cancel();
            })
        };
        Self {
            cancel,
            code,
            signals,
            silence,
            pacer,
            command,
        }
    }

    /// Stops watching (the signal watcher holds a sender of the progress display:
    /// ending it lets the display see the end). Says that the session gave up on
    /// the portal if the display did not hear it.
    pub async fn end(self) -> Ended {
        self.signals.abort();
        let _ = self.signals.await;
        self.silence.abort();
        let said = self.silence.await.is_ok();
        if self.pacer.gone().is_cancelled() && !said {
            // Given up as the session ended, before the display heard of it.
            eprintln!("{}", gave_up(&self.pacer, self.command));
        }
        Ended {
            code: self.code.load(Ordering::Relaxed),
            gave_up: self
                .pacer
                .gone()
                .is_cancelled()
                .then(|| gave_up(&self.pacer, self.command)),
        }
    }
}

/// Why a session stopped early, once it ended.
pub struct Ended {
    /// The exit code of a stop: 130 (Ctrl-C), 143 (SIGTERM) or the portal's.
    pub code: u8,
    /// What the session said when it gave up on a silent portal.
    pub gave_up: Option<String>,
}

/// What a session says when it gives up on a silent portal.
fn gave_up(pacer: &Pacer, command: &str) -> String {
    format!(
        "the portal has answered nothing for {} s: giving up; no new work starts, the journal keeps the place, and `{command}` again resumes",
        pacer.gave_up_after().map_or(0, |d| d.as_secs())
    )
}

/// Waits for Ctrl-C or SIGTERM; the exit code that stands for it.
async fn stop_signal() -> Option<u8> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).ok()?;
        tokio::select! {
            interrupt = tokio::signal::ctrl_c() => interrupt.ok().map(|()| exit::INTERRUPTED),
            _ = term.recv() => Some(exit::TERMINATED),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .ok()
            .map(|()| exit::INTERRUPTED)
    }
}
