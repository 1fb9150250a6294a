// BEGIN SOLUTION 2D
//! Log compaction (section 7): snapshots the service takes, and InstallSnapshot.
//!
//! The service snapshots its state at an index it has applied and hands the snapshot to
//! Raft, which discards the log up to that index and saves the snapshot with its state. A
//! follower that needs entries the leader has discarded gets the leader's snapshot instead;
//! it keeps any log suffix that extends the snapshot and hands the snapshot to its service.

use super::{Core, Role, Rpc};
use crate::apply::ApplyMsg;
use crate::messages::{InstallSnapshotArgs, InstallSnapshotReply};

impl Core {
    /// The service's state through `index` is `data`: compact the log up to it. Ignored for
    /// an index this peer has already compacted past (a leader's snapshot got there first)
    /// or has not yet handed to the service.
    pub fn snapshot(&mut self, index: u64, data: Vec<u8>) {
        if index <= self.log.snapshot_index() || index > self.last_applied {
            tracing::debug!(
                node = self.node,
                term = self.term,
                topic = "snapshot",
                "ignored a snapshot at {index} (snapshot at {}, applied {})",
                self.log.snapshot_index(),
                self.last_applied
            );
            return;
        }
        self.log.compact_through(index);
        self.snapshot = data;
        self.state_dirty = true;
        self.snapshot_dirty = true;
        tracing::debug!(
            node = self.node,
            term = self.term,
            topic = "snapshot",
            "took a snapshot through {index}; log holds {} entries",
            self.log.last_index() - index
        );
    }

    /// Sends `peer` the current snapshot; returns the request's sequence number.
    pub(super) fn send_snapshot(&mut self, peer: usize) -> u64 {
        let seq = self.next_seq();
        let args = InstallSnapshotArgs {
            term: self.term,
            leader: self.me,
            last_included_index: self.log.snapshot_index(),
            last_included_term: self.log.snapshot_term(),
            data: self.snapshot.clone(),
        };
        tracing::debug!(
            node = self.node,
            term = self.term,
            topic = "snapshot",
            "sending snapshot through {} to {peer}",
            args.last_included_index
        );
        self.send(peer, Rpc::InstallSnapshot { seq, args });
        seq
    }

    /// Follower side of InstallSnapshot.
    pub(super) fn install_snapshot(&mut self, args: InstallSnapshotArgs) -> InstallSnapshotReply {
        let reply = |core: &Core| InstallSnapshotReply { term: core.term };
        if args.term < self.term {
            return reply(self);
        }
        self.heard_from_leader(args.term, args.leader);
        let index = args.last_included_index;
        // Everything the snapshot covers that this peer committed, it has applied (or holds
        // in its own snapshot): installing would only move the service backwards.
        if index <= self.commit_index {
            return reply(self);
        }
        if self.log.term_at(index) == Some(args.last_included_term) {
            self.log.compact_through(index);
        } else {
            self.log.reset(index, args.last_included_term);
        }
        self.snapshot = args.data.clone();
        self.state_dirty = true;
        self.snapshot_dirty = true;
        self.commit_index = index;
        self.last_applied = index;
        self.ready.apply.push(ApplyMsg::Snapshot {
            index,
            term: args.last_included_term,
            data: args.data,
        });
        tracing::debug!(
            node = self.node,
            term = self.term,
            topic = "snapshot",
            "installed the leader's snapshot through {index}; log holds {} entries",
            self.log.last_index() - index
        );
        reply(self)
    }

    /// Leader side: the answer (or loss) of an InstallSnapshot sent to `from`.
    pub(super) fn snapshot_response(
        &mut self,
        from: usize,
        seq: u64,
        term: u64,
        last_included_index: u64,
        reply: Option<InstallSnapshotReply>,
    ) {
        if let Some(reply) = &reply {
            if reply.term > self.term {
                self.become_follower(reply.term);
                return;
            }
        }
        if term != self.term {
            return;
        }
        let Role::Leader { followers, .. } = &mut self.role else {
            return;
        };
        let progress = &mut followers[from];
        progress.record_outcome(seq, reply.is_some());
        if reply.is_none() {
            return;
        }
        progress.match_index = progress.match_index.max(last_included_index);
        progress.next_index = progress.next_index.max(last_included_index + 1);
        self.advance_commit();
        self.send_next(from, false);
    }
}
// END SOLUTION
