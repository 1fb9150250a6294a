//! Workers killed at any instant, not only between whole Map or Reduce calls as the course's
//! `crash` app dies: a test the course does not have. It exists to catch a worker that writes
//! its files in place instead of under a temporary name renamed into place.
//!
//! The test SIGKILLs workers at random moments it chooses itself, from a seed it prints
//! (`MR_KILL_SEED=S` replays the same kill schedule; the processes' own timing still varies),
//! and starts a new worker in each one's place while the job runs. Kills go on after the
//! coordinator has exited, for as long as a worker is still finishing a backup attempt. The
//! app is `slowwrite` (see `src/apps/slowwrite.rs`), whose output files take about half a
//! second each to write, so more than half the kills land while a file is partly written.
//! Each kill is classified by the temporary files the dead worker left behind
//! (`mr-tmp-<pid>-*`), and the counts are printed.
//!
//! The task timeout is 0.25 s, shorter than a reduce task, so tasks are also handed to a
//! second worker while the first still runs (the MapReduce paper's backup tasks). Without
//! that, writing in place would pass: a worker killed mid-write has its task run again at
//! once (the coordinator sees its connection drop), and the next attempt truncates the file
//! and writes it whole. The damage is done when two attempts write one file at once. If one
//! of them dies, the file is left with a hole of zero bytes where the truncation by one
//! attempt cut the other's writes short, or with the partial writes of an attempt that
//! started after the winner had finished. A backup map attempt also rewrites an intermediate
//! file while a reduce task reads it. With a temporary name and a rename, each attempt's
//! file is whole or absent.
//!
//! The criterion is the real one, checked after every process has exited: `sort mr-out-*`
//! equals the independent reference (`common::reference`), each `mr-out-Y` holds exactly the
//! reference lines of partition Y, and each intermediate `mr-X-Y` holds exactly the pairs Map
//! X gives for partition Y. No final name may hold a partial file.

mod common;

use std::collections::hash_map::RandomState;
use std::fs;
use std::hash::{BuildHasher, Hash, Hasher};
use std::thread;
use std::time::{Duration, Instant};

use common::{assert_same_lines, inputs, reference, Proc, Scenario, TestDir};
use mapreduce::hash::partition;

/// Reduce partitions; with ten, one output file of `slowwrite` takes about half a second.
const N_REDUCE: u32 = 10;
/// Shorter than a reduce task, so reduce tasks get backup attempts.
const TASK_TIMEOUT: &str = "0.25";
/// Workers alive at once. More than there are reduce tasks, so backup attempts find a worker;
/// `slowwrite` mostly sleeps, so twelve fit on two cores.
const WORKERS: usize = 12;
/// The most kills while the job runs, so that it can finish: it does so on its own after the
/// last one. Kills after the coordinator has exited are not counted against this.
const MAX_KILLS: usize = 60;
/// Kills are this far apart, chosen uniformly in the range, in milliseconds.
const KILL_GAP_MS: (u64, u64) = (20, 120);
/// The whole run must end within this (the job takes 2 to 4 s on the busy 2-core machine).
const JOB_LIMIT: Duration = Duration::from_secs(60);

