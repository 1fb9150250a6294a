//! `cargo run --release -- grade-student DIR [PARTS]`: grades a student's tree with the
//! canonical tests and tooling.
//!
//! 1. The roster is this repository's own tests of the chosen parts (built here), so a test
//!    the student deleted or renamed is still graded.
//! 2. The student's tree is copied with this repository's canonical files laid over it
//!    ([`overlay`]); each canonical file the student changed is reported and replaced.
//! 3. Each lab package is built on its own ([`build`]); a package that does not compile
//!    fails its tests with the compiler's message, and the others are graded as usual.
//! 4. The tests run as the grader runs them (one process per run, each with its seed), and
//!    the results are the grader's tables plus `results.json` (Gradescope) and `junit.xml`
//!    ([`crate::scores`]).

mod build;
mod overlay;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;

use crate::discover::{self, TestCase};
use crate::handout::{self, tree};
use crate::runner::{self, Job, Mode, RunResult};
use crate::scores;
use crate::seeds;

#[derive(Args)]
pub struct StudentArgs {
    /// The student's tree: a handout (`grade handout`) they have worked in.
    pub dir: PathBuf,
    /// Parts to grade: 1, 2, 2a … 2d, 2x, 3, 3a, 3b, 3x, 4, 4a, 4b (default: 1 2 3 4).
    #[arg(value_parser = crate::parse_part)]
    pub parts: Vec<String>,
    /// Runs of each test, each with its own seed; a test scores only if every run passes.
    #[arg(short = 'n', long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub runs: u64,
    /// The base seed (default: random).
    #[arg(long, value_parser = crate::parse_seed)]
    pub seed: Option<u64>,
    /// Runs at once (default: the number of cores).
    #[arg(short = 'j', long, value_parser = clap::value_parser!(u64).range(1..))]
    pub jobs: Option<u64>,
    /// Each run's wall-clock limit in seconds.
    #[arg(long, value_name = "SECS", default_value_t = runner::DEFAULT_WALL_LIMIT.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    pub wall_limit: u64,
    /// Where the results, logs and the graded tree go (default:
    /// target/grade-student/<name of DIR>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Where the student's tree is built (default: <out>/target). Sharing one between
    /// students graded one after another saves building the dependencies each time.
    #[arg(long, value_name = "DIR")]
    pub target_dir: Option<PathBuf>,
}

