//! End-to-end tests of the grader binary, run as a user would run it.

use std::process::Command;

fn grade(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_grade"))
        .args(args)
        .output()
        .expect("cannot run grade")
}

#[test]
fn unknown_part_is_a_usage_error() {
    let out = grade(&["9z"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown lab part \"9z\""), "{stderr}");
}

#[test]
fn bad_partition_is_a_usage_error() {
    for bad in ["0/2", "3/2", "two"] {
        let out = grade(&["--partition", bad]);
        assert_eq!(out.status.code(), Some(2), "--partition {bad}");
    }
}

#[test]
fn merge_of_a_missing_file_is_a_clear_error() {
    let out = grade(&["merge", "/nonexistent/grade.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/grade.json"));
}

#[test]
fn lists_and_runs_labrpc_tests() {
    let out = grade(&["labrpc", "--list"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.lines().any(|l| l.ends_with(" basic")), "{stdout}");
}

/// The (test, seed) pairs a `--json` file lists.
fn runs_in(path: &std::path::Path) -> Vec<(String, u64, Option<String>)> {
    let text = std::fs::read_to_string(path).unwrap();
    let runs: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let mut runs: Vec<_> = runs
        .iter()
        .map(|r| {
            (
                r["test"].as_str().unwrap().to_string(),
                r["seed"].as_u64().unwrap(),
                r["digest"].as_str().map(str::to_string),
            )
        })
        .collect();
    runs.sort();
    runs
}

#[test]
fn slices_add_up_to_the_whole_session() {
    let dir = std::env::temp_dir().join(format!("labs-grade-slices-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let common = [
        "labrpc",
        "--test",
        "basic",
        "--test",
        "unreliable",
        "-n",
        "5",
        "--seed",
        "11",
    ];
    let whole = dir.join("whole.json");
    let out = grade(&[&common[..], &["--json", whole.to_str().unwrap()]].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut sliced = Vec::new();
    for k in 1..=3 {
        let part = dir.join(format!("slice{k}.json"));
        let slice = format!("{k}/3");
        let out = grade(
            &[
                &common[..],
                &["--partition", &slice, "--json", part.to_str().unwrap()],
            ]
            .concat(),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        sliced.extend(runs_in(&part));
    }
    sliced.sort();
    let whole_runs = runs_in(&whole);
    assert_eq!(whole_runs.len(), 10, "2 tests × 5 seeds");
    assert_eq!(
        sliced, whole_runs,
        "the slices ran other seeds, or other digests"
    );
    let merged = grade(&[
        "merge",
        dir.join("slice1.json").to_str().unwrap(),
        dir.join("slice2.json").to_str().unwrap(),
        dir.join("slice3.json").to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&merged.stdout).contains("10 passed, 0 failed"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The one run a `--json` file holds.
fn only_run(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    let mut runs: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(runs.len(), 1, "{text}");
    runs.pop().unwrap()
}

#[test]
fn a_livelock_fails_fast_with_its_report_and_a_capped_trace() {
    let dir = std::env::temp_dir().join(format!("labs-grade-livelock-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("run.json");
    let started = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_grade"))
        .args([
            "labrpc",
            "--test",
            "livelock_on_purpose",
            "--include-ignored",
        ])
        .args(["--seed", "3", "--json", json.to_str().unwrap()])
        // A small cap, to see the replay's trace cut.
        .env("LAB_TRACE_MAX_MB", "1")
        .output()
        .expect("cannot run grade");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let run = only_run(&json);
    let reason = run["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("livelock: 2,000,000 task polls and ")
            && reason.ends_with(" network bytes at t=0.000000 s without simulated time advancing"),
        "{reason}"
    );
    assert!(run["wall_secs"].as_f64().unwrap() < 30.0, "{run}");
    let log = std::fs::read_to_string(run["log"].as_str().unwrap()).unwrap();
    assert!(
        log.contains("send         end1-99 -> server99 JunkServer.handler2"),
        "the report does not name the looping call: {log}"
    );
    // The replay with tracing stopped at the same livelock, and its trace was cut at 1 MB.
    let trace_path = run["trace"].as_str().expect("a traced replay");
    let trace = std::fs::read_to_string(trace_path).unwrap();
    assert!(trace.len() < 1_100_000, "{} bytes of trace", trace.len());
    let last: serde_json::Value = serde_json::from_str(trace.lines().last().unwrap()).unwrap();
    assert_eq!(last["topic"], "trace-cut", "{last}");
    println!("{stdout}\n(graded in {:?})", started.elapsed());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Grades labrpc's test that gets stuck in one poll on purpose, with a 1 s wall-clock limit.
fn grade_stuck(extra: &[&str], json: &std::path::Path) -> std::process::Output {
    let mut args = vec![
        "labrpc",
        "--test",
        "stuck_in_one_poll_on_purpose",
        "--include-ignored",
        "--wall-limit",
        "1",
    ];
    args.extend(extra);
    args.extend(["--json", json.to_str().unwrap()]);
    grade(&args)
}

#[test]
fn a_task_stuck_in_one_poll_is_stopped_by_its_watchdog() {
    let dir = std::env::temp_dir().join(format!("labs-grade-stuck-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("run.json");
    let out = grade_stuck(&["--seed", "3"], &json);
    assert_eq!(out.status.code(), Some(1));
    let run = only_run(&json);
    let reason = run["reason"].as_str().unwrap();
    assert!(
        reason.contains("past twice its wall-clock limit of 1 s")
            && reason.contains("has not returned from one poll"),
        "{reason}"
    );
    // The watchdog fired at 2 s; the grader would have killed the run at 32 s.
    assert!(run["wall_secs"].as_f64().unwrap() < 20.0, "{run}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ignored_tests_run_only_when_asked() {
    let out = grade(&["labrpc", "--list"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("livelock_on_purpose"), "{stdout}");
    let out = grade(&["labrpc", "--list", "--include-ignored"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("livelock_on_purpose"), "{stdout}");
}

#[test]
fn a_bad_wall_limit_is_a_usage_error() {
    for bad in ["0", "five", "-3"] {
        let out = grade(&["--wall-limit", bad]);
        assert_eq!(out.status.code(), Some(2), "--wall-limit {bad}");
    }
}

#[test]
fn realtime_runs_say_so_in_the_table_and_the_json() {
    let dir = std::env::temp_dir().join(format!("labs-grade-realtime-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("run.json");
    let args = ["labrpc", "--test", "basic", "--seed", "5", "--json"];
    let out = grade(&[&args[..], &[json.to_str().unwrap(), "--realtime"]].concat());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("[realtime: LAB_REALTIME=1, multi-threaded, wall clock]"),
        "{stdout}"
    );
    assert!(!stdout.contains("[simulated"), "{stdout}");
    let run = only_run(&json);
    assert_eq!(run["mode"], "realtime", "{run}");
    // merge keeps the mode.
    let merged = grade(&["merge", json.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&merged.stdout);
    assert!(stdout.contains("[realtime: LAB_REALTIME=1"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_batch_runs_what_one_process_per_run_runs() {
    let dir = std::env::temp_dir().join(format!("labs-grade-batch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let common = ["2a", "-n", "4", "--seed", "21"];
    let mut digests = Vec::new();
    for batch in ["1", "4"] {
        let json = dir.join(format!("batch{batch}.json"));
        let args = ["--batch", batch, "--json", json.to_str().unwrap()];
        let out = grade(&[&common[..], &args[..]].concat());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        digests.push(runs_in(&json));
    }
    assert_eq!(digests[0].len(), 12, "3 tests × 4 seeds");
    assert!(digests[0].iter().all(|(_, _, d)| d.is_some()));
    assert_eq!(digests[0], digests[1], "a batch ran other seeds or digests");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn each_failing_run_of_a_batch_is_its_own_failure() {
    let dir = std::env::temp_dir().join(format!("labs-grade-batchfail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("runs.json");
    let out = grade_stuck(&["-n", "3", "--seed", "8"], &json);
    assert_eq!(out.status.code(), Some(1));
    let runs = runs_in(&json);
    // Each run aborts its process; the seeds after it go again, each is reported alone.
    assert_eq!(runs.len(), 3);
    let text = std::fs::read_to_string(&json).unwrap();
    let runs: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    for run in &runs {
        assert_eq!(run["passed"], false, "{run}");
        let log = std::fs::read_to_string(run["log"].as_str().unwrap()).unwrap();
        let seed = run["seed"].as_u64().unwrap();
        assert!(log.contains(&format!("seed={seed}")), "{log}");
        assert!(
            run["reason"]
                .as_str()
                .unwrap()
                .contains("has not returned from one poll"),
            "{run}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