#[test]
fn killed_mid_write_1() {
    let scenario = Scenario::start("workers killed at random moments, mid-write");
    let seed = kill_seed();
    println!("  kill schedule seed {seed} (MR_KILL_SEED={seed} replays it)");
    let mut random = SplitMix64(seed);
    let dir = TestDir::new("kills");
    let expected = reference("bigwrite");

    let mut coordinator = dir.coordinator(
        &[
            "--nreduce",
            &N_REDUCE.to_string(),
            "--task-timeout",
            TASK_TIMEOUT,
        ],
        JOB_LIMIT,
    );
    let start = Instant::now();
    let mut workers: Vec<Proc> = (0..WORKERS).map(|_| worker(&dir)).collect();
    let mut killed: Vec<Proc> = Vec::new(); // Guards kept, so their logs stay with the test.
    let mut stats = KillStats::default();
    let mut next_kill = start + random.gap();
    // Killed after the coordinator exited, while backup attempts were still writing; such a
    // worker is not replaced (a new one would find no coordinator).
    let mut dead = vec![false; WORKERS];
    let mut job_time = None;
    loop {
        if job_time.is_none() && coordinator.try_wait().is_some() {
            job_time = Some(start.elapsed());
        }
        let job_running = job_time.is_none();
        if !job_running && workers.iter_mut().all(|w| w.try_wait().is_some()) {
            break;
        }
        assert!(
            start.elapsed() < JOB_LIMIT,
            "the job did not finish in {JOB_LIMIT:?} (kills: {stats})"
        );
        let may_kill = !job_running || stats.kills < MAX_KILLS;
        if may_kill && Instant::now() >= next_kill {
            // The victim is one of the live workers. One that exited by itself found the job
            // over; its status is checked at the end.
            let alive: Vec<usize> = (0..workers.len())
                .filter(|&i| workers[i].try_wait().is_none())
                .collect();
            if !alive.is_empty() {
                let i = alive[random.below(alive.len() as u64) as usize];
                let pid = workers[i].pid();
                if !workers[i].kill() {
                    // It exited by itself just now.
                } else if job_running {
                    stats.record(&dir, pid, job_running);
                    killed.push(std::mem::replace(&mut workers[i], worker(&dir)));
                } else {
                    stats.record(&dir, pid, job_running);
                    dead[i] = true;
                }
            }
            next_kill = Instant::now() + random.gap();
        }
        thread::sleep(Duration::from_millis(1));
    }
    let job_time = job_time.unwrap();
    println!("  job took {:.1} s; {stats}", job_time.as_secs_f64());
    assert!(
        coordinator.wait().success(),
        "the coordinator failed: {}",
        coordinator.stderr()
    );
    for (worker, _) in workers.iter_mut().zip(&dead).filter(|(_, dead)| !**dead) {
        worker.wait_worker();
    }
    assert!(
        stats.kills > 0,
        "the job ended before any worker was killed, so this run tested nothing"
    );

    check_outputs(&dir, &expected);
    check_intermediates(&dir);
    scenario.passed();
}

/// Starts a `slowwrite` worker. One started just as the job ends finds no coordinator; a short
/// connection timeout lets it give up in 1 s rather than the default 3 s.
fn worker(dir: &TestDir) -> Proc {
    let socket = dir.socket();
    let args = [
        "slowwrite",
        "--coordinator",
        &socket,
        "--connect-timeout",
        "1",
    ];
    dir.spawn("worker", common::WORKER, &args, JOB_LIMIT)
}

/// `sort mr-out-*` must equal the reference, and each `mr-out-Y` must be whole: exactly the
/// reference lines whose key falls in partition Y.
fn check_outputs(dir: &TestDir, expected: &[String]) {
    let names: Vec<String> = (0..N_REDUCE).map(|y| format!("mr-out-{y}")).collect();
    assert_eq!(
        dir.files_starting_with("mr-out"),
        names,
        "unexpected output file names"
    );
    assert_same_lines(
        &dir.output(),
        expected,
        "the output after workers were killed mid-write is not the same as the reference",
    );
    let mut per_file = vec![Vec::new(); N_REDUCE as usize];
    for line in expected {
        let key = line.split_once(' ').map_or(line.as_str(), |(key, _)| key);
        per_file[partition(key, N_REDUCE)].push(line.clone());
    }
    for (name, expected) in names.iter().zip(&per_file) {
        let text = fs::read_to_string(dir.path.join(name))
            .unwrap_or_else(|e| panic!("{name}: {e} (a hole of zero bytes is still UTF-8)"));
        // Every line of the file counts here, blank or not: a torn file may hold empty lines.
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        lines.sort();
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "{name} does not end with a newline: partly written"
        );
        assert_same_lines(&lines, expected, &format!("{name} is not whole"));
    }
}

