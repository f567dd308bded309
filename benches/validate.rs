//! How fast, and in how much memory, `offboard validate` checks a large manifest.
//!
//! The benchmark writes two manifests of 100 000 leavers each into a temporary
//! folder, one CSV and one YAML (deterministic content, valid by construction), then
//! runs the real `offboard` binary on each, [`RUNS`] times, after one unmeasured
//! warm-up run. For every run it records the wall time of the whole process and the
//! child's peak resident set size (`ru_maxrss`, read with `wait4`). It also times
//! `offboard schema`, which does almost nothing, as a baseline for the cost of
//! starting the process at all.
//!
//! It prints a table: file size, minimum and median wall time, the highest peak RSS,
//! leavers per second (from the median), and whether each format meets the targets
//! (median ≤ 1 s, peak RSS ≤ 150 MB). Sizes are decimal: 1 MB = 1 000 000 bytes.
//! A target that is missed is reported (MISS), not turned into a failure; a run whose
//! exit status is not 0 is a failure, since its figures would mean nothing.
//!
//! Run it with:
//!
//! ```text
//! cargo bench --bench validate
//! ```
//!
//! It needs Linux, where `ru_maxrss` is in KiB; elsewhere it prints a note and exits.

#[cfg(target_os = "linux")]
fn main() {
    bench::run();
}

#[cfg(not(target_os = "linux"))]
fn main() {
    println!("validate benchmark skipped: it reads peak RSS the Linux way (wait4, KiB)");
}

#[cfg(target_os = "linux")]
mod bench {
    use std::fs::File;
    use std::io::{BufWriter, Write};
    use std::mem::MaybeUninit;
    use std::path::Path;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    /// Leavers in each generated manifest.
    const LEAVERS: usize = 100_000;
    /// Measured runs per command (after one warm-up run).
    const RUNS: usize = 5;
    /// Target: the median wall time of one `validate` run.
    const TARGET_TIME: Duration = Duration::from_secs(1);
    /// Target: the peak RSS of one `validate` run, in MB.
    const TARGET_RSS_MB: f64 = 150.0;

    /// The archive owner and archive folder every leaver shares. Leavers' workspaces
    /// start at [`FIRST_WORKSPACE`], so none is the archive folder, and no leaver is
    /// the archive owner.
    const ARCHIVE_OWNER: &str = "it.archive@example.com";
    const ARCHIVE_FOLDER: u64 = 5001;
    const FIRST_WORKSPACE: u64 = 100_000;
    const ALL_STEPS: [&str; 5] = ["disable", "revoke_keys", "reassign", "archive", "audit"];

    const BIN: &str = env!("CARGO_BIN_EXE_offboard");

    pub fn run() {
        let dir = tempfile::TempDir::new().expect("create a temporary folder");
        let csv = dir.path().join("leavers.csv");
        let yaml = dir.path().join("leavers.yaml");
        write_manifest(&csv, write_csv);
        write_manifest(&yaml, write_yaml);

        let startup = measure(&["schema"]);
        let formats = [
            ("CSV", file_mb(&csv), measure_validate(&csv)),
            ("YAML", file_mb(&yaml), measure_validate(&yaml)),
        ];

        print_report(&formats, &startup);
    }

    // ---- The manifests -------------------------------------------------------------

    fn write_manifest(path: &Path, write: fn(&mut dyn Write) -> std::io::Result<()>) {
        let file = File::create(path).expect("create a manifest file");
        let mut out = BufWriter::new(file);
        write(&mut out)
            .and_then(|()| out.flush())
            .unwrap_or_else(|err| panic!("cannot write {}: {err}", path.display()));
    }

    /// Day of December 2026 for leaver `i` (1 to 28).
    fn day(i: usize) -> usize {
        i % 28 + 1
    }

    /// Audit window for leaver `i` (1 to 180 days).
    fn audit_days(i: usize) -> usize {
        i % 180 + 1
    }

