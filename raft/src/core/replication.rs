// BEGIN SOLUTION 2B
//! Log replication (section 5.3): proposals, AppendEntries, commitment and application.
//!
//! The leader paces what it sends each follower as its [`Progress`] (`progress.rs`) says:
//! one replication request in flight at a time, probes for followers that do not answer,
//! heartbeats only to followers that have not heard from it lately. Beyond that:
//! - a new commit index reaches followers with the next entries, or at most
//!   `COMMIT_NEWS_DELAY` (driver) after the commit, when the driver calls `announce_commit`;
//! - a leader that has heard from no majority in `QUORUM_TICKS` ticks steps down (check
//!   quorum, section 6.2 of the Raft thesis).
//!
//! A follower that rejects a request says where its log diverges (the term of its
//! conflicting entry and where that term starts, or its log length), and the leader skips a
//! whole term per round trip (the course's fast backtracking).

use super::progress::{Progress, TickAction, QUORUM_TICKS};
use super::{AppendSent, Core, ElectionTimer, Role, Rpc};
use crate::messages::{AppendEntriesArgs, AppendEntriesReply, Conflict, Entry};

/// The most command bytes one AppendEntries carries; longer catch-ups take several.
pub const MAX_APPEND_BYTES: usize = 1 << 20;

impl Core {
    /// The service proposes a command. Returns where it will be in the log if it commits,
    /// or `None` if this peer is not the leader. Sending waits for [`Core::replicate`], so
    /// that proposals made together travel together.
    pub fn propose(&mut self, command: Vec<u8>) -> Option<(u64, u64)> {
        if !self.is_leader() {
            return None;
        }
        let term = self.term;
        let index = self.log.append(Entry { term, command });
        self.state_dirty = true;
        Some((index, term))
    }

    /// Sends new entries to every follower ready for them (after proposals).
    pub fn replicate(&mut self) {
        if !self.is_leader() {
            return;
        }
        for peer in self.others() {
            self.send_next(peer, false);
        }
        if self.peers == 1 {
            self.advance_commit();
        }
    }

    /// The heartbeat timer fired (leaders only): see the module documentation.
    pub fn heartbeat(&mut self) {
        if !self.check_quorum() {
            tracing::debug!(
                node = self.node,
                term = self.term,
                topic = "leader",
                "no majority answered in {QUORUM_TICKS} ticks: stepping down"
            );
            self.become_follower(self.term);
            return;
        }
        for peer in self.others() {
            let Some(progress) = self.progress(peer) else {
                return;
            };
            match progress.tick() {
                TickAction::Nothing => {}
                TickAction::Probe => self.send_heartbeat(peer),
                TickAction::Replicate => {
                    if !self.send_next(peer, true) {
                        self.send_heartbeat(peer);
                    }
                }
            }
        }
    }

    /// Whether a majority (this leader included) answered within the last `QUORUM_TICKS`
    /// ticks.
    fn check_quorum(&self) -> bool {
        let Role::Leader { followers, .. } = &self.role else {
            return true;
        };
        let answered = self
            .others()
            .filter(|&p| followers[p].answered_recently())
            .count();
        answered + 1 > self.peers / 2
    }

    /// Tells followers about a commit index they have not heard of (unless they are about to
    /// hear of it with a request already in flight). The driver calls this shortly after a
    /// commit, so that under load the news travels with the next entries instead.
    pub fn announce_commit(&mut self) {
        for peer in self.others() {
            self.send_next(peer, true);
        }
        self.commit_news = false;
    }

    /// Whether the leader committed entries that it has not yet announced (see
    /// [`Core::announce_commit`]).
    pub fn commit_news_pending(&self) -> bool {
        self.commit_news && self.is_leader()
    }

