//! `grade --bench`: the two figures the grader's speed is judged by.
//!
//! 1. *Suite test time per seed*: Lab 3's 23 course tests and Lab 4's 15 (13 shardkv tests
//!    and the controller's two), each test one process running `--bench-seeds` seeds
//!    (`LAB_SEEDS`), each run's own wall time as the harness measures it (no process start);
//!    per seed the sum over the suite, then the median and the worst seed. One run at a time,
//!    so that the figure is a run's cost, not a share of the cores.
//! 2. *Grader throughput*: the session `grade 2 3 4 -n 20` (every test of labs 2–4, 20 seeds
//!    each, `-j` at a time, batched as usual), timed from the first process started to the
//!    last result: runs per second of wall time, process starts included. (The build check
//!    and the test listing before it, about a second, are not in it; the figure printed
//!    beside it is.)
//!
//! Seeds come from `--seed` (default: fresh), so `--bench` with a seed nobody used measures
//! unseen seeds.

use std::path::Path;
use std::time::Instant;

use crate::discover::TestCase;
use crate::runner::{self, Job, Mode};
use crate::seeds;

/// The course's tests of Lab 3 and Lab 4: parts 3A, 3B, 4A and 4B, without the one test
/// beyond the course that part 4A holds (the rebalancer's randomized check).
fn course_suite<'a>(tests: &'a [TestCase], package: &str) -> Vec<&'a TestCase> {
    tests
        .iter()
        .filter(|t| t.package == package && !t.ignored)
        .filter(|t| !t.part().ends_with('X') && !t.name.starts_with("rebalance::"))
        .collect()
}

/// Runs the benchmark over `tests` (every test the grader found) and prints its figures.
pub fn run(
    tests: &[TestCase],
    base: u64,
    nseeds: u64,
    parallel: usize,
    log_dir: &Path,
) -> Result<(), String> {
    std::fs::create_dir_all(log_dir)
        .map_err(|e| format!("cannot create {}: {e}", log_dir.display()))?;
    println!("grade --bench: base seed {base}, {nseeds} seeds per suite test");
    for (lab, package, goal) in [(3, "kvraft", 0.5), (4, "shardkv", 0.2)] {
        let suite = course_suite(tests, package);
        let mut per_seed = vec![0.0f64; nseeds as usize];
        for test in &suite {
            let jobs: Vec<Job> = (0..nseeds)
                .map(|i| job(test, seeds::seed_of_run(base, i)))
                .collect();
            let results = runner::run_all(jobs, 1, nseeds as usize, log_dir);
            for (i, result) in results.iter().enumerate() {
                if !result.passed {
                    return Err(format!(
                        "{} failed with seed {}: {}",
                        result.test,
                        result.seed,
                        result.reason.as_deref().unwrap_or("")
                    ));
                }
                per_seed[i] += result.wall_secs;
            }
        }
        let mut sorted = per_seed.clone();
        sorted.sort_by(f64::total_cmp);
        println!(
            "Lab {lab}: {} course tests, test time per seed: median {:.3} s, worst {:.3} s, best {:.3} s (goal <= {goal} s)",
            suite.len(),
            sorted[sorted.len() / 2],
            sorted[sorted.len() - 1],
            sorted[0],
        );
    }
    let session: Vec<&TestCase> = tests
        .iter()
        .filter(|t| ["raft", "kvraft", "shardkv"].contains(&t.package.as_str()) && !t.ignored)
        .collect();
    let jobs: Vec<Job> = (0..20)
        .flat_map(|i| {
            session
                .iter()
                .map(move |t| job(t, seeds::seed_of_run(base ^ 0x5eed, i)))
        })
        .collect();
    let total = jobs.len();
    let started = Instant::now();
    let results = runner::run_all(jobs, parallel, crate::DEFAULT_BATCH as usize, log_dir);
    let wall = started.elapsed().as_secs_f64();
    let failed = results.iter().filter(|r| !r.passed).count();
    println!(
        "grader: labs 2-4, {} tests x 20 seeds = {total} runs, {parallel} at a time: {wall:.2} s, {:.0} runs/s (goal >= 200){}",
        session.len(),
        total as f64 / wall,
        if failed > 0 {
            format!(", {failed} FAILED")
        } else {
            String::new()
        }
    );
    if failed > 0 {
        return Err(format!("{failed} runs of the grading session failed"));
    }
    Ok(())
}

fn job(test: &TestCase, seed: u64) -> Job {
    Job {
        test: test.clone(),
        seed,
        mode: Mode::Simulated,
        trace: None,
        wall_limit: runner::DEFAULT_WALL_LIMIT,
    }
}
