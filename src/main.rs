//! The grader: `cargo run --release` builds every lab's tests and runs each with its own seed
//! (up to `--batch` runs of one test in one process, see `batch`), then prints a table per lab
//! and every failure with its replay command.
//!
//! ```text
//! cargo run --release                       # every test of every lab, once
//! cargo run --release -- 2a -n 100          # Raft 2A, 100 seeds per test
//! cargo run --release -- 2x -n 200          # Raft's extra tests (part 2X), 200 seeds each
//! cargo run --release -- 3x -n 50           # kvraft's extra tests (part 3X), 50 seeds each
//! cargo run --release -- --test figure_8    # tests whose name contains figure_8
//! cargo run --release -- 2a --realtime      # Raft 2A under LAB_REALTIME=1 (threads, wall clock)
//! cargo run --release -- 2 -n 1000 --seed 1 --partition 3/8 --json part3.json
//! cargo run --release -- merge part*.json   # one table from slices run elsewhere
//! cargo run --release -- handout ../labs    # a student tree: the labs as stubs, tests whole
//! cargo run --release -- grade-student ../labs 2a   # a student's tree, graded: tables, results.json, junit.xml
//! cargo run --release -- logs run.trace.jsonl --only vote,leader   # a trace, one column per peer
//! cargo run --release -- timeline run.trace.jsonl -o run.html      # a trace's timeline page
//! ```

mod batch;
mod bench;
mod costs;
mod discover;
mod handout;
mod logs;
mod runner;
mod scores;
mod seeds;
mod student;
mod summary;
mod timeline;
mod trace_cost;
mod trace_file;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use discover::{TestCase, LAB_PACKAGES};
use runner::{Job, Mode, RunResult};
use seeds::Partition;

/// Runs of one test per process unless `--batch` says otherwise: enough that a process
/// start costs little per run, few enough that the runs after a failure are few to redo.
const DEFAULT_BATCH: u64 = 25;

/// The parts a filter may name.
const PARTS: &[&str] = &[
    "labrpc", "1", "2", "2a", "2b", "2c", "2d", "2x", "3", "3a", "3b", "3x", "4", "4a", "4b",
];

