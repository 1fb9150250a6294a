//! The course's result lines, so output reads like the handout's.
//!
//! ```text
//! Test (2A): initial election ...
//!   ... Passed --   3.5  3   58   16840    0
//! ```
//!
//! The grader reads the simulated seconds from the `Passed --` line.

use std::time::Duration;

/// Prints `Test (PART): TITLE ...`.
pub fn begin(part: &str, title: &str) {
    println!("Test ({part}): {title} ...");
}

/// The Raft testers' line: simulated seconds, peers, RPCs, bytes, committed commands.
pub fn passed_raft(elapsed: Duration, peers: usize, rpcs: u64, bytes: u64, commands: u64) {
    println!(
        "  ... Passed --  {:4.1}  {peers} {rpcs:4} {bytes:7} {commands:4}",
        elapsed.as_secs_f64()
    );
}

/// The key/value testers' line: simulated seconds, peers, RPCs, client operations.
pub fn passed_kv(elapsed: Duration, peers: usize, rpcs: u64, operations: u64) {
    println!(
        "  ... Passed --  {:4.1}  {peers} {rpcs:5} {operations:4}",
        elapsed.as_secs_f64()
    );
}

/// A plain line for tests with no counters: simulated seconds only.
pub fn passed(elapsed: Duration) {
    println!("  ... Passed --  {:4.1}", elapsed.as_secs_f64());
}
