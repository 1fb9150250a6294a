//! The seven scenarios of the course's test-mr.sh, run on the real binaries, plus a job over
//! TCP. Each test compares what the course's script compares (see specs/mapreduce.md), at the
//! moment the script compares it: the script reads the output as soon as the one process it
//! waits for has exited (the coordinator in wc, the foreground worker in most others), and only
//! then waits for the rest. Reading it any later would hide a job that reports completion before
//! its output is final. The exit statuses the script ignores are checked afterwards.
//!
//! Expected outputs come from [`common::reference`], which shares no code with the workers'
//! grouping, Reduce or output formatting, so a bug there cannot cancel itself out.

mod common;

use std::time::{Duration, Instant};

use common::{
    assert_same_lines, pause, reference, wait_any, Proc, Scenario, TestDir, PROCESS_LIMIT, WORKER,
};

/// A job started as the course's script starts one: the coordinator, then the workers, the last
/// of which the script runs in the foreground (except in wc, where all run in the background).
struct Job {
    coordinator: Proc,
    workers: Vec<Proc>,
}

impl Job {
    fn start(dir: &TestDir, app: &str, n_workers: usize) -> Job {
        let coordinator = dir.coordinator(&[], PROCESS_LIMIT);
        let workers = (0..n_workers)
            .map(|_| dir.worker(app, PROCESS_LIMIT))
            .collect();
        Job {
            coordinator,
            workers,
        }
    }

    /// The script's `wait $pid`: returns once the coordinator has exited, whatever its status.
    fn wait_for_coordinator(&mut self) {
        self.coordinator.wait();
    }

    /// Returns once the foreground worker (the last one started) has exited, whatever its
    /// status: the script runs it without `&` and reads the output on the next line.
    fn wait_for_foreground_worker(&mut self) {
        self.workers.last_mut().unwrap().wait();
    }

    /// The script's closing `wait`, plus the checks it does not make: the coordinator exited
    /// successfully, and so did every worker (or it found the job already over).
    fn finish(mut self) {
        self.coordinator.wait_success();
        for worker in &mut self.workers {
            worker.wait_worker();
        }
    }
}

#[test]
fn wc_1() {
    let scenario = Scenario::start("wc");
    let dir = TestDir::new("wc");
    let expected = reference("wc");
    let mut job = Job::start(&dir, "wc", 3);
    // All three workers run in the background; the script waits for the coordinator only.
    job.wait_for_coordinator();
    assert_same_lines(
        &dir.output(),
        &expected,
        "wc output (when the coordinator exited) is not the same as the reference",
    );
    job.finish();
    scenario.passed();
}

#[test]
fn indexer_1() {
    let scenario = Scenario::start("indexer");
    let dir = TestDir::new("indexer");
    let expected = reference("indexer");
    let mut job = Job::start(&dir, "indexer", 2);
    job.wait_for_foreground_worker();
    assert_same_lines(
        &dir.output(),
        &expected,
        "indexer output (when the foreground worker exited) is not the same as the reference",
    );
    job.finish();
    scenario.passed();
}

#[test]
fn map_parallelism_1() {
    let scenario = Scenario::start("map parallelism");
    let dir = TestDir::new("map_parallelism");
    let mut job = Job::start(&dir, "mtiming", 2);
    job.wait_for_foreground_worker();

    let output = dir.output();
    // Both workers ran map tasks: one times-<pid> key per worker.
    let times = output.iter().filter(|l| l.starts_with("times-")).count();
    assert_eq!(
        times, 2,
        "expected 2 workers to run maps; output: {output:#?}"
    );
    // Some map saw the other worker's map running at the same time.
    let overlapped = output
        .iter()
        .filter(|l| l.starts_with("parallel"))
        .any(|l| l.split(' ').skip(1).any(|n| n == "2"));
    assert!(
        overlapped,
        "map tasks did not run in parallel; output: {output:#?}"
    );
    job.finish();
    scenario.passed();
}

#[test]
fn reduce_parallelism_1() {
    let scenario = Scenario::start("reduce parallelism");
    let dir = TestDir::new("reduce_parallelism");
    let mut job = Job::start(&dir, "rtiming", 2);
    job.wait_for_foreground_worker();

    let output = dir.output();
    let overlapped = output
        .iter()
        .filter(|l| matches!(l.split_once(' '), Some((k, "2")) if k.len() == 1 && k.as_bytes()[0].is_ascii_lowercase()))
        .count();
    assert!(
        overlapped >= 2,
        "too few parallel reduces; output: {output:#?}"
    );
    job.finish();
    scenario.passed();
}

