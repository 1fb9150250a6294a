//! The testers' toolkit: what the Raft, kvraft and shardkv testers share, so each tester is
//! written from parts rather than copied from the last one.
//!
//! - [`group`]: one Raft group's servers on a simulated network: end names, the links
//!   between servers (connect, disconnect, partition), crash and restart with a copy of what
//!   each server persisted, traced as the timeline page expects;
//! - [`history`]: a key/value operation history and its linearizability check;
//! - [`logged`]: a clerk wrapper that counts, traces and records every operation;
//! - [`random`]: the testers' random helpers, from the simulation's seeded generator.

pub mod group;
pub mod history;
pub mod logged;
pub mod random;

pub use group::Group;
pub use history::History;
pub use logged::{KvClerk, LoggedClerk};
pub use random::{random_string, shuffle};
