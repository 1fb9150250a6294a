//! The binaries as a person uses them: `kvserver` and `kvctl` on loopback, with real data
//! directories, processes killed with SIGKILL and restarted; and their errors for bad
//! arguments, a cluster that does not answer, a data directory or an address already in use.
//!
//! Each test has its own temporary directory and its own free ports, so they run in parallel.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const KVSERVER: &str = env!("CARGO_BIN_EXE_kvserver");
const KVCTL: &str = env!("CARGO_BIN_EXE_kvctl");

/// A test's own directory, removed when the test passes.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("cluster-cli-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        } else {
            eprintln!("files kept in {}", self.0.display());
        }
    }
}

/// `n` free loopback addresses (held until all are chosen, so none repeats).
fn free_addrs(n: usize) -> Vec<String> {
    let held: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    held.iter()
        .map(|l| l.local_addr().unwrap().to_string())
        .collect()
}

/// A replica process, killed (SIGKILL) when dropped.
struct Replica {
    child: Child,
}

impl Replica {
    fn start(id: usize, peers: &[String], data: &Path, log: &Path) -> Replica {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = Command::new(KVSERVER)
            .args(["--id", &id.to_string(), "--peers", &peers.join(",")])
            .arg("--data-dir")
            .arg(data)
            .args(["--maxraftstate", "2000"])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        Replica { child }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `command` to its end, killing it (and failing) past 15 s: a server that should have
/// refused to start but serves instead must not hang the test.
fn finish(command: &mut Command) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "{command:?} was still running after 15 s: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn kvctl(servers: &[String], args: &[&str]) -> Output {
    finish(
        Command::new(KVCTL)
            .args(["--servers", &servers.join(","), "--timeout", "10"])
            .args(args),
    )
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "kvctl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .trim_end()
        .to_string()
}

/// The address of the replica that says it leads (10 s at most).
fn leader(servers: &[String]) -> usize {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(10) {
        let status = kvctl(servers, &["status"]);
        let text = String::from_utf8_lossy(&status.stdout).to_string();
        if let Some(line) = text.lines().find(|l| l.contains(" leader ")) {
            let addr = line.split_whitespace().next().unwrap();
            return servers.iter().position(|s| s == addr).unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no replica said it leads within 10 s");
}

/// The README's session: start three replicas, write, kill the leader with SIGKILL, read the
/// value back from the survivors; then kill every replica and restart them all from their
/// data directories: what was acknowledged is still there.
#[test]
fn write_kill_the_leader_read_back_restart_from_disk() {
    let tmp = TempDir::new("session");
    let servers = free_addrs(3);
    let data = |i: usize| tmp.0.join(format!("data-{i}"));
    let log = |i: usize| tmp.0.join(format!("server-{i}.log"));
    let mut replicas: Vec<Replica> = (0..3)
        .map(|i| Replica::start(i, &servers, &data(i), &log(i)))
        .collect();

    stdout(&kvctl(&servers, &["put", "greeting", "hello"]));
    stdout(&kvctl(&servers, &["append", "greeting", ", world"]));
    // Enough writes to pass --maxraftstate a few times: snapshots on disk too.
    for i in 0..30 {
        stdout(&kvctl(
            &servers,
            &["put", &format!("filler{i}"), &"z".repeat(100)],
        ));
    }
    assert_eq!(
        stdout(&kvctl(&servers, &["get", "greeting"])),
        "hello, world"
    );

    let l = leader(&servers);
    replicas[l].kill();
    assert_eq!(
        stdout(&kvctl(&servers, &["get", "greeting"])),
        "hello, world"
    );
    stdout(&kvctl(&servers, &["append", "greeting", "!"]));

    for replica in &mut replicas {
        replica.kill();
    }
    let _replicas: Vec<Replica> = (0..3)
        .map(|i| Replica::start(i, &servers, &data(i), &log(i)))
        .collect();
    assert_eq!(
        stdout(&kvctl(&servers, &["get", "greeting"])),
        "hello, world!"
    );
    assert_eq!(
        stdout(&kvctl(&servers, &["get", "filler29"])),
        "z".repeat(100)
    );
}

/// A second server on a data directory a live server holds is refused, and so is one on an
/// address a live server listens on; the first goes on serving.
#[test]
fn data_directory_or_address_in_use() {
    let tmp = TempDir::new("in-use");
    let servers = free_addrs(3);
    let data = tmp.0.join("data-0");
    let _first = Replica::start(0, &servers, &data, &tmp.0.join("first.log"));
    // Wait until the first one serves: its status answers.
    let t0 = Instant::now();
    while !kvctl(&servers[..1], &["status"]).status.success() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the first server never came up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // Same directory, another address (the second peer's).
    let second = finish(
        Command::new(KVSERVER)
            .args(["--id", "1", "--peers", &servers.join(",")])
            .arg("--data-dir")
            .arg(&data),
    );
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{err}");
    assert!(err.contains("in use"), "{err}");

    // Same address, another directory.
    let third = finish(
        Command::new(KVSERVER)
            .args(["--id", "0", "--peers", &servers.join(",")])
            .arg("--data-dir")
            .arg(tmp.0.join("data-other")),
    );
    let err = String::from_utf8_lossy(&third.stderr);
    assert_eq!(third.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot listen on"), "{err}");

    assert!(kvctl(&servers[..1], &["status"]).status.success());
}

/// A cluster nobody answers for: an error within the timeout, exit status 1.
#[test]
fn unreachable_cluster_is_an_error() {
    let servers = free_addrs(3); // nothing listens there once the probes are closed
    let t0 = Instant::now();
    let output = Command::new(KVCTL)
        .args([
            "--servers",
            &servers.join(","),
            "--timeout",
            "1",
            "get",
            "k",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("no answer from"), "{err}");
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t0.elapsed()
    );
}

/// Malformed command lines: a usage error naming the problem, exit status 2, nothing started.
#[test]
fn bad_arguments_are_usage_errors() {
    let tmp = TempDir::new("bad-args");
    let dir = tmp.0.join("d").display().to_string();
    let kvserver_cases: [&[&str]; 7] = [
        &["--peers", "127.0.0.1:1", "--data-dir", &dir],
        &[
            "--id",
            "3",
            "--peers",
            "127.0.0.1:1,127.0.0.1:2",
            "--data-dir",
            &dir,
        ],
        &["--id", "0", "--peers", "127.0.0.1", "--data-dir", &dir],
        &[
            "--id",
            "0",
            "--peers",
            "127.0.0.1:1,127.0.0.1:1",
            "--data-dir",
            &dir,
        ],
        &[
            "--id",
            "0",
            "--peers",
            "127.0.0.1:1",
            "--data-dir",
            &dir,
            "--service",
            "shard",
        ],
        &[
            "--id",
            "0",
            "--peers",
            "127.0.0.1:1",
            "--data-dir",
            &dir,
            "--gid",
            "5",
        ],
        &["--id", "x", "--peers", "127.0.0.1:1", "--data-dir", &dir],
    ];
    for args in kvserver_cases {
        let output = Command::new(KVSERVER)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "kvserver {args:?}: {err}");
        assert!(!err.is_empty(), "kvserver {args:?} said nothing");
    }
    assert!(
        !Path::new(&dir).exists(),
        "a usage error created the data directory"
    );

    let kvctl_cases: [&[&str]; 6] = [
        &["get", "k"],
        &["--servers", "nonsense", "get", "k"],
        &["--servers", "127.0.0.1:1", "--timeout", "-1", "get", "k"],
        &["--servers", "127.0.0.1:1", "frobnicate"],
        &["--servers", "127.0.0.1:1", "put", "k"],
        &[
            "--servers",
            "127.0.0.1:1",
            "--ctrlers",
            "127.0.0.1:2",
            "get",
            "k",
        ],
    ];
    for args in kvctl_cases {
        let output = Command::new(KVCTL).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "kvctl {args:?}: {err}");
    }
}
