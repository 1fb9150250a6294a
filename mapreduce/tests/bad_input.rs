//! Bad input: every mistake a user can make on the command line ends in a clear message and a
//! non-zero exit, within a bounded time, with nothing half-written. Never a panic or a hang.

mod common;

use std::time::{Duration, Instant};

use common::{inputs, Scenario, TestDir, COORDINATOR, SEQUENTIAL, WORKER};

/// Every command here should give up within this (the coordinator and mrsequential at once,
/// a worker after its 3 s connection timeout).
const QUICK: Duration = Duration::from_secs(15);

/// Runs a binary to completion in `dir` (bounded by [`QUICK`]) and returns its exit code and
/// stderr.
fn run(dir: &TestDir, program: &str, args: &[&str]) -> (i32, String) {
    let mut proc = dir.spawn("cmd", program, args, QUICK);
    let status = proc.wait();
    (status.code().unwrap_or(-1), proc.stderr())
}

fn assert_no_output_files(dir: &TestDir) {
    let left = dir.files_starting_with("mr-");
    assert!(left.is_empty(), "files left behind: {left:?}");
}

#[test]
fn missing_input_file_1() {
    let scenario = Scenario::start("missing input file");
    let dir = TestDir::new("missing_input");
    let mut files = inputs();
    files.insert(
        3,
        dir.path
            .join("pg-missing.txt")
            .to_string_lossy()
            .into_owned(),
    );
    let files: Vec<&str> = files.iter().map(String::as_str).collect();

    let socket = dir.socket();
    let mut args = vec!["--listen", socket.as_str()];
    args.extend(&files);
    let (code, stderr) = run(&dir, COORDINATOR, &args);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("pg-missing.txt"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!dir.path.join("mr.sock").exists(), "socket left behind");

    let mut args = vec!["wc"];
    args.extend(&files);
    let (code, stderr) = run(&dir, SEQUENTIAL, &args);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("pg-missing.txt"), "{stderr}");
    assert_no_output_files(&dir);
    scenario.passed();
}

#[test]
fn unreadable_input_file_1() {
    // Tests may run as root, which can read any file whatever its mode, so the unreadable
    // input is a directory.
    let scenario = Scenario::start("unreadable input file");
    let dir = TestDir::new("unreadable_input");
    let not_a_file = dir.path.join("pg-directory.txt");
    std::fs::create_dir(&not_a_file).unwrap();
    let not_a_file = not_a_file.to_string_lossy().into_owned();
    let first = inputs().remove(0);

    let socket = dir.socket();
    let (code, stderr) = run(
        &dir,
        COORDINATOR,
        &["--listen", &socket, &first, &not_a_file],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("pg-directory.txt"), "{stderr}");

    let (code, stderr) = run(&dir, SEQUENTIAL, &["wc", &first, &not_a_file]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("pg-directory.txt"), "{stderr}");
    assert_no_output_files(&dir);
    scenario.passed();
}

#[test]
fn input_vanishes_during_job_1() {
    // The coordinator checked the file, then it disappeared before a worker could map it:
    // the worker reports the failure and the job fails with a clear message instead of
    // re-running the task forever.
    let scenario = Scenario::start("input vanishes during the job");
    let dir = TestDir::new("input_vanishes");
    let copy = dir.path.join("pg-copy.txt");
    std::fs::copy(&inputs()[0], &copy).unwrap();
    let copy = copy.to_string_lossy().into_owned();
    let socket = dir.socket();
    let mut coordinator = dir.spawn(
        "coordinator",
        COORDINATOR,
        &["--listen", &socket, &copy],
        QUICK,
    );
    dir.wait_for_socket(&mut coordinator);
    std::fs::remove_file(&copy).unwrap();
    let mut worker = dir.worker("wc", QUICK);

    let status = coordinator.wait();
    assert_eq!(status.code(), Some(1));
    worker.wait_worker();
    let log = coordinator.stderr();
    assert!(
        log.contains("job failed") && log.contains("pg-copy.txt"),
        "{log}"
    );
    assert!(dir.files_starting_with("mr-out").is_empty());
    scenario.passed();
}