    /// Sends `peer` what it needs next (entries, a snapshot, or, if `with_commit`, a higher
    /// commit index) unless a request is already in flight to it or it is being probed.
    /// Returns whether it sent.
    pub(super) fn send_next(&mut self, peer: usize, with_commit: bool) -> bool {
        let commit_index = self.commit_index;
        let snapshot_index = self.log.snapshot_index();
        let last_index = self.log.last_index();
        let Some(progress) = self.progress(peer) else {
            return false;
        };
        if !progress.is_ready() {
            return false;
        }
        let next_index = progress.next_index;
        let seq = if next_index <= snapshot_index {
            self.send_snapshot(peer)
        } else if next_index <= last_index || (with_commit && progress.commit_sent < commit_index) {
            let seq = self.next_seq();
            let entries = self.log.entries_from(next_index, MAX_APPEND_BYTES);
            let args = self.append_args(next_index - 1, entries);
            self.send_append(peer, seq, args);
            seq
        } else {
            return false;
        };
        self.progress(peer).expect("still leader").sent(seq);
        true
    }

    /// Sends `peer` an empty AppendEntries: a heartbeat, and a probe of where its log stands.
    pub(super) fn send_heartbeat(&mut self, peer: usize) {
        let Some(progress) = self.progress(peer) else {
            return;
        };
        let prev = progress.next_index - 1;
        let prev = prev.clamp(self.log.snapshot_index(), self.log.last_index());
        let seq = self.next_seq();
        let args = self.append_args(prev, Vec::new());
        self.send_append(peer, seq, args);
    }

    fn append_args(&self, prev_log_index: u64, entries: Vec<Entry>) -> AppendEntriesArgs {
        AppendEntriesArgs {
            term: self.term,
            leader: self.me,
            prev_log_index,
            prev_log_term: self
                .log
                .term_at(prev_log_index)
                .expect("prev_log_index is in the log"),
            entries,
            leader_commit: self.commit_index,
        }
    }

    fn send_append(&mut self, peer: usize, seq: u64, args: AppendEntriesArgs) {
        let commit = args.leader_commit;
        if let Some(progress) = self.progress(peer) {
            progress.commit_sent = progress.commit_sent.max(commit);
        }
        self.send(peer, Rpc::AppendEntries { seq, args });
    }

    /// This peer's record of `peer`, if it is the leader.
    pub(super) fn progress(&mut self, peer: usize) -> Option<&mut Progress> {
        match &mut self.role {
            Role::Leader { followers, .. } => Some(&mut followers[peer]),
            _ => None,
        }
    }

    /// Follower side of AppendEntries (Figure 2's receiver implementation, 1–5).
    pub(super) fn append_entries(&mut self, args: AppendEntriesArgs) -> AppendEntriesReply {
        if args.term < self.term {
            return self.append_reply(false, None);
        }
        self.heard_from_leader(args.term, args.leader);

        // Entries the snapshot covers are committed, so they match whatever a legitimate
        // leader sends: skip them and check consistency at the snapshot boundary.
        let snapshot_index = self.log.snapshot_index();
        let mut prev = args.prev_log_index;
        let mut entries = args.entries;
        if prev < snapshot_index {
            let covered = (snapshot_index - prev).min(entries.len() as u64);
            entries.drain(..covered as usize);
            prev += covered;
            if prev < snapshot_index {
                return self.append_reply(true, None);
            }
        }

        if prev > self.log.last_index() {
            let conflict = Conflict {
                term: None,
                index: self.log.last_index() + 1,
            };
            return self.reject(prev, conflict);
        }
        let prev_term = self.log.term_at(prev).expect("prev is in the log");
        if prev > snapshot_index && prev_term != args.prev_log_term {
            let conflict = Conflict {
                term: Some(prev_term),
                index: self.log.first_index_of_term(prev_term),
            };
            return self.reject(prev, conflict);
        }

        // Append what is new; truncate only where an entry really conflicts, so a stale,
        // shorter request never drops entries a newer one added.
        let last_new = prev + entries.len() as u64;
        let mut index = prev;
        let mut entries = entries.into_iter();
        for entry in entries.by_ref() {
            index += 1;
            match self.log.term_at(index) {
                Some(term) if term == entry.term => continue,
                Some(_) => {
                    assert!(
                        index > self.commit_index,
                        "node {}: truncating committed entry {index} (commit {})",
                        self.me,
                        self.commit_index
                    );
                    tracing::debug!(
                        node = self.node,
                        term = self.term,
                        topic = "append",
                        "conflict at {index}: truncated the log from there"
                    );
                    self.log.truncate_from(index);
                }
                None => {}
            }
            self.log.append(entry);
            for rest in entries.by_ref() {
                self.log.append(rest);
            }
            self.state_dirty = true;
            tracing::debug!(
                node = self.node,
                term = self.term,
                topic = "append",
                "appended {index}..={last_new}"
            );
            break;
        }

        if args.leader_commit > self.commit_index {
            let commit = args.leader_commit.min(last_new);
            if commit > self.commit_index {
                self.commit_index = commit;
                tracing::debug!(
                    node = self.node,
                    term = self.term,
                    topic = "commit",
                    "commit index advanced to {commit}"
                );
                self.apply_committed();
            }
        }
        self.append_reply(true, None)
    }

