//! What each test cost when it last ran, so that a session starts its longest batches first.
//!
//! With J workers taking batches in order, a session ends when its last batch does: if that
//! batch is one of the long ones (Lab 3's twenty-client tests take a second or two for 20
//! seeds), the other workers sit idle meanwhile. Starting the longest batches first (longest
//! processing time first, the classic rule) leaves short ones for the end, where they even
//! out the workers. The lengths come from the last session in the same result directory: a
//! test's mean wall seconds per passing run, kept in `costs.json` there. It is only a hint:
//! a missing or unreadable file, or a test not in it, leaves the session's own order (tests
//! never measured go first, as they might be long), and the order never changes what a run
//! does or what it reports.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::runner::{Job, Mode, RunResult};

/// Mean wall seconds per passing simulated run, by `package::test`.
#[derive(Default)]
pub struct Costs(BTreeMap<String, f64>);

fn key(package: &str, test: &str) -> String {
    format!("{package}::{test}")
}

fn file(dir: &Path) -> PathBuf {
    dir.join("costs.json")
}

impl Costs {
    /// The costs last saved in `dir`, or none.
    pub fn load(dir: &Path) -> Costs {
        std::fs::read(file(dir))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .map(Costs)
            .unwrap_or_default()
    }

    /// A batch's expected wall seconds; infinite for a test never measured.
    pub fn of_batch(&self, runs: &[(usize, Job)]) -> f64 {
        let Some((_, job)) = runs.first() else {
            return 0.0;
        };
        let per_run = match job.mode {
            Mode::Simulated => self.0.get(&key(&job.test.package, &job.test.name)),
            Mode::Realtime => None,
        };
        per_run.map_or(f64::INFINITY, |secs| secs * runs.len() as f64)
    }

    /// Orders `batches` longest first; equal estimates keep their order. Each batch's
    /// estimate is looked up once.
    pub fn order(&self, batches: &mut Vec<Vec<(usize, Job)>>) {
        let mut estimated: Vec<(f64, Vec<(usize, Job)>)> = batches
            .drain(..)
            .map(|runs| (self.of_batch(&runs), runs))
            .collect();
        estimated.sort_by(|a, b| b.0.total_cmp(&a.0));
        batches.extend(estimated.into_iter().map(|(_, runs)| runs));
    }
}

/// Folds a session's passing simulated runs into the costs saved in `dir` (read again now,
/// so that a session that ran meanwhile keeps what it measured) and saves them, written to
/// a temporary file and renamed, so that a concurrent session never reads half. Failing to
/// save costs nothing but the next session's order, so it is not an error.
pub fn record(dir: &Path, results: &[RunResult]) {
    let mut sums: BTreeMap<String, (f64, u32)> = BTreeMap::new();
    for result in results {
        if result.passed && result.mode == Mode::Simulated {
            let sum = sums.entry(key(&result.package, &result.test)).or_default();
            sum.0 += result.wall_secs;
            sum.1 += 1;
        }
    }
    if sums.is_empty() {
        return;
    }
    let Costs(mut costs) = Costs::load(dir);
    for (test, (total, runs)) in sums {
        costs.insert(test, total / f64::from(runs));
    }
    let Ok(text) = serde_json::to_vec_pretty(&costs) else {
        return;
    };
    let partial = dir.join(format!("costs.json.{}", std::process::id()));
    if std::fs::write(&partial, text).is_ok() && std::fs::rename(&partial, file(dir)).is_err() {
        let _ = std::fs::remove_file(&partial);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::TestCase;
    use std::time::Duration;

    fn batch(name: &str, first: usize, runs: usize) -> Vec<(usize, Job)> {
        (first..first + runs)
            .map(|index| {
                let job = Job {
                    test: TestCase {
                        package: "kvraft".into(),
                        name: name.into(),
                        binary: PathBuf::new(),
                        ignored: false,
                    },
                    seed: index as u64,
                    mode: Mode::Simulated,
                    trace: None,
                    wall_limit: Duration::from_secs(1),
                };
                (index, job)
            })
            .collect()
    }

    fn result(name: &str, wall_secs: f64, passed: bool) -> RunResult {
        RunResult {
            package: "kvraft".into(),
            test: name.into(),
            part: "3A".into(),
            seed: 1,
            mode: Mode::Simulated,
            passed,
            sim_secs: None,
            wall_secs,
            digest: None,
            log: None,
            reason: None,
            trace: None,
            timeline: None,
        }
    }

    #[test]
    fn longest_batches_go_first_and_unknown_tests_before_them() {
        let dir = std::env::temp_dir().join(format!("grade-costs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let _ = std::fs::remove_file(file(&dir));
        let mut batches = vec![
            batch("short", 0, 4),
            batch("long", 4, 2),
            batch("new", 6, 1),
        ];
        Costs::load(&dir).order(&mut batches);
        let names = |b: &[Vec<(usize, Job)>]| -> Vec<String> {
            b.iter().map(|runs| runs[0].1.test.name.clone()).collect()
        };
        assert_eq!(
            names(&batches),
            ["short", "long", "new"],
            "no costs: as given"
        );

        // A failing run's wall says nothing of the test's cost.
        let session = [
            result("short", 0.01, true),
            result("long", 1.0, true),
            result("long", 3.0, true),
            result("long", 100.0, false),
        ];
        record(&dir, &session);
        let costs = Costs::load(&dir);
        assert_eq!(costs.of_batch(&batch("long", 0, 2)), 4.0);
        costs.order(&mut batches);
        assert_eq!(names(&batches), ["new", "long", "short"]);

        std::fs::write(file(&dir), "not json").unwrap();
        assert_eq!(
            Costs::load(&dir).of_batch(&batch("long", 0, 2)),
            f64::INFINITY
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
