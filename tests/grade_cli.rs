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
