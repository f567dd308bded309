//! One pacer for all of a run's requests, shaped like the portal's own limiter
//! (docspace-api.md §12): a rate limit per minute (governor), separate caps on
//! requests in flight for reads and for writes, and a global cool-down that any 429's
//! `Retry-After` sets for every worker. Transient failures (429, 5xx, timeouts,
//! dropped connections) are retried with exponential backoff and jitter (backon),
//! bounded in attempts and in total time; everything else fails at once.
//!
//! Only the executor sleeps: this module is where it happens.

use std::future::Future;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::docspace::ApiError;

/// How the pacer behaves.
#[derive(Debug, Clone)]
pub struct PacerConfig {
    /// Requests per minute; 0 switches the rate limit off.
    pub per_minute: u32,
    pub max_reads: usize,
    pub max_writes: usize,
    pub retry: RetryPolicy,
    /// Give up on a portal that has answered nothing for this long (no connection,
    /// timeouts, gateway errors): every call from then on fails at once, unsent.
    /// `None`: never.
    pub give_up_after: Option<Duration>,
}

/// How long a portal may answer nothing before a run gives up on it.
pub const DEFAULT_GIVE_UP_AFTER: Duration = Duration::from_secs(120);

impl Default for PacerConfig {
    /// DocSpace's defaults: 1500 a minute, 50 reads and 15 writes in flight.
    fn default() -> Self {
        Self {
            per_minute: 1500,
            max_reads: 50,
            max_writes: 15,
            retry: RetryPolicy::default(),
            give_up_after: Some(DEFAULT_GIVE_UP_AFTER),
        }
    }
}

/// Bounds on retrying one call.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// The most time spent waiting between attempts of one call.
    pub max_total: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 8,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
            max_total: Duration::from_secs(300),
        }
    }
}

/// Which in-flight cap a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    Read,
    /// An idempotent POST or PUT (sending it twice does no harm): counted against
    /// the portal's daily budget, retried like a read.
    Write,
    /// A POST or PUT that must not happen twice (start a job, move, archive): retried
    /// only when the portal surely did not act on it (a 429, no connection). After
    /// any other failure the caller looks at the portal before sending it again.
    Once,
    /// DELETE: a write slot, not part of the daily budget, and retried like
    /// [`Lane::Once`]: deleting what a lost answer already deleted fails (DocSpace
    /// answers 500 for an unknown API key).
    Delete,
}

/// Requests of one leaver (or any part of a run), as the pacer sent them.
#[derive(Debug, Default)]
pub struct Tally {
    /// HTTP requests sent, retries included.
    pub attempts: AtomicU64,
    /// POST and PUT requests among them.
    pub writes: AtomicU64,
}

/// What the pacer saw, for the report.
#[derive(Debug, Default)]
pub struct Counters {
    pub attempts: AtomicU64,
    /// POST and PUT attempts.
    pub writes: AtomicU64,
    pub retries: AtomicU64,
    pub rate_limited: AtomicU64,
}

impl Counters {
    /// The counters now, as the journal keeps them.
    pub fn snapshot(&self) -> crate::journal::SessionCounters {
        crate::journal::SessionCounters {
            requests: self.attempts.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
        }
    }
}

pub struct Pacer {
    limiter: Option<DefaultDirectRateLimiter>,
    per_minute: u32,
    reads: Semaphore,
    writes: Semaphore,
    cooldown: Mutex<Option<Instant>>,
    retry: RetryPolicy,
    pub counters: Counters,
    give_up_after: Option<Duration>,
    hearing: Mutex<Hearing>,
    /// Held by the one request that asks a silent portal whether it is back.
    probe: tokio::sync::Mutex<()>,
    /// Cancelled once the portal has been silent for `give_up_after`.
    gone: CancellationToken,
}

/// When the portal last answered anything (an error status from DocSpace itself
/// counts: it is alive), and since when it has been silent, if it is.
#[derive(Debug, Clone, Copy)]
struct Hearing {
    last_answer: Instant,
    silent_since: Option<Instant>,
}

/// A portal is silent once nothing but silence came back for this long: a dropped
/// answer among others that get through is no outage.
const SILENT_AFTER: Duration = Duration::from_secs(2);
/// While the portal is silent, requests ask it one at a time, at most one per
/// this interval: a quarter of the silence so far, within these bounds.
const PROBE_MIN: Duration = Duration::from_secs(1);
const PROBE_MAX: Duration = Duration::from_secs(15);

