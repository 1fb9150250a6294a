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
