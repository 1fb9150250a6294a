// BEGIN SOLUTION 2
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
// HANDOUT
// //! The Raft handle: the course's interface (`Make`, `Start`, `GetState`, `Snapshot`, `Kill`)
// //! as the methods of [`Raft`], and the handler that answers the other peers' RPCs. The
// //! tester and the services of Labs 3 and 4 call exactly these: keep their signatures, and
// //! design everything behind them (add modules in `lib.rs` as you like).
// //!
// //! Figure 2 of the extended Raft paper is the specification: follow it to the letter, most
// //! bugs are one of its rules half followed. Each part's hints are where it starts: 2A at
// //! [`Raft::with_trace_node`] and the RPC handler, 2B at [`Raft::start`], 2C in `storage.rs`
// //! and the handler, 2D at [`Raft::snapshot`]. `cargo run --release -- 2a` grades one part.
// //!
// //! # The simulation's rules
// //!
// //! Every test runs on one simulated network with a paused clock, fixed by its seed, so a
// //! failure replays exactly. Keep it so:
// //! - start tasks with `labrpc::sim::spawn`: no OS threads, no `std::thread::sleep`, nothing
// //!   that blocks the thread (a panic in a task fails the test with its message);
// //! - time is tokio's (`tokio::time::sleep`, `sleep_until`, `tokio::time::Instant`), which is
// //!   the simulated clock; never `std::time::Instant` or `SystemTime`;
// //! - randomness is `labrpc::sim::random_range` (election timeouts), never `rand::rng()`
// //!   (`thread_rng`);
// //! - iterate in a fixed order (`Vec`, `BTreeMap`, not `HashMap`), and write `biased;` in a
// //!   `tokio::select!` whose branches may be ready together.
// //!
// //! # Hints for every part
// //!
// //! - One `std::sync::Mutex` around the peer's state is the simplest locking. Never hold it
// //!   across an `.await`; take it again when a reply comes back, and check that the term and
// //!   role are still the ones you sent the request in before acting on it.
// //! - Send each RPC from a task of its own (`raft_rpc::Client::new(end)`, then
// //!   `client.append_entries(&args).await`), so that a slow or lost call delays nothing else:
// //!   a call to an unreachable peer may take 7 s to fail. `Err` means no reply came.
// //!   Requests and replies may arrive late, out of order, or not at all.
// //! - Never loop without waiting for something (a reply, a timer, a `tokio::sync::Notify`):
// //!   on this network a retry sent the instant a rejection arrives is answered at the same
// //!   instant, simulated time stops, and the test fails with a livelock report.
// //! - `kill` is how the tester crashes a peer: afterwards its tasks should exit and it must
// //!   send, answer and apply nothing more.
//
// // Stubs leave their arguments unused: delete this line when you start.
// #![allow(unused_variables, dead_code)]
//
// use std::sync::Arc;
//
// use labrpc::ClientEnd;
// use tokio::sync::mpsc;
//
// use crate::apply::ApplyMsg;
// use crate::messages::{
//     raft_rpc, AppendEntriesArgs, AppendEntriesReply, InstallSnapshotArgs, InstallSnapshotReply,
//     RequestVoteArgs, RequestVoteReply,
// };
// use crate::persister::Persister;
// use crate::storage::PersistError;
// END SOLUTION

/// One Raft peer.
#[derive(Clone)]
pub struct Raft {
    // BEGIN SOLUTION 2A
    shared: Arc<Shared>,
    // HANDOUT
    // // Lab 2A: this peer's state, shared by the handle's clones, the RPC handler and
    // // the peer's tasks (an `Arc<Mutex<...>>` of Figure 2's state, the peers' clients,
    // // the persister, the apply channel, whether it was killed...).
    // END SOLUTION
}

