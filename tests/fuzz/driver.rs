//! The fuzz loop shared by the targets: a budget, a seeded random source, panics
//! caught per input and shrunk to a small reproducer, a pool that keeps inputs which
//! showed a new behaviour, and a watcher that notes an input still running long after
//! it started (a hang candidate; it is saved, never asserted on).

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once, mpsc};
use std::time::{Duration, Instant};

/// The largest input a mutation may produce: far above any honest manifest row set
/// the harness needs, and small enough that every case stays quick.
pub const MAX_LEN: usize = 64 * 1024;

/// How many bytes of inputs the pool keeps (seeds and inputs that showed something new).
const POOL_BYTES: usize = 32 * 1024 * 1024;

/// One input of a target.
pub trait Case: Clone + Send + 'static {
    /// The bytes mutations and shrinking work on.
    fn bytes(&self) -> &[u8];
    /// The same case with other bytes.
    fn with_bytes(&self, bytes: Vec<u8>) -> Self;
    /// A short name of the kind of input (`yaml`, `csv`, `envelope`), part of a crash's key.
    fn kind(&self) -> &'static str;
    /// The case as one file, in the format `tests/fuzz/regressions/` replays.
    fn file(&self) -> (Vec<u8>, &'static str);
    /// Files the case needs beside its own (a CSV a manifest names): (name, bytes).
    fn companions(&self) -> Vec<(String, Vec<u8>)> {
        Vec::new()
    }
}

/// How long to fuzz: `OFFBOARD_FUZZ_SECONDS` (wall time), `OFFBOARD_FUZZ_CASES` (a
/// number of mutated inputs; the default when neither is set) and `OFFBOARD_FUZZ_SEED`.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub seconds: Option<u64>,
    pub cases: Option<u64>,
    pub seed: u64,
}

impl Budget {
    /// The budget from the environment; `default_cases` when no budget is set. A run
    /// without `OFFBOARD_FUZZ_SECONDS` uses a fixed seed, so CI fuzzes the same inputs
    /// every time; a timed run picks a new seed unless one is given.
    pub fn from_env(default_cases: u64) -> Self {
        let number = |name: &str| {
            std::env::var(name).ok().map(|v| {
                v.trim()
                    .parse::<u64>()
                    .unwrap_or_else(|_| panic!("{name} must be a whole number, not {v:?}"))
            })
        };
        let seconds = number("OFFBOARD_FUZZ_SECONDS");
        let cases = number("OFFBOARD_FUZZ_CASES");
        let seed = number("OFFBOARD_FUZZ_SEED").unwrap_or_else(|| {
            if seconds.is_some() {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            } else {
                0x0ff_b0a2d
            }
        });
        Self {
            seconds,
            cases: cases.or(if seconds.is_some() {
                None
            } else {
                Some(default_cases)
            }),
            seed,
        }
    }

    fn spent(&self, cases: u64, started: Instant) -> bool {
        self.cases.is_some_and(|n| cases >= n)
            || self
                .seconds
                .is_some_and(|s| started.elapsed() >= Duration::from_secs(s))
    }
}

/// Where a run writes crashes, hang candidates and the input it is on:
/// `OFFBOARD_FUZZ_OUT`, else `target/tmp/fuzz`.
pub fn out_dir() -> PathBuf {
    std::env::var_os("OFFBOARD_FUZZ_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz"))
}

/// A panic caught while running one input.
#[derive(Clone, Debug)]
pub struct Panic {
    /// `file:line:column` of the panic.
    pub place: String,
    pub message: String,
}

/// A distinct crash: the first input that hit it, shrunk, and where it was saved.
#[derive(Debug)]
pub struct Crash {
    pub key: String,
    pub panic: Panic,
    pub files: Vec<PathBuf>,
    pub len: usize,
}

/// What a run did.
#[derive(Debug)]
pub struct Report {
    pub name: &'static str,
    pub cases: u64,
    pub elapsed: Duration,
    pub seed: u64,
    pub behaviours: usize,
    pub kept: usize,
    pub crashes: Vec<Crash>,
    pub slow: Vec<PathBuf>,
}

