//! Lab 3: a linearizable, fault-tolerant key/value service on Raft.
//!
//! Clients use a [`Clerk`] (`get`, `put`, `append`); it sends each operation to the servers
//! until one carries it out. A [`KvServer`] proposes every operation to its Raft peer, answers
//! once the operation has committed and been applied, and snapshots its state so Raft's log
//! stays short.
//!
//! How the pieces fit:
// BEGIN SOLUTION 3A
//! - [`ops`]: the operations and the commands that carry them through the log;
//! - [`rpc`]: the "KVServer" RPC service between clerk and server;
//! - [`state_machine`]: the deterministic state every replica applies commands to (the
//!   data and the duplicate table), and [`snapshot`] (its bytes);
//! - [`server`]: the RPC handler over the replication layer ([`rsm`]), which does all the
//!   Raft work: proposals, the applier task, snapshots, restore;
//! - [`clerk`]: the client.
// HANDOUT
// //! - [`ops`]: the operations and the commands that carry them through the log (given);
// //! - [`rpc`]: the "KVServer" RPC service between clerk and server (given);
// //! - [`state_machine`]: the deterministic state every replica applies commands to (the
// //!   data and the duplicate table): Lab 3A, and its snapshot bytes: Lab 3B;
// //! - [`server`]: the RPC handler over the replication layer ([`rsm`]), which does all the
// //!   Raft work (proposals, the applier task, snapshots, restore: `crates/rsm`, also yours);
// //! - [`clerk`]: the client (Lab 3A).
// //!
// //! What the testers, `cluster/` and shardkv (Lab 4) use keeps its signature; the rest is
// //! yours to design. Start with `rsm::Rsm`, `KvStore` and [`KvServer::start`].
// END SOLUTION

pub mod clerk;
pub mod ops;
pub mod rpc;
pub mod server;
// BEGIN SOLUTION 3B
pub mod snapshot;
// END SOLUTION
pub mod state_machine;

pub use clerk::Clerk;
pub use ops::{Command, Op};
pub use rpc::{KvError, Reply};
pub use rsm::SnapshotError;
pub use server::{KvServer, StartError};
pub use state_machine::KvStore;
