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
//! configuration was already known. The entries' bitsets all live in one flat `Vec<u64>` (every
//! bitset of a partition has the same length), which saves an allocation per entry and keeps
//! lookups cache-friendly; lookups are most of the search's time.

use crate::bitset::Bitset;
use crate::hash::{hash_one, PassThrough};
use std::collections::HashMap;
use std::hash::Hash;

/// Index of a stored state.
pub type StateId = u32;

const NIL: u32 = u32::MAX;

struct Entry<S> {
    state: S,
    /// The previous entry with the same key (hash of bitset and state), or `NIL`.
    next: u32,
}

/// Explored configurations and their states.
pub struct Cache<S> {
    /// Key -> most recent entry with that key.
    heads: HashMap<u64, u32, PassThrough>,
    entries: Vec<Entry<S>>,
    /// Entry i's bitset is `bits[i * words .. (i + 1) * words]`.
    bits: Vec<u64>,
    words: usize,
}

impl<S: Eq + Hash> Cache<S> {
    /// An empty cache for bitsets of `words` 64-bit words.
    pub fn new(words: usize) -> Self {
        Cache {
            heads: HashMap::with_hasher(PassThrough),
            entries: Vec::new(),
            bits: Vec::new(),
            words,
        }
    }

    /// Records the configuration (`bits`, `state`) and returns its new id, or returns `None` if
    /// it was already recorded (the search need not explore it again).
    pub fn insert(&mut self, bits: &Bitset, state: S) -> Option<StateId> {
        let key = bits.hash() ^ hash_one(&state);
        let words = bits.words();
        // One probe of the hash map serves both the lookup and the insertion.
        let head = self.heads.entry(key).or_insert(NIL);
        let mut at = *head;
        while at != NIL {
            let entry = &self.entries[at as usize];
            // Entries chained here share the key, so this is almost always the configuration
            // itself; the comparison only guards against 64-bit hash collisions.
            if same_words(stored(&self.bits, self.words, at), words) && entry.state == state {
                return None;
            }
            at = entry.next;
        }
        let id = self.entries.len() as u32;
        self.entries.push(Entry { state, next: *head });
        *head = id;
        self.bits.extend_from_slice(words);
        Some(id)
    }

    /// The state stored under `id`.
    pub fn state(&self, id: StateId) -> &S {
        &self.entries[id as usize].state
    }
}

/// Entry `id`'s bitset in the flat array of `words`-word bitsets.
fn stored(bits: &[u64], words: usize, id: u32) -> &[u64] {
    let start = id as usize * words;
    &bits[start..start + words]
}

/// Slice equality without a call to `memcmp`, which costs more than the comparison itself for
/// the few words a partition's bitset has.
fn same_words(a: &[u64], b: &[u64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configuration_is_recorded_once() {
        let mut bits = Bitset::new(10);
        let mut cache = Cache::new(bits.words().len());
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
