//! The grader's closing report: a table per lab, then every failure with its replay command.
//!
//! Each table's heading names the mode its runs ran in (simulated, or realtime under
//! `LAB_REALTIME=1`); results of both modes (from `merge`) make a table per lab and mode, so
//! a realtime pass never passes for a simulated one.

use std::collections::BTreeMap;

use crate::discover::LAB_PACKAGES;
use crate::runner::{Mode, RunResult};

/// Per test: passed/total, median and max simulated seconds, median wall seconds.
struct TestRow<'a> {
    test: &'a str,
    passed: usize,
    total: usize,
    sim: Vec<f64>,
    wall: Vec<f64>,
}

/// Prints the tables and the failures; returns whether every run passed.
pub fn print(results: &[RunResult]) -> bool {
    // Group by package in lab order, then mode, tests in order of first appearance.
    let mut by_package: BTreeMap<(usize, Mode), Vec<TestRow>> = BTreeMap::new();
    for result in results {
        let lab = LAB_PACKAGES
            .iter()
            .position(|p| *p == result.package)
            .unwrap_or(LAB_PACKAGES.len());
        let rows = by_package.entry((lab, result.mode)).or_default();
        let row = match rows.iter_mut().position(|r| r.test == result.test) {
            Some(i) => &mut rows[i],
            None => {
                rows.push(TestRow {
                    test: &result.test,
                    passed: 0,
                    total: 0,
                    sim: vec![],
                    wall: vec![],
                });
                rows.last_mut().unwrap()
            }
        };
        row.total += 1;
        row.passed += usize::from(result.passed);
        row.sim.extend(result.sim_secs);
        row.wall.push(result.wall_secs);
    }
    for ((lab, mode), rows) in &mut by_package {
        let package = LAB_PACKAGES.get(*lab).copied().unwrap_or("other");
        let width = rows.iter().map(|r| r.test.len()).max().unwrap_or(4).max(4);
        println!("\n{}  [{}]", lab_title(package), mode_note(package, *mode));
        // A realtime test reports wall seconds where a simulated one reports simulated ones.
        let (med, max) = match mode {
            Mode::Simulated => ("med sim s", "max sim s"),
            Mode::Realtime => ("med test s", "max test s"),
        };
        println!(
            "  {:width$}  {:>11}  {:>10}  {:>10}  {:>10}",
            "test", "passed", med, max, "med wall s"
        );
        for row in rows.iter_mut() {
            println!(
                "  {:width$}  {:>11}  {:>10}  {:>10}  {:>10}",
                row.test,
                format!("{}/{}", row.passed, row.total),
                fmt_secs(median(&mut row.sim)),
                fmt_secs(row.sim.iter().cloned().reduce(f64::max)),
                fmt_secs(median(&mut row.wall)),
            );
        }
    }
    let failures: Vec<&RunResult> = results.iter().filter(|r| !r.passed).collect();
    let passed = results.len() - failures.len();
    println!("\n{passed} passed, {} failed", failures.len());
    if !failures.is_empty() {
        println!("\nFailures:");
        for failure in &failures {
            println!(
                "  {} seed={}: {}",
                failure.test,
                failure.seed,
                failure.reason.as_deref().unwrap_or("failed")
            );
            println!("    replay: {}", failure.replay_command());
            if let Some(log) = &failure.log {
                println!("    output: {}", log.display());
            }
            if let Some(trace) = &failure.trace {
                println!(
                    "    trace: {}  (view: cargo run --release -- logs {})",
                    trace.display(),
                    trace.display()
                );
            }
            if let Some(page) = &failure.timeline {
                println!("    timeline: {}", page.display());
            }
        }
    }
    failures.is_empty()
}

fn lab_title(package: &str) -> &'static str {
    match package {
        "labrpc" => "labrpc (the simulated network)",
        "mapreduce" => "Lab 1: MapReduce",
        "raft" => "Lab 2: Raft",
        "kvraft" => "Lab 3: key/value service on Raft",
        "shardkv" => "Lab 4: sharded key/value service",
        _ => "other",
    }
}

/// What a table's heading says of how its runs ran.
fn mode_note(package: &str, mode: Mode) -> &'static str {
    match (package, mode) {
        // Lab 1's tests run real processes on the wall clock either way.
        ("mapreduce", _) => "real processes",
        (_, Mode::Simulated) => "simulated: one thread, simulated time",
        (_, Mode::Realtime) => "realtime: LAB_REALTIME=1, multi-threaded, wall clock",
    }
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(values[values.len() / 2])
}

fn fmt_secs(value: Option<f64>) -> String {
    value.map_or_else(|| "-".into(), |v| format!("{v:.2}"))
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0]), Some(4.0));
        assert_eq!(median(&mut []), None);
    }
}