#[derive(Parser)]
#[command(
    name = "grade",
    about = "Runs the labs' tests over many seeds and reports them per lab"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    grade: GradeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Shows a trace (LAB_TRACE=FILE) as a space-time diagram, one column per peer.
    Logs(logs::LogsArgs),
    /// Draws a trace's timeline as a self-contained HTML page.
    Timeline {
        /// A trace written with LAB_TRACE=FILE.
        file: PathBuf,
        /// Where to write the page.
        #[arg(short, long, default_value = "timeline.html")]
        output: PathBuf,
    },
    /// Writes a student tree: every lab's solution replaced by stubs that compile and fail
    /// with `todo!("Lab 2A: …")`; tests, testers and tooling whole.
    Handout(handout::HandoutArgs),
    /// Grades a student's tree with the canonical tests and tooling: the tables, plus
    /// Gradescope's results.json and a JUnit XML file.
    GradeStudent(student::StudentArgs),
    /// Combines the --json files of several slices into one report.
    Merge {
        /// Files written by `grade --json`.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Args)]
struct GradeArgs {
    /// Lab parts to run: labrpc, 1, 2, 2a … 2d, 2x (Raft's extra tests), 3, 3a, 3b, 3x
    /// (kvraft's extra tests), 4, 4a, 4b (default: all).
    #[arg(value_parser = parse_part)]
    parts: Vec<String>,
    /// Only tests whose name contains this (repeatable).
    #[arg(long = "test", value_name = "NAME")]
    tests: Vec<String>,
    /// Runs of each test, each with its own seed.
    #[arg(short = 'n', long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
    /// Runs of one test given to one process, one after another (1: a process per run).
    #[arg(long, default_value_t = DEFAULT_BATCH, value_parser = clap::value_parser!(u64).range(1..))]
    batch: u64,
    /// Runs at once (default: the number of cores).
    #[arg(short = 'j', long, value_parser = clap::value_parser!(u64).range(1..))]
    jobs: Option<u64>,
    /// The session's base seed; the same base gives the same seeds (default: random).
    #[arg(long, value_parser = parse_seed)]
    seed: Option<u64>,
    /// Runs only slice K of N of the session (give every slice the same --seed).
    #[arg(long, value_name = "K/N")]
    partition: Option<Partition>,
    /// Writes every run's result to FILE as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Runs the tests under LAB_REALTIME=1: a multi-threaded runtime on the wall clock, so
    /// tasks interleave as the one-threaded simulation never makes them (a seed then no
    /// longer fixes a run). Also on when the grader itself runs with LAB_REALTIME=1.
    #[arg(long)]
    realtime: bool,
    /// Instead of grading, prints the speed figures: Lab 3's and Lab 4's course suites' test
    /// time per seed (over --bench-seeds seeds from --seed), and the runs per second of the
    /// session `2 3 4 -n 20` (see src/bench.rs).
    #[arg(long)]
    bench: bool,
    /// Seeds per suite test for --bench.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    bench_seeds: u64,
    /// Lists the selected tests and exits.
    #[arg(long)]
    list: bool,
    /// Each run's wall-clock limit in seconds (passed to it as LAB_WALL_LIMIT): past it the
    /// test fails with a report, and a run still going at twice the limit is killed.
    #[arg(long, value_name = "SECS", default_value_t = runner::DEFAULT_WALL_LIMIT.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    wall_limit: u64,
    /// Also runs tests marked #[ignore] (such as labrpc's livelock_on_purpose, which fails
    /// on purpose to show the livelock report).
    #[arg(long)]
    include_ignored: bool,
    /// Instead of grading, measures what tracing costs: runs the selected tests once with
    /// tracing off and once with LAB_TRACE on, and prints both wall times.
    #[arg(long)]
    trace_cost: bool,
}

fn parse_part(text: &str) -> Result<String, String> {
    let part = text.to_lowercase();
    if PARTS.contains(&part.as_str()) {
        Ok(part)
    } else {
        Err(format!(
            "unknown lab part {text:?}; the parts are {}",
            PARTS.join(", ")
        ))
    }
}

fn parse_seed(text: &str) -> Result<u64, String> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    }
    .map_err(|_| format!("{text:?} is not a seed (a decimal or 0x-prefixed hex u64)"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let all_passed = match cli.command {
        Some(Command::Logs(args)) => match logs::run(&args) {
            Ok(()) => true,
            Err(message) => return fail(&message),
        },
        Some(Command::Timeline { file, output }) => {
            let made = trace_file::read(&file).and_then(|trace| {
                for warning in &trace.warnings {
                    eprintln!("timeline: {}: {warning} (skipped)", file.display());
                }
                timeline::write(&output, &file.display().to_string(), &trace.events)
            });
            match made {
                Ok(()) => {
                    println!("{}", output.display());
                    true
                }
                Err(message) => return fail(&message),
            }
        }
        Some(Command::Handout(args)) => match handout::run(&args) {
            Ok(()) => true,
            Err(message) => return fail(&message),
        },
        Some(Command::GradeStudent(args)) => match student::run(&args) {
            Ok(all_passed) => all_passed,
            Err(message) => return fail(&message),
        },
        Some(Command::Merge { files }) => match merge(&files) {
            Ok(results) => summary::print(&results),
            Err(message) => return fail(&message),
        },
        None => match grade(&cli.grade) {
            Ok(all_passed) => all_passed,
            Err(message) => return fail(&message),
        },
    };
    if all_passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("grade: {message}");
    ExitCode::from(2)
}

/// Whether a test is selected by the part and name filters.
fn selected(args: &GradeArgs, test: &TestCase) -> bool {
    let part = test.part().to_lowercase();
    let part_ok = args.parts.is_empty()
        || args
            .parts
            .iter()
            .any(|p| part == *p || part.starts_with(p.as_str()));
    let name_ok =
        args.tests.is_empty() || args.tests.iter().any(|t| test.name.contains(t.as_str()));
    part_ok && name_ok && (args.include_ignored || !test.ignored)
}

fn grade(args: &GradeArgs) -> Result<bool, String> {
    let found = discover::discover(LAB_PACKAGES)?;
    if args.bench {
        let parallel = args.jobs.map_or_else(default_parallelism, |j| j as usize);
        let base = args.seed.unwrap_or_else(rand_seed);
        bench::run(
            &found,
            base,
            args.bench_seeds,
            parallel,
            &grade_dir(&found[0]),
        )?;
        return Ok(true);
    }
    let tests: Vec<TestCase> = found.into_iter().filter(|t| selected(args, t)).collect();
    if tests.is_empty() {
        return Err("no test matches the filters".into());
    }
    if args.list {
        for test in &tests {
            println!("{:6} {:10} {}", test.part(), test.package, test.name);
        }
        return Ok(true);
    }
    let mode = if args.realtime || realtime_from_env() {
        Mode::Realtime
    } else {
        Mode::Simulated
    };
    if args.trace_cost {
        trace_cost::run(&tests, &grade_dir(&tests[0]), mode)?;
        return Ok(true);
    }
    let base = args.seed.unwrap_or_else(rand_seed);
    // The session's fixed order: run i of every test, then run i+1; a partition takes every
    // N-th job of it.
    let jobs: Vec<Job> = (0..args.runs)
        .flat_map(|i| {
            tests.iter().map(move |test| Job {
                test: test.clone(),
                seed: seeds::seed_of_run(base, i),
                mode,
                trace: None,
                wall_limit: std::time::Duration::from_secs(args.wall_limit),
            })
        })
        .enumerate()
        .filter(|(position, _)| args.partition.is_none_or(|p| p.contains(*position)))
        .map(|(_, job)| job)
        .collect();
    let parallel = args.jobs.map_or_else(default_parallelism, |j| j as usize);
    let slice = args.partition.map_or(String::new(), |p| {
        format!(", slice {}/{}", p.index, p.count)
    });
    eprintln!(
        "grade: {} tests, {} runs each, {} runs{slice}, {parallel} at a time, base seed {base}, {}",
        tests.len(),
        args.runs,
        jobs.len(),
        mode.name()
    );
    let log_dir = grade_dir(&tests[0]);
    let results = runner::run_all(jobs, parallel, args.batch as usize, &log_dir);
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
        std::fs::write(path, json).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(summary::print(&results))
}

/// Reads and concatenates the results of several `--json` files.
fn merge(files: &[PathBuf]) -> Result<Vec<RunResult>, String> {
    let mut results = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let part: Vec<RunResult> = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a grade --json file: {e}", file.display()))?;
        results.extend(part);
    }
    Ok(results)
}

/// Where failing runs' output is kept: `<target>/grade/`, beside the test binaries.
fn grade_dir(test: &TestCase) -> PathBuf {
    test.binary
        .ancestors()
        .nth(3)
        .map_or_else(|| PathBuf::from("target"), PathBuf::from)
        .join("grade")
}

/// `LAB_REALTIME` as the harness reads it: the grader passes it on rather than dropping it.
fn realtime_from_env() -> bool {
    matches!(
        std::env::var("LAB_REALTIME").as_deref(),
        Ok("1") | Ok("true") | Ok("yes")
    )
}

fn default_parallelism() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A fresh base seed when none is given: not lab code, so the OS's entropy is fine here.
fn rand_seed() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::process::id())
}
