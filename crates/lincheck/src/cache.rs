//! Lowe's memoization: the set of (linearized operations, model state) configurations already
//! explored, which also owns every state the search produces.
//!
//! Two search paths that have linearized the same set of operations and reached the same state
//! have identical futures, so the second one can be abandoned. Without this the search is
//! exponential on almost any concurrent history; with it, each configuration is expanded once.
//!
//! The cache is an arena of entries chained by hash (a hash map from the 64-bit key to the head
//! of a chain). Keeping the states in the arena lets the search refer to states by index and
//! avoid cloning them: a state produced by `Model::step` is moved in here once, or dropped if the
//! configuration was already known.

use crate::bitset::Bitset;
use crate::hash::{hash_one, PassThrough};
use std::collections::HashMap;
use std::hash::Hash;

/// Index of a stored state.
pub type StateId = u32;

const NIL: u32 = u32::MAX;

struct Entry<S> {
    key: u64,
    bits: Box<[u64]>,
    state: S,
    /// Next entry with the same key bucket, or `NIL`.
    next: u32,
}

/// Explored configurations and their states.
pub struct Cache<S> {
    heads: HashMap<u64, u32, PassThrough>,
    entries: Vec<Entry<S>>,
}

impl<S: Eq + Hash> Cache<S> {
    pub fn new() -> Self {
        Cache {
            heads: HashMap::with_hasher(PassThrough),
            entries: Vec::new(),
        }
    }

    /// Records the configuration (`bits`, `state`) and returns its new id, or returns `None` if
    /// it was already recorded (the search need not explore it again).
    pub fn insert(&mut self, bits: &Bitset, state: S) -> Option<StateId> {
        let key = bits.hash() ^ hash_one(&state);
        let head = self.heads.get(&key).copied().unwrap_or(NIL);
        let mut at = head;
        while at != NIL {
            let entry = &self.entries[at as usize];
            if entry.key == key && *entry.bits == *bits.words() && entry.state == state {
                return None;
            }
            at = entry.next;
        }
        let id = self.entries.len() as u32;
        self.entries.push(Entry {
            key,
            bits: bits.words().into(),
            state,
            next: head,
        });
        self.heads.insert(key, id);
        Some(id)
    }

    /// The state stored under `id`.
    pub fn state(&self, id: StateId) -> &S {
        &self.entries[id as usize].state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configuration_is_recorded_once() {
        let mut cache = Cache::new();
        let mut bits = Bitset::new(10);
        let root = cache.insert(&bits, "a".to_string()).unwrap();
        assert_eq!(cache.state(root), "a");
        bits.insert(4);
        assert!(cache.insert(&bits, "b".to_string()).is_some());
        assert!(cache.insert(&bits, "b".to_string()).is_none());
        assert!(cache.insert(&bits, "c".to_string()).is_some());
        bits.insert(5);
        assert!(cache.insert(&bits, "b".to_string()).is_some());
        assert_eq!(cache.entries.len(), 4);
    }
}
