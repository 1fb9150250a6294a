//! Running tests: each run with its own seed, J processes at a time.
//!
//! A run is one test binary invoked for exactly one test (`--exact NAME`) with `LAB_SEED` set,
//! or one of the seeds of a batch (`LAB_SEEDS`, several runs of one test in one process: see
//! [`crate::batch`]).
//! Its output goes to a log file; the grader reads back the `seed=… digest=…` line and the
//! course's `Passed --` line (simulated seconds) from it. Logs of passing runs are deleted,
//! logs of failing runs are kept and listed in the summary.
//!
//! Every run gets a wall-clock limit (`LAB_WALL_LIMIT`, from `--wall-limit`): the test fails
//! itself with a report when it passes the limit, and its watchdog aborts it at twice the
//! limit; the grader kills it only if it is still there after that, and says so. A failing
//! run is replayed with `LAB_TRACE` under the same limits, and the trace file is capped
//! (`LAB_TRACE_MAX_MB`, the harness's default unless set), so one bad seed cannot fill a disk.
//!
//! A run's [`Mode`] is the simulation or `LAB_REALTIME=1` (`--realtime`); the grader sets or
//! clears the variable for every run, so the mode a result records is the mode that ran.

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use wait_timeout::ChildExt;

use crate::costs::Costs;
use crate::discover::TestCase;

/// The wall-clock limit a run gets unless `--wall-limit` says otherwise (the harness's own
/// default).
pub const DEFAULT_WALL_LIMIT: Duration = Duration::from_secs(300);

/// How long past twice its wall-clock limit (when its watchdog aborts it) the grader waits
/// for a run before killing it.
pub const KILL_GRACE: Duration = Duration::from_secs(30);

/// How a test runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// One thread, simulated time: the seed fixes the run.
    #[default]
    Simulated,
    /// `LAB_REALTIME=1`: a multi-threaded runtime on the wall clock, where tasks interleave
    /// as the one-threaded simulation never makes them; the seed no longer fixes the run.
    Realtime,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Simulated => "simulated",
            Mode::Realtime => "realtime",
        }
    }
}

/// One run to do.
#[derive(Debug, Clone)]
pub struct Job {
    pub test: TestCase,
    pub seed: u64,
    pub mode: Mode,
    /// Where to write the run's trace (`LAB_TRACE`), if anywhere.
    pub trace: Option<PathBuf>,
    /// The run's wall-clock limit (`LAB_WALL_LIMIT`).
    pub wall_limit: Duration,
}

/// How a run's process ended.
pub enum Ended {
    Exited(ExitStatus),
    /// The grader killed it after this long.
    Killed(Duration),
}

impl Ended {
    pub fn passed(&self) -> bool {
        matches!(self, Ended::Exited(status) if status.success())
    }
}

/// What one run did. Serialized with `--json`, read back by `merge`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    pub package: String,
    pub test: String,
    pub part: String,
    pub seed: u64,
    /// Files written before modes were recorded ran simulated.
    #[serde(default)]
    pub mode: Mode,
    pub passed: bool,
    /// Seconds the test reported: simulated, or wall seconds in realtime mode and for Lab 1's
    /// real processes.
    pub sim_secs: Option<f64>,
    pub wall_secs: f64,
    pub digest: Option<String>,
    /// The saved output of a failing run.
    pub log: Option<PathBuf>,
    /// The first line that says why it failed.
    pub reason: Option<String>,
    /// A failing run's trace (JSON lines), from replaying its seed with `LAB_TRACE`.
    #[serde(default)]
    pub trace: Option<PathBuf>,
    /// A failing run's timeline page.
    #[serde(default)]
    pub timeline: Option<PathBuf>,
}

impl RunResult {
    /// The command that replays this run.
    pub fn replay_command(&self) -> String {
        let realtime = match self.mode {
            Mode::Realtime => "LAB_REALTIME=1 ",
            Mode::Simulated => "",
        };
        format!(
            "{realtime}LAB_SEED={} cargo test --release -p {} {} -- --exact --nocapture",
            self.seed, self.package, self.test
        )
    }
}

