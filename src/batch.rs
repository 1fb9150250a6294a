//! Several seeds of one test in one process (`LAB_SEEDS`), and how their results are told
//! apart.
//!
//! A process start and the test binary's own start cost more than most runs of Raft's tests,
//! so the grader gives one process up to `--batch` seeds of one test. The harness runs them
//! one after another, each a fresh simulation between `lab-run: begin seed=S` and `lab-run:
//! end seed=S passed wall=W` lines (`harness::batch`), and stops at the first run that fails.
//! Every run keeps what it would have alone: its seed, digest, simulated seconds, pass or
//! fail, saved output (its own lines, from its `begin` on) and replay command; a failing run
//! is still replayed alone with a trace. A run that fails, panics, hangs until its watchdog
//! aborts the process, or is killed by the grader ends the process inside its own lines, so
//! it is that run's failure, with its seed; the seeds after it go to a new batch.
//!
//! A test that prints no markers at all (it does not go through the harness: the same in
//! every run) has its seeds run one process each, as before batches.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use crate::runner::{self, Ended, Job, Mode, RunResult};

/// The harness's marker lines (`harness::batch`).
const BEGIN: &str = "lab-run: begin seed=";
const END: &str = "lab-run: end seed=";

/// What became of a batch's runs.
pub struct Outcome {
    /// Runs with a result, by job index.
    pub done: Vec<(usize, RunResult)>,
    /// The runs after a failure: to run again as a batch.
    pub again: Vec<(usize, Job)>,
    /// Runs the process did not account for: to run one process each.
    pub singly: Vec<(usize, Job)>,
}

/// Cuts the session's jobs into batches of at most `size` runs of one test, each batch in
/// the session's order and the batches in the order of their first run. Lab 1's tests (real
/// processes, no seed) and realtime runs (whose cost is their own seconds, not a start) go
/// one process each.
pub fn group(jobs: Vec<Job>, size: usize) -> Vec<Vec<(usize, Job)>> {
    let mut done: Vec<Vec<(usize, Job)>> = Vec::new();
    let mut open: BTreeMap<(String, String), Vec<(usize, Job)>> = BTreeMap::new();
    for (index, job) in jobs.into_iter().enumerate() {
        if size <= 1 || job.test.package == "mapreduce" || job.mode == Mode::Realtime {
            done.push(vec![(index, job)]);
            continue;
        }
        let key = (job.test.package.clone(), job.test.name.clone());
        let batch = open.entry(key.clone()).or_default();
        batch.push((index, job));
        if batch.len() >= size {
            done.push(open.remove(&key).expect("just filled"));
        }
    }
    done.extend(open.into_values());
    done.sort_by_key(|batch| batch[0].0);
    done
}

/// One run's lines in a batch's output.
#[derive(Debug, PartialEq)]
struct Section<'a> {
    seed: u64,
    /// From its `begin` line up to the next run's (or the end of the output).
    text: &'a str,
    /// Its own wall seconds, if it passed.
    passed_wall: Option<f64>,
}

/// The runs of a batch's output, in order.
fn sections(output: &str) -> Vec<Section<'_>> {
    let mut starts = Vec::new();
    let mut offset = 0;
    for line in output.split_inclusive('\n') {
        // libtest's `test NAME ... ` has no newline of its own: the first marker follows it.
        if let Some(at) = line.find(BEGIN) {
            if let Ok(seed) = line[at + BEGIN.len()..].trim_end().parse::<u64>() {
                starts.push((offset + at, seed));
            }
        }
        offset += line.len();
    }
    let mut found = Vec::new();
    for (k, &(start, seed)) in starts.iter().enumerate() {
        let stop = starts.get(k + 1).map_or(output.len(), |&(next, _)| next);
        let text = &output[start..stop];
        let end = format!("{END}{seed} passed wall=");
        let passed_wall = text
            .lines()
            .find_map(|l| l.strip_prefix(end.as_str()))
            .and_then(|w| w.trim().parse::<f64>().ok());
        found.push(Section {
            seed,
            text,
            passed_wall,
        });
    }
    found
}

