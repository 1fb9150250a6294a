//! The shard controller server: the [`Configs`] state machine replicated by [`rsm::Rsm`],
//! and the "ShardCtrler" RPC handler in front of it.

use std::sync::Arc;

use labrpc::ClientEnd;
use raft::{Persister, Raft};
use rsm::{Rsm, StartError};

use super::rpc::{ctrler_rpc, Reply, Request};
use super::state::Configs;

/// One shard controller server.
pub struct ShardCtrler {
    rsm: Arc<Rsm<Configs>>,
}

impl ShardCtrler {
    /// Starts controller `me` of `servers` (ends to every controller's Raft, itself
    /// included) from what `persister` holds. The controller's state is small, so it never
    /// snapshots. The caller adds [`service`](Self::service) and the Raft's service to the
    /// peer's labrpc server.
    pub fn start(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
    ) -> Result<Arc<ShardCtrler>, StartError> {
        // Names the lane's group for the log view and the timeline page.
        tracing::debug!(
            node = me,
            topic = "group",
            group = "ctrler",
            "controller {me}"
        );
        let rsm = Rsm::start(servers, me, persister, -1, Configs::default())?;
        Ok(Arc::new(ShardCtrler { rsm }))
    }

    /// The "ShardCtrler" RPC service.
    pub fn service(self: &Arc<Self>) -> impl labrpc::Service {
        ctrler_rpc::service(self.clone())
    }

    /// This controller's Raft peer.
    pub fn raft(&self) -> &Raft {
        self.rsm.raft()
    }

    /// Stops the controller and its Raft peer.
    pub fn kill(&self) {
        self.rsm.kill();
    }
}

impl ctrler_rpc::Handler for ShardCtrler {
    async fn execute(&self, request: Request) -> Reply {
        self.rsm.submit(request).await
    }
}
