//! Fuzzing on the stable toolchain (issue #12): the manifest decoder (YAML, JSON, CSV,
//! and the CSV a YAML manifest names) and the DocSpace envelope decoder, fed mutations
//! of a corpus seeded from the repository's own inputs.
//!
//! `cargo test` runs a short, fixed budget with a fixed seed (the same inputs every
//! time). For a long run:
//!
//! ```sh
//! OFFBOARD_FUZZ_SECONDS=3600 cargo test --release --test fuzz -- --nocapture
//! ```
//!
//! Seeds: `manifests/`, `tests/fixtures/**` (manifests and recorded DocSpace answers)
//! and `tests/fuzz/corpus/` (inputs the fixtures lack: JSON manifests, anchors and
//! merge keys, odd Unicode, huge numbers, CSV quoting, HTML and odd envelopes).
//! Crashes are shrunk and saved under `target/tmp/fuzz/crashes/` (or
//! `OFFBOARD_FUZZ_OUT`); once fixed, a reproducer goes into `tests/fuzz/regressions/`,
//! which every test run replays.

// The manifest API's error type is `Diagnostic` (see src/lib.rs); the harness's
// `leavers_csv` readers return it too.
#![allow(clippy::result_large_err)]

mod driver;
mod envelopes;
mod manifests;
mod mutate;

use std::path::{Path, PathBuf};

use driver::{Budget, Case, Target};
use envelopes::EnvelopeCase;
use manifests::{Kind, ManifestCase};

