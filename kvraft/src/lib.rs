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
//! - [`state_machine`]: the deterministic state every replica applies commands to (the
//!   data and the duplicate table), and [`snapshot`] (its bytes);
//! - [`server`]: the RPC handler over the replication layer ([`rsm`]), which does all the
//!   Raft work: proposals, the applier task, snapshots, restore;
//! - [`clerk`]: the client.

pub mod clerk;
pub mod ops;
pub mod rpc;
pub mod server;
pub mod snapshot;
pub mod state_machine;

pub use clerk::Clerk;
pub use ops::{Command, Op};
pub use rpc::{KvError, Reply};
pub use rsm::SnapshotError;
pub use server::{KvServer, StartError};
pub use state_machine::KvStore;
