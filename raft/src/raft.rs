//! The Raft handle: the course's interface (`Make`, `Start`, `GetState`, `Snapshot`, `Kill`)
//! over one peer's [`Core`] and [`Driver`].
//!
//! The handle is cheap to clone. Its calls lock the core briefly and return at once: they
//! never wait for the network. What they cause (entries to replicate, state to save) is
//! carried out by the driver task, which they wake.

use std::sync::Arc;

use labrpc::{sim, ClientEnd};
use tokio::sync::mpsc;

use crate::apply::ApplyMsg;
use crate::core::Core;
use crate::driver::{Driver, Inbox, Shared};
use crate::messages::raft_rpc;
use crate::persister::Persister;
use crate::storage::{self, PersistError};

/// One Raft peer.
#[derive(Clone)]
pub struct Raft {
    shared: Arc<Shared>,
}

impl Raft {
    /// Starts peer `me` of `peers` (ends to every peer, itself included, in peer order) from
    /// what `persister` holds, delivering committed entries on `apply_tx`. Must run inside a
    /// simulation ([`labrpc::sim`]): the peer's driver is a task on it.
    ///
    /// Fails, without starting anything, if the persisted state does not decode.
    pub fn new(
        peers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        apply_tx: mpsc::UnboundedSender<ApplyMsg>,
    ) -> Result<Raft, PersistError> {
        Raft::with_trace_node(peers, me, persister, apply_tx, me as i64)
    }

    /// [`Raft::new`], with the peer called `node` in traces (where several groups' peers
    /// share the numbers 0, 1, 2).
    pub fn with_trace_node(
        peers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        apply_tx: mpsc::UnboundedSender<ApplyMsg>,
        node: i64,
    ) -> Result<Raft, PersistError> {
        let mut state = storage::decode_state(&persister.read_raft_state())?;
        // Saved entry by entry, and those entries are the log just decoded: later saves
        // need only add what changes (else the first one rewrites the whole log). Nothing
        // else writes a persister handed to a starting peer, so the two reads agree.
        let log = &state.log;
        if persister.saved_records() == Some(log.snapshot_index() + 1..log.last_index() + 1) {
            state.log.mark_saved();
        }
        if let Some(vote) = state.voted_for {
            if vote >= peers.len() {
                return Err(PersistError::Inconsistent(format!(
                    "voted for peer {vote} of {}",
                    peers.len()
                )));
            }
        }
        let mut core = Core::new(me, peers.len(), state, persister.read_snapshot());
        core.set_trace_node(node);
        let clients = peers.into_iter().map(raft_rpc::Client::new).collect();
        let (driver, shared) = Driver::new(core, clients, persister, apply_tx);
        sim::spawn(driver.run());
        Ok(Raft { shared })
    }

    /// Proposes `command` for the log. Returns the index it will have and the current term if
    /// this peer is the leader, `None` otherwise. Returns at once: there is no guarantee the
    /// command will ever commit (a leader may fail or lose an election).
    pub fn start(&self, command: Vec<u8>) -> Option<(u64, u64)> {
        if self.shared.is_killed() {
            return None;
        }
        let proposed = self.shared.lock().propose(command);
        if proposed.is_some() {
            self.shared.poke();
        }
        proposed
    }

    /// The current term, and whether this peer believes it is the leader.
    pub fn get_state(&self) -> (u64, bool) {
        let core = self.shared.lock();
        (core.term(), core.is_leader() && !self.shared.is_killed())
    }

    /// The service has snapshotted its state through `index` (an index it has applied):
    /// Raft may discard its log up to there and keeps `snapshot` to send lagging followers.
    pub fn snapshot(&self, index: u64, snapshot: Vec<u8>) {
        self.shared.lock().snapshot(index, snapshot);
        self.shared.poke();
    }

    /// Stops the peer: its driver exits, it sends and answers nothing more, and it delivers
    /// nothing more on the apply channel.
    pub fn kill(&self) {
        self.shared.kill();
    }

    /// The peer's RPC service ("Raft"), for the labrpc server that represents it.
    pub fn service(&self) -> impl labrpc::Service {
        raft_rpc::service(Arc::new(Inbox(self.shared.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undecodable_state_is_an_error_not_a_panic() {
        let persister = Arc::new(Persister::new());
        persister.save_raft_state(vec![1, 2, 3]);
        let (tx, _rx) = mpsc::unbounded_channel();
        // Fails before it needs a network or a runtime.
        let outcome = Raft::new(Vec::new(), 0, persister, tx);
        assert!(matches!(outcome, Err(PersistError::Truncated { .. })));
    }
}
