//! The pacer's tests: caps, cool-downs, retries and giving up, against scripted answers.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use super::*;
use crate::docspace::TransportKind;

fn pacer(max_writes: usize) -> Pacer {
    Pacer::new(&PacerConfig {
        per_minute: 0,
        max_reads: 50,
        max_writes,
        retry: RetryPolicy {
            max_retries: 3,
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            max_total: Duration::from_secs(10),
        },
        give_up_after: None,
    })
}

fn server_error() -> ApiError {
    ApiError::Server {
        status: 502,
        message: None,
    }
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_until_an_answer() {
    let p = pacer(15);
    let calls = AtomicUsize::new(0);
    let answer = p
        .call(Lane::Read, || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Err(server_error()),
                1 => Err(ApiError::Transport {
                    kind: TransportKind::Timeout,
                    message: "timed out".into(),
                }),
                _ => Ok(42),
            }
        })
        .await;
    assert_eq!(answer, Ok(42));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(p.counters.retries.load(Ordering::SeqCst), 2);
    assert_eq!(p.counters.attempts.load(Ordering::SeqCst), 3);
}

#[tokio::test(start_paused = true)]
async fn other_failures_are_not_retried_and_retries_are_bounded() {
    let p = pacer(15);
    let calls = AtomicUsize::new(0);
    let forbidden = p
        .call(Lane::Write, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(ApiError::Forbidden { message: None })
        })
        .await;
    assert!(matches!(forbidden, Err(ApiError::Forbidden { .. })));
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let calls = AtomicUsize::new(0);
    let failing = p
        .call(Lane::Write, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(server_error())
        })
        .await;
    assert_eq!(failing, Err(server_error()));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        4,
        "one attempt and three retries"
    );
}

#[tokio::test(start_paused = true)]
async fn a_429_holds_every_worker_back_for_its_retry_after() {
    let p = Arc::new(pacer(15));
    let first_call = Arc::new(AtomicUsize::new(0));
    let limited_at = Instant::now();
    let retried = {
        let p = p.clone();
        let first_call = first_call.clone();
        tokio::spawn(async move {
            p.call(Lane::Read, || {
                let first_call = first_call.clone();
                async move {
                    if first_call.fetch_add(1, Ordering::SeqCst) == 0 {
                        Err(ApiError::RateLimited {
                            retry_after: Some(Duration::from_secs(7)),
                        })
                    } else {
                        Ok(Instant::now())
                    }
                }
            })
            .await
        })
    };
    // Let the 429 land, then start another worker's call.
    tokio::task::yield_now().await;
    while first_call.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    let other = p
        .call(Lane::Read, || async { Ok(Instant::now()) })
        .await
        .unwrap();
    let retry = retried.await.unwrap().unwrap();
    assert!(
        other >= limited_at + Duration::from_secs(7),
        "the other worker waited"
    );
    assert!(
        retry >= limited_at + Duration::from_secs(7),
        "the retry waited"
    );
    assert_eq!(p.counters.rate_limited.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn writes_in_flight_never_exceed_their_cap() {
    let p = Arc::new(pacer(2));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let (p, in_flight, peak) = (p.clone(), in_flight.clone(), peak.clone());
            tokio::spawn(async move {
                p.call(Lane::Write, || {
                    let (in_flight, peak) = (in_flight.clone(), peak.clone());
                    async move {
                        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        Ok::<_, ApiError>(())
                    }
                })
                .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(peak.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn a_portal_silent_past_the_limit_is_given_up_on_and_nothing_more_is_sent() {
    let p = Pacer::new(&PacerConfig {
        per_minute: 0,
        max_reads: 50,
        max_writes: 15,
        retry: RetryPolicy {
            max_retries: 1000,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(2),
            max_total: Duration::from_secs(3600),
        },
        give_up_after: Some(Duration::from_secs(10)),
    });
    let refused = || async {
        Err::<(), _>(ApiError::Transport {
            kind: TransportKind::Connect,
            message: "connection refused".into(),
        })
    };
    // A portal that answers, even with an error, is alive.
    let answered = p.call(Lane::Read, || async {
        Err::<(), _>(ApiError::Forbidden { message: None })
    });
    let _ = answered.await;
    assert!(!p.gone().is_cancelled());
    let started = Instant::now();
    let calls = AtomicUsize::new(0);
    let silent = p
        .call(Lane::Read, || {
            calls.fetch_add(1, Ordering::SeqCst);
            refused()
        })
        .await;
    assert!(silent.is_err());
    assert!(p.gone().is_cancelled(), "given up");
    assert_eq!(p.gave_up_after(), Some(Duration::from_secs(10)));
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(8) && waited < Duration::from_secs(15),
        "retried for about the limit, not the hour the retry policy allows: {waited:?}"
    );
    let sent_before = calls.load(Ordering::SeqCst);
    let later = p
        .call(Lane::Write, || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Ok(()) }
        })
        .await;
    assert!(matches!(later, Err(ApiError::Transport { .. })));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        sent_before,
        "nothing more is sent"
    );
}