/// Runs a batch (at least two runs of one test) in one process.
pub fn run(runs: &[(usize, Job)], log_dir: &Path) -> Outcome {
    let first = &runs[0].1;
    let seeds: Vec<String> = runs.iter().map(|(_, job)| job.seed.to_string()).collect();
    let batch_log = log_dir.join(format!(
        "{}-{}-batch-{}.log",
        first.test.package,
        first.test.name.replace("::", "-"),
        first.seed
    ));
    let mut command = runner::command_for(first);
    command.env("LAB_SEEDS", seeds.join(","));
    // Each run has its own watchdog inside the process; this is the last resort behind all
    // of them.
    let kill_after = first.wall_limit * 2 * runs.len() as u32 + runner::KILL_GRACE;
    let started = Instant::now();
    let ended = runner::wait_for(first, command, kill_after, &batch_log);
    let elapsed = started.elapsed().as_secs_f64();
    let output = std::fs::read_to_string(&batch_log).unwrap_or_default();
    let _ = std::fs::remove_file(&batch_log);
    account(runs, &output, ended, elapsed, log_dir)
}

/// Gives every run of the batch its result from the process's output and end.
fn account(
    runs: &[(usize, Job)],
    output: &str,
    ended: Result<Ended, String>,
    elapsed: f64,
    log_dir: &Path,
) -> Outcome {
    let process_passed = matches!(&ended, Ok(e) if e.passed());
    let found = sections(output);
    let mut outcome = Outcome {
        done: Vec::new(),
        again: Vec::new(),
        singly: Vec::new(),
    };
    if found.is_empty() && process_passed {
        // Not a harness test: it ran once and ignored the seeds.
        outcome.singly = runs.to_vec();
        return outcome;
    }
    let mut spent = 0.0;
    for (k, (index, job)) in runs.iter().enumerate() {
        let section = found.get(k).filter(|s| s.seed == job.seed);
        if let Some(Section {
            text,
            passed_wall: Some(wall),
            ..
        }) = section
        {
            spent += wall;
            let log_path = runner::log_path_of(job, log_dir);
            let result = runner::judge(job, &log_path, text, Ok(()), false, *wall);
            outcome.done.push((*index, result));
            continue;
        }
        if process_passed {
            // Every seed should have had its lines; these did not: run them alone.
            outcome.singly.extend(runs[k..].iter().cloned());
            return outcome;
        }
        // The process ended in this run (or before it began, then its whole output says
        // why): this run failed; the rest go again.
        let text = section.map_or(output, |s| s.text);
        let verdict = match &ended {
            Ok(Ended::Killed(after)) => runner::killed_reason(*after, job.wall_limit),
            Ok(Ended::Exited(status)) => {
                runner::failure_reason(text).unwrap_or_else(|| runner::no_message(status))
            }
            Err(reason) => reason.clone(),
        };
        let log_path = runner::log_path_of(job, log_dir);
        if let Err(e) = std::fs::write(&log_path, text) {
            eprintln!("grade: cannot write {}: {e}", log_path.display());
        }
        let killed = matches!(ended, Ok(Ended::Killed(_)));
        let wall = (elapsed - spent).max(0.0);
        let result = runner::judge(job, &log_path, text, Err(verdict), killed, wall);
        outcome.done.push((*index, result));
        outcome.again = runs[k + 1..].to_vec();
        return outcome;
    }
    if !process_passed {
        // Every run passed by its own lines, yet the process failed after them: judge the
        // last one again alone, where such a failure is its own.
        let last = outcome.done.pop().expect("a batch has runs");
        outcome
            .singly
            .push(runs.iter().find(|(i, _)| *i == last.0).cloned().unwrap());
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_a_batch_output_into_runs() {
        let output = "running 1 test\ntest x ... lab-run: begin seed=5\nTest (2A): x ...\nseed=5 digest=aa\nlab-run: end seed=5 passed wall=0.010000\nlab-run: begin seed=6\nseed=6 digest=bb\n  ... FAILED: boom\nthread 't' panicked at x.rs:1:1:\nboom\n";
        let found = sections(output);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].seed, 5);
        assert_eq!(found[0].passed_wall, Some(0.01));
        assert!(found[0].text.starts_with("lab-run: begin seed=5\n"));
        assert!(found[0].text.ends_with("wall=0.010000\n"));
        assert_eq!(found[1].seed, 6);
        assert_eq!(found[1].passed_wall, None);
        assert!(found[1].text.ends_with("boom\n"));
        assert_eq!(
            runner::failure_reason(found[1].text).as_deref(),
            Some("boom")
        );
    }

    #[test]
    fn no_markers_no_runs() {
        assert!(sections("running 1 test\nok\n").is_empty());
    }
}
