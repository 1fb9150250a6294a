//! The key/value server: the [`KvStore`] state machine replicated by [`rsm::Rsm`], and the
//! "KVServer" RPC handler in front of it.
//!
//! Everything Raft-related (proposing, waiting for the log index, giving up when leadership
//! changes, snapshots, restore) is the replication layer's; this file only turns a clerk's
//! request into a command and the layer's answer into a reply. Gets go through the log like
//! writes, so a deposed leader cannot serve a stale value.

use std::sync::Arc;

use labrpc::ClientEnd;
use raft::{Persister, Raft};
use rsm::Rsm;

use crate::ops::Command;
use crate::rpc::{kv_rpc, Reply, Request};
use crate::state_machine::KvStore;

pub use rsm::StartError;

/// One key/value server: a key/value store replicated by its Raft peer.
pub struct KvServer {
    rsm: Arc<Rsm<KvStore>>,
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
        let rsm = Rsm::start(servers, me, persister, maxraftstate, KvStore::new())?;
        Ok(Arc::new(KvServer { rsm }))
    }

    /// The "KVServer" RPC service, for the peer's labrpc server.
    pub fn service(self: &Arc<Self>) -> impl labrpc::Service {
        kv_rpc::service(self.clone())
    }

    /// This server's Raft peer (the tester asks it who leads).
    pub fn raft(&self) -> &Raft {
        self.rsm.raft()
    }

    /// Stops the server and its Raft peer; requests still waiting are answered WrongLeader.
    pub fn kill(&self) {
        self.rsm.kill();
    }
}

impl kv_rpc::Handler for KvServer {
    async fn execute(&self, request: Request) -> Reply {
        let command = Command {
            client: request.client,
            seq: request.seq,
            op: request.op,
        };
        self.rsm.submit(command).await
    }
}
