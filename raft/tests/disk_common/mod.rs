//! What the persister-on-disk tests share: temp dirs, random saves applied alike to a
//! persister on disk and one in memory, and the comparison of the two.

// Each test binary uses its own part of this.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use raft::{NewRecords, Persister, StateUpdate};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// A directory of the test's own, removed when the test passes.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "raft-disk-test-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&path);
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept {} for a look", self.0.display());
        } else {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

pub const LOG: &str = "raft.log";

pub fn log_len(dir: &Path) -> u64 {
    fs::metadata(dir.join(LOG)).unwrap().len()
}

/// Copies a persister directory's files (not its lock).
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "LOCK" {
            fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// One save, applied alike to a persister on disk and one in memory.
#[derive(Clone, Debug)]
pub enum Op {
    Update {
        header: Vec<u8>,
        first: u64,
        from: u64,
        records: Vec<Vec<u8>>,
        snapshot: Option<Vec<u8>>,
    },
    Save(Vec<u8>, Vec<u8>),
    SaveRaftState(Vec<u8>),
}

impl Op {
    pub fn apply(&self, p: &Persister) {
        match self.clone() {
            Op::Update {
                header,
                first,
                from,
                records,
                snapshot,
            } => {
                let mut new = NewRecords::default();
                for record in &records {
                    new.push(|out| out.extend_from_slice(record));
                }
                let update = StateUpdate {
                    header,
                    first,
                    from,
                    records: new,
                };
                p.save_update(update, snapshot);
            }
            Op::Save(state, snapshot) => p.save(state, snapshot),
            Op::SaveRaftState(state) => p.save_raft_state(state),
        }
    }
}

/// Bytes that start with `tag` (so a state says which save made it), then random ones.
pub fn tagged(rng: &mut SmallRng, tag: u64, max_extra: usize) -> Vec<u8> {
    let mut out = tag.to_le_bytes().to_vec();
    let extra = rng.random_range(0..=max_extra);
    out.extend((0..extra).map(|_| rng.random::<u8>()));
    out
}

pub fn random_bytes(rng: &mut SmallRng, max: usize) -> Vec<u8> {
    let len = rng.random_range(0..=max);
    (0..len).map(|_| rng.random::<u8>()).collect()
}

/// A random save that follows from what `p` holds, tagged `tag`; records of up to
/// `max_record` bytes.
pub fn random_op(rng: &mut SmallRng, p: &Persister, tag: u64, max_record: usize) -> Op {
    // After a whole state (or nothing), updates start afresh at a number that grows.
    let (start, end) = match p.saved_records() {
        Some(range) => (range.start, range.end),
        None => (tag + 1, tag + 1),
    };
    let records = |rng: &mut SmallRng, max: usize| {
        let n = rng.random_range(0..=max);
        (0..n).map(|_| random_bytes(rng, max_record)).collect()
    };
    let header = tagged(rng, tag, 30);
    let snapshot = |rng: &mut SmallRng| tagged(rng, tag, 3 * max_record);
    match rng.random_range(0..100) {
        0..50 => Op::Update {
            header,
            first: start,
            from: end,
            records: records(rng, 5),
            snapshot: None,
        },
        50..62 => Op::Update {
            header,
            first: start,
            from: rng.random_range(start..=end),
            records: records(rng, 3),
            snapshot: None,
        },
        62..80 => Op::Update {
            header,
            first: rng.random_range(start..=end),
            from: end,
            records: records(rng, 2),
            snapshot: rng.random_bool(0.7).then(|| snapshot(rng)),
        },
        80..85 => {
            // A snapshot installed past every record held.
            let first = end + rng.random_range(1..5);
            Op::Update {
                header,
                first,
                from: first,
                records: records(rng, 2),
                snapshot: Some(snapshot(rng)),
            }
        }
        85..90 => Op::Update {
            header,
            first: start,
            from: end,
            records: Vec::new(),
            snapshot: rng.random_bool(0.2).then(Vec::new),
        },
        90..95 => Op::Save(tagged(rng, tag, 200), snapshot(rng)),
        _ => Op::SaveRaftState(tagged(rng, tag, 200)),
    }
}

/// The save numbered `tag`, as both the kill test's child and its parent make it.
pub fn op_for(tag: u64, p: &Persister) -> Op {
    random_op(&mut SmallRng::seed_from_u64(tag), p, tag, 20_000)
}

/// The number of the save that made `p`'s state (0: none).
pub fn tag_of(p: &Persister) -> u64 {
    let state = p.read_raft_state();
    if state.is_empty() {
        0
    } else {
        u64::from_le_bytes(state[..8].try_into().unwrap())
    }
}

/// `disk` holds what `model` does, by every read the persister offers.
pub fn assert_same(disk: &Persister, model: &Persister, when: &str) {
    assert_eq!(
        disk.saved_records(),
        model.saved_records(),
        "saved_records {when}"
    );
    assert_eq!(
        disk.raft_state_size(),
        model.raft_state_size(),
        "raft_state_size {when}"
    );
    assert!(
        disk.read_raft_state() == model.read_raft_state(),
        "read_raft_state differs {when}"
    );
    assert_eq!(
        disk.snapshot_size(),
        model.snapshot_size(),
        "snapshot_size {when}"
    );
    assert!(
        disk.read_snapshot() == model.read_snapshot(),
        "read_snapshot differs {when}"
    );
}
