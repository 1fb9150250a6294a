//! Small, fast, deterministic hashing used by the memo cache.
//!
//! The search hashes two things millions of times: the set of linearized operations (kept
//! incrementally by [`crate::bitset::Bitset`] using [`mix64`]) and the model state (hashed with
//! [`FastHasher`]). The standard library's SipHash is randomly seeded and comparatively slow;
//! neither property helps here, since the cache only answers "seen before?" and never iterates.

use std::hash::{BuildHasher, Hasher};

/// Scrambles a 64-bit value so that nearby inputs give unrelated outputs (the SplitMix64
/// finalizer). Used to give each operation id an independent-looking 64-bit hash.
pub fn mix64(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A multiply-rotate hasher in the style of rustc's FxHasher: a few instructions per 8 bytes.
/// Fine for hashing model states, which are not chosen by an adversary.
#[derive(Default, Clone, Copy)]
pub struct FastHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        // A final mix so that the low bits (which a hash table uses to pick buckets) depend on
        // every input bit.
        mix64(self.hash)
    }
}

/// Hashes one value with [`FastHasher`].
pub fn hash_one<T: std::hash::Hash + ?Sized>(value: &T) -> u64 {
    let mut hasher = FastHasher::default();
    value.hash(&mut hasher);
    hasher.finish()
}

/// A hasher for keys that are already well-mixed 64-bit hashes: it passes them through.
#[derive(Default, Clone, Copy)]
pub struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are expected; fold anything else in rather than fail.
        for &byte in bytes {
            self.0 = mix64(self.0 ^ u64::from(byte));
        }
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Builds [`PassThroughHasher`]s for a `HashMap<u64, _>`.
#[derive(Default, Clone, Copy)]
pub struct PassThrough;

impl BuildHasher for PassThrough {
    type Hasher = PassThroughHasher;

    fn build_hasher(&self) -> PassThroughHasher {
        PassThroughHasher::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_hash_equal_and_distinct_values_differ() {
        assert_eq!(hash_one("abc"), hash_one("abc"));
        assert_ne!(hash_one("abc"), hash_one("abd"));
        assert_ne!(hash_one(&Some(1i64)), hash_one(&None::<i64>));
        assert_ne!(mix64(1), mix64(2));
    }
}
