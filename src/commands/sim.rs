//! `offboard sim`: serve a DocSpace-compatible portal until Ctrl-C.

use std::io::Write;

use docspace_sim::{Config, Fixture, Source};

use crate::cli::SimArgs;
use crate::exit;

pub fn run(args: &SimArgs) -> u8 {
    let source = match source(args) {
        Ok(source) => source,
        Err(message) => {
            eprintln!("error: {message}");
            return exit::INVALID;
        }
    };
    let config = Config {
        listen: args.listen,
        rate_limit_per_minute: args.rate_limit_per_minute,
        max_concurrent_reads: args.max_concurrent_reads,
        max_concurrent_writes: args.max_concurrent_writes,
        daily_write_limit: args.daily_write_limit,
        job_duration: args.job_duration,
        seed: args.seed,
        faults: args.faults.clone().unwrap_or_default(),
        ..Config::default()
    };
    let Some(runtime) = crate::setup::runtime(true) else {
        return exit::FAILED;
    };
    runtime.block_on(serve(config, source, args))
}

fn source(args: &SimArgs) -> Result<Source, String> {
    match (&args.fixture, args.synthetic) {
        (_, Some(count)) => Ok(Source::Synthetic(count)),
        (Some(path), None) => Source::fixture_file(path),
        (None, None) => Fixture::from_yaml(docspace_sim::DEMO_PORTAL)
            .map(|f| Source::Fixture(Box::new(f)))
            .map_err(|e| format!("the built-in demo portal: {e}")),
    }
}

async fn serve(config: Config, source: Source, args: &SimArgs) -> u8 {
    let listen = config.listen;
    let sim = match docspace_sim::spawn(config, &source).await {
        Ok(sim) => sim,
        Err(err) => {
            eprintln!("error: cannot start the simulator on {listen}: {err}");
            return exit::FAILED;
        }
    };
    if let (Some(path), Some(manifest)) = (&args.write_manifest, sim.manifest())
        && let Err(err) = std::fs::write(path, manifest)
    {
        eprintln!(
            "error: cannot write the manifest to {}: {err}",
            path.display()
        );
        sim.shutdown().await;
        return exit::FAILED;
    }
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {}", sim.url());
        let _ = writeln!(out, "owner api key: {}", sim.owner_key());
        let _ = out.flush();
    }
    let _ = tokio::signal::ctrl_c().await;
    sim.shutdown().await;
    exit::SUCCESS
}
