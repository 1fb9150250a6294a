// BEGIN SOLUTION 2
//! The Raft protocol as a synchronous state machine: events in, effects out.
//!
//! [`Core`] holds one peer's Raft state (Figure 2 of the extended paper, plus the snapshot of
//! section 7) and makes every protocol decision. It never sleeps, sends, or touches the
//! clock: the driver (`driver.rs`) feeds it events (an incoming request, the answer to
//! one of its own requests, an election timeout, a heartbeat tick, a proposal, a snapshot)
//! and then collects the effects they caused as a [`Ready`]: state to save, messages to send,
//! entries and snapshots to apply, and whether to restart the election timer. Because it is
//! plain data in, plain data out, the unit tests drive it directly, without a network.
//!
//! The protocol is split by topic:
//! - `election.rs`: timeouts, RequestVote, becoming candidate and leader;
//! - `progress.rs`: what a leader knows of a follower, and how it paces what it sends;
//! - `replication.rs`: proposals, AppendEntries with fast backtracking,
//!   the leader's per-follower flow control, commitment and application;
//! - `snapshot.rs`: compaction requested by the service, InstallSnapshot.
//!
//! The effects of a batch of events must be saved before any message or reply they caused
//! leaves the peer; the driver does so with one save per batch ([`Ready::save`]).

mod election;
mod progress;
mod replication;
mod snapshot;
#[cfg(test)]
mod tests;

use std::mem;

use crate::apply::ApplyMsg;
use crate::log::Log;
use crate::messages::{
    AppendEntriesArgs, AppendEntriesReply, InstallSnapshotArgs, InstallSnapshotReply,
    RequestVoteArgs, RequestVoteReply,
};
use crate::persister::StateUpdate;
use crate::storage::{self, DurableState};

pub use progress::Progress;

/// One peer's Raft state machine.
pub struct Core {
    me: usize,
    /// The peer's `node` in traces: `me` unless the service names it otherwise (a shardkv
    /// server, whose group's peers are 0, 1, 2 like every other group's).
    node: i64,
    peers: usize,
    // Persistent state (Figure 2), saved before anything that depends on it leaves the peer.
    term: u64,
    voted_for: Option<usize>,
    log: Log,
    /// The service's latest snapshot, covering the log through `log.snapshot_index()`.
    snapshot: Vec<u8>,
    // Volatile state.
    role: Role,
    commit_index: u64,
    /// The highest index handed to the service (queued in a `Ready`). Raft applies as soon
    /// as it commits, so this equals `commit_index` between events.
    last_applied: u64,
    /// Numbers each replication request, so its answer is matched to it.
    next_seq: u64,
    /// The leader committed entries it has not yet told its followers about.
    commit_news: bool,
    // Effects accumulated since the last `take_ready`.
    ready: Ready,
    state_dirty: bool,
    snapshot_dirty: bool,
}

/// What a peer currently is.
pub enum Role {
    Follower,
    /// `votes[p]`: peer p granted its vote in this term.
    Candidate {
        votes: Vec<bool>,
    },
    /// `followers[p]`: what the leader knows of peer p (its own entry is unused).
    Leader {
        followers: Vec<Progress>,
    },
}

/// The effects of the events processed since the last [`Core::take_ready`], in the order
/// the driver must carry them out: save, then send and apply.
#[derive(Default, Debug)]
pub struct Ready {
    /// State to save before sending anything or answering any request.
    pub save: Option<Save>,
    /// Requests to send to other peers.
    pub messages: Vec<Message>,
    /// Entries and snapshots for the service, in order.
    pub apply: Vec<ApplyMsg>,
    /// Restart the election timer with a fresh random timeout, of this kind.
    pub reset_election_timer: Option<ElectionTimer>,
}

/// Why the election timer restarts, which sets how long it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElectionTimer {
    /// The peer heard from its leader, or stopped leading: the usual timeout.
    Follow,
    /// An election is under way (this peer started it, or voted in it): give it longer, so
    /// that votes slow to arrive are not wasted by a new election that starts too soon.
    Elect,
}

