// BEGIN SOLUTION 2
//! What one save of Raft state costs, by the length of the log.
//!
//! `cargo bench -p raft --bench save` drives a one-peer Raft core directly (no network, no
//! runtime): it restores a log of 1k, 10k or 100k entries of 16-byte commands, becomes
//! leader, then repeatedly proposes one 16-byte command and saves the resulting state to a
//! [`Persister`], exactly as the driver does after each batch of events. Raft must save
//! before it answers or sends anything, so this is on the path of every operation. One line
//! per log length, with the mean wall time of one propose-and-save step (and the mean of the
//! fastest half, less disturbed by a shared machine), and what `Persister::copy` (the
//! tester's crash copy) costs at that length. Both should be flat across log lengths.
//!
//! Then the same on disk ([`Persister::open`], in a directory under `SAVE_BENCH_DIR` or the
//! system's temp dir): each save is appended to the log and fsynced before it returns, so
//! its cost is an fsync plus what changed. The bench prints, per log length, the save's
//! mean, fastest half and 99th percentile, the bytes each save appends, and how long a
//! reopen (replaying the log) takes; beside them the **fsync floor** (a bare append of as
//! many bytes and an `fdatasync` on the same file system), which no durable save can beat;
//! and, per length, what a save that rewrites the log to reclaim dead bytes costs, and that
//! cost spread over the saves between two rewrites.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use raft::core::{Core, Save};
use raft::log::Log;
use raft::messages::Entry;
use raft::{DurableState, NewRecords, Persister, StateUpdate};

const COMMAND_BYTES: usize = 16;
const STEPS: usize = 2000;
/// Saves on disk are an fsync each: fewer of them give as steady a mean.
const DISK_STEPS: usize = 1000;
const WARM_UP: usize = 50;
const LENGTHS: [u64; 3] = [1_000, 10_000, 100_000];

/// Saves `save` as the driver does.
fn store(persister: &Persister, save: Save) {
    persister.save_update(save.state, save.snapshot);
}

/// One propose-and-save step.
fn step(core: &mut Core, persister: &Persister, i: usize) {
    let command = vec![i as u8; COMMAND_BYTES];
    core.propose(command).expect("the only peer leads");
    core.replicate();
    let save = core.take_ready().save.expect("a proposal changes the log");
    store(persister, save);
}

/// A one-peer leader whose log holds `length` entries, and `persister` holding them.
fn leader(length: u64, persister: &Persister) -> Core {
    let mut log = Log::new();
    for i in 0..length {
        log.append(Entry {
            term: 1,
            command: vec![i as u8; COMMAND_BYTES],
        });
    }
    let state = DurableState {
        term: 1,
        voted_for: None,
        log,
    };
    let mut core = Core::new(0, 1, state, Vec::new());
    core.election_timeout();
    assert!(core.is_leader());
    if let Some(save) = core.take_ready().save {
        store(persister, save);
    }
    core
}

/// Runs `steps` propose-and-save steps (after a warm-up); returns each one's time, sorted.
fn time_steps(core: &mut Core, persister: &Persister, steps: usize) -> Vec<Duration> {
    for i in 0..WARM_UP {
        step(core, persister, i);
    }
    let mut times = Vec::with_capacity(steps);
    for i in 0..steps {
        let t0 = Instant::now();
        step(core, persister, i);
        times.push(t0.elapsed());
    }
    times.sort();
    times
}

fn mean(times: &[Duration]) -> Duration {
    times.iter().sum::<Duration>() / times.len() as u32
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    for length in LENGTHS {
        let persister = Persister::new();
        let mut core = leader(length, &persister);
        let times = time_steps(&mut core, &persister, STEPS);
        let mean = mean(&times);
        let fast_half = self::mean(&times[..STEPS / 2]);
        let t0 = Instant::now();
        let copies: Vec<Persister> = (0..10).map(|_| persister.copy()).collect();
        let copy = t0.elapsed() / copies.len() as u32;
        println!(
            "raft save: log of {length:>6} entries ({:>7} bytes saved): one propose-and-save \
             {:>8.2} µs (fastest half {:>8.2} µs); Persister::copy {:>8.2} µs",
            persister.raft_state_size(),
            micros(mean),
            micros(fast_half),
            micros(copy),
        );
    }
    on_disk();
}

