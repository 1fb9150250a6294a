//! The replicated-state-machine layer: what every Raft-backed service needs, written once.
//!
//! The course's kvraft server, shard controller and shardkv server all do the same thing
//! around Raft: propose an operation, wait until it is applied at its log index (or give up
//! when leadership or the term changes, or a timeout passes), answer from the result; apply
//! what Raft delivers to a deterministic state machine in log order; snapshot when Raft's
//! saved state grows past `maxraftstate`; restore from the snapshot on restart. The course
//! itself moved to this shape in later years (its `rsm` package).
//!
//! So a service here is a [`StateMachine`] (plain deterministic data: commands in, outputs
//! out, snapshot bytes) plus its RPC handlers, which call [`Rsm::submit`]. The pieces:
// BEGIN SOLUTION 3A
//! - [`machine`]: the [`StateMachine`] trait a service implements;
//! - [`server`]: [`Rsm`], the async layer around Raft (proposals, the applier, snapshots);
//! - [`waiters`]: proposals waiting for their log index;
//! - [`dedup`]: per-client duplicate detection, for state machines to embed (where it lives
//!   is the service's choice: shardkv keeps one table per shard so it can move with it);
//! - [`leader`]: the clerks' loop that finds the leader and retries.
// HANDOUT
// //! - [`machine`]: the [`StateMachine`] trait a service implements (given);
// //! - [`server`]: [`Rsm`], the async layer around Raft: proposals and the applier (Lab 3A),
// //!   snapshots and restore (Lab 3B);
// //! - [`dedup`]: per-client duplicate detection, for state machines to embed (Lab 3A; where
// //!   it lives is the service's choice: shardkv keeps one table per shard so it can move);
// //! - [`leader`]: the clerks' loop that finds the leader and retries (Lab 3A).
// //!
// //! The public names and signatures are given: kvraft, the shard controller and shardkv
// //! (Lab 4) and the kvraft tester use them. What is private is yours to design; add
// //! modules as you need them.
// END SOLUTION
//!
//! Layering: labrpc → raft → rsm → kvraft, shardkv. This crate knows nothing of keys.

pub mod dedup;
pub mod leader;
pub mod machine;
pub mod server;
// BEGIN SOLUTION 3A
pub mod waiters;
// END SOLUTION

pub use dedup::Dedup;
pub use leader::LeaderCursor;
pub use machine::{SnapshotError, StateMachine};
// BEGIN SOLUTION 3A
pub use server::{read_snapshot, Rsm, RsmError, StartError, LEADERSHIP_CHECK, REQUEST_TIMEOUT};
// HANDOUT
// pub use server::{read_snapshot, Rsm, RsmError, StartError};
// END SOLUTION
