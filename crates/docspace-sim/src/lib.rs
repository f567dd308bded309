//! A DocSpace 3.7 portal in one process, for demos, tests and rehearsals.
//!
//! It serves DocSpace's REST API on loopback as the real server does on the wire
//! (`docs/docspace-api.md` is its specification): the envelopes and error bodies,
//! authentication by API key, session token or Basic, the permission rules and
//! preconditions, asynchronous jobs with read-once results, the audit trail of what
//! it does, and the chained rate limiter. Faults can be injected, seeded and
//! deterministic. It shares no Rust types with the `offboard` client.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let portal = docspace_sim::Source::Synthetic(10);
//! let sim = docspace_sim::spawn(docspace_sim::Config::for_tests(), &portal).await?;
//! println!("{} (key {})", sim.url(), sim.owner_key());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

mod audit;
mod config;
mod dto;
mod effects;
pub mod fixture;
mod jobs;
mod limiter;
mod routes;
mod server;
mod state;
pub mod synthetic;
mod wire;
mod zip;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{Config, Faults, parse_duration};
pub use fixture::Fixture;

/// Where the portal comes from.
pub enum Source {
    /// A YAML fixture.
    Fixture(Box<Fixture>),
    /// A synthetic portal with this many leavers.
    Synthetic(usize),
}

impl Source {
    /// Reads a fixture file.
    pub fn fixture_file(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Fixture::from_yaml(&text)
            .map(|f| Source::Fixture(Box::new(f)))
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// The demo company (`crates/docspace-sim/fixtures/demo-portal.yaml`), built in so `offboard sim` and
/// `offboard demo` need no files.
pub const DEMO_PORTAL: &str = include_str!("../fixtures/demo-portal.yaml");

/// A running simulator.
pub struct SimHandle {
    addr: SocketAddr,
    owner_key: String,
    manifest: Option<String>,
    shared: server::Sim,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// An API key acting as the portal owner.
    pub fn owner_key(&self) -> &str {
        &self.owner_key
    }

    /// For a synthetic portal: the manifest that offboards its leavers.
    pub fn manifest(&self) -> Option<&str> {
        self.manifest.as_deref()
    }

    /// The request counters, as `GET /__sim/stats` shows them.
    pub fn stats(&self) -> serde_json::Value {
        self.shared.stats().to_json()
    }

    /// The portal's data, as `GET /__sim/state` shows it.
    pub fn state(&self) -> serde_json::Value {
        routes::introspect::snapshot(&self.shared.portal())
    }

    /// Takes the portal down behind its gateway (every request answered 502, as a
    /// reverse proxy does when DocSpace is down) or brings it back.
    pub fn set_outage(&self, down: bool) {
        self.shared
            .outage
            .store(down, std::sync::atomic::Ordering::Relaxed);
    }

    /// Stops accepting connections and waits for the server to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Waits until the server ends (it runs until shut down).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Builds the portal and serves it on `config.listen` (port 0 picks a free one).
pub async fn spawn(config: Config, source: &Source) -> std::io::Result<SimHandle> {
    let mut rng = fastrand::Rng::with_seed(config.seed);
    let (built, manifest) = match source {
        Source::Fixture(fixture) => (
            fixture.build(&mut rng).map_err(std::io::Error::other)?,
            None,
        ),
        Source::Synthetic(count) => {
            let synthetic = synthetic::build(*count, &mut rng);
            let manifest = synthetic.manifest_yaml();
            (synthetic.built, Some(manifest))
        }
    };
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(server::Shared::new(
        built.portal,
        config,
        format!("http://{addr}"),
    ));
    let app = routes::router(shared.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        let _ = axum::serve(listener, service)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(SimHandle {
        addr,
        owner_key: built.owner_key,
        manifest,
        shared,
        shutdown: Some(tx),
        task,
    })
}
