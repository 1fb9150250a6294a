//! `cargo bench -p mapreduce`: wall times of `wc` on the eight texts, sequential and
//! distributed, and of the crash scenario. Runs the real binaries, as the tests do.
//!
//! - mrsequential: one process, from start to exit (target: at most 50 ms);
//! - a whole job: a coordinator and 3 workers started together, from the coordinator's start
//!   until every process has exited (target: at most 0.5 s);
//! - the crash scenario of the tests (workers crash or stall a third of the time each).

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{crash_job, inputs, quick_job, TestDir, SEQUENTIAL};

fn main() {
    // `cargo bench -- FILTER` passes arguments; this harness has only one benchmark set.
    let runs = |default: usize, var: &str| {
        std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };

    let dir = TestDir::new("bench-sequential");
    let inputs = inputs();
    let times = measure(runs(30, "MR_BENCH_RUNS"), || {
        let status = Command::new(SEQUENTIAL)
            .arg("wc")
            .args(&inputs)
            .current_dir(&dir.path)
            .status()
            .expect("running mrsequential");
        assert!(status.success());
    });
    report("mrsequential wc, 8 texts", &times);

    let times = measure(runs(20, "MR_BENCH_RUNS"), || {
        let dir = TestDir::new("bench-job");
        quick_job(&dir, "wc", 3);
    });
    report("whole job wc, coordinator + 3 workers", &times);

    let times = measure(runs(3, "MR_BENCH_CRASH_RUNS"), || {
        let dir = TestDir::new("bench-crash");
        crash_job(&dir);
    });
    report("crash scenario (1 worker + 3 respawn loops)", &times);
}

/// Runs `f` `runs` times (after one warm-up run) and returns each run's wall time.
fn measure(runs: usize, mut f: impl FnMut()) -> Vec<Duration> {
    f();
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect()
}

fn report(what: &str, times: &[Duration]) {
    let mut sorted = times.to_vec();
    sorted.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{what:<45} min {:>8.1} ms   median {:>8.1} ms   max {:>8.1} ms   ({} runs)",
        ms(sorted[0]),
        ms(sorted[sorted.len() / 2]),
        ms(sorted[sorted.len() - 1]),
        sorted.len()
    );
}
