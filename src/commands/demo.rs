//! `offboard demo`: the demo company in an in-process simulator, the plan for the
//! example manifest, then `apply` with progress, the summary and the reports. No
//! set-up, no network beyond loopback.

use std::path::PathBuf;

use docspace_sim::{Config, Fixture, Source};

use crate::cli::DemoArgs;
use crate::docspace::Client;
use crate::executor::PacerConfig;
use crate::exit;
use crate::session::{Apply, apply_manifest};

/// The example manifest, built in like the demo company it belongs to.
const EXAMPLE: &str = include_str!("../../manifests/example.yaml");

pub fn run(args: &DemoArgs) -> u8 {
    let Some(runtime) = crate::setup::runtime(true) else {
        return exit::FAILED;
    };
    runtime.block_on(demo(args))
}

async fn demo(args: &DemoArgs) -> u8 {
    let fixture = match Fixture::from_yaml(docspace_sim::DEMO_PORTAL) {
        Ok(f) => f,
        Err(err) => {
            eprintln!("error: the built-in demo portal: {err}");
            return exit::FAILED;
        }
    };
    let config = Config {
        // Quick jobs: the demo shows the flow, not DocSpace's patience.
        job_duration: std::time::Duration::from_millis(600),
        ..Config::default()
    };
    let sim = match docspace_sim::spawn(config, &Source::Fixture(Box::new(fixture))).await {
        Ok(sim) => sim,
        Err(err) => {
            eprintln!("error: cannot start the simulator: {err}");
            return exit::FAILED;
        }
    };
    let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%S").to_string();
    let run_dir = args
        .run_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("offboard-runs").join(format!("demo-{stamp}")));
    let manifest_path = run_dir.join("example.yaml");
    let written =
        std::fs::create_dir_all(&run_dir).and_then(|()| std::fs::write(&manifest_path, EXAMPLE));
    if let Err(err) = written {
        eprintln!("error: cannot write {}: {err}", manifest_path.display());
        sim.shutdown().await;
        return exit::FAILED;
    }
    eprintln!("demo portal (simulated DocSpace 3.7) on {}", sim.url());
    eprintln!(
        "manifest: {} (a copy of manifests/example.yaml)",
        manifest_path.display()
    );
    let Some((manifest, manifest_sha256)) = crate::session::checked_manifest(&manifest_path) else {
        sim.shutdown().await;
        return exit::FAILED;
    };
    // The simulator's owner key, as `apply` would take it from the environment.
    let connection =
        crate::settings::connection(Some(&sim.url()), None, Some(sim.owner_key().to_owned()));
    let client = match connection
        .map_err(|e| e.to_string())
        .and_then(|c| Client::new(&c).map_err(|e| e.to_string()))
    {
        Ok(client) => client,
        Err(err) => {
            eprintln!("error: {err}");
            sim.shutdown().await;
            return exit::FAILED;
        }
    };
    // The plan first, as an admin would look at it.
    let pacer = crate::executor::Pacer::new(&PacerConfig::default());
    match crate::observe::observe(
        &client,
        &pacer,
        &manifest,
        Vec::new(),
        crate::observe::Depth::Plan,
    )
    .await
    {
        Ok(observed) => {
            let plan = crate::plan::plan(&manifest, &observed);
            print!(
                "{}",
                crate::report::plan::human(&plan, crate::color::stdout())
            );
            println!();
        }
        Err(err) => {
            eprintln!("error: {err}");
            sim.shutdown().await;
            return exit::FAILED;
        }
    }
    let code = apply_manifest(Apply {
        manifest_path,
        manifest,
        manifest_sha256,
        client,
        protect: Vec::new(),
        run_dir,
        confirm: false,
        max_leavers: usize::MAX,
        force: true,
        only_failed: false,
        concurrency: 15,
        pacer: PacerConfig::default(),
        terminal: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        saved: None,
    })
    .await;
    sim.shutdown().await;
    code
}
