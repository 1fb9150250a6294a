//! Random numbers for the test apps (`crash` and `jobcount`), without a dependency.
//!
//! Every `RandomState` the standard library creates starts from fresh random keys (seeded once
//! per thread from the OS, then stepped), so hashing a counter with one gives unpredictable
//! numbers: plenty for deciding whether to crash.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// A random number in `0..n` (`n` > 0).
pub fn below(n: u64) -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(n);
    hasher.finish() % n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_in_range_and_varies() {
        let draws: Vec<u64> = (0..100).map(|_| below(1000)).collect();
        assert!(draws.iter().all(|&d| d < 1000));
        assert!(draws.iter().any(|&d| d != draws[0]));
    }
}