/// What to save in the persister ([`Persister::save_update`]).
///
/// [`Persister::save_update`]: crate::Persister::save_update
#[derive(Debug)]
pub struct Save {
    /// The state's changes since the last save: a new header, and the log's entries from
    /// the first one that changed.
    pub state: StateUpdate,
    /// The snapshot, when it changed (it is saved atomically with the state).
    pub snapshot: Option<Vec<u8>>,
}

/// A request for another peer.
#[derive(Debug)]
pub struct Message {
    pub to: usize,
    pub rpc: Rpc,
}

#[derive(Debug)]
pub enum Rpc {
    RequestVote(RequestVoteArgs),
    /// `seq` names the request, so its answer can be matched to the follower's progress.
    AppendEntries {
        seq: u64,
        args: AppendEntriesArgs,
    },
    InstallSnapshot {
        seq: u64,
        args: InstallSnapshotArgs,
    },
}

/// The outcome of a request this peer sent, fed back as an event. `reply: None` means the
/// network lost the request or its reply.
#[derive(Debug)]
pub enum Response {
    RequestVote {
        /// The term the vote was requested in.
        term: u64,
        reply: RequestVoteReply,
    },
    AppendEntries {
        seq: u64,
        sent: AppendSent,
        reply: Option<AppendEntriesReply>,
    },
    InstallSnapshot {
        seq: u64,
        term: u64,
        last_included_index: u64,
        reply: Option<InstallSnapshotReply>,
    },
}

/// What an AppendEntries request said, as much as interpreting its answer needs.
#[derive(Clone, Copy, Debug)]
pub struct AppendSent {
    pub term: u64,
    pub prev_log_index: u64,
    pub entries: u64,
}

impl AppendSent {
    pub fn of(args: &AppendEntriesArgs) -> AppendSent {
        AppendSent {
            term: args.term,
            prev_log_index: args.prev_log_index,
            entries: args.entries.len() as u64,
        }
    }
}

impl Core {
    /// A peer restarting from `state` and the service's `snapshot` (both as last saved).
    pub fn new(me: usize, peers: usize, state: DurableState, snapshot: Vec<u8>) -> Core {
        assert!(me < peers, "peer {me} of {peers}");
        let snapshot_index = state.log.snapshot_index();
        Core {
            me,
            node: me as i64,
            peers,
            term: state.term,
            voted_for: state.voted_for,
            log: state.log,
            snapshot,
            role: Role::Follower,
            // The service restores the snapshot itself at start-up, so everything it covers
            // counts as applied.
            commit_index: snapshot_index,
            last_applied: snapshot_index,
            next_seq: 0,
            commit_news: false,
            ready: Ready::default(),
            state_dirty: false,
            snapshot_dirty: false,
        }
    }

    pub fn me(&self) -> usize {
        self.me
    }

    /// Names the peer `node` in traces.
    pub fn set_trace_node(&mut self, node: i64) {
        self.node = node;
    }

