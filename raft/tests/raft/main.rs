//! The course's Raft tests (`src/raft/test_test.go`, Spring 2023), all 28, ported scenario
//! for scenario with the same constants and pass criteria.
//!
//! - [`election`]: 2A, leader election;
//! - [`replication`]: 2B, log replication;
//! - [`persistence`]: 2C, persistence across crashes;
//! - [`snapshots`]: 2D, log compaction;
//! - [`extras`]: 2X, tests beyond the course's, each scripted to catch one bug the course's
//!   tests rarely do.
//!
//! Each test runs as one simulation (`LAB_SEED` picks the seed, `LAB_REALTIME=1` runs it on
//! the wall clock) and prints the course's `Test (2X): … ` and `  ... Passed --` lines.
//! `cargo test --release -p raft 2b` runs one part.

mod config;
mod election;
mod extras;
mod persistence;
mod replication;
mod snapshots;