/// Runs every job, `parallel` at a time, with a progress bar; results in the jobs' order.
/// Runs of one test go to one process `batch` at a time (see [`crate::batch`]).
pub fn run_all(jobs: Vec<Job>, parallel: usize, batch: usize, log_dir: &Path) -> Vec<RunResult> {
    std::fs::create_dir_all(log_dir).unwrap_or_else(|e| {
        eprintln!("grade: cannot create {}: {e}", log_dir.display());
        std::process::exit(1);
    });
    let total = jobs.len();
    // Longest batches first, by what they cost last time (see `costs.rs`).
    let mut batches = crate::batch::group(jobs, batch);
    Costs::load(log_dir).order(&mut batches);
    let queue: Mutex<VecDeque<Vec<(usize, Job)>>> = Mutex::new(batches.into());
    let results: Mutex<Vec<Option<RunResult>>> = Mutex::new(vec![None; total]);
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40.cyan/blue} {pos}/{len} runs, {msg} [{elapsed_precise} < {eta}]",
        )
        .expect("valid template"),
    );
    bar.set_message("0 failed");
    let failures = Mutex::new(0usize);
    let record = |index: usize, result: RunResult| {
        if !result.passed {
            let mut failed = failures.lock().unwrap();
            *failed += 1;
            bar.set_message(format!("{failed} failed"));
            bar.println(format!("FAIL {} seed={}", result.test, result.seed));
        }
        results.lock().unwrap()[index] = Some(result);
        bar.inc(1);
    };
    std::thread::scope(|scope| {
        for _ in 0..parallel.max(1) {
            let (queue, record) = (&queue, &record);
            scope.spawn(move || loop {
                let Some(mut runs) = queue.lock().unwrap().pop_front() else {
                    break;
                };
                if runs.len() == 1 {
                    let (index, job) = runs.pop().expect("one run");
                    record(index, run_one(&job, log_dir));
                    continue;
                }
                let outcome = crate::batch::run(&runs, log_dir);
                for (index, result) in outcome.done {
                    record(index, result);
                }
                // The seeds a failure cut off go again next, as a batch; runs the batch
                // could not account for go one process each.
                let mut queue = queue.lock().unwrap();
                for single in outcome.singly.into_iter().rev() {
                    queue.push_front(vec![single]);
                }
                if !outcome.again.is_empty() {
                    queue.push_front(outcome.again);
                }
            });
        }
    });
    bar.finish_and_clear();
    let results: Vec<RunResult> = results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every job ran"))
        .collect();
    crate::costs::record(log_dir, &results);
    results
}

/// The file a run's output is kept in if it fails.
pub fn log_path_of(job: &Job, log_dir: &Path) -> PathBuf {
    let test = &job.test;
    let file_name = format!(
        "{}-{}-{}.log",
        test.package,
        test.name.replace("::", "-"),
        job.seed
    );
    log_dir.join(file_name)
}

/// Runs one test with one seed in its own process.
fn run_one(job: &Job, log_dir: &Path) -> RunResult {
    let log_path = log_path_of(job, log_dir);
    let started = Instant::now();
    let ended = spawn_and_wait(job, &log_path);
    let wall_secs = started.elapsed().as_secs_f64();
    let output = std::fs::read_to_string(&log_path).unwrap_or_default();
    let verdict = match &ended {
        Ok(ended) if ended.passed() => Ok(()),
        Ok(Ended::Exited(status)) => {
            Err(failure_reason(&output).unwrap_or_else(|| no_message(status)))
        }
        Ok(Ended::Killed(after)) => Err(killed_reason(*after, job.wall_limit)),
        Err(reason) => Err(reason.clone()),
    };
    let killed = matches!(ended, Ok(Ended::Killed(_)));
    judge(job, &log_path, &output, verdict, killed, wall_secs)
}

/// What to say of a run the grader had to kill.
pub fn killed_reason(after: Duration, wall_limit: Duration) -> String {
    format!(
        "killed after {} s of wall time: it outlived its wall-clock limit of {} s (--wall-limit) and its own watchdog",
        after.as_secs(),
        wall_limit.as_secs()
    )
}

