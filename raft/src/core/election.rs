// BEGIN SOLUTION 2A
//! Leader election (section 5.2 of the paper, and 5.4.1's voting restriction).
//!
//! A follower or candidate whose election timer fires starts an election: it moves to the
//! next term, votes for itself and asks everyone else for a vote. A peer grants at most one
//! vote per term, and only to a candidate whose log is at least as up to date as its own, so
//! a leader always holds every committed entry. A majority of votes makes a leader, which
//! announces itself at once with heartbeats.

use super::{Core, ElectionTimer, Role, Rpc};
use crate::messages::{RequestVoteArgs, RequestVoteReply};

impl Core {
    /// The election timer fired: start an election (a leader has no election timer).
    pub fn election_timeout(&mut self) {
        if self.is_leader() {
            return;
        }
        self.term += 1;
        self.voted_for = Some(self.me);
        self.state_dirty = true;
        let mut votes = vec![false; self.peers];
        votes[self.me] = true;
        self.role = Role::Candidate { votes };
        self.ready.reset_election_timer = Some(ElectionTimer::Elect);
        tracing::debug!(
            node = self.node,
            term = self.term,
            role = "candidate",
            topic = "timer",
            "election timeout: became candidate"
        );
        if self.peers == 1 {
            self.become_leader();
            return;
        }
        let args = self.vote_request();
        for peer in self.others() {
            self.send(peer, Rpc::RequestVote(args.clone()));
        }
    }

    /// While an election is under way (the driver calls this on each heartbeat tick): asks
    /// again every peer that has not granted its vote. The network may have lost the request
    /// or the reply, and without asking again one lost message costs the whole election: a
    /// second or more, since the election stretched every voter's timer (seed
    /// 3489735316242864383 of `snapshot_install_uncrash_2d` lost three grants and three
    /// requests in a row, with one peer down, and found no leader in ten seconds). A peer
    /// that already voted for this candidate in this term grants again; one that voted for
    /// another denies again.
    pub fn resend_vote_requests(&mut self) {
        let Role::Candidate { votes } = &self.role else {
            return;
        };
        let missing: Vec<usize> = self.others().filter(|&p| !votes[p]).collect();
        let args = self.vote_request();
        for peer in missing {
            self.send(peer, Rpc::RequestVote(args.clone()));
        }
    }

    pub fn is_candidate(&self) -> bool {
        matches!(self.role, Role::Candidate { .. })
    }

    /// This candidate's request for a vote in its current term.
    fn vote_request(&self) -> RequestVoteArgs {
        RequestVoteArgs {
            term: self.term,
            candidate: self.me,
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
        }
    }

    pub(super) fn request_vote(&mut self, args: RequestVoteArgs) -> RequestVoteReply {
        if args.term > self.term {
            self.become_follower(args.term);
        }
        // Section 5.4.1: a candidate's log must be at least as up to date as the voter's.
        let up_to_date = (args.last_log_term, args.last_log_index)
            >= (self.log.last_term(), self.log.last_index());
        let free = self.voted_for.is_none_or(|v| v == args.candidate);
        let granted = args.term == self.term && free && up_to_date;
        if granted {
            if self.voted_for.is_none() {
                self.voted_for = Some(args.candidate);
                self.state_dirty = true;
            }
            // Granting a vote defers this peer's own candidacy (Figure 2, "Followers").
            self.ready.reset_election_timer = Some(ElectionTimer::Elect);
            tracing::debug!(
                node = self.node,
                term = self.term,
                topic = "vote",
                "granted vote to {}",
                args.candidate
            );
        } else {
            tracing::debug!(
                node = self.node,
                term = self.term,
                topic = "vote",
                "denied vote to {} (its term {}, log up to date: {up_to_date}, voted for {:?})",
                args.candidate,
                args.term,
                self.voted_for
            );
        }
        RequestVoteReply {
            term: self.term,
            vote_granted: granted,
        }
    }

    pub(super) fn vote_response(&mut self, from: usize, term: u64, reply: RequestVoteReply) {
        if reply.term > self.term {
            self.become_follower(reply.term);
            return;
        }
        if term != self.term || !reply.vote_granted {
            return;
        }
        let Role::Candidate { votes } = &mut self.role else {
            return;
        };
        votes[from] = true;
        let granted = votes.iter().filter(|&&v| v).count();
        if granted > self.peers / 2 {
            self.become_leader();
        }
    }

    fn become_leader(&mut self) {
        let voters = match &self.role {
            Role::Candidate { votes } => votes.clone(),
            _ => vec![false; self.peers],
        };
        let next_index = self.log.last_index() + 1;
        // Voters are known to be up; the others may be down, so they are probed before the
        // leader sends them any entries.
        self.role = Role::Leader {
            followers: (0..self.peers)
                .map(|p| super::Progress::new(next_index, !voters[p]))
                .collect(),
        };
        tracing::debug!(
            node = self.node,
            term = self.term,
            role = "leader",
            topic = "leader",
            "became leader (log ends at {})",
            next_index - 1
        );
        // Announce the leadership now to peers that did not vote for this leader: one may be
        // a rival candidate whose timer is about to fire. Voters have just restarted their
        // election timers and hear from the leader on its first heartbeat tick.
        for peer in self.others().filter(|&p| !voters[p]) {
            self.send_heartbeat(peer);
        }
        if self.peers == 1 {
            self.advance_commit();
        }
    }
}
// END SOLUTION
