//! Lab 3: a linearizable, fault-tolerant key/value service on Raft.
//!
//! Clients use a [`Clerk`] (`get`, `put`, `append`); it sends each operation to the servers
//! until one carries it out. A [`KvServer`] proposes every operation to its Raft peer, answers
//! once the operation has committed and been applied, and snapshots its state so Raft's log
//! stays short.
//!
//! How the pieces fit:
//! - [`ops`]: the operations and the commands that carry them through the log;
//! - [`rpc`]: the "KVServer" RPC service between clerk and server;
//! - [`state_machine`]: the deterministic state every replica applies commands to, with
//!   [`dedup`] (each write takes effect once) and [`snapshot`] (its bytes);
//! - [`server`]: the async layer around it (requests, the applier task, snapshots), with
//!   [`waiters`] (requests waiting for their log index);
//! - [`clerk`]: the client.

pub mod clerk;
pub mod dedup;
pub mod ops;
pub mod rpc;
pub mod server;
pub mod snapshot;
pub mod state_machine;
pub mod waiters;

pub use clerk::Clerk;
pub use ops::{Command, Op};
pub use rpc::{KvError, Reply};
pub use server::{KvServer, StartError};
pub use snapshot::SnapshotError;
pub use state_machine::{Effect, StateMachine};