/// The result of a run whose output (already in `log_path`) is `output`: a passing run's log
/// is deleted; a failing run's is kept, and its seed is replayed with a trace (unless the
/// grader had to kill it: the replay would only hang as long again).
pub fn judge(
    job: &Job,
    log_path: &Path,
    output: &str,
    verdict: Result<(), String>,
    killed: bool,
    wall_secs: f64,
) -> RunResult {
    let test = &job.test;
    let (digest, sim_secs) = parse_output(output);
    let passed = verdict.is_ok();
    let (mut trace, mut timeline) = (None, None);
    let log = if passed {
        let _ = std::fs::remove_file(log_path);
        None
    } else {
        if !killed {
            (trace, timeline) = trace_failure(job, log_path);
        }
        Some(log_path.to_path_buf())
    };
    RunResult {
        package: test.package.clone(),
        test: test.name.clone(),
        part: test.part(),
        seed: job.seed,
        mode: job.mode,
        passed,
        sim_secs,
        wall_secs,
        digest,
        log,
        reason: verdict.err(),
        trace,
        timeline,
    }
}

/// Replays a failing run with `LAB_TRACE` set (the seed fixes the run, so the replay fails
/// the same way) and draws its timeline page. Lab 1 runs real processes, which no seed fixes
/// and which do not trace: nothing to replay there.
fn trace_failure(job: &Job, log_path: &Path) -> (Option<PathBuf>, Option<PathBuf>) {
    if job.test.package == "mapreduce" {
        return (None, None);
    }
    let trace_path = log_path.with_extension("trace.jsonl");
    let replay_log = log_path.with_extension("replay.log");
    let mut traced = job.clone();
    traced.trace = Some(trace_path.clone());
    let _ = spawn_and_wait(&traced, &replay_log);
    let _ = std::fs::remove_file(&replay_log);
    let Ok(trace) = crate::trace_file::read(&trace_path) else {
        return (None, None);
    };
    let page_path = log_path.with_extension("html");
    let title = format!("{} seed={}", job.test.name, job.seed);
    let page = crate::timeline::write(&page_path, &title, &trace.events)
        .ok()
        .map(|_| page_path);
    (Some(trace_path), page)
}

/// What to say of a failing run that printed no failure line.
pub fn no_message(status: &ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!(
                "the test process died of signal {signal} and printed no failure message"
            );
        }
    }
    match status.code() {
        Some(code) => {
            format!("the test process exited with code {code} and printed no failure message")
        }
        None => "the test process failed and printed no failure message".into(),
    }
}

/// Starts the test's process with its output going to `log_path` and waits for it, killing
/// it if it outlives its wall-clock limit, its watchdog and a grace period.
pub fn spawn_and_wait(job: &Job, log_path: &Path) -> Result<Ended, String> {
    let mut command = command_for(job);
    command.env("LAB_SEED", job.seed.to_string());
    wait_for(job, command, job.wall_limit * 2 + KILL_GRACE, log_path)
}

/// The test's process for `job`, all but its seed.
pub fn command_for(job: &Job) -> Command {
    let mut command = Command::new(&job.test.binary);
    command
        .args(["--exact", &job.test.name, "--nocapture", "--test-threads=1"])
        .env_remove("LAB_SEED")
        .env_remove("LAB_SEEDS")
        .env("CARGO_PKG_NAME", &job.test.package)
        .env("LAB_WALL_LIMIT", job.wall_limit.as_secs().to_string())
        .env_remove("LAB_TRACE");
    match job.mode {
        Mode::Realtime => command.env("LAB_REALTIME", "1"),
        Mode::Simulated => command.env_remove("LAB_REALTIME"),
    };
    if job.test.ignored {
        command.arg("--include-ignored");
    }
    if let Some(trace) = &job.trace {
        command.env("LAB_TRACE", trace);
    }
    command
}

/// Runs `command` with its output going to `log_path`, killing it after `kill_after`.
pub fn wait_for(
    job: &Job,
    mut command: Command,
    kill_after: Duration,
    log_path: &Path,
) -> Result<Ended, String> {
    let log =
        File::create(log_path).map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    let log_err = log.try_clone().map_err(|e| e.to_string())?;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", job.test.binary.display()))?;
    match child.wait_timeout(kill_after).map_err(|e| e.to_string())? {
        Some(status) => Ok(Ended::Exited(status)),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            Ok(Ended::Killed(kill_after))
        }
    }
}

