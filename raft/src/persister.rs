//! The persister: where a peer's Raft state and snapshot survive a crash.
//!
//! As in the course, it stands in for a disk: Raft saves its state (and, with snapshots, the
//! service's snapshot) here, and on restart the tester hands the new Raft instance a copy of
//! what was last saved. Both parts are saved together, atomically, so a restart never sees a
//! snapshot that disagrees with the log beside it. The tester replaces a crashed peer's
//! persister by a [`copy`](Persister::copy), so a Raft instance that is still running after
//! its "crash" can no longer change what its successor reads.

use std::sync::{Mutex, MutexGuard, PoisonError};

#[derive(Default)]
pub struct Persister {
    saved: Mutex<Saved>,
}

#[derive(Default, Clone)]
struct Saved {
    raft_state: Vec<u8>,
    snapshot: Vec<u8>,
}

impl Persister {
    pub fn new() -> Persister {
        Persister::default()
    }

    /// A new persister holding what this one holds now.
    pub fn copy(&self) -> Persister {
        Persister {
            saved: Mutex::new(self.lock().clone()),
        }
    }

    /// Saves the Raft state and the snapshot together, atomically.
    pub fn save(&self, raft_state: Vec<u8>, snapshot: Vec<u8>) {
        *self.lock() = Saved {
            raft_state,
            snapshot,
        };
    }

    /// Saves the Raft state, keeping the snapshot saved before.
    pub fn save_raft_state(&self, raft_state: Vec<u8>) {
        self.lock().raft_state = raft_state;
    }

    pub fn read_raft_state(&self) -> Vec<u8> {
        self.lock().raft_state.clone()
    }

    pub fn read_snapshot(&self) -> Vec<u8> {
        self.lock().snapshot.clone()
    }

    pub fn raft_state_size(&self) -> usize {
        self.lock().raft_state.len()
    }

    pub fn snapshot_size(&self) -> usize {
        self.lock().snapshot.len()
    }

    fn lock(&self) -> MutexGuard<'_, Saved> {
        // Two byte vectors cannot be left half-updated by a panic elsewhere.
        self.saved.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_independent() {
        let p = Persister::new();
        p.save(vec![1, 2], vec![3]);
        let q = p.copy();
        p.save_raft_state(vec![9]);
        assert_eq!(p.read_raft_state(), vec![9]);
        assert_eq!(p.read_snapshot(), vec![3]);
        assert_eq!(q.read_raft_state(), vec![1, 2]);
        assert_eq!((q.raft_state_size(), q.snapshot_size()), (2, 1));
    }
}
