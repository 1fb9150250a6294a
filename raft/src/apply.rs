//! What Raft hands the service above it, in log order, on the apply channel.
//!
//! Every committed entry is delivered once per Raft instance, in index order with no gaps;
//! a snapshot from the leader (InstallSnapshot) replaces a prefix of that sequence: after
//! `Snapshot { index, .. }` the next command delivered is `index + 1`. Messages travel on an
//! unbounded channel, so the service may call back into Raft (say, [`Raft::snapshot`]) from
//! the task that reads them without ever deadlocking Raft.
//!
//! Part of the lab's given interface: the tester and the services of Labs 3 and 4 read these
//! messages.
//!
//! [`Raft::snapshot`]: crate::Raft::snapshot

/// One message on the apply channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyMsg {
    /// A committed command, at its log index, from a leader of `term`.
    Command {
        index: u64,
        term: u64,
        command: Vec<u8>,
    },
    /// A snapshot installed from the leader: the service must replace its state with `data`,
    /// which covers the log through `index` (whose entry had `term`).
    Snapshot {
        index: u64,
        term: u64,
        data: Vec<u8>,
    },
}