/// The digest and the simulated seconds a test printed, if it printed them. A test with
/// several printed sub-tests (the shard controller's) takes the sum of theirs.
pub fn parse_output(output: &str) -> (Option<String>, Option<f64>) {
    let mut digest = None;
    let mut sim_secs = None;
    for line in output.lines() {
        if let Some(rest) = line.strip_prefix("seed=") {
            digest = rest
                .split_once(" digest=")
                .map(|(_, d)| d.trim().to_string());
        } else if let Some((_, rest)) = line.split_once("... Passed --") {
            if let Some(secs) = rest
                .split_whitespace()
                .next()
                .and_then(|t| t.parse::<f64>().ok())
            {
                sim_secs = Some(sim_secs.unwrap_or(0.0) + secs);
            }
        }
    }
    (digest, sim_secs)
}

/// The line of a failing run's output that best says why: the test's own failure line; else a
/// handout's stub that was reached (`todo!` prints `not yet implemented: …`), even in the
/// output of a process the test started and quoted, since everything else then follows from
/// it; else the panic message.
pub fn failure_reason(output: &str) -> Option<String> {
    let lines: Vec<&str> = output.lines().collect();
    if let Some(line) = lines
        .iter()
        .find(|l| l.trim_start().starts_with("... FAILED"))
    {
        return Some(
            line.trim()
                .trim_start_matches("... FAILED:")
                .trim()
                .to_string(),
        );
    }
    if let Some(line) = lines
        .iter()
        .find(|l| l.trim_start().starts_with("not yet implemented: "))
    {
        return Some(line.trim().to_string());
    }
    lines
        .iter()
        .position(|l| l.contains("panicked at"))
        .and_then(|i| lines.get(i + 1))
        .map(|l| l.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_digest_and_simulated_seconds() {
        let output = "Test (2A): initial election ...\n  ... Passed --   3.5  3   58   16840    0\nseed=7 digest=00ff\n";
        assert_eq!(parse_output(output), (Some("00ff".into()), Some(3.5)));
        assert_eq!(parse_output("nothing"), (None, None));
        let parts = "  ... Passed --   0.6\n  ... Passed --   1.4\nseed=7 digest=00ff\n";
        assert_eq!(parse_output(parts), (Some("00ff".into()), Some(2.0)));
    }

    #[test]
    fn a_realtime_replay_says_so() {
        let mut run = RunResult {
            package: "raft".into(),
            test: "election::initial_election_2a".into(),
            part: "2a".into(),
            seed: 7,
            mode: Mode::Simulated,
            passed: false,
            sim_secs: None,
            wall_secs: 0.0,
            digest: None,
            log: None,
            reason: None,
            trace: None,
            timeline: None,
        };
        let simulated = "LAB_SEED=7 cargo test --release -p raft election::initial_election_2a -- --exact --nocapture";
        assert_eq!(run.replay_command(), simulated);
        run.mode = Mode::Realtime;
        assert_eq!(run.replay_command(), format!("LAB_REALTIME=1 {simulated}"));
    }

    #[test]
    fn finds_the_failure_reason() {
        let output = "seed=1 digest=aa\n  ... FAILED: expected one leader, got none\nreplay: …\n";
        assert_eq!(
            failure_reason(output).as_deref(),
            Some("expected one leader, got none")
        );
        let output = "thread 'x' panicked at src/a.rs:1:2:\nboom\n";
        assert_eq!(failure_reason(output).as_deref(), Some("boom"));
        // An assertion that quotes a child process whose stub panicked: the stub is the why.
        let output = "thread 'x' panicked at tests/a.rs:1:2:\nassertion `left == right` failed: \nthread 'main' panicked at src/coordinator.rs:9:5:\nnot yet implemented: Lab 1: serve the job\n  left: 101\n right: 1\n";
        assert_eq!(
            failure_reason(output).as_deref(),
            Some("not yet implemented: Lab 1: serve the job")
        );
    }
}
