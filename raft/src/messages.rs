//! What Raft peers say to each other: the three RPCs of the extended paper's Figure 2 and
//! section 7, declared once with labrpc's `service!` macro (service name "Raft").
//!
//! Part of the lab's given interface: the tests decode these requests and replies to aim
//! their faults at particular messages (`tests/raft/extras.rs`), and play candidates
//! themselves through [`raft_rpc::Client`], so the wire types and the service's name and
//! methods are fixed.
//!
// BEGIN SOLUTION 2
//! The macro gives [`raft_rpc::Client`] (a typed client over one `ClientEnd`, used by the
//! driver) and [`raft_rpc::Handler`] (implemented by the driver's inbox, which turns each
//! request into an event for the core). Every argument and reply is serialized on every call,
//! so what is here is exactly what crosses the simulated wire.
// HANDOUT
// //! The macro gives [`raft_rpc::Client`] (a typed client over one `ClientEnd`: call
// //! `client.request_vote(&args).await`, an `Err` means no reply came) and
// //! [`raft_rpc::Handler`] (the trait whose methods answer the requests; `raft.rs`
// //! implements it). Every argument and reply is serialized on every call, so what is here is
// //! exactly what crosses the simulated wire.
// END SOLUTION

use serde::{Deserialize, Serialize};

/// One log entry: the term of the leader that created it and the service's opaque command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub term: u64,
    /// As one byte string on the wire (the same bytes as a sequence of `u8`, but encoded and
    /// decoded with one copy rather than one call per byte).
    #[serde(with = "serde_bytes")]
    pub command: Vec<u8>,
}

/// RequestVote: a candidate asks for a peer's vote in `term`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequestVoteArgs {
    pub term: u64,
    pub candidate: usize,
    pub last_log_index: u64,
    pub last_log_term: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequestVoteReply {
    pub term: u64,
    pub vote_granted: bool,
}

/// AppendEntries: replicate `entries` after (`prev_log_index`, `prev_log_term`); with no
/// entries it is a heartbeat that also carries the leader's commit index.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppendEntriesArgs {
    pub term: u64,
    pub leader: usize,
    pub prev_log_index: u64,
    pub prev_log_term: u64,
    pub entries: Vec<Entry>,
    pub leader_commit: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppendEntriesReply {
    pub term: u64,
    pub success: bool,
    /// On a rejection for a log mismatch, where the leader should retry from (the course's
    /// fast backtracking): `None` when the request was refused for its term.
    pub conflict: Option<Conflict>,
}

/// Why a follower's log did not match at `prev_log_index`, so the leader can skip a whole
/// term of entries per round trip instead of one entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// The term of the follower's entry at `prev_log_index`; `None` if its log is too short.
    pub term: Option<u64>,
    /// The first index the follower holds with `term`, or its log length + 1 if too short.
    pub index: u64,
}

/// InstallSnapshot (section 7): the leader sends its whole snapshot to a follower that needs
/// entries the leader has already compacted away. Sent in one piece, as the course does.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InstallSnapshotArgs {
    pub term: u64,
    pub leader: usize,
    pub last_included_index: u64,
    pub last_included_term: u64,
    /// One byte string on the wire, like [`Entry::command`].
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InstallSnapshotReply {
    pub term: u64,
}

labrpc::service! {
    /// The RPCs Raft peers send each other, reachable as "Raft.<method>".
    pub mod raft_rpc("Raft") {
        fn request_vote(RequestVoteArgs) -> RequestVoteReply;
        fn append_entries(AppendEntriesArgs) -> AppendEntriesReply;
        fn install_snapshot(InstallSnapshotArgs) -> InstallSnapshotReply;
    }
}
