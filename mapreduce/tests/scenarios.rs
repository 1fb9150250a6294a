//! The seven scenarios of the course's test-mr.sh, run on the real binaries, plus a job over
//! TCP. Each test compares what the course's script compares (see specs/mapreduce.md).

mod common;

use std::time::{Duration, Instant};

use common::{pause, wait_any, Proc, Scenario, TestDir, PROCESS_LIMIT, WORKER};

/// Runs `app` with `n_workers` workers and checks the sorted output equals mrsequential's.
fn compare_with_sequential(test: &str, name: &str, app: &str, n_workers: usize) {
    let scenario = Scenario::start(name);
    let dir = TestDir::new(test);
    let expected = dir.sequential(app);

    let mut coordinator = dir.coordinator(&[], PROCESS_LIMIT);
    let mut workers: Vec<Proc> = (0..n_workers)
        .map(|_| dir.worker(app, PROCESS_LIMIT))
        .collect();
    coordinator.wait_success();
    for worker in &mut workers {
        worker.wait_worker();
    }

    let output = dir.output();
    assert!(!expected.is_empty());
    assert!(
        output == expected,
        "{app} output is not the same as mrsequential's"
    );
    scenario.passed();
}

#[test]
fn wc_1() {
    compare_with_sequential("wc", "wc", "wc", 3);
}

#[test]
fn indexer_1() {
    compare_with_sequential("indexer", "indexer", "indexer", 2);
}

#[test]
fn map_parallelism_1() {
    let scenario = Scenario::start("map parallelism");
    let dir = TestDir::new("map_parallelism");
    let mut coordinator = dir.coordinator(&[], PROCESS_LIMIT);
    let mut workers = [
        dir.worker("mtiming", PROCESS_LIMIT),
        dir.worker("mtiming", PROCESS_LIMIT),
    ];
    coordinator.wait_success();
    for worker in &mut workers {
        worker.wait_worker();
    }

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
    scenario.passed();
}

#[test]
fn reduce_parallelism_1() {
    let scenario = Scenario::start("reduce parallelism");
    let dir = TestDir::new("reduce_parallelism");
    let mut coordinator = dir.coordinator(&[], PROCESS_LIMIT);
    let mut workers = [
        dir.worker("rtiming", PROCESS_LIMIT),
        dir.worker("rtiming", PROCESS_LIMIT),
    ];
    coordinator.wait_success();
    for worker in &mut workers {
        worker.wait_worker();
    }

    let output = dir.output();
    let overlapped = output
        .iter()
        .filter(|l| matches!(l.split_once(' '), Some((k, "2")) if k.len() == 1 && k.as_bytes()[0].is_ascii_lowercase()))
        .count();
    assert!(
        overlapped >= 2,
        "too few parallel reduces; output: {output:#?}"
    );
    scenario.passed();
}

#[test]
fn job_count_1() {
    let scenario = Scenario::start("job count");
    let dir = TestDir::new("job_count");
    let mut coordinator = dir.coordinator(&[], PROCESS_LIMIT);
    // As the course: two workers, the second in the foreground; then two more, which find the
    // job done and must not run any map again.
    let mut first = dir.worker("jobcount", PROCESS_LIMIT);
    dir.worker("jobcount", PROCESS_LIMIT).wait_success();
    let mut third = dir.worker("jobcount", PROCESS_LIMIT);
    dir.worker("jobcount", PROCESS_LIMIT).wait();
    third.wait();
    first.wait_success();
    coordinator.wait_success();

    let output = dir.output();
    assert_eq!(output, ["a 8"], "map tasks ran a wrong number of times");
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
    let expected = dir.sequential("nocrash");
    common::crash_job(&dir);

    let output = dir.output();
    assert!(
        output == expected,
        "crash output is not the same as mrsequential with nocrash"
    );
    scenario.passed();
}

/// Not in the course's script: the same wc job with the coordinator on TCP (port chosen by the
/// system) and workers connecting to it, as they would from other machines.
#[test]
fn tcp_wc_1() {
    let scenario = Scenario::start("wc over TCP");
    let dir = TestDir::new("tcp_wc");
    let expected = dir.sequential("wc");

    let mut args = vec!["--listen", "127.0.0.1:0"];
    let inputs = common::inputs();
    args.extend(inputs.iter().map(String::as_str));
    let mut coordinator = dir.spawn("coordinator", common::COORDINATOR, &args, PROCESS_LIMIT);
    let address = coordinator_tcp_address(&mut coordinator);
    let mut workers: Vec<Proc> = (0..2)
        .map(|_| {
            dir.spawn(
                "worker",
                WORKER,
                &["wc", "--coordinator", &address],
                PROCESS_LIMIT,
            )
        })
        .collect();
    coordinator.wait_success();
    for worker in &mut workers {
        worker.wait_worker();
    }
    assert!(
        dir.output() == expected,
        "wc over TCP output is not the same as mrsequential's"
    );
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
            "the coordinator exited early"
        );
        assert!(
            Instant::now() < deadline,
            "the coordinator never said where it listens"
        );
        pause(Duration::from_millis(5));
    }
}