/// A fresh directory for the bench, under `SAVE_BENCH_DIR` or the temp dir.
fn bench_dir(name: &str) -> PathBuf {
    let root = std::env::var_os("SAVE_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = root.join(format!("raft-save-bench-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn log_len(dir: &Path) -> u64 {
    fs::metadata(dir.join("raft.log")).map_or(0, |m| m.len())
}

fn on_disk() {
    let mut appended = 0;
    for length in LENGTHS {
        let dir = bench_dir(&format!("{length}"));
        let persister = Persister::open(&dir).expect("a bench directory");
        let mut core = leader(length, &persister);
        let before = log_len(&dir);
        let times = time_steps(&mut core, &persister, DISK_STEPS);
        appended = (log_len(&dir) - before) / (DISK_STEPS + WARM_UP) as u64;
        drop(persister);
        let t0 = Instant::now();
        let reopened = Persister::open(&dir).expect("the bench directory");
        let reopen = t0.elapsed();
        drop(reopened);
        println!(
            "raft save on disk: log of {length:>6} entries: one propose-and-save {:>8.1} µs \
             (fastest half {:>8.1} µs, p99 {:>8.1} µs), {appended} bytes appended; reopen {:>6.1} ms",
            micros(mean(&times)),
            micros(mean(&times[..times.len() / 2])),
            micros(times[times.len() * 99 / 100]),
            reopen.as_secs_f64() * 1e3,
        );
        let _ = fs::remove_dir_all(&dir);
    }
    let dir = bench_dir("floor");
    let floor = fsync_floor(&dir, appended as usize);
    println!(
        "fsync floor: one {appended}-byte append and fdatasync, the same file system: {:>8.1} µs \
         (fastest half {:>8.1} µs)",
        micros(mean(&floor)),
        micros(mean(&floor[..floor.len() / 2])),
    );
    let _ = fs::remove_dir_all(&dir);
    for length in LENGTHS {
        rewrite(length, appended);
    }
}

/// Appends `bytes` bytes and fdatasyncs, `DISK_STEPS` times; each one's time, sorted.
fn fsync_floor(dir: &Path, bytes: usize) -> Vec<Duration> {
    fs::create_dir_all(dir).unwrap();
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("floor"))
        .unwrap();
    let data = vec![7u8; bytes];
    let mut times = Vec::with_capacity(DISK_STEPS);
    for _ in 0..DISK_STEPS {
        let t0 = Instant::now();
        file.write_all(&data).unwrap();
        file.sync_data().unwrap();
        times.push(t0.elapsed());
    }
    times.sort();
    times
}

/// What the save that rewrites the log costs at `length` entries: saves that replace the
/// log's last tenth pile up dead bytes until one of them rewrites the log (its length
/// drops), which is timed against the others. An ordinary save of the run above leaves
/// `appended` bytes less one record (its entry, which stays live) dead, which says how many
/// of them come between two rewrites.
fn rewrite(length: u64, appended: u64) {
    let dir = bench_dir(&format!("rewrite-{length}"));
    let persister = Persister::open(&dir).expect("a bench directory");
    let records = |n: u64| {
        let mut records = NewRecords::default();
        for i in 0..n {
            records.push(|out| {
                out.extend_from_slice(&1u64.to_le_bytes());
                out.extend_from_slice(&(COMMAND_BYTES as u32).to_le_bytes());
                out.extend_from_slice(&[i as u8; COMMAND_BYTES]);
            });
        }
        records
    };
    let header = vec![1u8; 33];
    let update = |from: u64, n: u64| StateUpdate {
        header: header.clone(),
        first: 1,
        from,
        records: records(n),
    };
    persister.save_update(update(1, length), None);
    let tail = length / 10;
    let mut others = Vec::new();
    loop {
        let before = log_len(&dir);
        let t0 = Instant::now();
        persister.save_update(update(length + 1 - tail, tail), None);
        let took = t0.elapsed();
        if log_len(&dir) < before {
            let live = log_len(&dir);
            let record = 4 + 8 + 4 + COMMAND_BYTES as u64;
            let dead_per_save = appended.saturating_sub(record).max(1);
            let dead_needed = (2 * live).max(1 << 20);
            let between = dead_needed / dead_per_save;
            let usual = if others.is_empty() {
                Duration::ZERO
            } else {
                mean(&others)
            };
            let extra = took.saturating_sub(usual);
            println!(
                "raft save on disk: a save that rewrites the log of {length:>6} entries \
                 ({live:>7} bytes): {:>7.1} ms, {:>6.1} ms more than the others; one per \
                 {between} saves of the run above: {:>5.2} µs a save",
                took.as_secs_f64() * 1e3,
                extra.as_secs_f64() * 1e3,
                micros(extra) / between as f64,
            );
            break;
        }
        others.push(took);
    }
    drop(persister);
    let _ = fs::remove_dir_all(&dir);
}
// END SOLUTION
