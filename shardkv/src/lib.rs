//! Lab 4: the shard controller and the sharded key/value service.
//!
//! - [`config`]: a configuration (which group serves each shard), `key2shard`;
//! - [`ctrler`]: 4A, the shard controller that keeps the sequence of configurations;
//! - [`kv`]: 4B, the replica groups that serve shards and move them between each other.
//!
//! Both are services over the replication layer ([`rsm`]): a deterministic state machine
//! plus RPC handlers. Layering: labrpc → raft → rsm → kvraft, shardkv.

pub mod config;
pub mod ctrler;
pub mod kv;

pub use config::{key2shard, trace_node, Config, Gid, NSHARDS};
pub use ctrler::{CtrlerClerk, ShardCtrler};
pub use kv::{Clerk, ShardKv};
