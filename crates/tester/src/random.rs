//! Random helpers for testers, drawing from the simulation's one seeded generator so that a
//! run replays from its seed.

use labrpc::sim;

/// Fisher–Yates, with the simulation's generator.
pub fn shuffle<T>(items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = sim::random_range(0..=i);
        items.swap(i, j);
    }
}

/// `n` random characters from `[A-Za-z0-9_-]`.
pub fn random_string(n: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..n)
        .map(|_| CHARS[sim::random_range(0..CHARS.len())] as char)
        .collect()
}
