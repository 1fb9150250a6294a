// BEGIN SOLUTION 3A
//! The requests a leader has proposed and not yet answered, one per log index.
//!
//! When a server proposes a request, Raft names the log index and term the command will have
//! if it commits. The server parks the request here under that index and answers it when the
//! entry at that index is applied: with the result if the applied entry has the same term
//! (then it is this very command: Raft's log matching), with
//! [`RsmError::WrongLeader`] otherwise (another leader's entry took the slot). Entries a
//! snapshot skips past, and everything still parked when the server stops, are answered
//! `WrongLeader` too, so a clerk is never left waiting on a server that will not answer.
//! And since a leader cut off in a minority never applies anything, the server's periodic
//! [`check`](Waiters::check) answers what was proposed in an older term or has waited too
//! long.

use std::collections::BTreeMap;

use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::server::RsmError;

/// What a parked proposal is answered with.
pub type Reply<T> = Result<T, RsmError>;

struct Waiter<T> {
    term: u64,
    /// When the request times out if it has not been applied by then.
    deadline: Instant,
    reply: oneshot::Sender<Reply<T>>,
}

/// Parked requests by log index.
pub struct Waiters<T> {
    by_index: BTreeMap<u64, Waiter<T>>,
}

impl<T> Default for Waiters<T> {
    fn default() -> Self {
        Waiters {
            by_index: BTreeMap::new(),
        }
    }
}

impl<T> Waiters<T> {
    /// Parks a request proposed at `index` in `term`, to time out at `deadline`; returns
    /// where its answer will come.
    pub fn park(
        &mut self,
        index: u64,
        term: u64,
        deadline: Instant,
    ) -> oneshot::Receiver<Reply<T>> {
        let (reply, rx) = oneshot::channel();
        let waiter = Waiter {
            term,
            deadline,
            reply,
        };
        // A request parked at the same index in an earlier term lost its slot.
        if let Some(old) = self.by_index.insert(index, waiter) {
            let _ = old.reply.send(Err(RsmError::WrongLeader));
        }
        rx
    }

    /// The entry at `index`, from a leader of `term`, has been applied: answers whatever was
    /// parked at or below it. `answer` computes the result for a request that matches (it is
    /// only called then, so a follower never copies a value nobody will read).
    pub fn applied(&mut self, index: u64, term: u64, answer: impl FnOnce() -> Reply<T>) {
        let Some((&first, _)) = self.by_index.first_key_value() else {
            return;
        };
        if first > index {
            return;
        }
        self.fail_below(index);
        if let Some(waiter) = self.by_index.remove(&index) {
            let reply = if waiter.term == term {
                answer()
            } else {
                Err(RsmError::WrongLeader)
            };
            let _ = waiter.reply.send(reply);
        }
    }

    /// A snapshot through `index` replaced the state: what was parked up to it will never be
    /// applied here one by one.
    pub fn skipped_through(&mut self, index: u64) {
        self.fail_below(index + 1);
    }

    /// Whether a request is parked at `index` in `term` (so applying that entry must make
    /// its answer).
    pub fn wants(&self, index: u64, term: u64) -> bool {
        self.by_index.get(&index).is_some_and(|w| w.term == term)
    }

    /// The server's periodic check, with its Raft peer's state (`term`, and whether it
    /// leads) at `now`: answers `WrongLeader` to what was proposed in another term, or to
    /// everything if the peer no longer leads, and `Timeout` to what has waited past its
    /// deadline (a leader cut off in a minority keeps believing it leads).
    pub fn check(&mut self, term: u64, leading: bool, now: Instant) {
        if self.by_index.is_empty() {
            return;
        }
        let parked = std::mem::take(&mut self.by_index);
        for (index, waiter) in parked {
            let error = if !leading || waiter.term != term {
                RsmError::WrongLeader
            } else if now >= waiter.deadline {
                RsmError::Timeout
            } else {
                self.by_index.insert(index, waiter);
                continue;
            };
            let _ = waiter.reply.send(Err(error));
        }
    }

    /// Answers everything `WrongLeader` (the server is stopping).
    pub fn fail_all(&mut self) {
        for (_, waiter) in std::mem::take(&mut self.by_index) {
            let _ = waiter.reply.send(Err(RsmError::WrongLeader));
        }
    }

    /// Answers `WrongLeader` to every request parked below `index`.
    fn fail_below(&mut self, index: u64) {
        let rest = self.by_index.split_off(&index);
        for (_, waiter) in std::mem::replace(&mut self.by_index, rest) {
            let _ = waiter.reply.send(Err(RsmError::WrongLeader));
        }
    }

    pub fn len(&self) -> usize {
        self.by_index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_index.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A deadline no test reaches.
    fn far() -> Instant {
        Instant::now() + Duration::from_secs(3600)
    }

    #[test]
    fn the_check_fails_other_terms_lost_leadership_and_overdue_requests() {
        let start = Instant::now();
        let soon = start + Duration::from_millis(500);
        let mut w: Waiters<String> = Waiters::default();
        let mut old_term = w.park(1, 1, far());
        let mut overdue = w.park(2, 2, soon);
        let mut fine = w.park(3, 2, far());
        w.check(2, true, start);
        assert_eq!(old_term.try_recv().unwrap(), Err(RsmError::WrongLeader));
        assert!(overdue.try_recv().is_err() && fine.try_recv().is_err());
        w.check(2, true, soon);
        assert_eq!(overdue.try_recv().unwrap(), Err(RsmError::Timeout));
        assert!(fine.try_recv().is_err(), "not yet due");
        assert_eq!(w.len(), 1);
        w.check(2, false, soon);
        assert_eq!(fine.try_recv().unwrap(), Err(RsmError::WrongLeader));
        assert!(w.is_empty());
    }

    #[test]
    fn same_term_gets_the_result_another_term_wrong_leader() {
        let mut w: Waiters<String> = Waiters::default();
        let mut ours = w.park(3, 2, far());
        let mut theirs = w.park(4, 2, far());
        assert!(w.wants(3, 2) && !w.wants(3, 1) && !w.wants(5, 2));
        w.applied(3, 2, || Ok("v".into()));
        assert_eq!(ours.try_recv().unwrap(), Ok("v".into()));
        w.applied(4, 3, || panic!("not ours: no answer computed"));
        assert_eq!(theirs.try_recv().unwrap(), Err(RsmError::WrongLeader));
        assert!(w.is_empty());
    }

    #[test]
    fn skipped_and_superseded_requests_are_told() {
        let mut w: Waiters<String> = Waiters::default();
        let mut old = w.park(5, 1, far());
        let mut new = w.park(5, 2, far());
        assert_eq!(old.try_recv().unwrap(), Err(RsmError::WrongLeader));
        let mut later = w.park(9, 2, far());
        w.skipped_through(6);
        assert_eq!(new.try_recv().unwrap(), Err(RsmError::WrongLeader));
        assert!(later.try_recv().is_err(), "index 9 is still pending");
        assert_eq!(w.len(), 1);
        w.fail_all();
        assert_eq!(later.try_recv().unwrap(), Err(RsmError::WrongLeader));
    }

    #[test]
    fn applying_past_a_parked_index_fails_it() {
        let mut w: Waiters<String> = Waiters::default();
        let mut gap = w.park(2, 1, far());
        w.applied(3, 1, || Ok(String::new()));
        assert_eq!(gap.try_recv().unwrap(), Err(RsmError::WrongLeader));
    }
}
// END SOLUTION
