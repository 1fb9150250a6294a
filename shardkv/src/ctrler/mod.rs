//! Lab 4A: the shard controller, a Raft-replicated service that keeps the sequence of
//! configurations (which group serves which shard).
//!
//! - [`rpc`]: the operations (Join, Leave, Move, Query) and the "ShardCtrler" service;
//! - [`rebalance`]: the balanced assignment that moves the fewest shards;
//! - [`state`]: the replicated state machine (every configuration, duplicate detection);
//! - [`server`]: the RPC handler over the replication layer;
//! - [`clerk`]: the client the tests and the shardkv servers use.
// BEGIN SOLUTION 4A
// HANDOUT
// //!
// //! Given: [`rpc`] (the operations and the service) and the signatures the tests call. Yours:
// //! the state machine ([`state::Configs`]), the rebalancing, the server's handler and the
// //! clerk. A good order: [`rebalance`](rebalance::rebalance) and `Configs` first (the test
// //! `rebalancer_is_balanced_minimal_and_deterministic_4a` drives them with no Raft at all),
// //! then the server and the clerk (`basic_4a`, `multi_4a`).
// END SOLUTION

pub mod clerk;
pub mod rebalance;
pub mod rpc;
pub mod server;
pub mod state;

pub use clerk::CtrlerClerk;
pub use server::ShardCtrler;
