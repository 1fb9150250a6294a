//! The key/value server: the [`KvStore`](crate::KvStore) state machine replicated by
//! [`rsm::Rsm`], and the "KVServer" RPC handler in front of it.
//!
//! Everything Raft-related (proposing, waiting for the log index, giving up when leadership
//! changes, snapshots, restore) is the replication layer's; this file only turns a clerk's
//! request into a command and the layer's answer into a reply. Gets go through the log like
//! writes, so a deposed leader cannot serve a stale value.
// BEGIN SOLUTION 3A

use std::sync::Arc;

use labrpc::ClientEnd;
use raft::{Persister, Raft};
use rsm::Rsm;

use crate::ops::Command;
use crate::rpc::{kv_rpc, Reply, Request};
use crate::state_machine::KvStore;
// HANDOUT
// //!
// //! Lab 3A, with `crates/rsm` (`Rsm`, `Dedup`, `LeaderCursor`), [`KvStore`](crate::KvStore)
// //! and the [`Clerk`](crate::Clerk). The signatures here are given: the tester, the benchmark
// //! and `cluster/` start servers, add their services to a labrpc server and kill them.
//
// // Stubs leave their arguments unused: delete this line when you start.
// #![allow(unused_variables, dead_code)]
//
// use std::sync::Arc;
//
// use labrpc::ClientEnd;
// use raft::{Persister, Raft};
//
// use crate::rpc::{kv_rpc, Reply, Request};
// END SOLUTION

pub use rsm::StartError;

/// One key/value server: a key/value store replicated by its Raft peer.
pub struct KvServer {
    // BEGIN SOLUTION 3A
    rsm: Arc<Rsm<KvStore>>,
    // HANDOUT
    // // Hint: the replica, an `Arc<rsm::Rsm<KvStore>>`.
    // END SOLUTION
}

impl KvServer {
    /// Starts server `me` of `servers` (ends to every peer's Raft, itself included) from
    /// what `persister` holds. `maxraftstate` is the Raft state size (bytes) past which the
    /// server snapshots; -1 means never. Returns the server, whose [`service`](Self::service)
    /// and whose Raft's service the caller adds to the peer's labrpc server.
    ///
    /// Fails, starting nothing, if the saved Raft state or snapshot does not decode.
    pub fn start(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        maxraftstate: i64,
    ) -> Result<Arc<KvServer>, StartError> {
        // BEGIN SOLUTION 3A
        let rsm = Rsm::start(servers, me, persister, maxraftstate, KvStore::new())?;
        Ok(Arc::new(KvServer { rsm }))
        // HANDOUT
        // // Hint: the replica is `rsm::Rsm::start` over an empty `KvStore`; all the Raft work
        // // is there. The 3A tests pass maxraftstate -1, the 3B tests a limit.
        // if maxraftstate >= 0 {
        //     todo!("Lab 3B: snapshot past maxraftstate, restore from the snapshot at start");
        // }
        // todo!("Lab 3A: start the key/value server: a KvStore replicated by rsm::Rsm")
        // END SOLUTION
    }

    /// The "KVServer" RPC service, for the peer's labrpc server.
    pub fn service(self: &Arc<Self>) -> impl labrpc::Service {
        kv_rpc::service(self.clone())
    }

    /// This server's Raft peer (the tester asks it who leads).
    pub fn raft(&self) -> &Raft {
        // BEGIN SOLUTION 3A
        self.rsm.raft()
        // HANDOUT
        // todo!("Lab 3A: this server's Raft peer")
        // END SOLUTION
    }

    /// Stops the server and its Raft peer; requests still waiting are answered WrongLeader.
    pub fn kill(&self) {
        // BEGIN SOLUTION 3A
        self.rsm.kill();
        // HANDOUT
        // todo!("Lab 3A: stop the server and its Raft peer")
        // END SOLUTION
    }
}

impl kv_rpc::Handler for KvServer {
    async fn execute(&self, request: Request) -> Reply {
        // BEGIN SOLUTION 3A
        let command = Command {
            client: request.client,
            seq: request.seq,
            op: request.op,
        };
        self.rsm.submit(command).await
        // HANDOUT
        // // Hint: make the request a `Command` and submit it to the replica; its error
        // // (wrong leader, timeout) is the reply's.
        // todo!("Lab 3A: carry the request out through the log and answer its result")
        // END SOLUTION
    }
}
