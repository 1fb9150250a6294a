//! Lab 4A: the shard controller, a Raft-replicated service that keeps the sequence of
//! configurations (which group serves which shard).
//!
//! - [`rpc`]: the operations (Join, Leave, Move, Query) and the "ShardCtrler" service;
//! - [`rebalance`]: the balanced assignment that moves the fewest shards;
//! - [`state`]: the replicated state machine (every configuration, duplicate detection);
//! - [`server`]: the RPC handler over the replication layer;
//! - [`clerk`]: the client the tests and the shardkv servers use.

pub mod clerk;
pub mod rebalance;
pub mod rpc;
pub mod server;
pub mod state;

pub use clerk::CtrlerClerk;
pub use server::ShardCtrler;