#[test]
fn job_count_1() {
    let scenario = Scenario::start("job count");
    let dir = TestDir::new("job_count");
    let mut coordinator = dir.coordinator(&[], PROCESS_LIMIT);
    // As the course: two workers, the second in the foreground; then two more, the fourth in the
    // foreground, which find the job done and must not run any map again.
    let mut first = dir.worker("jobcount", PROCESS_LIMIT);
    let mut second = dir.worker("jobcount", PROCESS_LIMIT);
    second.wait();
    let mut third = dir.worker("jobcount", PROCESS_LIMIT);
    dir.worker("jobcount", PROCESS_LIMIT).wait();

    // The script reads the output as soon as the fourth worker exits.
    let output = dir.output();
    assert_eq!(output, ["a 8"], "map tasks ran a wrong number of times");

    // Its closing `wait`, with the checks it does not make. The late workers may find no
    // coordinator, so only the first two must have succeeded.
    second.wait_success();
    third.wait();
    first.wait_success();
    coordinator.wait_success();
    scenario.passed();
}

#[test]
fn early_exit_1() {
    let scenario = Scenario::start("early exit");
    let dir = TestDir::new("early_exit");
    // Each input file once (what mrsequential early_exit gives, without its 6 s of sleeping).
    let mut expected: Vec<String> = common::inputs().iter().map(|f| format!("{f} 1")).collect();
    expected.sort();
    let mut procs = vec![dir.coordinator(&[], PROCESS_LIMIT)];
    for _ in 0..3 {
        procs.push(dir.worker("early_exit", PROCESS_LIMIT));
    }

    // When the first process exits, the output must already be final.
    let first = wait_any(&mut procs);
    let initial = dir.output();
    for proc in &mut procs {
        proc.wait_worker();
    }
    let last = dir.output();

    assert!(
        initial == last,
        "{} exited before the output was final",
        procs[first].name
    );
    assert!(last == expected, "early_exit output is wrong: {last:#?}");
    scenario.passed();
}

#[test]
fn crash_1() {
    let scenario = Scenario::start("crash");
    let dir = TestDir::new("crash");
    let expected = reference("nocrash");
    // Unlike the other scenarios, the script compares only after its closing `wait`, when every
    // worker has exited too; crash_job returns at that point.
    common::crash_job(&dir);

    assert_same_lines(
        &dir.output(),
        &expected,
        "crash output is not the same as the reference with nocrash",
    );
    scenario.passed();
}

/// Not in the course's script: the same wc job with the coordinator on TCP (port chosen by the
/// system) and workers connecting to it, as they would from other machines.
#[test]
fn tcp_wc_1() {
    let scenario = Scenario::start("wc over TCP");
    let dir = TestDir::new("tcp_wc");
    let expected = reference("wc");

    let mut args = vec!["--listen", "127.0.0.1:0"];
    let inputs = common::inputs();
    args.extend(inputs.iter().map(String::as_str));
    let mut coordinator = dir.spawn("coordinator", common::COORDINATOR, &args, PROCESS_LIMIT);
    let address = coordinator_tcp_address(&mut coordinator);
    let workers: Vec<Proc> = (0..2)
        .map(|_| {
            dir.spawn(
                "worker",
                WORKER,
                &["wc", "--coordinator", &address],
                PROCESS_LIMIT,
            )
        })
        .collect();
    // Compared when the coordinator exits, as in wc.
    coordinator.wait();
    assert_same_lines(
        &dir.output(),
        &expected,
        "wc over TCP output (when the coordinator exited) is not the same as the reference",
    );
    Job {
        coordinator,
        workers,
    }
    .finish();
    scenario.passed();
}

/// Reads the `listening on ADDR` line the coordinator writes to its log.
fn coordinator_tcp_address(coordinator: &mut Proc) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // Only a complete line counts: the log may be caught mid-write.
        let log = coordinator.stderr();
        let address = log
            .split_inclusive('\n')
            .filter_map(|line| line.strip_suffix('\n'))
            .find_map(|line| line.strip_prefix("mrcoordinator: listening on "));
        if let Some(address) = address {
            return address.to_string();
        }
        assert!(
            coordinator.try_wait().is_none(),
            "the coordinator exited early: {}",
            common::last_words(&coordinator.stderr())
        );
        assert!(
            Instant::now() < deadline,
            "the coordinator never said where it listens"
        );
        pause(Duration::from_millis(5));
    }
}

/// Not in the course's script, where mrsequential is the reference: here it is a binary like the
/// others, so check that its output equals the plain reference for the apps the scenarios use.
#[test]
fn sequential_matches_reference_1() {
    let scenario = Scenario::start("mrsequential matches the reference");
    let dir = TestDir::new("sequential");
    for app in ["wc", "indexer", "nocrash"] {
        assert_same_lines(
            &dir.sequential(app),
            &reference(app),
            &format!("mrsequential {app} output is not the same as the reference"),
        );
    }
    scenario.passed();
}
