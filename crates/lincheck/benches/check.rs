//! Benchmark: time to check each key/value history and all register histories of `tests/data`.
//!
//! Run with `cargo bench -p lincheck`; `cargo bench -p lincheck -- c50` runs only the histories
//! whose names contain "c50" ("jepsen" selects the register histories). Parsing is done up front
//! and not timed. Each measurement
//! is the best of several runs (the check is deterministic, so the spread is only noise).
//!
//! Besides the test data it times generated histories (`tests/common/gen.rs`; "gen" selects
//! them): 20 clients x 50 operations on one key, every operation overlapping most others, and
//! their broken twins. For each history it also reports the peak heap memory of the check,
//! counted by a global allocator wrapper.

#[path = "../tests/common/gen.rs"]
mod gen;

use lincheck::{check, parse, KvModel, Model, Operation, Outcome, RegisterModel, DEFAULT_BUDGET};
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The system allocator, counting the bytes in use and their peak.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers to the system allocator; only adds bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak heap bytes allocated while running `f`, beyond what was in use before.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = IN_USE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let result = f();
    (result, PEAK.load(Ordering::Relaxed) - base)
}

const RUNS: usize = 5;

fn data(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Best-of-`RUNS` time to check `history`, and the outcome.
fn time_check<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
) -> (Duration, Outcome) {
    let mut best = Duration::MAX;
    let mut outcome = None;
    for _ in 0..RUNS {
        let start = Instant::now();
        let result = check(model, history, DEFAULT_BUDGET);
        best = best.min(start.elapsed());
        outcome = Some(result);
    }
    (best, outcome.expect("RUNS > 0"))
}

/// Times one key/value history and prints its line.
fn report(name: &str, history: &[Operation<lincheck::KvInput, String>]) {
    let (_, peak) = peak_of(|| check(&KvModel, history, DEFAULT_BUDGET));
    let (time, outcome) = time_check(&KvModel, history);
    println!(
        "{:<24} {:>6} {:>11} {:>8.2}ms {:>7.1}MB  {}",
        name,
        history.len(),
        outcome.steps(),
        time.as_secs_f64() * 1e3,
        peak as f64 / 1e6,
        verdict(&outcome)
    );
}

fn verdict(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Linearizable { .. } => "linearizable",
        Outcome::NotLinearizable(_) => "not linearizable",
        Outcome::BudgetExhausted { .. } => "BUDGET EXHAUSTED",
    }
}

fn main() {
    // Cargo passes `--bench`; any other argument is a filter.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let selected = |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f));

    println!("lincheck benchmark (best of {RUNS} runs, parsing excluded)");
    println!(
        "{:<24} {:>6} {:>11} {:>10} {:>9}  verdict",
        "history", "ops", "steps", "time", "peak mem"
    );
    for file in [
        "c01-ok", "c01-bad", "c10-ok", "c10-bad", "c50-ok", "c50-bad",
    ] {
        if !selected(&format!("kv/{file}")) {
            continue;
        }
        let history = parse::kv::parse(&data(&format!("kv/{file}.txt"))).expect("valid history");
        report(&format!("kv/{file}"), &history);
    }

    // Generated: 20 clients x 50 operations, one key, wide intervals; appends only, or with
    // Puts; each with a broken twin.
    for (name, put_percent, seed) in [
        ("gen/20x50-appends", 0, 1),
        ("gen/20x50-puts", 10, 2),
        ("gen/20x50-3keys", 10, 3),
    ] {
        let mut rng = gen::Rng::new(seed);
        let shape = gen::Shape {
            clients: 20,
            ops_per_client: 50,
            keys: if name.ends_with("3keys") { 3 } else { 1 },
            wide: true,
            put_percent,
            no_reply_percent: 2,
            empty_puts: false,
        };
        let generated = gen::linearizable(&mut rng, shape);
        if selected(name) {
            report(&format!("{name}-ok"), &generated.history);
        }
        let (twin, _) = gen::broken(&mut rng, &generated).expect("a mutation applies");
        if selected(name) {
            report(&format!("{name}-bad"), &twin);
        }
    }

    if !selected("jepsen/") {
        return;
    }
    let histories: Vec<_> = (0..=102)
        .filter(|&i| i != 95) // etcd_095.log is empty
        .map(|i| parse::jepsen::parse(&data(&format!("jepsen/etcd_{i:03}.log"))).expect("valid"))
        .collect();
    let (mut total, mut steps, mut ops, mut slowest) = (Duration::ZERO, 0, 0, (Duration::ZERO, 0));
    for (i, history) in histories.iter().enumerate() {
        let (time, outcome) = time_check(&RegisterModel, history);
        total += time;
        steps += outcome.steps();
        ops += history.len();
        if time > slowest.0 {
            slowest = (time, i);
        }
    }
    println!(
        "{:<24} {:>6} {:>11} {:>8.2}ms {:>9}  (slowest: {:.2}ms)",
        format!("jepsen/* ({})", histories.len()),
        ops,
        steps,
        total.as_secs_f64() * 1e3,
        "",
        slowest.0.as_secs_f64() * 1e3,
    );
}