impl Raft {
    /// Starts peer `me` of `peers` (ends to every peer, itself included, in peer order) from
    /// what `persister` holds, delivering committed entries on `apply_tx`. Must run inside a
    /// simulation ([`labrpc::sim`]): the peer's tasks run on it.
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
        // BEGIN SOLUTION 2A
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
        // HANDOUT
        // // Hints (2A, leader election):
        // // - Keep Figure 2's state for elections (current term, vote, role) and `peers` as
        // //   `raft_rpc::Client`s; `me` is this peer's index in `peers`.
        // // - Spawn a task that starts an election when this peer has neither heard from a
        // //   leader nor granted a vote for an election timeout. Draw each timeout at random
        // //   (`labrpc::sim::random_range`) so that peers rarely time out together.
        // // - A leader sends heartbeats (AppendEntries with no entries) at most ten times a
        // //   second, and the tester wants a new leader within five seconds of a failure,
        // //   split votes included. So the paper's 150-300 ms timeouts are too short here:
        // //   take longer ones, yet short enough for several elections in five seconds.
        // // - A request or reply of a higher term makes this peer a follower of that term.
        // // - 2C: restore the term, vote and log from `persister.read_raft_state()`, and
        // //   return a `PersistError` if they do not decode. 2D: restore the snapshot's
        // //   index and term too; commands continue after the snapshot.
        // // - `node` names this peer in traces (where several groups' peers share the
        // //   numbers 0, 1, 2); ignore it if you trace nothing.
        // todo!("Lab 2A: start this peer: its state, election timer and heartbeats")
        // END SOLUTION
    }

    /// Proposes `command` for the log. Returns the index it will have and the current term if
    /// this peer is the leader, `None` otherwise. Returns at once: there is no guarantee the
    /// command will ever commit (a leader may fail or lose an election).
    pub fn start(&self, command: Vec<u8>) -> Option<(u64, u64)> {
        // BEGIN SOLUTION 2B
        if self.shared.is_killed() {
            return None;
        }
        let proposed = self.shared.lock().propose(command);
        if proposed.is_some() {
            self.shared.poke();
        }
        proposed
        // HANDOUT
        // // Hints (2B, log replication):
        // // - If this peer is not the leader, return None. Else append the command to its log
        // //   with the current term and return Some((index, term)) at once, without waiting
        // //   for it to commit. The first command has index 1.
        // // - The leader sends each follower its entries from that follower's next index; on
        // //   a mismatch it moves that index back and sends again.
        // // - Vote only for a candidate whose log is at least as up to date as this peer's
        // //   (section 5.4.1).
        // // - A leader commits by counting replicas only entries of its own term (Figure 8);
        // //   the earlier entries commit with them.
        // // - Send every committed entry once, in index order, on the apply channel as
        // //   `ApplyMsg::Command`: say from a task woken (`tokio::sync::Notify`) whenever the
        // //   commit index moves.
        // todo!("Lab 2B: append `command` to the leader's log; return its index and term")
        // END SOLUTION
    }

    /// The current term, and whether this peer believes it is the leader.
    pub fn get_state(&self) -> (u64, bool) {
        // BEGIN SOLUTION 2A
        let core = self.shared.lock();
        (core.term(), core.is_leader() && !self.shared.is_killed())
        // HANDOUT
        // todo!("Lab 2A: return the current term and whether this peer believes it leads")
        // END SOLUTION
    }

    /// The service has snapshotted its state through `index` (an index it has applied):
    /// Raft may discard its log up to there and keeps `snapshot` to send lagging followers.
    pub fn snapshot(&self, index: u64, snapshot: Vec<u8>) {
        // BEGIN SOLUTION 2D
        self.shared.lock().snapshot(index, snapshot);
        self.shared.poke();
        // HANDOUT
        // // Hints (2D, log compaction):
        // // - Drop the log through `index` (free it, do not only hide it), keep `snapshot`,
        // //   and save state and snapshot together: `Persister::save(state, snapshot)`. An
        // //   `index` this peer has already compacted past changes nothing.
        // // - The log then starts after the snapshot: address it through an offset, and keep
        // //   (and save) the index and term of the snapshot's last entry for AppendEntries'
        // //   consistency check at the boundary. Make that change first with offset 0, and
        // //   pass 2B and 2C again before going on.
        // // - A leader that no longer holds the entries a follower needs sends it
        // //   InstallSnapshot: the whole snapshot in one request (no chunks, unlike Figure 13).
        // // - The service calls this from the task that reads the apply channel: never make
        // //   sending on that channel wait for the service while you hold your lock.
        // todo!("Lab 2D: compact the log through `index`, keeping `snapshot`")
        // END SOLUTION
    }

    /// Stops the peer: its tasks exit, it sends and answers nothing more, and it delivers
    /// nothing more on the apply channel.
    pub fn kill(&self) {
        // BEGIN SOLUTION 2A
        self.shared.kill();
        // HANDOUT
        // todo!("Lab 2A: stop this peer: its tasks end, it sends and applies nothing more")
        // END SOLUTION
    }

    /// The peer's RPC service ("Raft"), for the labrpc server that represents it.
    pub fn service(&self) -> impl labrpc::Service {
        // BEGIN SOLUTION 2A
        raft_rpc::service(Arc::new(Inbox(self.shared.clone())))
        // HANDOUT
        // // Given: the other peers' requests reach the `raft_rpc::Handler` below.
        // raft_rpc::service(Arc::new(self.clone()))
        // END SOLUTION
    }
}

// BEGIN SOLUTION 2A
// HANDOUT
// /// The RPCs the other peers send this one (declared in `messages.rs`).
// impl raft_rpc::Handler for Raft {
//     async fn request_vote(&self, args: RequestVoteArgs) -> RequestVoteReply {
//         // 2A: grant the vote if the candidate's term is current, this peer has not voted
//         // for another in it, and (2B) the candidate's log is at least as up to date.
//         // Granting a vote restarts the election timer. 2C: save the term and vote first.
//         todo!("Lab 2A: answer a candidate's RequestVote (Figure 2)")
//     }
//
//     async fn append_entries(&self, args: AppendEntriesArgs) -> AppendEntriesReply {
//         // 2A: a request of the current term comes from its leader: restart the election
//         // timer. 2B: check the entry at `prev_log_index`, add the entries (delete this
//         // peer's entries only from the first one that conflicts: a late, reordered request
//         // must not cut off entries a newer one added), then follow `leader_commit`.
//         // 2C: save before replying. On a mismatch fill in `conflict` (the course's XTerm,
//         // XIndex and XLen): the term of this peer's entry at `prev_log_index` and the first
//         // index it holds of that term, or no term and the index just past its log if the
//         // log is too short. The leader then retries after its own last entry of that term
//         // if it has one, else from `conflict.index`: a term per round trip, not an entry.
//         todo!("Lab 2A: answer a leader's AppendEntries (Figure 2)")
//     }
//
//     async fn install_snapshot(&self, args: InstallSnapshotArgs) -> InstallSnapshotReply {
//         // 2D: a snapshot newer than what this peer has committed replaces its log through
//         // `last_included_index` (keep the entries after it if they match), is saved with
//         // the state, and goes to the service as `ApplyMsg::Snapshot`; the next command
//         // this peer applies is `last_included_index + 1`.
//         todo!("Lab 2D: install a leader's snapshot")
//     }
// }
// END SOLUTION
// BEGIN SOLUTION 2
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
// END SOLUTION