/// Runs `f` on a thread with the stack `offboard` checks manifests on: the main
/// thread's 8 MiB (Linux). Test threads get 2 MiB, less than an unoptimised build
/// needs to parse YAML nested to the parser's depth limit (64).
fn on_main_stack<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(f)
        .expect("a thread")
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir` (recursively), sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The manifest seeds: every YAML, JSON and CSV file of the example manifests, the
/// test fixtures and the fuzz corpus. YAML seeds get a CSV seed behind `leavers_csv`.
fn manifest_seeds() -> Vec<ManifestCase> {
    named_manifest_seeds()
        .into_iter()
        .map(|(_, case)| case)
        .collect()
}

fn named_manifest_seeds() -> Vec<(PathBuf, ManifestCase)> {
    let root = repo();
    let mut files = Vec::new();
    for dir in ["manifests", "tests/fixtures", "tests/fuzz/corpus/manifests"] {
        files.extend(files_under(&root.join(dir)));
    }
    let mut seeds: Vec<(PathBuf, ManifestCase)> = files
        .into_iter()
        .filter(|path| !path.starts_with(root.join("tests/fixtures/docspace")))
        .filter_map(|path| {
            let kind = Kind::of_path(&path)?;
            let bytes = std::fs::read(&path).ok()?;
            let case = ManifestCase {
                kind,
                bytes,
                csv: None,
            };
            (case.bytes.len() <= driver::MAX_LEN).then_some((path, case))
        })
        .collect();
    let csvs: Vec<Vec<u8>> = seeds
        .iter()
        .filter(|(_, s)| s.kind == Kind::Csv)
        .map(|(_, s)| s.bytes.clone())
        .collect();
    for (i, (_, seed)) in seeds.iter_mut().enumerate() {
        if seed.kind != Kind::Csv {
            seed.csv = Some(csvs[i % csvs.len()].clone());
        }
    }
    seeds
}

/// The envelope seeds: the recorded answers of `tests/fixtures/docspace/` and the
/// `*.http` answers of the fuzz corpus.
fn envelope_seeds() -> Vec<EnvelopeCase> {
    let root = repo();
    let mut seeds: Vec<EnvelopeCase> = files_under(&root.join("tests/fixtures/docspace"))
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| EnvelopeCase::from_recorded(&std::fs::read_to_string(p).expect("read")))
        .collect();
    for path in files_under(&root.join("tests/fuzz/corpus/envelopes")) {
        let bytes = std::fs::read(&path).expect("read");
        seeds.push(
            EnvelopeCase::parse(&bytes)
                .unwrap_or_else(|| panic!("{}: not an HTTP answer", path.display())),
        );
    }
    seeds
}

#[test]
fn manifest_decoding_survives_mutated_inputs() {
    let target = Target {
        name: "manifests",
        run: manifests::run,
        mutate: manifests::mutate,
    };
    let report = on_main_stack(move || {
        driver::fuzz(
            &target,
            manifest_seeds(),
            Budget::from_env(2500),
            &driver::out_dir(),
        )
    });
    println!("{}", report.summary());
    report.assert_clean();
}

#[test]
fn envelope_decoding_survives_mutated_answers() {
    let target = Target {
        name: "envelopes",
        run: envelopes::run,
        mutate: envelopes::mutate,
    };
    let report = on_main_stack(move || {
        driver::fuzz(
            &target,
            envelope_seeds(),
            Budget::from_env(30_000),
            &driver::out_dir(),
        )
    });
    println!("{}", report.summary());
    report.assert_clean();
}

/// Every reproducer of a crash the fuzzer found, and every seed, keeps the properties.
#[test]
fn regressions_and_seeds_replay() {
    on_main_stack(replay);
}

fn replay() {
    let root = repo();
    let regressions = files_under(&root.join("tests/fuzz/regressions"));
    let mut replayed = 0;
    for path in &regressions {
        let outcome = driver::catch(|| match path.extension().and_then(|e| e.to_str()) {
            Some("http") => Some(envelopes::run_file(path)),
            _ if Kind::of_path(path).is_some() => Some(manifests::run_file(path)),
            _ => None,
        });
        match outcome {
            Ok(Some(_)) => replayed += 1,
            Ok(None) => {}
            Err(panic) => panic!("{}: {} at {}", path.display(), panic.message, panic.place),
        }
    }
    println!("replayed {replayed} regressions");

    let manifests = named_manifest_seeds();
    let envelopes = envelope_seeds();
    // The seeds are found where they are expected: a moved fixture folder would
    // otherwise quietly shrink the corpus.
    assert!(
        manifests.len() >= 60,
        "only {} manifest seeds",
        manifests.len()
    );
    assert!(
        envelopes.len() >= 20,
        "only {} envelope seeds",
        envelopes.len()
    );
    for (path, seed) in &manifests {
        if let Err(panic) = driver::catch(|| manifests::run(seed)) {
            panic!(
                "seed {}: {} at {}",
                path.display(),
                panic.message,
                panic.place
            );
        }
    }
    for seed in &envelopes {
        if let Err(panic) = driver::catch(|| envelopes::run(seed)) {
            panic!(
                "an envelope seed (HTTP {}): {} at {}",
                seed.status, panic.message, panic.place
            );
        }
    }
}

/// The driver itself: a planted bug is caught, shrunk to its core and saved.
#[test]
fn the_driver_catches_and_shrinks_a_planted_crash() {
    #[derive(Clone)]
    struct Bytes(Vec<u8>);
    impl Case for Bytes {
        fn bytes(&self) -> &[u8] {
            &self.0
        }
        fn with_bytes(&self, bytes: Vec<u8>) -> Self {
            Bytes(bytes)
        }
        fn kind(&self) -> &'static str {
            "bytes"
        }
        fn file(&self) -> (Vec<u8>, &'static str) {
            (self.0.clone(), "txt")
        }
    }
    fn run(case: &Bytes) -> u64 {
        let text = String::from_utf8_lossy(&case.0);
        assert!(!text.contains("boom"), "planted");
        driver::hash(&case.0)
    }
    fn mutate(_: &mut fastrand::Rng, base: &Bytes, _: &[Bytes]) -> Bytes {
        base.clone()
    }
    let out = tempfile::tempdir().expect("temp dir");
    let target = Target {
        name: "planted",
        run,
        mutate,
    };
    let seeds = vec![
        Bytes(b"harmless".to_vec()),
        Bytes(b"some text around a boom and after it".to_vec()),
    ];
    let budget = Budget {
        seconds: None,
        cases: Some(3),
        seed: 1,
    };
    let report = driver::fuzz(&target, seeds, budget, out.path());
    assert_eq!(report.cases, 3);
    assert_eq!(report.crashes.len(), 1, "{}", report.summary());
    let crash = &report.crashes[0];
    assert!(crash.panic.message.contains("planted"), "{:?}", crash.panic);
    assert_eq!(std::fs::read(&crash.files[0]).expect("saved"), b"boom");
}
