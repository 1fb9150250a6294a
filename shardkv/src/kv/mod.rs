//! Lab 4B: the sharded key/value service. Each replica group is a Raft-replicated
//! [`ShardState`](state::ShardState) serving the shards the controller's current
//! configuration gives it, and moving shards to and from other groups as configurations
//! change.
//!
//! - [`rpc`]: the "ShardKV" service and the commands of a group's log;
//! - [`state`]: the replicated state machine (configurations, shards and their status);
//! - [`server`]: the RPC handlers and the tasks that poll the controller and move shards;
//! - [`clerk`]: the client.

pub mod clerk;
pub mod rpc;
pub mod server;
pub mod state;

pub use clerk::Clerk;
pub use server::{MakeEnd, ShardKv};