    pub fn term(&self) -> u64 {
        self.term
    }

    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader { .. })
    }

    pub fn commit_index(&self) -> u64 {
        self.commit_index
    }

    pub fn log(&self) -> &Log {
        &self.log
    }

    /// Whether the events since the last [`Core::take_ready`] restarted the election timer
    /// (so the driver knows before deciding whether the timer has expired).
    pub fn election_timer_reset_pending(&self) -> Option<ElectionTimer> {
        self.ready.reset_election_timer
    }

    /// Answers an incoming request; its effects are in the next [`Ready`].
    pub fn handle_request_vote(&mut self, args: RequestVoteArgs) -> RequestVoteReply {
        self.request_vote(args)
    }

    pub fn handle_append_entries(&mut self, args: AppendEntriesArgs) -> AppendEntriesReply {
        self.append_entries(args)
    }

    pub fn handle_install_snapshot(&mut self, args: InstallSnapshotArgs) -> InstallSnapshotReply {
        self.install_snapshot(args)
    }

    /// Takes in the outcome of a request this peer sent to `from`.
    pub fn handle_response(&mut self, from: usize, response: Response) {
        match response {
            Response::RequestVote { term, reply } => self.vote_response(from, term, reply),
            Response::AppendEntries { seq, sent, reply } => {
                self.append_response(from, seq, sent, reply)
            }
            Response::InstallSnapshot {
                seq,
                term,
                last_included_index,
                reply,
            } => self.snapshot_response(from, seq, term, last_included_index, reply),
        }
    }

    /// The effects of everything since the last call, with the state to save (if it changed)
    /// encoded now. The caller must save it (the next save only carries what changed after
    /// this one).
    pub fn take_ready(&mut self) -> Ready {
        self.check_invariants();
        let mut ready = mem::take(&mut self.ready);
        if self.state_dirty || self.snapshot_dirty {
            let save = Save {
                state: storage::update(self.term, self.voted_for, &self.log),
                snapshot: self.snapshot_dirty.then(|| self.snapshot.clone()),
            };
            // The driver saves it before it does anything else with this `Ready`.
            self.log.mark_saved();
            tracing::debug!(
                node = self.node,
                term = self.term,
                topic = "persist",
                "saving the state with {} entries ({} bytes) from index {}{}",
                save.state.records.len(),
                save.state.records.byte_len(),
                save.state.from,
                if save.snapshot.is_some() {
                    " and the snapshot"
                } else {
                    ""
                }
            );
            ready.save = Some(save);
            self.state_dirty = false;
            self.snapshot_dirty = false;
        }
        ready
    }

    /// Moves to `term` (if newer) as a follower. A newer term clears the vote; leaving
    /// candidacy or leadership restarts the election timer.
    fn become_follower(&mut self, term: u64) {
        let newer = term > self.term;
        if newer {
            self.term = term;
            self.voted_for = None;
            self.state_dirty = true;
        }
        let was_follower = matches!(self.role, Role::Follower);
        if !was_follower {
            self.role = Role::Follower;
            self.ready.reset_election_timer = Some(ElectionTimer::Follow);
        }
        if newer || !was_follower {
            // `role` marks a change of role or term, for the timeline page.
            tracing::debug!(
                node = self.node,
                term = self.term,
                role = "follower",
                topic = "leader",
                "{}",
                if was_follower {
                    "follower of a newer term"
                } else {
                    "became follower"
                }
            );
        }
    }

    /// Hands every newly committed entry to the service, in order.
    fn apply_committed(&mut self) {
        if self.commit_index <= self.last_applied {
            return;
        }
        let from = self.last_applied + 1;
        for index in from..=self.commit_index {
            let entry = self.log.get(index).unwrap_or_else(|| {
                panic!(
                    "node {}: committed entry {index} is not in the log",
                    self.me
                )
            });
            self.ready.apply.push(ApplyMsg::Command {
                index,
                term: entry.term,
                command: entry.command.clone(),
            });
        }
        self.last_applied = self.commit_index;
        tracing::debug!(
            node = self.node,
            term = self.term,
            topic = "apply",
            "applied {from}..={}",
            self.commit_index
        );
    }

    /// Every peer but this one. (Owns its bounds, so the loop body may borrow `self`.)
    fn others(&self) -> impl Iterator<Item = usize> {
        let me = self.me;
        (0..self.peers).filter(move |&p| p != me)
    }

    fn send(&mut self, to: usize, rpc: Rpc) {
        self.ready.messages.push(Message { to, rpc });
    }

    fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// Cheap checks of what must hold between any two events; a violation is a bug in this
    /// module, so it stops the run loudly rather than corrupting a log.
    fn check_invariants(&self) {
        let log = &self.log;
        assert!(
            log.snapshot_index() <= self.commit_index
                && self.commit_index == self.last_applied
                && self.commit_index <= log.last_index(),
            "node {}: snapshot {} <= commit {} == applied {} <= last {} violated",
            self.me,
            log.snapshot_index(),
            self.commit_index,
            self.last_applied,
            log.last_index()
        );
        assert!(
            log.last_term() <= self.term,
            "node {}: last log term {} is past the current term {}",
            self.me,
            log.last_term(),
            self.term
        );
        debug_assert!(
            log.unsaved_from() <= log.last_index() + 1,
            "node {}: unsaved entries from {} past the end of the log at {}",
            self.me,
            log.unsaved_from(),
            log.last_index()
        );
        if let Role::Leader { .. } = self.role {
            assert_eq!(
                self.voted_for,
                Some(self.me),
                "a leader must have voted for itself"
            );
        }
    }
}
// END SOLUTION
