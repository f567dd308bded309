//! How many authenticated GETs per second the simulator serves, so it is never what a
//! client benchmark measures. Target: at least 5 000 per second on a 2-core machine
//! with the limiter off.
//!
//! The simulator and the client share the process (and the two cores): 32 keep-alive
//! connections each send sequential `GET /api/2.0/people/@self` with the owner's API
//! key (authentication, the middleware stack, a user DTO in the portal's time zone),
//! then the same number of requests to an unknown route (the cheapest way through
//! the stack) as a baseline measured in the same run.
//!
//! ```text
//! cargo bench -p docspace-sim --bench throughput
//! ```

use std::time::{Duration, Instant};

use docspace_sim::{Config, Source, spawn};

const CONNECTIONS: usize = 32;
const REQUESTS_PER_CONNECTION: usize = 1_000;

#[tokio::main]
async fn main() {
    let config = Config {
        rate_limit_per_minute: 0,
        ..Config::default()
    };
    let sim = spawn(config, &Source::Synthetic(200))
        .await
        .expect("the simulator starts");
    let url = sim.url();
    let key = sim.owner_key().to_owned();

    // Warm up connections and code paths.
    hammer(&url, "/api/2.0/people/@self", &key, 100).await;

    let api = hammer(&url, "/api/2.0/people/@self", &key, REQUESTS_PER_CONNECTION).await;
    let baseline = hammer(
        &url,
        "/api/2.0/no/such/route",
        &key,
        REQUESTS_PER_CONNECTION,
    )
    .await;
    let total = (CONNECTIONS * REQUESTS_PER_CONNECTION) as f64;
    let api_rate = total / api.as_secs_f64();
    let baseline_rate = total / baseline.as_secs_f64();
    println!(
        "docspace-sim throughput, {CONNECTIONS} connections x {REQUESTS_PER_CONNECTION} requests, limiter off"
    );
    println!("{:<40} {:>10} {:>12}", "request", "seconds", "requests/s");
    println!(
        "{:<40} {:>10.2} {:>12.0}",
        "GET /api/2.0/people/@self (auth, DTO)",
        api.as_secs_f64(),
        api_rate
    );
    println!(
        "{:<40} {:>10.2} {:>12.0}",
        "GET unknown route (empty 404)",
        baseline.as_secs_f64(),
        baseline_rate
    );
    println!(
        "authenticated GET / 404 baseline rate = {:.2}",
        api_rate / baseline_rate
    );
    println!(
        "target ≥ 5000 authenticated GETs/s: {}",
        if api_rate >= 5000.0 { "PASS" } else { "MISS" }
    );
    sim.shutdown().await;
}

/// Sends `per_connection` sequential GETs on each of the connections at once;
/// returns the wall time. Every answer must have the expected status.
async fn hammer(url: &str, path: &str, key: &str, per_connection: usize) -> Duration {
    // reqwest may have TLS without a provider of its own (see Cargo.toml).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()
            .expect("a client");
        let target = format!("{url}{path}");
        let auth = format!("Bearer {key}");
        tasks.push(tokio::spawn(async move {
            for _ in 0..per_connection {
                let response = client
                    .get(&target)
                    .header("Authorization", &auth)
                    .send()
                    .await
                    .expect("an answer");
                let status = response.status().as_u16();
                assert!(status == 200 || status == 404, "unexpected status {status}");
                response.bytes().await.expect("a body");
            }
        }));
    }
    for task in tasks {
        task.await.expect("the task ends");
    }
    start.elapsed()
}
