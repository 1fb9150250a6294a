//! Lab 4B: the sharded key/value service. Each replica group is a Raft-replicated
//! [`ShardState`](state::ShardState) serving the shards the controller's current
//! configuration gives it, and moving shards to and from other groups as configurations
//! change.
//!
//! - [`rpc`]: the "ShardKV" service and the commands of a group's log;
//! - [`state`]: the replicated state machine (configurations, shards and their status);
//! - [`server`]: the RPC handlers and the tasks that poll the controller and move shards;
//! - [`clerk`]: the client.
// BEGIN SOLUTION 4B
// HANDOUT
// //!
// //! Given: [`MakeEnd`], the clerk's request and answers in [`rpc`], and the signatures the
// //! tests and `cluster/` call. Yours: the group's state machine, the server's handlers and
// //! tasks, the shard moves between groups, and the clerk. Part 4A comes first: the 4B tests
// //! start the shard controllers before anything else. Then a good order is the tests' own:
// //! `static_shards_4b` (no shard moves), `join_leave_4b`, `snapshot_4b`, `miss_change_4b`,
// //! the concurrent and unreliable ones, and the challenges last.
// END SOLUTION

pub mod clerk;
pub mod rpc;
pub mod server;
pub mod state;

pub use clerk::Clerk;
pub use server::{MakeEnd, ShardKv};
