//! Benchmark: time to check each key/value history and all register histories of `tests/data`.
//!
//! Run with `cargo bench -p lincheck`; `cargo bench -p lincheck -- c50` runs only the histories
//! whose names contain "c50" ("jepsen" selects the register histories). Parsing is done up front
//! and not timed. Each measurement
//! is the best of several runs (the check is deterministic, so the spread is only noise).

use lincheck::{check, parse, KvModel, Model, Operation, Outcome, RegisterModel, DEFAULT_BUDGET};
use std::path::Path;
use std::time::{Duration, Instant};

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
        "{:<20} {:>6} {:>11} {:>10}  verdict",
        "history", "ops", "steps", "time"
    );
    for file in [
        "c01-ok", "c01-bad", "c10-ok", "c10-bad", "c50-ok", "c50-bad",
    ] {
        if !selected(&format!("kv/{file}")) {
            continue;
        }
        let history = parse::kv::parse(&data(&format!("kv/{file}.txt"))).expect("valid history");
        let (time, outcome) = time_check(&KvModel, &history);
        println!(
            "{:<20} {:>6} {:>11} {:>8.2}ms  {}",
            format!("kv/{file}"),
            history.len(),
            outcome.steps(),
            time.as_secs_f64() * 1e3,
            verdict(&outcome)
        );
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
        "{:<20} {:>6} {:>11} {:>8.2}ms  (slowest: {:.2}ms)",
        format!("jepsen/* ({})", histories.len()),
        ops,
        steps,
        total.as_secs_f64() * 1e3,
        slowest.0.as_secs_f64() * 1e3,
    );
}
