//! The rate limiter (§12) and seeded fault injection.

use std::time::Duration;

use docspace_sim::{Config, Faults};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn the_sliding_window_answers_429_with_an_empty_body_once_spent() {
    let p = Portal::with(Config {
        rate_limit_per_minute: 5,
        ..Config::for_tests()
    })
    .await;
    for _ in 0..5 {
        assert_eq!(p.get("/api/2.0/people/@self", OWNER).await.status, 200);
    }
    let limited = p.get("/api/2.0/people/@self", OWNER).await;
    assert_eq!((limited.status, limited.text.as_str()), (429, ""));
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(limited.headers["x-ratelimit-limit"], "5");
    assert_eq!(limited.headers["x-ratelimit-remaining"], "0");
    // Each user has a window of their own; successful answers carry no headers.
    let other = p.get("/api/2.0/people/@self", ADMIN).await;
    assert_eq!(other.status, 200);
    assert!(other.headers.get("x-ratelimit-limit").is_none());
    assert_eq!(p.sim.stats()["limiter429"], 1);
}

#[tokio::test]
async fn the_daily_window_counts_post_and_put() {
    let p = Portal::with(Config {
        rate_limit_per_minute: 100,
        daily_write_limit: 2,
        ..Config::for_tests()
    })
    .await;
    assert_eq!(
        p.call("POST", "/api/2.0/keys", PLAIN, Some(json!({"name": "a"})))
            .await
            .status,
        200
    );
    assert_eq!(
        p.call("POST", "/api/2.0/keys", PLAIN, Some(json!({"name": "b"})))
            .await
            .status,
        200
    );
    let third = p
        .call("POST", "/api/2.0/keys", PLAIN, Some(json!({"name": "c"})))
        .await;
    assert_eq!(third.status, 429);
    assert!(third.headers.contains_key("retry-after"));
    assert_eq!(
        p.get("/api/2.0/people/@self", PLAIN).await.status,
        200,
        "reads are not counted"
    );
}

#[tokio::test]
async fn concurrent_requests_beyond_the_cap_are_rejected_without_queueing() {
    let p = Portal::with(Config {
        rate_limit_per_minute: 1000,
        max_concurrent_reads: 2,
        faults: Faults::parse("latency=1s..1s").unwrap(),
        ..Config::for_tests()
    })
    .await;
    let requests = (0..4).map(|_| p.get("/api/2.0/people/@self", OWNER));
    let answers = futures_join(requests).await;
    let rejected = answers.iter().filter(|a| a.status == 429).count();
    let served = answers.iter().filter(|a| a.status == 200).count();
    assert_eq!(
        (served, rejected),
        (2, 2),
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
}

async fn futures_join<F: std::future::Future<Output = Answer>>(
    futures: impl Iterator<Item = F>,
) -> Vec<Answer> {
    let handles: Vec<_> = futures.map(|f| Box::pin(f)).collect();
    let mut out = Vec::new();
    // Poll all at once: a small join without a futures dependency.
    let mut pending: Vec<_> = handles.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut all_done = true;
        for slot in pending.iter_mut() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(answer) => {
                        out.push(answer);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all_done = false,
                }
            }
        }
        if all_done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out
}

#[tokio::test]
async fn the_limiter_can_be_switched_off() {
    let p = Portal::with(Config {
        rate_limit_per_minute: 0,
        ..Config::for_tests()
    })
    .await;
    for _ in 0..50 {
        assert_eq!(p.get("/api/2.0/people/@self", OWNER).await.status, 200);
    }
}

#[tokio::test]
async fn faults_are_seeded_and_deterministic() {
    let statuses = |seed: u64| async move {
        let p = Portal::with(Config {
            seed,
            faults: Faults::parse("500=0.3,502=0.2,503=0.1").unwrap(),
            ..Config::for_tests()
        })
        .await;
        let mut seen = Vec::new();
        for _ in 0..30 {
            seen.push(p.get("/api/2.0/people/@self", OWNER).await.status);
        }
        seen
    };
    let a = statuses(7).await;
    let b = statuses(7).await;
    assert_eq!(a, b);
    assert!(a.contains(&500) && a.contains(&200));
    assert_ne!(a, statuses(8).await);
}

#[tokio::test]
async fn a_dropped_connection_happens_after_the_write() {
    let p = Portal::with(Config {
        faults: Faults::parse("drop=1").unwrap(),
        ..Config::for_tests()
    })
    .await;
    let result = crate::support::http()
        .put(format!("{}/api/2.0/people/status/2", p.sim.url()))
        .bearer_auth(OWNER)
        .json(&json!({"userIds": [LEAVER]}))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    let failed = match result {
        Err(_) => true,
        Ok(response) => response.bytes().await.is_err(),
    };
    assert!(failed, "the client sees a broken connection");
    let leaver = p.state()["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == LEAVER)
        .unwrap()["status"]
        .clone();
    assert_eq!(leaver, 2, "but the write took effect");
}

#[tokio::test]
async fn injected_429s_say_when_to_retry() {
    let p = Portal::with(Config {
        faults: Faults::parse("429=1").unwrap(),
        ..Config::for_tests()
    })
    .await;
    let answer = p.get("/api/2.0/people/@self", OWNER).await;
    assert_eq!((answer.status, answer.text.as_str()), (429, ""));
    assert_eq!(answer.headers["retry-after"], "1");
}
