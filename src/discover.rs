//! Finding the labs' tests: build the test binaries, then ask each for its list of tests.
//!
//! `cargo test --no-run --message-format=json` builds every integration-test binary of the
//! lab packages and names each executable; `BINARY --list --format terse` names its tests.
//! Each test belongs to a lab part, from its package and its name's suffix (`_2a` → 2A).

use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde::Deserialize;

/// The packages whose integration tests the grader runs, in the order labs are done.
pub const LAB_PACKAGES: &[&str] = &["labrpc", "mapreduce", "raft", "kvraft", "shardkv"];

/// The test binaries that run on real sockets, files and processes with no seed to vary
/// (`tests/tcp.rs`, Raft's `tests/disk.rs` and `tests/disk_crash.rs`): the same run every
/// time, so the grader leaves them to `cargo test`.
pub const UNSEEDED_TESTS: &[&str] = &["tcp", "disk", "disk_crash"];

/// One test of one lab, runnable on its own.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TestCase {
    pub package: String,
    pub name: String,
    pub binary: PathBuf,
    /// Marked `#[ignore]`: run only when asked (`--include-ignored`), for example tests that
    /// fail on purpose to show what a failure looks like.
    pub ignored: bool,
}

impl TestCase {
    /// The lab part: "labrpc", "1", "2A" … "4B".
    pub fn part(&self) -> String {
        part_of(&self.package, &self.name)
    }
}

/// The part a test belongs to. Raft, KV and shardkv tests end in their part (`_2a`; Raft's
/// and kvraft's extra tests, beyond the course's, in `_2x` and `_3x`); Lab 1's tests are all
/// part 1; labrpc's tests are their own part.
pub fn part_of(package: &str, name: &str) -> String {
    let lab = match package {
        "labrpc" => return "labrpc".into(),
        "mapreduce" => return "1".into(),
        "raft" => '2',
        "kvraft" => '3',
        "shardkv" => '4',
        other => return other.into(),
    };
    let base = name.rsplit("::").next().unwrap_or(name);
    match base.rsplit_once('_') {
        Some((_, suffix)) if suffix.len() == 2 && suffix.starts_with(lab) => suffix.to_uppercase(),
        _ => lab.to_string(),
    }
}

#[derive(Deserialize)]
struct CargoMessage {
    reason: String,
    #[serde(default)]
    package_id: String,
    target: Option<CargoTarget>,
    profile: Option<CargoProfile>,
    executable: Option<PathBuf>,
}

#[derive(Deserialize)]
struct CargoTarget {
    kind: Vec<String>,
    name: String,
}

#[derive(Deserialize)]
struct CargoProfile {
    test: bool,
}

/// Builds the lab packages' test binaries (release) and returns every test they hold, in lab
/// order.
pub fn discover(packages: &[&str]) -> Result<Vec<TestCase>, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(&cargo);
    command.args([
        "test",
        "--release",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ]);
    for package in packages {
        command.args(["-p", package]);
    }
    eprintln!(
        "grade: building the test binaries ({})",
        packages.join(", ")
    );
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {cargo}: {e}"))?;
    if !output.status.success() {
        return Err("building the test binaries failed (see cargo's messages above)".into());
    }
    tests_in_build(&String::from_utf8_lossy(&output.stdout))
}

/// The tests of the test binaries that a `cargo test --no-run --message-format=json…` run
/// names in its output (`cargo_json`), in lab order.
pub fn tests_in_build(cargo_json: &str) -> Result<Vec<TestCase>, String> {
    let mut binaries = Vec::new();
    for line in cargo_json.lines() {
        let Ok(message) = serde_json::from_str::<CargoMessage>(line) else {
            continue;
        };
        let (Some(target), Some(profile), Some(executable)) =
            (message.target, message.profile, message.executable)
        else {
            continue;
        };
        // The `tcp` and `disk` test binaries run on real sockets, files and processes: they
        // have no seed to vary or replay, so the grader leaves them to `cargo test`.
        if message.reason == "compiler-artifact"
            && profile.test
            && target.kind.iter().any(|k| k == "test")
            && !UNSEEDED_TESTS.contains(&target.name.as_str())
        {
            let package = package_name(&message.package_id).unwrap_or(target.name);
            binaries.push((package, executable));
        }
    }
    let mut tests = Vec::new();
    for (package, binary) in binaries {
        let ignored = list_tests(&binary, true)?;
        for name in list_tests(&binary, false)? {
            tests.push(TestCase {
                package: package.clone(),
                ignored: ignored.contains(&name),
                name,
                binary: binary.clone(),
            });
        }
    }
    // Labs in course order, tests by name within a lab, extra parts (`2X`) after the course's.
    tests.sort_by_key(|t| {
        (
            LAB_PACKAGES.iter().position(|p| *p == t.package),
            t.part().ends_with('X'),
            t.name.clone(),
        )
    });
    Ok(tests)
}

/// The package name in a cargo package id: `path+file:///…/raft#0.1.0` or `raft 0.1.0 (…)`.
fn package_name(id: &str) -> Option<String> {
    if let Some((url, version)) = id.rsplit_once('#') {
        // `…/raft#0.1.0`, or `…/labs#name@0.1.0` when the directory name differs.
        if let Some((name, _)) = version.split_once('@') {
            return Some(name.to_string());
        }
        return url.rsplit('/').next().map(str::to_string);
    }
    id.split_whitespace().next().map(str::to_string)
}

/// The tests one binary holds (`--list --format terse` prints `name: test`), or only its
/// ignored ones.
fn list_tests(binary: &PathBuf, only_ignored: bool) -> Result<Vec<String>, String> {
    let mut command = Command::new(binary);
    command.args(["--list", "--format", "terse"]);
    if only_ignored {
        command.arg("--ignored");
    }
    let output = command
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    if !output.status.success() {
        return Err(format!("{} --list failed", binary.display()));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .map(str::to_string)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_come_from_package_and_suffix() {
        assert_eq!(part_of("raft", "initial_election_2a"), "2A");
        assert_eq!(part_of("raft", "figure_8_unreliable_2c"), "2C");
        assert_eq!(part_of("kvraft", "speed_3b"), "3B");
        assert_eq!(part_of("mapreduce", "wc_1"), "1");
        assert_eq!(part_of("labrpc", "basic"), "labrpc");
        assert_eq!(part_of("raft", "core_unit"), "2");
        assert_eq!(part_of("raft", "extras::figure_8_commit_2x"), "2X");
        assert_eq!(
            part_of("kvraft", "extras::retry_after_snapshot_restart_3x"),
            "3X"
        );
    }

    #[test]
    fn package_names_from_ids() {
        assert_eq!(
            package_name("path+file:///work/main/raft#0.1.0").as_deref(),
            Some("raft")
        );
        assert_eq!(
            package_name("path+file:///work/main/crates/x#harness@0.1.0").as_deref(),
            Some("harness")
        );
        assert_eq!(
            package_name("raft 0.1.0 (path+file:///work/main/raft)").as_deref(),
            Some("raft")
        );
    }
}
