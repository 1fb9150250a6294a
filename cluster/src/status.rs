//! "Status": a small RPC service every replica process serves beside its lab services, so
//! that a person (`kvctl status`) or the nemesis can ask which replica leads.
//!
//! The labs' own services have no such call (the course's testers ask Raft directly, in the
//! same process), and adding one to them would change lab code for the sake of tooling.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// What a replica says of itself.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct State {
    /// Its index among its peers.
    pub id: usize,
    /// "kv", "ctrler" or "shard <gid>".
    pub service: String,
    pub term: u64,
    pub leader: bool,
}

labrpc::service! {
    /// Asks a replica process for its state.
    pub mod status_rpc("Status") {
        fn state(()) -> State;
    }
}

/// The handler: reads the replica's Raft.
pub struct StatusHandler {
    pub id: usize,
    pub service: String,
    pub raft: Arc<dyn Fn() -> (u64, bool) + Send + Sync>,
}

impl status_rpc::Handler for StatusHandler {
    async fn state(&self, _: ()) -> State {
        let (term, leader) = (self.raft)();
        State {
            id: self.id,
            service: self.service.clone(),
            term,
            leader,
        }
    }
}
