//! The state machine a service replicates: the one thing a Raft-backed service writes that
//! is its own.
//!
//! It is plain, deterministic data: no locks, no tasks, no clock. Every replica feeds it the
//! same commands in the same order and so holds the same state. [`Rsm`](crate::Rsm) owns the
//! log index it has reached and frames its snapshot bytes, so a state machine only says how
//! to apply a command and how to turn its state into bytes and back.
//!
//! This module is given whole, in the handout too: it is the interface between the layer and
//! the services on it (kvraft's `KvStore`, the shard controller's and shardkv's states
//! implement the trait, and the kvraft tester reads saved snapshots through it).

use std::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A deterministic state machine fed by Raft's committed commands.
pub trait StateMachine: Send + 'static {
    /// What travels through the log. `Display` is how the trace shows an applied command
    /// (the timeline page compares it across replicas at each index).
    type Command: Serialize + DeserializeOwned + fmt::Display + Send + Sync + 'static;
    /// What applying a command answers to whoever proposed it.
    type Output: Send + 'static;

    /// Applies one committed command, in log order.
    fn apply(&mut self, command: &Self::Command) -> Self::Output;

    /// Applies a committed command whose output nobody here waits for (on a follower, or on
    /// a leader for a request another server proposed). The default applies it and drops the
    /// output; a state machine whose outputs are costly (a read copying out a long value) can
    /// skip making them, as long as the state changes exactly as `apply` would change it.
    fn apply_unanswered(&mut self, command: &Self::Command) {
        let _ = self.apply(command);
    }

    /// An answer that needs no trip through the log, if there is one: typically a write this
    /// replica has already applied (a retry). Checked under the same lock as the proposal, so
    /// the answer is consistent with what has been applied.
    fn answer_at_once(&self, _command: &Self::Command) -> Option<Self::Output> {
        None
    }

    /// The whole state as bytes, for a snapshot.
    fn snapshot(&self) -> Vec<u8>;

    /// Appends [`snapshot`](Self::snapshot)'s bytes to `out` (which holds the layer's frame
    /// header). A state machine whose state is large can encode straight into `out`, saving
    /// a copy of the whole state per snapshot; the bytes must be the same.
    fn snapshot_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.snapshot());
    }

    /// Replaces the state with what `bytes` (from [`snapshot`](Self::snapshot)) holds. Bytes
    /// that do not decode are an error, never a panic; the state is then unchanged.
    fn restore(&mut self, bytes: &[u8]) -> Result<(), SnapshotError>;
}

/// Why snapshot bytes could not be restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotError {
    /// The bytes do not decode as a snapshot.
    Undecodable(String),
    /// A snapshot written by an unknown version of the format.
    UnknownVersion(u8),
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::Undecodable(why) => write!(f, "undecodable snapshot: {why}"),
            SnapshotError::UnknownVersion(v) => {
                write!(f, "snapshot has unknown format version {v}")
            }
        }
    }
}

impl std::error::Error for SnapshotError {}

/// Decodes a state machine's snapshot bytes with the wire codec, as a [`SnapshotError`].
pub fn decode_snapshot<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, SnapshotError> {
    labrpc::codec::decode(bytes).map_err(|e| SnapshotError::Undecodable(e.to_string()))
}

/// Encodes a state machine's state with the wire codec.
pub fn encode_snapshot<T: Serialize + ?Sized>(state: &T) -> Vec<u8> {
    // Plain data always encodes; a failure here would be a bug in bincode.
    labrpc::codec::encode(state).expect("a snapshot always encodes")
}