/// Whether a failed attempt in `lane` may be sent again without looking first.
fn retryable(lane: Lane, err: &ApiError) -> bool {
    match lane {
        Lane::Once | Lane::Delete => err.surely_not_processed(),
        _ => err.is_transient(),
    }
}

/// No answer from DocSpace itself: no connection, no response in time, or a
/// gateway in front of it saying the portal behind it is down.
fn silent(err: &ApiError) -> bool {
    matches!(
        err,
        ApiError::Transport { .. }
            | ApiError::Server {
                status: 502..=504,
                ..
            }
    )
}

impl Pacer {
    pub fn new(config: &PacerConfig) -> Self {
        let limiter = NonZeroU32::new(config.per_minute).map(|per_minute| {
            // A small burst (a second's worth, at least one) keeps the start smooth
            // without ever running ahead of the portal's sliding minute.
            let burst = NonZeroU32::new((config.per_minute / 60).max(1)).expect("at least one");
            RateLimiter::direct(Quota::per_minute(per_minute).allow_burst(burst))
        });
        Self {
            limiter,
            per_minute: config.per_minute,
            reads: Semaphore::new(config.max_reads.max(1)),
            writes: Semaphore::new(config.max_writes.max(1)),
            cooldown: Mutex::new(None),
            retry: config.retry.clone(),
            counters: Counters::default(),
            give_up_after: config.give_up_after,
            hearing: Mutex::new(Hearing {
                last_answer: Instant::now(),
                silent_since: None,
            }),
            probe: tokio::sync::Mutex::new(()),
            gone: CancellationToken::new(),
        }
    }

    /// Cancelled once the run has given up on a portal that answers nothing.
    pub fn gone(&self) -> &CancellationToken {
        &self.gone
    }

    /// How long the portal was silent before the pacer gave up, if it did.
    pub fn gave_up_after(&self) -> Option<Duration> {
        self.gone
            .is_cancelled()
            .then_some(self.give_up_after)
            .flatten()
    }

    fn is_silent(&self) -> bool {
        self.hearing
            .lock()
            .expect("hearing lock")
            .silent_since
            .is_some()
    }

    /// Notes what an attempt got back: an answer keeps the portal alive. Silence
    /// holds every worker back for the next probe, and silence longer than
    /// `give_up_after` gives up on the portal.
    fn heard(&self, result: Result<(), &ApiError>) {
        let now = Instant::now();
        let probe_in = {
            let mut hearing = self.hearing.lock().expect("hearing lock");
            match result {
                Err(err) if silent(err) => {
                    if self
                        .give_up_after
                        .is_some_and(|limit| now - hearing.last_answer >= limit)
                    {
                        self.gone.cancel();
                    }
                    let silence = now - hearing.last_answer;
                    if silence < SILENT_AFTER {
                        // A dropped answer among others that get through.
                        return;
                    }
                    hearing.silent_since = Some(hearing.last_answer);
                    let next = (silence / 4).clamp(PROBE_MIN, PROBE_MAX);
                    // The last probe goes out when the silence reaches the limit.
                    match self.give_up_after {
                        Some(limit) if limit > silence => next.min(limit - silence),
                        _ => next,
                    }
                }
                _ => {
                    *hearing = Hearing {
                        last_answer: now,
                        silent_since: None,
                    };
                    return;
                }
            }
        };
        self.cool_down(probe_in);
    }

    /// The rate limit per minute (0: none).
    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// Makes every worker wait until `for_how_long` from now.
    fn cool_down(&self, for_how_long: Duration) {
        let until = Instant::now() + for_how_long;
        let mut cooldown = self.cooldown.lock().expect("cooldown lock");
        if cooldown.is_none_or(|current| current < until) {
            *cooldown = Some(until);
        }
    }

    /// Waits out the cool-down; false when the run gave up on the portal meanwhile.
    async fn wait_for_cooldown(&self) -> bool {
        tokio::select! {
            () = self.cooled_down() => !self.gone.is_cancelled(),
            () = self.gone.cancelled() => false,
        }
    }

    async fn cooled_down(&self) {
        loop {
            let until = *self.cooldown.lock().expect("cooldown lock");
            match until {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => return,
            }
        }
    }

