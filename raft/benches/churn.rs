//! Simulated seconds per wall second for the churn tests' scenario, so that a slowdown of
//! the simulation (or of Raft inside it) shows.
//!
//! `cargo bench -p raft --bench churn` runs the course's churn scenario (5 peers, clients
//! proposing while peers are disconnected, crashed and restarted at random), reliable and
//! unreliable, over a few fixed seeds, with the Raft tester checking everything as in the
//! tests, and prints how much simulated time each second of wall time covered.

use std::time::{Duration, Instant};

use labrpc::sim;

// The tester and the scenario, shared with the tests.
#[path = "../tests/raft/config/mod.rs"]
mod config;
#[allow(dead_code, unused_imports)] // the tests themselves are not compiled here
#[path = "../tests/raft/persistence.rs"]
mod persistence;

const SEEDS: std::ops::Range<u64> = 1..9;

fn main() {
    for unreliable in [false, true] {
        let mut simulated = Duration::ZERO;
        let wall = Instant::now();
        for seed in SEEDS {
            let (_sim, outcome) = sim::run(seed, false, Duration::from_secs(120), || async {
                let t0 = tokio::time::Instant::now();
                persistence::internal_churn(unreliable).await;
                t0.elapsed()
            });
            simulated += outcome.expect("the churn scenario failed");
        }
        let wall = wall.elapsed();
        println!(
            "raft churn ({}): {} runs, {:.1} simulated s in {:.3} s wall = {:.0} simulated s per wall s",
            if unreliable { "unreliable" } else { "reliable" },
            SEEDS.end - SEEDS.start,
            simulated.as_secs_f64(),
            wall.as_secs_f64(),
            simulated.as_secs_f64() / wall.as_secs_f64()
        );
    }
}
