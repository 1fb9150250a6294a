//! Lab 4's tests: the course's shardctrler tests (4A) and all 13 shardkv tests (4B), ported
//! scenario for scenario with the same constants and pass criteria.
//!
//! - [`ctrler`]: 4A, on the controller tester [`ctrler_config`];
//! - [`rebalance`]: beyond the course, a randomized test of the rebalancer alone;
//! - [`basic`], [`concurrent`], [`unreliable`], [`challenge`]: 4B, on the shardkv tester
//!   [`config`], with helpers in [`common`].
//!
//! Each test runs as one simulation (`LAB_SEED` picks the seed, `LAB_REALTIME=1` runs it on
//! the wall clock). `cargo test --release -p shardkv 4b` runs one part.

mod basic;
mod challenge;
mod common;
mod concurrent;
mod config;
mod ctrler;
mod ctrler_config;
mod rebalance;
mod unreliable;
