//! The nemesis tests: five `kvserver` processes with their data on disk, five clients
//! recording every operation, and for 20 seconds replicas killed with SIGKILL and restarted,
//! paused with SIGSTOP and resumed, and (as root, in network namespaces) cut off from each
//! other by nftables rules and healed, with a scripted vote race among them (see
//! `cluster::nemesis::vote_race`: it elects two leaders of one term if a restarted replica
//! forgets its vote). Afterwards the whole history must be linearizable and
//! every acknowledged write present exactly once (`cluster::nemesis`). The second test does
//! the same to the sharded service (three controllers and three groups of three, twelve
//! processes) while groups are joined and removed, so shards move under the faults.
//!
//! Without root there are no namespaces: the run is on loopback with kills and pauses only,
//! and the test says so (or fails, with `LAB_REQUIRE_NETNS=1`, as CI sets). CI runs as root. A failing run keeps its directory (history,
//! schedule, every server's log, the checker's page) and prints where it is.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The run's faults and clients last this long; the whole test must end within [`LIMIT`].
const SECONDS: u32 = 20;
const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn nemesis_kills_pauses_and_partitions() {
    let line = run_nemesis("kv", &[]);
    assert_eq!(field(&line, "moves"), 0, "{line}");
    // With namespaces, the scripted vote race (played first, and again later) must have got
    // as far as a second candidate asking the restarted voter at least once.
    if field(&line, "partitions") > 0 {
        assert!(field(&line, "vote_races") >= 1, "no vote race: {line}");
    }
}

#[test]
fn sharded_nemesis_also_moves_shards() {
    let line = run_nemesis("sharded", &["--sharded", "--groups", "3"]);
    assert!(
        field(&line, "moves") >= 5,
        "too few configuration changes: {line}"
    );
}

/// Runs the nemesis with `args`, asserts it passed and did what it claims (operations and
/// every kind of fault); returns its `nemesis-result` line.
fn run_nemesis(name: &str, args: &[&str]) -> String {
    let dir = std::env::temp_dir().join(format!("nemesis-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_nemesis"))
        .args(["--seconds", &SECONDS.to_string(), "--net", "auto"])
        .args(args)
        .arg("--dir")
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the nemesis binary starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            panic!(
                "the nemesis run took over {LIMIT:?}; its files: {}",
                dir.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    print!("{out}");
    assert!(
        status.success(),
        "the nemesis run failed ({status}); its files are kept in {}",
        dir.display()
    );

    // The run must have done what it claims: many operations, and every kind of fault.
    let line = out
        .lines()
        .find(|l| l.starts_with("nemesis-result "))
        .expect("a nemesis-result line")
        .to_string();
    assert!(
        field(&line, "ok") >= 200,
        "too few operations completed: {line}"
    );
    assert!(field(&line, "kills") >= 3, "too few kills: {line}");
    assert!(field(&line, "pauses") >= 3, "too few pauses: {line}");
    if out.contains("nftables partitions") {
        assert!(
            field(&line, "partitions") >= 3,
            "too few partitions: {line}"
        );
    } else {
        // CI sets LAB_REQUIRE_NETNS=1: there a run without partitions is a failure.
        assert!(
            std::env::var_os("LAB_REQUIRE_NETNS").is_none(),
            "LAB_REQUIRE_NETNS is set but the run had no network namespaces"
        );
        println!("note: not root (or no ip/nft): the run had kills and pauses but no partitions");
    }
    std::fs::remove_dir_all(&dir).ok();
    line
}

/// The number after `name=` in a `nemesis-result` line.
fn field(line: &str, name: &str) -> usize {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
}