impl Report {
    pub fn summary(&self) -> String {
        let mut text = format!(
            "fuzz {}: {} cases in {:.1} s (seed {}), {} behaviours seen, {} inputs kept, {} crashes, {} slow inputs",
            self.name,
            self.cases,
            self.elapsed.as_secs_f64(),
            self.seed,
            self.behaviours,
            self.kept,
            self.crashes.len(),
            self.slow.len(),
        );
        for crash in &self.crashes {
            text.push_str(&format!(
                "\n  crash {} ({} bytes): {}\n    saved as {}",
                crash.key,
                crash.len,
                shorten(&crash.panic.message, 400),
                crash
                    .files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
        }
        for slow in &self.slow {
            text.push_str(&format!("\n  slow input saved as {}", slow.display()));
        }
        text
    }

    /// Fails the test when the run found a crash, naming the reproducers.
    pub fn assert_clean(&self) {
        assert!(
            self.crashes.is_empty(),
            "{}\nfix each crash, then copy its reproducer into tests/fuzz/regressions/ \
             (and note it in tests/fuzz/regressions/README.md)",
            self.summary()
        );
    }
}

fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

// --- catching panics -----------------------------------------------------------------

thread_local! {
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    static CAUGHT: RefCell<Option<Panic>> = const { RefCell::new(None) };
}

/// Runs `f`, turning a panic into a [`Panic`]. While it runs, the panic hook records
/// the panic for this thread instead of printing it (thousands of inputs may hit the
/// same bug); panics of other threads still print as usual.
pub fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Panic> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CATCHING.get() {
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".to_owned());
                let place = info.location().map_or_else(
                    || "unknown".to_owned(),
                    |l| format!("{}:{}:{}", l.file(), l.line(), l.column()),
                );
                CAUGHT.set(Some(Panic { place, message }));
            } else {
                default(info);
            }
        }));
    });
    CATCHING.set(true);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CATCHING.set(false);
    result.map_err(|_| {
        CAUGHT.take().unwrap_or_else(|| Panic {
            place: "unknown".to_owned(),
            message: "a panic the hook did not see".to_owned(),
        })
    })
}

// --- the loop --------------------------------------------------------------------------

/// A fuzz target: runs one case (panicking on any broken property) and returns a hash
/// of the behaviour it showed; mutates a case into a new one.
pub struct Target<C: Case> {
    pub name: &'static str,
    pub run: fn(&C) -> u64,
    pub mutate: fn(&mut fastrand::Rng, &C, &[C]) -> C,
}

/// Runs the seeds once each, then mutated inputs until the budget is spent.
pub fn fuzz<C: Case>(target: &Target<C>, seeds: Vec<C>, budget: Budget, out: &Path) -> Report {
    assert!(!seeds.is_empty(), "{}: no seeds", target.name);
    let started = Instant::now();
    let mut rng = fastrand::Rng::with_seed(budget.seed);
    let mut pool: Vec<C> = seeds.clone();
    let seed_count = pool.len();
    let mut pool_bytes: usize = pool.iter().map(|c| c.bytes().len()).sum();
    let mut behaviours: HashSet<u64> = HashSet::new();
    let mut crashes: HashMap<String, Crash> = HashMap::new();
    let mut cases: u64 = 0;
    let mut next_status = Duration::from_secs(60);

    std::fs::create_dir_all(out).expect("fuzz output folder");
    let current_path = out.join(format!("current-{}", target.name));
    let mut current = File::create(&current_path).expect("current-input file");
    let watcher = Watcher::start(target.name, &current_path, out);
    if budget.seconds.is_some() {
        eprintln!(
            "fuzz {}: seed {}, {} seeds; if the process dies, the input it was on is in {}",
            target.name,
            budget.seed,
            seeds.len(),
            current_path.display()
        );
    }

    let mut seed_queue = seeds.into_iter();
    loop {
        let case = match seed_queue.next() {
            Some(seed) => seed,
            None => {
                if budget.spent(cases, started) {
                    break;
                }
                cases += 1;
                // A quarter of the bases are seeds, so the pool's newer (and stranger)
                // inputs do not crowd out the honest ones.
                let base = if rng.u8(..4) == 0 {
                    &pool[rng.usize(..seed_count)]
                } else {
                    &pool[rng.usize(..pool.len())]
                };
                (target.mutate)(&mut rng, base, &pool)
            }
        };
        let (file, _) = case.file();
        // The input on disk before it runs: if it aborts the process (a stack
        // overflow) or hangs, the file names it.
        let _ = current
            .seek(SeekFrom::Start(0))
            .and_then(|_| current.write_all(&file))
            .and_then(|()| current.set_len(file.len() as u64));
        watcher.started();
        match catch(|| (target.run)(&case)) {
            Ok(behaviour) => {
                if behaviours.insert(behaviour) {
                    // A new behaviour: the input joins the pool, in place of a random
                    // non-seed once the pool holds POOL_BYTES.
                    if pool_bytes + case.bytes().len() <= POOL_BYTES {
                        pool_bytes += case.bytes().len();
                        pool.push(case);
                    } else if pool.len() > seed_count {
                        let at = rng.usize(seed_count..pool.len());
                        pool_bytes = pool_bytes - pool[at].bytes().len() + case.bytes().len();
                        pool[at] = case;
                    }
                }
            }
            Err(panic) => {
                let key = format!("{} at {}", case.kind(), panic.place);
                if !crashes.contains_key(&key) {
                    let (small, panic) = shrink(target, case, panic);
                    let files = save(&small, &out.join("crashes"), target.name);
                    crashes.insert(
                        key.clone(),
                        Crash {
                            key,
                            panic,
                            files,
                            len: small.bytes().len(),
                        },
                    );
                }
            }
        }
        if budget.seconds.is_some() && started.elapsed() >= next_status {
            next_status += Duration::from_secs(60);
            eprintln!(
                "fuzz {}: {} cases, {:.0} s, {} behaviours, {} crashes",
                target.name,
                cases,
                started.elapsed().as_secs_f64(),
                behaviours.len(),
                crashes.len()
            );
        }
    }
    let slow = watcher.stop();
    let mut crashes: Vec<Crash> = crashes.into_values().collect();
    crashes.sort_by(|a, b| a.key.cmp(&b.key));
    Report {
        name: target.name,
        cases,
        elapsed: started.elapsed(),
        seed: budget.seed,
        behaviours: behaviours.len(),
        kept: pool.len(),
        crashes,
        slow,
    }
}