    /// One attempt: wait out any cool-down, a rate-limit cell and a slot in `lane`,
    /// then call. A 429 cools every worker down.
    async fn attempt<T, Fut>(
        &self,
        lane: Lane,
        tally: Option<&Tally>,
        call: impl FnOnce() -> Fut,
    ) -> Result<T, ApiError>
    where
        Fut: Future<Output = Result<T, ApiError>>,
    {
        if !self.wait_for_cooldown().await {
            return Err(Self::unsent());
        }
        if let Some(limiter) = &self.limiter {
            limiter.until_ready().await;
        }
        // While the portal is silent, one request at a time asks whether it is back.
        let _probe = if self.is_silent() {
            let probe = tokio::select! {
                probe = self.probe.lock() => probe,
                () = self.gone.cancelled() => return Err(Self::unsent()),
            };
            if !self.wait_for_cooldown().await {
                return Err(Self::unsent());
            }
            Some(probe)
        } else {
            None
        };
        if self.gone.is_cancelled() {
            return Err(Self::unsent());
        }
        let slots = match lane {
            Lane::Read => &self.reads,
            Lane::Write | Lane::Once | Lane::Delete => &self.writes,
        };
        let _slot = slots
            .acquire()
            .await
            .expect("the semaphore is never closed");
        self.counters.attempts.fetch_add(1, Ordering::Relaxed);
        let write = matches!(lane, Lane::Write | Lane::Once);
        if write {
            self.counters.writes.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(tally) = tally {
            tally.attempts.fetch_add(1, Ordering::Relaxed);
            if write {
                tally.writes.fetch_add(1, Ordering::Relaxed);
            }
        }
        let result = call().await;
        self.heard(result.as_ref().map(|_| ()));
        if let Err(ApiError::RateLimited { retry_after }) = &result {
            self.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
            self.cool_down(retry_after.unwrap_or(self.retry.min_delay));
        }
        result
    }

    /// Calls `call` under the pacer, retrying transient failures.
    pub async fn call<T, F, Fut>(&self, lane: Lane, call: F) -> Result<T, ApiError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        self.call_tallied(lane, None, call).await
    }

    /// [`Pacer::call`], also counting every attempt in `tally`.
    pub async fn call_tallied<T, F, Fut>(
        &self,
        lane: Lane,
        tally: Option<&Tally>,
        call: F,
    ) -> Result<T, ApiError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        loop {
            let backoff = ExponentialBuilder::default()
                .with_min_delay(self.retry.min_delay)
                .with_max_delay(self.retry.max_delay)
                .with_max_times(self.retry.max_retries)
                .with_total_delay(Some(self.retry.max_total))
                .with_jitter();
            let gone = self.gone.clone();
            let answer = (|| self.attempt(lane, tally, &call))
                .retry(backoff)
                // A retry waiting its turn stops waiting when the run gives up.
                .sleep(move |delay| {
                    let gone = gone.clone();
                    async move {
                        tokio::select! {
                            () = tokio::time::sleep(delay) => {}
                            () = gone.cancelled() => {}
                        }
                    }
                })
                .when(|err| !self.gone.is_cancelled() && retryable(lane, err))
                // A 429 says how long to wait; the cool-down already holds every
                // worker back that long, so the retry itself need not wait more.
                .adjust(|err, delay| match err {
                    ApiError::RateLimited { .. } => Some(Duration::ZERO),
                    _ => delay,
                })
                .notify(|_, _| {
                    self.counters.retries.fetch_add(1, Ordering::Relaxed);
                })
                .await;
            match &answer {
                // Out of retries against a portal that answers nothing: the
                // silence bound (--give-up-after), not the retry count, decides
                // when to stop, so no leaver fails for an outage the run outlasts.
                Err(err)
                    if silent(err)
                        && retryable(lane, err)
                        && self.give_up_after.is_some()
                        && !self.gone.is_cancelled() => {}
                _ => return answer,
            }
        }
    }

    /// The error of a call not sent because the run gave up on the portal. A
    /// connection failure: the portal surely did not act on it.
    fn unsent() -> ApiError {
        ApiError::Transport {
            kind: crate::docspace::TransportKind::Connect,
            message: "not sent: the portal stopped answering".into(),
        }
    }
}

#[cfg(test)]
mod tests;
