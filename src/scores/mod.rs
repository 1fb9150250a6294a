//! Scores: the points each test is worth, each test's grade over its runs, and the two result
//! files course staff and CI systems read (Gradescope's `results.json`, JUnit XML).
//!
//! The course publishes no per-part weights, so every part of its handouts (1, 2A … 2D, 3A,
//! 3B, 4A, 4B) is worth [`POINTS_PER_PART`], shared equally by the part's tests. Tests beyond
//! the course's (parts 2X and 3X) and tests of given code (labrpc, Raft's on-disk persister,
//! part "2") are run and reported but worth nothing. A test earns its points only if every
//! one of its runs passed: a test that fails on one seed in ten has a bug.

pub mod gradescope;
pub mod junit;

use crate::runner::RunResult;

/// The parts that carry points.
pub const GRADED_PARTS: &[&str] = &["1", "2A", "2B", "2C", "2D", "3A", "3B", "4A", "4B"];

/// What each graded part is worth.
pub const POINTS_PER_PART: f64 = 100.0;

/// One test's grade: its runs, and the points it earned.
pub struct TestGrade<'a> {
    pub package: String,
    pub name: String,
    pub part: String,
    pub runs: Vec<&'a RunResult>,
    pub max_score: f64,
    /// What a reader needs of the runs ([`describe`]), made once: it reads failing runs' logs.
    pub output: String,
}

impl TestGrade<'_> {
    pub fn passed(&self) -> bool {
        !self.runs.is_empty() && self.runs.iter().all(|r| r.passed)
    }

    pub fn score(&self) -> f64 {
        if self.passed() {
            self.max_score
        } else {
            0.0
        }
    }

    pub fn wall_secs(&self) -> f64 {
        self.runs.iter().map(|r| r.wall_secs).sum()
    }
}

/// What a reader needs of a test's runs: how many passed and, for each failure, its seed,
/// reason, replay command, and the end of its output.
fn describe(runs: &[&RunResult]) -> String {
    let passed = runs.iter().filter(|r| r.passed).count();
    let seeds: Vec<String> = runs.iter().map(|r| r.seed.to_string()).collect();
    let mut out = format!(
        "passed {passed}/{} runs (seeds {})\n",
        runs.len(),
        seeds.join(", ")
    );
    for run in runs.iter().filter(|r| !r.passed) {
        out.push_str(&format!(
            "\nseed={}: {}\nreplay: {}\n",
            run.seed,
            run.reason.as_deref().unwrap_or("failed"),
            run.replay_command()
        ));
        if let Some(text) = run.log.as_ref().and_then(|p| std::fs::read(p).ok()) {
            out.push_str("--- its output, last lines ---\n");
            out.push_str(&tail(&String::from_utf8_lossy(&text), 60, 8000));
        }
    }
    out
}

/// The last `lines` lines of `text`, at most about `bytes` bytes of them.
fn tail(text: &str, lines: usize, bytes: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let mut kept: Vec<&str> = Vec::new();
    let mut size = 0;
    for line in all.iter().rev().take(lines) {
        size += line.len() + 1;
        if size > bytes {
            break;
        }
        kept.push(line);
    }
    kept.reverse();
    let mut out = kept.join("\n");
    out.push('\n');
    out
}

/// Every test's grade, in the order the results list them.
pub fn grade(results: &[RunResult]) -> Vec<TestGrade<'_>> {
    let mut grades: Vec<TestGrade> = Vec::new();
    for result in results {
        match grades
            .iter_mut()
            .find(|g| g.package == result.package && g.name == result.test)
        {
            Some(grade) => grade.runs.push(result),
            None => grades.push(TestGrade {
                package: result.package.clone(),
                name: result.test.clone(),
                part: result.part.to_uppercase(),
                runs: vec![result],
                max_score: 0.0,
                output: String::new(),
            }),
        }
    }
    for grade in &mut grades {
        grade.output = describe(&grade.runs);
    }
    for part in GRADED_PARTS {
        let count = grades.iter().filter(|g| g.part == *part).count();
        for grade in grades.iter_mut().filter(|g| g.part == *part) {
            grade.max_score = POINTS_PER_PART / count as f64;
        }
    }
    grades
}

/// Total points earned and possible.
pub fn totals(grades: &[TestGrade]) -> (f64, f64) {
    (
        grades.iter().map(TestGrade::score).sum(),
        grades.iter().map(|g| g.max_score).sum(),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::runner::Mode;

    pub fn run(package: &str, test: &str, part: &str, seed: u64, passed: bool) -> RunResult {
        RunResult {
            package: package.into(),
            test: test.into(),
            part: part.into(),
            seed,
            mode: Mode::Simulated,
            passed,
            sim_secs: Some(1.0),
            wall_secs: 0.5,
            digest: None,
            log: None,
            reason: (!passed).then(|| "not yet implemented: Lab 2A: elect a leader".into()),
            trace: None,
            timeline: None,
        }
    }

    #[test]
    fn a_part_shares_its_points_and_a_test_needs_every_run() {
        let results = vec![
            run("raft", "election::a_2a", "2A", 1, true),
            run("raft", "election::b_2a", "2A", 1, true),
            run("raft", "election::a_2a", "2A", 2, true),
            run("raft", "election::b_2a", "2A", 2, false),
            run("raft", "extras::c_2x", "2X", 1, true),
        ];
        let grades = grade(&results);
        assert_eq!(grades.len(), 3);
        assert_eq!(grades[0].runs.len(), 2);
        assert_eq!((grades[0].score(), grades[0].max_score), (50.0, 50.0));
        assert_eq!((grades[1].score(), grades[1].max_score), (0.0, 50.0));
        assert_eq!((grades[2].score(), grades[2].max_score), (0.0, 0.0));
        assert_eq!(totals(&grades), (50.0, 100.0));
        let output = &grades[1].output;
        assert!(
            output.starts_with("passed 1/2 runs (seeds 1, 2)"),
            "{output}"
        );
        assert!(
            output.contains("seed=2: not yet implemented: Lab 2A"),
            "{output}"
        );
        assert!(output.contains("replay: LAB_SEED=2 cargo test --release -p raft election::b_2a"));
    }

    #[test]
    fn tails_are_bounded() {
        let text: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let out = tail(&text, 3, 1000);
        assert_eq!(out, "line 97\nline 98\nline 99\n");
        assert!(tail(&text, 100, 20).len() <= 21);
    }
}