#[test]
fn no_input_files_1() {
    let scenario = Scenario::start("no input files");
    let dir = TestDir::new("no_inputs");
    let (code, stderr) = run(&dir, COORDINATOR, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("Usage"), "{stderr}");
    let (code, stderr) = run(&dir, SEQUENTIAL, &["wc"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("Usage"), "{stderr}");
    assert_no_output_files(&dir);
    scenario.passed();
}

#[test]
fn unknown_app_1() {
    let scenario = Scenario::start("unknown app");
    let dir = TestDir::new("unknown_app");
    let first = inputs().remove(0);
    for (program, args) in [
        (WORKER, vec!["nosuchapp"]),
        (SEQUENTIAL, vec!["nosuchapp", &first]),
    ] {
        let (code, stderr) = run(&dir, program, &args);
        assert_ne!(code, 0, "{stderr}");
        assert!(stderr.contains("nosuchapp"), "{stderr}");
        for known in [
            "wc",
            "indexer",
            "mtiming",
            "rtiming",
            "jobcount",
            "early_exit",
            "crash",
            "nocrash",
        ] {
            assert!(stderr.contains(known), "{known} not listed: {stderr}");
        }
    }
    assert_no_output_files(&dir);
    scenario.passed();
}

#[test]
fn unreachable_coordinator_1() {
    let scenario = Scenario::start("unreachable coordinator");
    let dir = TestDir::new("unreachable");
    let socket = dir.socket();
    // Port 1 on the loopback interface: nothing listens there, connections are refused.
    for address in [socket.as_str(), "127.0.0.1:1"] {
        let start = Instant::now();
        let (code, stderr) = run(&dir, WORKER, &["wc", "--coordinator", address]);
        let took = start.elapsed();
        assert_eq!(code, 1, "{stderr}");
        assert!(stderr.contains("cannot reach the coordinator"), "{stderr}");
        assert!(stderr.contains(address), "{stderr}");
        // The default connection timeout is 3 s.
        assert!(
            took >= Duration::from_secs(2) && took < Duration::from_secs(10),
            "{took:?}"
        );
    }
    scenario.passed();
}

#[test]
fn busy_socket_1() {
    // A second coordinator on the same socket must not steal it from a running job.
    let scenario = Scenario::start("socket already in use");
    let dir = TestDir::new("busy_socket");
    let first = inputs().remove(0);
    let socket = dir.socket();
    let mut running = dir.spawn(
        "coordinator",
        COORDINATOR,
        &["--listen", &socket, &first],
        QUICK,
    );
    dir.wait_for_socket(&mut running);
    let (code, stderr) = run(&dir, COORDINATOR, &["--listen", &socket, &first]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("already listening"), "{stderr}");
    // The first coordinator still serves its job.
    let mut worker = dir.worker("wc", QUICK);
    running.wait_success();
    worker.wait_worker();
    assert_eq!(dir.files_starting_with("mr-out").len(), 10);
    scenario.passed();
}

#[test]
fn bad_arguments_1() {
    let scenario = Scenario::start("bad arguments");
    let dir = TestDir::new("bad_arguments");
    let first = inputs().remove(0);
    let cases: &[(&str, &[&str])] = &[
        (COORDINATOR, &["--nreduce", "0", &first]),
        (COORDINATOR, &["--nreduce", "ten", &first]),
        (COORDINATOR, &["--task-timeout", "-1", &first]),
        (COORDINATOR, &["--task-timeout", "0", &first]),
        (COORDINATOR, &["--listen", "", &first]),
        (COORDINATOR, &["--no-such-flag", &first]),
        (WORKER, &[]),
        (WORKER, &["wc", "--connect-timeout", "soon"]),
        (WORKER, &["wc", "extra"]),
        (SEQUENTIAL, &[]),
    ];
    for (program, args) in cases {
        let (code, stderr) = run(&dir, program, args);
        assert_eq!(code, 2, "{program} {args:?}: {stderr}");
        assert!(stderr.contains("error"), "{program} {args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{program} {args:?}: {stderr}");
    }
    assert_no_output_files(&dir);
    scenario.passed();
}