/// Each intermediate `mr-X-Y` must be whole: exactly the pairs that Map gives for input X
/// (map task X reads the X-th file given to the coordinator) in partition Y, in any order. Read
/// with the crate's own decoder, since the encoding is the crate's. The two multisets of pairs
/// are compared by their size and the sum of their pairs' hashes, which costs no allocation
/// for the 624,000 pairs.
fn check_intermediates(dir: &TestDir) {
    let app = mapreduce::apps::lookup("bigwrite").unwrap();
    for (x, file) in inputs().iter().enumerate() {
        let bytes = fs::read(file).unwrap_or_else(|e| panic!("{file}: {e}"));
        let contents = String::from_utf8_lossy(&bytes);
        let mut expected = vec![Multiset::default(); N_REDUCE as usize];
        app.map(file, &contents, &mut |key, value| {
            expected[partition(key, N_REDUCE)].add(key, value)
        })
        .unwrap();
        for (y, expected) in expected.iter().enumerate() {
            let name = format!("mr-{x}-{y}");
            let bytes = fs::read(dir.path.join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            let pairs = mapreduce::kv::decode(&bytes)
                .unwrap_or_else(|e| panic!("{name} is damaged, partly written: {e}"));
            let mut found = Multiset::default();
            for (key, value) in pairs {
                found.add(key, value);
            }
            assert!(
                found == *expected,
                "{name} is not whole: {} pairs, expected {}",
                found.len,
                expected.len
            );
        }
    }
}

/// A multiset of pairs, as its size and the wrapping sum of its members' hashes: equal
/// multisets give equal values, and a missing or damaged pair changes them.
#[derive(Clone, Default, PartialEq)]
struct Multiset {
    len: usize,
    hash_sum: u64,
}

impl Multiset {
    fn add(&mut self, key: &str, value: &str) {
        // Fixed keys: the same pair hashes the same everywhere.
        let mut hasher = std::hash::DefaultHasher::new();
        (key, value).hash(&mut hasher);
        self.len += 1;
        self.hash_sum = self.hash_sum.wrapping_add(hasher.finish());
    }
}

/// The kill schedule's seed: `MR_KILL_SEED` if set, otherwise a fresh random one.
fn kill_seed() -> u64 {
    match std::env::var("MR_KILL_SEED") {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("MR_KILL_SEED={text:?} is not a number (u64)")),
        Err(_) => RandomState::new().build_hasher().finish(),
    }
}

/// What the kills hit, told by the temporary files each dead worker left behind: a worker
/// writes every file under `mr-tmp-<pid>-<n>-<final name>` and renames it when whole, so a
/// leftover one means it died mid-write.
#[derive(Default)]
struct KillStats {
    kills: usize,
    after_job: usize,
    mid_output: usize,
    mid_intermediate: usize,
}

impl KillStats {
    fn record(&mut self, dir: &TestDir, pid: u32, job_running: bool) {
        self.kills += 1;
        self.after_job += usize::from(!job_running);
        let left = dir.files_starting_with(&format!("mr-tmp-{pid}-"));
        if left.iter().any(|name| name.contains("mr-out-")) {
            self.mid_output += 1;
        } else if !left.is_empty() {
            self.mid_intermediate += 1;
        }
    }
}

impl std::fmt::Display for KillStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} workers killed ({} after the coordinator exited); {} left a temporary file, so \
             died mid-write ({} of an output file, {} of an intermediate file)",
            self.kills,
            self.after_job,
            self.mid_output + self.mid_intermediate,
            self.mid_output,
            self.mid_intermediate
        )
    }
}

/// A small seeded generator (SplitMix64): the same seed gives the same kill schedule.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// The time until the next kill.
    fn gap(&mut self) -> Duration {
        let (low, high) = KILL_GAP_MS;
        Duration::from_millis(low + self.below(high - low + 1))
    }
}
