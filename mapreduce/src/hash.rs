//! FNV-1a hashing: the course's `ihash` partitioning function, and a fast hasher for the
//! in-memory grouping of keys.
//!
//! Partitioning must match the course exactly (FNV-1a 32-bit, masked to 31 bits, modulo
//! nReduce) so a key lands in the same `mr-out-Y` as in the Go labs. The 64-bit variant is used
//! for `HashMap`s: keys are short words, for which FNV is several times faster than the standard
//! library's DoS-resistant SipHash (our inputs are trusted local files).

use std::hash::{BuildHasherDefault, Hasher};

const FNV32_OFFSET: u32 = 0x811c_9dc5;
const FNV32_PRIME: u32 = 0x0100_0193;
const FNV64_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV64_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a, 32-bit, as Go's `hash/fnv.New32a`.
pub fn fnv1a_32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(FNV32_OFFSET, |hash, &byte| {
        (hash ^ u32::from(byte)).wrapping_mul(FNV32_PRIME)
    })
}

/// The course's `ihash`: FNV-1a 32-bit of the key, masked to 31 bits.
pub fn ihash(key: &str) -> u32 {
    fnv1a_32(key.as_bytes()) & 0x7fff_ffff
}

/// The reduce partition (0..n_reduce) that `key` belongs to.
pub fn partition(key: &str, n_reduce: u32) -> usize {
    (ihash(key) % n_reduce) as usize
}

/// A 64-bit FNV-1a [`Hasher`] for `HashMap`s keyed by short strings.
pub struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> Self {
        FnvHasher(FNV64_OFFSET)
    }
}

impl Hasher for FnvHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(FNV64_PRIME);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Plugs [`FnvHasher`] into `HashMap::with_hasher` / `HashMap::default`.
pub type FnvBuildHasher = BuildHasherDefault<FnvHasher>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_32_matches_reference_vectors() {
        // Reference values of FNV-1a 32 (as produced by Go's hash/fnv).
        assert_eq!(fnv1a_32(b""), 0x811c_9dc5);
        assert_eq!(fnv1a_32(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a_32(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn ihash_is_masked_to_31_bits() {
        // "a" hashes to 0xe40c292c, whose top bit is set and must be cleared.
        assert_eq!(ihash("a"), 0x640c_292c);
        assert_eq!(partition("a", 10), (0x640c_292c_u32 % 10) as usize);
    }
}