pub fn run(args: &StudentArgs) -> Result<bool, String> {
    let started = Instant::now();
    let student = check_student_tree(&args.dir)?;
    let root = handout::repository_root();
    let out = match &args.out {
        Some(out) => out.clone(),
        None => root.join("target/grade-student").join(
            student
                .file_name()
                .map_or_else(|| "student".into(), |n| n.to_string_lossy().to_string()),
        ),
    };
    let work = out.join("tree");
    let target_dir = args
        .target_dir
        .clone()
        .unwrap_or_else(|| out.join("target"));
    let logs = out.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;
    // Absolute, since cargo runs in the graded tree.
    let target_dir = absolute(&target_dir)?;

    let parts = if args.parts.is_empty() {
        vec!["1".into(), "2".into(), "3".into(), "4".into()]
    } else {
        args.parts.clone()
    };
    let packages = packages_of(&parts);

    // 1. The roster: this repository's tests of those parts.
    let main_target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let mut roster = Vec::new();
    for package in &packages {
        eprintln!("grade-student: listing the canonical tests of {package}");
        let log = logs.join(format!("roster-{package}.log"));
        let tests = build::build_tests(&root, &main_target, package, &log)
            .map_err(|e| format!("this repository's own tests do not build: {e}"))?;
        roster.extend(tests.into_iter().filter(|t| in_parts(t, &parts)));
    }

    // 2. The student's tree with the canonical files laid over it.
    let sources = tree::source_files(&root)?;
    let handouts = tree::render_all(&sources, |_| false)?;
    let canonical = overlay::canonical(&sources, &handouts);
    let changed = overlay::prepare(&student, &work, &canonical)?;
    let mut note = String::new();
    if changed.is_empty() {
        note.push_str("The student's tree holds every canonical file unchanged.\n");
    } else {
        note.push_str(&format!(
            "{} canonical files (tests, testers, tooling) differed in the student's tree and were replaced by the canonical ones:\n",
            changed.len()
        ));
        for change in &changed {
            note.push_str(&format!("  {change}\n"));
        }
    }
    eprint!("grade-student: {note}");

    // 3. Build each package; 4. run what built.
    let base = args.seed.unwrap_or_else(crate::rand_seed);
    let mut jobs = Vec::new();
    let mut unbuilt: Vec<RunResult> = Vec::new();
    for package in &packages {
        eprintln!("grade-student: building the student's {package}");
        let log = logs.join(format!("build-{package}.log"));
        let built = build::build_tests(&work, &target_dir, package, &log);
        if let Err(message) = &built {
            note.push_str(&format!("\n{package}: {message}\n"));
        }
        for test in roster.iter().filter(|t| &t.package == package) {
            let binary = match &built {
                Ok(tests) => tests
                    .iter()
                    .find(|t| t.name == test.name)
                    .map(|t| t.binary.clone()),
                Err(_) => None,
            };
            let Some(binary) = binary else {
                let reason = match &built {
                    Err(message) => message.clone(),
                    Ok(_) => "the test is missing from the student's build".into(),
                };
                for run in 0..args.runs {
                    unbuilt.push(unrun(test, seeds::seed_of_run(base, run), &reason, &log));
                }
                continue;
            };
            for run in 0..args.runs {
                jobs.push(Job {
                    test: TestCase {
                        binary: binary.clone(),
                        ..test.clone()
                    },
                    seed: seeds::seed_of_run(base, run),
                    mode: Mode::Simulated,
                    trace: None,
                    wall_limit: Duration::from_secs(args.wall_limit),
                });
            }
        }
    }
    let parallel = args
        .jobs
        .map_or_else(crate::default_parallelism, |j| j as usize);
    eprintln!(
        "grade-student: {} tests, {} runs, base seed {base}",
        roster.len(),
        jobs.len()
    );
    let mut results = runner::run_all(jobs, parallel, crate::DEFAULT_BATCH as usize, &logs);
    results.extend(unbuilt);
    // The roster's order: labs in course order, tests by name.
    let position = |r: &RunResult| {
        roster
            .iter()
            .position(|t| t.package == r.package && t.name == r.test)
    };
    results.sort_by_cached_key(|r| (position(r), r.seed));

    crate::summary::print(&results);
    let grades = scores::grade(&results);
    let (score, max) = scores::totals(&grades);
    let results_json = out.join("results.json");
    let junit = out.join("junit.xml");
    let elapsed = started.elapsed().as_secs_f64();
    write(
        &results_json,
        &scores::gradescope::render(&grades, &note, elapsed),
    )?;
    write(&junit, &scores::junit::render(&grades))?;
    println!("\n{note}");
    println!("score: {score:.2} of {max:.2} points");
    println!("results: {}", results_json.display());
    println!("junit:   {}", junit.display());
    Ok(grades.iter().all(|g| g.passed()))
}

/// The student's tree must be a directory holding a cargo workspace.
fn check_student_tree(dir: &Path) -> Result<PathBuf, String> {
    if !dir.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    if !dir.join("Cargo.toml").is_file() {
        return Err(format!(
            "{} has no Cargo.toml: give the root of a lab tree (one written by `grade handout`)",
            dir.display()
        ));
    }
    absolute(dir)
}

fn absolute(path: &Path) -> Result<PathBuf, String> {
    std::path::absolute(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The lab packages the parts need, in lab order.
fn packages_of(parts: &[String]) -> Vec<&'static str> {
    discover::LAB_PACKAGES
        .iter()
        .copied()
        .filter(|package| {
            parts.iter().any(|part| match *package {
                "labrpc" => part == "labrpc",
                "mapreduce" => part == "1",
                "raft" => part.starts_with('2'),
                "kvraft" => part.starts_with('3'),
                "shardkv" => part.starts_with('4'),
                _ => false,
            })
        })
        .collect()
}

/// Whether a test belongs to one of the parts (a lab's number selects all its parts).
fn in_parts(test: &TestCase, parts: &[String]) -> bool {
    let part = test.part().to_lowercase();
    !test.ignored
        && parts
            .iter()
            .any(|p| part == *p || part.starts_with(p.as_str()))
}

/// The result of a test that could not run: it did not build, or was not in the build.
fn unrun(test: &TestCase, seed: u64, reason: &str, log: &Path) -> RunResult {
    RunResult {
        package: test.package.clone(),
        test: test.name.clone(),
        part: test.part(),
        seed,
        mode: Mode::Simulated,
        passed: false,
        sim_secs: None,
        wall_secs: 0.0,
        digest: None,
        log: Some(log.to_path_buf()),
        reason: Some(reason.to_string()),
        trace: None,
        timeline: None,
    }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_pick_their_packages() {
        let parts = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(packages_of(&parts(&["2a", "3"])), vec!["raft", "kvraft"]);
        assert_eq!(
            packages_of(&parts(&["1", "2", "3", "4"])),
            vec!["mapreduce", "raft", "kvraft", "shardkv"]
        );
        assert_eq!(packages_of(&parts(&["4b"])), vec!["shardkv"]);
    }
}