/// Shrinks a crashing case while it still panics at the same place: removes chunks
/// of halving size (a bounded number of tries).
fn shrink<C: Case>(target: &Target<C>, case: C, panic: Panic) -> (C, Panic) {
    let mut best = case;
    let mut best_panic = panic;
    let mut tries = 0;
    let mut chunk = best.bytes().len() / 2;
    while chunk >= 1 && tries < 4000 {
        let mut start = 0;
        while start < best.bytes().len() && tries < 4000 {
            let bytes = best.bytes();
            let end = (start + chunk).min(bytes.len());
            let mut smaller = bytes[..start].to_vec();
            smaller.extend_from_slice(&bytes[end..]);
            let candidate = best.with_bytes(smaller);
            tries += 1;
            match catch(|| (target.run)(&candidate)) {
                Err(p) if p.place == best_panic.place => {
                    best = candidate;
                    best_panic = p;
                }
                _ => start += chunk,
            }
        }
        chunk /= 2;
    }
    (best, best_panic)
}

/// Writes a case (and its companions) into `dir`, named by its content's hash.
pub fn save<C: Case>(case: &C, dir: &Path, prefix: &str) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).expect("fuzz output folder");
    let (bytes, extension) = case.file();
    let path = dir.join(format!(
        "{prefix}-{}-{:016x}.{extension}",
        case.kind(),
        hash(&bytes)
    ));
    std::fs::write(&path, &bytes).expect("write a reproducer");
    let mut files = vec![path];
    for (name, bytes) in case.companions() {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        if std::fs::write(&path, bytes).is_ok() {
            files.push(path);
        }
    }
    files
}

/// A stable 64-bit hash (FNV-1a): file names and behaviour keys must not change
/// between runs.
pub fn hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Adds a word to a behaviour hash.
pub fn mix(h: u64, word: &str) -> u64 {
    let mut h = h ^ 0xff;
    for b in word.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

// --- the watcher -------------------------------------------------------------------------

/// Notes an input that is still running `OFFBOARD_FUZZ_SLOW_SECONDS` (30) after it
/// started: a copy of it goes to `slow/` and a line to stderr. It never fails the
/// run; a real hang shows as a test that does not end, with its input on disk.
struct Watcher {
    started: Arc<AtomicU64>,
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<Vec<PathBuf>>,
}

impl Watcher {
    fn start(name: &'static str, current: &Path, out: &Path) -> Self {
        let started = Arc::new(AtomicU64::new(0));
        let (stop, stopped) = mpsc::channel::<()>();
        let limit = std::env::var("OFFBOARD_FUZZ_SLOW_SECONDS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(30);
        let seen = Arc::clone(&started);
        let current = current.to_path_buf();
        let slow_dir = out.join("slow");
        let thread = std::thread::spawn(move || {
            let mut saved = Vec::new();
            let mut last = (u64::MAX, Instant::now());
            let mut noted = u64::MAX;
            // Wakes every second until the loop ends (the sender is dropped).
            while let Err(mpsc::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(Duration::from_secs(1))
            {
                let now = seen.load(Ordering::Relaxed);
                if now != last.0 {
                    last = (now, Instant::now());
                } else if now != noted && last.1.elapsed() >= Duration::from_secs(limit) {
                    noted = now;
                    let _ = std::fs::create_dir_all(&slow_dir);
                    let copy = slow_dir.join(format!("{name}-{now}"));
                    if std::fs::copy(&current, &copy).is_ok() {
                        eprintln!(
                            "fuzz {name}: input {now} has run for {limit} s; saved as {}",
                            copy.display()
                        );
                        saved.push(copy);
                    }
                }
            }
            saved
        });
        Self {
            started,
            stop,
            thread,
        }
    }

    fn started(&self) {
        self.started.fetch_add(1, Ordering::Relaxed);
    }

    fn stop(self) -> Vec<PathBuf> {
        drop(self.stop);
        self.thread.join().unwrap_or_default()
    }
}
