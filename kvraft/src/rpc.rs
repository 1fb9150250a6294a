//! The clerk-to-server RPCs: the "KVServer" service, declared once with labrpc's `service!`.
//!
//! The macro gives [`kv_rpc::Client`] (what the [`Clerk`](crate::Clerk) calls through each
//! of its ends) and [`kv_rpc::Handler`] (what the [`KvServer`](crate::KvServer) implements).
//! The one method carries the clerk's id and request number, so a retried write is
//! recognised.
//!
//! Given whole, in the handout too: the kvraft tester decodes [`Reply`] and arms faults on
//! the method by its name, `KVServer.execute`.

use serde::{Deserialize, Serialize};

use crate::ops::Op;

/// A request: one operation, tagged so the servers can tell retries apart.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Request {
    pub client: u64,
    pub seq: u64,
    pub op: Op,
}

/// Why a server did not carry out a request: the replication layer's error. Either way the
/// clerk tries another server; the request may or may not have taken effect, which duplicate
/// detection makes harmless.
pub type KvError = rsm::RsmError;

/// The answer: the value read for a Get, "" for a Put or Append.
pub type Reply = Result<String, KvError>;

labrpc::service! {
    /// The key/value service a clerk calls.
    pub mod kv_rpc("KVServer") {
        /// Carries out a Get, Put or Append once it has committed.
        fn execute(Request) -> Reply;
    }
}
