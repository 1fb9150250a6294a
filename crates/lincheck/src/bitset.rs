//! The set of operations linearized so far, as a compact bitset with an incremental hash.
//!
//! The memo cache is keyed by (this set, model state). The search adds and removes one
//! operation at a time, so the set keeps its hash up to date as it changes: the hash is the XOR
//! of a scrambled hash of every member, and XOR lets one bit be toggled in O(1). Comparing two
//! sets is a word-by-word comparison of `Vec<u64>`s.

use crate::hash::mix64;

/// A fixed-capacity set of small integers (operation ids within one partition).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bitset {
    words: Vec<u64>,
    hash: u64,
}

impl Bitset {
    /// An empty set able to hold `0..capacity`.
    pub fn new(capacity: usize) -> Self {
        Bitset {
            words: vec![0; capacity.div_ceil(64)],
            hash: 0,
        }
    }

    /// Adds `i`; returns false (and changes nothing) if it was already present.
    pub fn insert(&mut self, i: usize) -> bool {
        let (word, mask) = (i / 64, 1u64 << (i % 64));
        if self.words[word] & mask != 0 {
            return false;
        }
        self.words[word] |= mask;
        self.hash ^= mix64(i as u64);
        true
    }

    /// Removes `i`; returns false (and changes nothing) if it was absent.
    pub fn remove(&mut self, i: usize) -> bool {
        let (word, mask) = (i / 64, 1u64 << (i % 64));
        if self.words[word] & mask == 0 {
            return false;
        }
        self.words[word] &= !mask;
        self.hash ^= mix64(i as u64);
        true
    }

    /// A hash of the members, maintained incrementally; equal sets have equal hashes.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// The raw words, for cheap comparison against a stored copy.
    pub fn words(&self) -> &[u64] {
        &self.words
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_remove_and_hash_are_consistent() {
        let mut a = Bitset::new(130);
        let empty_hash = a.hash();
        assert!(a.insert(3));
        assert!(a.insert(129));
        assert!(!a.insert(3));

        // The same members added in another order give the same words and hash.
        let mut b = Bitset::new(130);
        b.insert(129);
        b.insert(3);
        assert_eq!(a, b);
        assert_eq!(a.hash(), b.hash());

        assert!(a.remove(3));
        assert!(!a.remove(3));
        assert!(a.remove(129));
        assert_eq!(a.hash(), empty_hash);
        assert!(a.words().iter().all(|&w| w == 0));
    }
}
