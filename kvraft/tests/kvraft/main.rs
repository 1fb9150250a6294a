//! The course's kvraft tests (`src/kvraft/test_test.go`, Spring 2023), all 23, ported
//! scenario for scenario with the same constants and pass criteria, and an extra one.
//!
//! - [`basic`]: 3A without faults but an unreliable network (basic, speed, concurrency);
//! - [`partitions`]: 3A with partitions;
//! - [`persist`]: 3A with restarts;
//! - [`snapshots`]: 3B, log compaction;
//! - [`extras`]: part 3X, tests beyond the course's for bugs its tests rarely catch.
//!
//! Each test runs as one simulation (`LAB_SEED` picks the seed, `LAB_REALTIME=1` runs it on
//! the wall clock) and prints the course's `Test (3X): …` and `  ... Passed --` lines.
//! `cargo test --release -p kvraft 3a` runs one part.

mod basic;
mod config;
mod extras;
mod partitions;
mod persist;
mod snapshots;
