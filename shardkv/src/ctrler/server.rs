//! The shard controller server: the [`state::Configs`](super::state::Configs) state machine
//! replicated by [`rsm::Rsm`], and the "ShardCtrler" RPC handler in front of it.
// BEGIN SOLUTION 4A
// HANDOUT
// //!
// //! Hints:
// //! - Start from Lab 3's kvraft server: the controller is the same shape, a state machine
// //!   ([`Configs`](super::state::Configs)) under [`rsm::Rsm`], whose handler submits each
// //!   request and returns what applying it answered. Queries go through the log too, so
// //!   that a controller that has lost its leadership cannot answer with an old
// //!   configuration.
// //! - The controllers' state is small: pass `-1` as `maxraftstate` (never snapshot).
// //! - Lab 4B's servers and clerks are clients of this service: they need it to work first.
//
// // Stubs leave their arguments unused: delete this attribute when you start.
// #![allow(unused_variables, dead_code)]
// END SOLUTION

use std::sync::Arc;

use labrpc::ClientEnd;
use raft::{Persister, Raft};
// BEGIN SOLUTION 4A
use rsm::{Rsm, StartError};
// HANDOUT
// use rsm::StartError;
// END SOLUTION

use super::rpc::{ctrler_rpc, Reply, Request};
// BEGIN SOLUTION 4A
use super::state::Configs;
// END SOLUTION

/// One shard controller server.
pub struct ShardCtrler {
    // BEGIN SOLUTION 4A
    rsm: Arc<Rsm<Configs>>,
    // HANDOUT
    // // Your state: the replication layer running this controller's `Configs`.
    // END SOLUTION
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
        // BEGIN SOLUTION 4A
        let rsm = Rsm::start(servers, me, persister, -1, Configs::default())?;
        Ok(Arc::new(ShardCtrler { rsm }))
        // HANDOUT
        // todo!(
        //     "Lab 4A: ShardCtrler::start: start a controller replicating Configs through \
        //      rsm::Rsm (Lab 4B's tests start the controllers first, so they stop here too)"
        // )
        // END SOLUTION
    }

    /// The "ShardCtrler" RPC service.
    pub fn service(self: &Arc<Self>) -> impl labrpc::Service {
        ctrler_rpc::service(self.clone())
    }

    /// This controller's Raft peer.
    pub fn raft(&self) -> &Raft {
        // BEGIN SOLUTION 4A
        self.rsm.raft()
        // HANDOUT
        // todo!("Lab 4A: ShardCtrler::raft: this controller's Raft peer")
        // END SOLUTION
    }

    /// Stops the controller and its Raft peer.
    pub fn kill(&self) {
        // BEGIN SOLUTION 4A
        self.rsm.kill();
        // HANDOUT
        // todo!("Lab 4A: ShardCtrler::kill: stop the controller and its Raft peer")
        // END SOLUTION
    }
}

impl ctrler_rpc::Handler for ShardCtrler {
    async fn execute(&self, request: Request) -> Reply {
        // BEGIN SOLUTION 4A
        self.rsm.submit(request).await
        // HANDOUT
        // todo!("Lab 4A: ShardCtrler::execute: carry out a clerk's request once it has committed")
        // END SOLUTION
    }
}
