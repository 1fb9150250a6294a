//! `grade trace-cost`: what tracing costs. Runs the selected tests one after another with
//! fixed seeds, once with tracing off and once with `LAB_TRACE` writing every event, and
//! prints both wall times and the trace's size. Passing runs pay the first figure; only a
//! failing run's replay pays the second.

use std::path::Path;
use std::time::Instant;

use crate::discover::TestCase;
use crate::runner::{spawn_and_wait, Job, Mode};

pub fn run(tests: &[TestCase], scratch: &Path, mode: Mode) -> Result<(), String> {
    std::fs::create_dir_all(scratch)
        .map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
    let log = scratch.join("trace-cost.log");
    let trace = scratch.join("trace-cost.trace.jsonl");
    let mut totals = [0.0f64; 2];
    let mut trace_bytes = 0u64;
    let mut trace_lines = 0usize;
    println!(
        "{:40} {:>10} {:>10} {:>12}",
        "test", "off (s)", "on (s)", "trace lines"
    );
    for (i, test) in tests.iter().enumerate() {
        let mut walls = [0.0f64; 2];
        for (pass, wall) in walls.iter_mut().enumerate() {
            let job = Job {
                test: test.clone(),
                seed: 1 + i as u64,
                mode,
                trace: (pass == 1).then(|| trace.clone()),
                wall_limit: crate::runner::DEFAULT_WALL_LIMIT,
            };
            let started = Instant::now();
            let passed = spawn_and_wait(&job, &log)?.passed();
            *wall = started.elapsed().as_secs_f64();
            if !passed {
                return Err(format!(
                    "{} failed with seed {}: see {}",
                    test.name,
                    job.seed,
                    log.display()
                ));
            }
        }
        let text = std::fs::read_to_string(&trace).unwrap_or_default();
        let lines = text.lines().count();
        trace_bytes += text.len() as u64;
        trace_lines += lines;
        println!(
            "{:40} {:>10.3} {:>10.3} {:>12}",
            test.name, walls[0], walls[1], lines
        );
        totals[0] += walls[0];
        totals[1] += walls[1];
    }
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_file(&trace);
    println!(
        "\n{} tests, one process each: tracing off {:.3} s, tracing on {:.3} s of wall time ({} events, {:.1} MB of trace)",
        tests.len(),
        totals[0],
        totals[1],
        trace_lines,
        trace_bytes as f64 / 1e6
    );
    Ok(())
}