    /// A request from the leader of `term`: follow it, and put off any election.
    pub(super) fn heard_from_leader(&mut self, term: u64, leader: usize) {
        if term == self.term && self.is_leader() {
            panic!(
                "node {}: two leaders in term {term} (this one and {leader})",
                self.me
            );
        }
        self.become_follower(term);
        self.ready.reset_election_timer = Some(ElectionTimer::Follow);
    }

    fn reject(&mut self, prev: u64, conflict: Conflict) -> AppendEntriesReply {
        tracing::debug!(
            node = self.node,
            term = self.term,
            topic = "append",
            "rejected entries after {prev}: conflict term {:?} from index {}",
            conflict.term,
            conflict.index
        );
        self.append_reply(false, Some(conflict))
    }

    fn append_reply(&self, success: bool, conflict: Option<Conflict>) -> AppendEntriesReply {
        AppendEntriesReply {
            term: self.term,
            success,
            conflict,
        }
    }

    /// Leader side: the answer (or loss) of an AppendEntries sent to `from`.
    pub(super) fn append_response(
        &mut self,
        from: usize,
        seq: u64,
        sent: AppendSent,
        reply: Option<AppendEntriesReply>,
    ) {
        if let Some(reply) = &reply {
            if reply.term > self.term {
                self.become_follower(reply.term);
                return;
            }
        }
        if sent.term != self.term {
            return;
        }
        let last_index = self.log.last_index();
        let log = &self.log;
        let Role::Leader { followers, .. } = &mut self.role else {
            return;
        };
        let progress = &mut followers[from];
        progress.record_outcome(seq, reply.is_some());
        let Some(reply) = reply else {
            return;
        };
        if reply.success {
            let matched = sent.prev_log_index + sent.entries;
            if matched > progress.match_index {
                progress.match_index = matched;
            }
            progress.next_index = progress.next_index.max(matched + 1);
            self.advance_commit();
        } else if let Some(conflict) = reply.conflict {
            // A late answer to an older request, about a point above where the leader now
            // probes, says nothing new: acting on it would move back up and redo work.
            if sent.prev_log_index < progress.next_index {
                let next = match conflict.term {
                    Some(term) => log
                        .last_index_of_term(term)
                        .map_or(conflict.index, |i| i + 1),
                    None => conflict.index,
                };
                // Never below what the follower is known to hold, nor past the end of the log.
                progress.next_index = next.clamp(progress.match_index + 1, last_index + 1);
            }
        }
        self.send_next(from, false);
    }

    /// Commits the highest index a majority holds, if it is from the current term (section
    /// 5.4.2: older entries commit only indirectly), and tells followers.
    pub(super) fn advance_commit(&mut self) {
        let Role::Leader { followers, .. } = &self.role else {
            return;
        };
        let mut matched: Vec<u64> = followers.iter().map(|p| p.match_index).collect();
        matched[self.me] = self.log.last_index();
        matched.sort_unstable_by(|a, b| b.cmp(a));
        let majority = matched[self.peers / 2];
        if majority <= self.commit_index || self.log.term_at(majority) != Some(self.term) {
            return;
        }
        self.commit_index = majority;
        tracing::debug!(
            node = self.node,
            term = self.term,
            topic = "commit",
            "commit index advanced to {majority}"
        );
        self.apply_committed();
        self.commit_news = true;
    }
}
// END SOLUTION