    /// A CSV manifest: the header, then one row per leaver. Optional cells are filled
    /// on some rows only, by index; every leaver with `audit_days` keeps the `audit`
    /// step (all steps listed, or the default steps), so there is not even a warning.
    fn write_csv(out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "user,workspace,archive_folder,archive_owner,hr_group,effective,steps,audit_days,ticket,note"
        )?;
        let steps = ALL_STEPS.join(";");
        for i in 0..LEAVERS {
            let archive_folder = if i % 3 == 0 {
                ARCHIVE_FOLDER.to_string()
            } else {
                String::new()
            };
            let hr_group = if i % 7 == 0 { "" } else { "HR" };
            let effective = if i % 4 == 0 {
                format!("2026-12-{:02}", day(i))
            } else {
                String::new()
            };
            let steps = if i % 5 == 0 { steps.as_str() } else { "" };
            let audit = if i % 2 == 0 {
                audit_days(i).to_string()
            } else {
                String::new()
            };
            let note = match i % 10 {
                0 => format!("\"Leaves on day {}, after handover\"", day(i)),
                5 => "Contractor".to_owned(),
                _ => String::new(),
            };
            writeln!(
                out,
                "leaver{i}@example.com,{},{archive_folder},{ARCHIVE_OWNER},{hr_group},{effective},{steps},{audit},OPS-{i},{note}",
                FIRST_WORKSPACE + i as u64,
            )?;
        }
        Ok(())
    }

    /// A YAML manifest: shared `defaults`, then one mapping per leaver. Every fourth
    /// leaver is named by user id (a UUID unique to its index) instead of by email.
    fn write_yaml(out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "# Generated by benches/validate.rs.")?;
        writeln!(out, "version: 1")?;
        writeln!(out)?;
        writeln!(out, "defaults:")?;
        writeln!(out, "  archive_owner: {ARCHIVE_OWNER}")?;
        writeln!(out, "  archive_folder: {ARCHIVE_FOLDER}")?;
        writeln!(out, "  hr_group: HR")?;
        writeln!(out)?;
        writeln!(out, "leavers:")?;
        let steps = ALL_STEPS.join(", ");
        for i in 0..LEAVERS {
            if i % 4 == 1 {
                writeln!(out, "  - user: {i:08x}-0000-4000-8000-{i:012x}")?;
            } else {
                writeln!(out, "  - user: leaver{i}@example.com")?;
            }
            writeln!(out, "    workspace: {}", FIRST_WORKSPACE + i as u64)?;
            if i % 4 == 0 {
                writeln!(out, "    effective: 2026-12-{:02}", day(i))?;
            }
            if i % 5 == 0 {
                writeln!(out, "    steps: [{steps}]")?;
            }
            if i % 2 == 0 {
                writeln!(out, "    audit_days: {}", audit_days(i))?;
            }
            if i % 3 != 0 {
                writeln!(out, "    ticket: OPS-{i}")?;
            }
            if i % 10 == 0 {
                writeln!(
                    out,
                    "    note: \"Leaves on day {}, after handover\"",
                    day(i)
                )?;
            }
        }
        Ok(())
    }

    fn file_mb(path: &Path) -> f64 {
        let bytes = std::fs::metadata(path).expect("stat a manifest").len();
        bytes as f64 / 1e6
    }

    // ---- Running and measuring -----------------------------------------------------

    /// One run of the binary.
    struct Sample {
        wall: Duration,
        /// Peak resident set size, in KiB (`ru_maxrss` on Linux).
        peak_rss_kib: u64,
    }

    /// The measured runs of one command.
    struct Series(Vec<Sample>);

    impl Series {
        fn min_wall(&self) -> Duration {
            self.walls()[0]
        }

        fn median_wall(&self) -> Duration {
            let walls = self.walls();
            let mid = walls.len() / 2;
            if walls.len() % 2 == 1 {
                walls[mid]
            } else {
                (walls[mid - 1] + walls[mid]) / 2
            }
        }

        fn max_rss_mb(&self) -> f64 {
            let kib = self.0.iter().map(|s| s.peak_rss_kib).max().unwrap_or(0);
            (kib * 1024) as f64 / 1e6
        }

        /// The wall times, shortest first.
        fn walls(&self) -> Vec<Duration> {
            let mut walls: Vec<Duration> = self.0.iter().map(|s| s.wall).collect();
            walls.sort();
            walls
        }
    }

    fn measure_validate(path: &Path) -> Series {
        let path = path.to_str().expect("the temporary path is UTF-8");
        measure(&["validate", path])
    }

    /// One warm-up run (page cache, binary loading), then [`RUNS`] measured runs.
    fn measure(args: &[&str]) -> Series {
        run_once(args);
        Series((0..RUNS).map(|_| run_once(args)).collect())
    }

    /// Runs `offboard ARGS` with its output discarded, reaps it with `wait4` to get
    /// its resource usage, and panics unless it exited with status 0.
    fn run_once(args: &[&str]) -> Sample {
        let started = Instant::now();
        let child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {BIN}: {err}"));
        let pid = libc::pid_t::try_from(child.id()).expect("a pid fits in pid_t");

        let mut status: libc::c_int = 0;
        let mut usage = MaybeUninit::<libc::rusage>::zeroed();
        loop {
            // SAFETY: `pid` is our own child, not yet reaped (we never call
            // `child.wait()`), and both out-pointers are valid for writes.
            let reaped = unsafe { libc::wait4(pid, &mut status, 0, usage.as_mut_ptr()) };
            if reaped == pid {
                break;
            }
            let err = std::io::Error::last_os_error();
            assert!(
                err.kind() == std::io::ErrorKind::Interrupted,
                "wait4 on `offboard {}` failed: {err}",
                args.join(" ")
            );
        }
        let wall = started.elapsed();
        // The child is reaped: dropping its handle neither waits nor kills.
        drop(child);
        // SAFETY: wait4 returned the child's pid, so it filled in `usage`.
        let usage = unsafe { usage.assume_init() };

        let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
        if !ok {
            let how = if libc::WIFEXITED(status) {
                format!("exit status {}", libc::WEXITSTATUS(status))
            } else if libc::WIFSIGNALED(status) {
                format!("signal {}", libc::WTERMSIG(status))
            } else {
                format!("wait status {status:#x}")
            };
            panic!(
                "`offboard {}` ended with {how}, not 0: the figures would be meaningless.\n\
                 Its first diagnostics (from a second, unmeasured run):\n{}",
                args.join(" "),
                first_diagnostics(args),
            );
        }

        Sample {
            wall,
            peak_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        }
    }

    /// The first lines `offboard ARGS` writes to stderr. The measured runs discard
    /// it, and the generated manifests vanish with the temporary folder when the
    /// benchmark panics, so this is the only chance to show why a run failed.
    fn first_diagnostics(args: &[&str]) -> String {
        match Command::new(BIN).args(args).stdin(Stdio::null()).output() {
            Ok(output) => String::from_utf8_lossy(&output.stderr)
                .lines()
                .take(20)
                .collect::<Vec<_>>()
                .join("\n"),
            Err(err) => format!("(cannot run it again: {err})"),
        }
    }

    // ---- The report ----------------------------------------------------------------

    fn ms(duration: Duration) -> f64 {
        duration.as_secs_f64() * 1e3
    }

    fn verdict(pass: bool) -> &'static str {
        if pass { "PASS" } else { "MISS" }
    }

    fn print_report(formats: &[(&str, f64, Series)], startup: &Series) {
        println!(
            "\noffboard validate, {LEAVERS} leavers per manifest, {RUNS} runs each \
             (after 1 warm-up run); 1 MB = 1 000 000 bytes\n"
        );
        println!(
            "{:<6} {:>9} {:>9} {:>11} {:>13} {:>11} {:>14} {:>16}",
            "format",
            "size MB",
            "min ms",
            "median ms",
            "peak RSS MB",
            "leavers/s",
            "median ≤ 1 s",
            "peak ≤ 150 MB",
        );
        for (name, size_mb, series) in formats {
            let median = series.median_wall();
            let rss = series.max_rss_mb();
            println!(
                "{:<6} {:>9.2} {:>9.1} {:>11.1} {:>13.1} {:>11.0} {:>14} {:>16}",
                name,
                size_mb,
                ms(series.min_wall()),
                ms(median),
                rss,
                LEAVERS as f64 / median.as_secs_f64(),
                verdict(median <= TARGET_TIME),
                verdict(rss <= TARGET_RSS_MB),
            );
        }

        let startup_median = startup.median_wall();
        println!(
            "\nstart-up baseline (`offboard schema`): median {:.1} ms, min {:.1} ms, \
             peak RSS {:.1} MB",
            ms(startup_median),
            ms(startup.min_wall()),
            startup.max_rss_mb(),
        );
        for (name, _, series) in formats {
            println!(
                "{name:<4} median(validate) / median(start-up) = {:.1}×",
                series.median_wall().as_secs_f64() / startup_median.as_secs_f64(),
            );
        }
    }
}
