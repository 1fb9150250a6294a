//! What tests assert and wait for: config.go's checkOneLeader, checkTerms, checkNoLeader,
//! nCommitted, one and wait, with the course's constants and failure messages.

use std::collections::BTreeMap;
use std::time::Duration;

use labrpc::sim;
use tokio::time::{sleep, Instant};

use super::commands::show;
use super::{Cmd, Config};

impl Config {
    /// Waits for a leader among the connected peers and returns it: up to 10 rounds, each
    /// sleeping 450–549 ms and then asking every connected peer. Fails if a term has two
    /// leaders, or if no round finds one.
    pub async fn check_one_leader(&self) -> usize {
        for _ in 0..10 {
            let ms = 450 + sim::random_range(0..100);
            sleep(Duration::from_millis(ms)).await;

            let mut leaders: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
            for i in 0..self.n() {
                if self.is_connected(i) {
                    if let (term, true) = self.get_state(i) {
                        leaders.entry(term).or_default().push(i);
                    }
                }
            }
            for (term, peers) in &leaders {
                if peers.len() > 1 {
                    panic!("term {term} has {} (>1) leaders", peers.len());
                }
            }
            if let Some((_, peers)) = leaders.last_key_value() {
                return peers[0];
            }
        }
        panic!("expected one leader, got none");
    }

    /// The term every connected peer agrees on; fails if they disagree.
    pub fn check_terms(&self) -> u64 {
        let mut agreed = None;
        for i in 0..self.n() {
            if self.is_connected(i) {
                let (term, _) = self.get_state(i);
                match agreed {
                    None => agreed = Some(term),
                    Some(t) if t != term => panic!("servers disagree on term"),
                    Some(_) => {}
                }
            }
        }
        agreed.expect("no connected server")
    }

    /// Fails if any connected peer claims to be leader.
    pub fn check_no_leader(&self) {
        for i in 0..self.n() {
            if self.is_connected(i) && self.get_state(i).1 {
                panic!("expected no leader among connected servers, but {i} claims to be leader");
            }
        }
    }

    /// How many peers applied `index`, and what. Fails if they applied different commands or
    /// an apply error was recorded.
    pub fn n_committed(&self, index: u64) -> (usize, Option<Cmd>) {
        let st = self.state();
        let mut count = 0;
        let mut command: Option<&Cmd> = None;
        for i in 0..self.n() {
            if let Some(error) = &st.apply_err[i] {
                panic!("{error}");
            }
            if let Some(Some(applied)) = st.logs[i].get(index as usize) {
                if let Some(seen) = command {
                    if seen != applied {
                        panic!(
                            "committed values do not match: index {index}, {}, {}",
                            show(seen),
                            show(applied)
                        );
                    }
                }
                count += 1;
                command = Some(applied);
            }
        }
        (count, command.cloned())
    }

    /// Proposes `command` until it commits on at least `expected` peers; returns its index.
    ///
    /// Tries the connected peers round-robin until one accepts, then polls every 20 ms for
    /// up to 2 s for `expected` peers to have applied this very command there. Without
    /// `retry`, a failed attempt fails the test at once; with it, tries again. Fails after
    /// 10 s either way.
    pub async fn one(&self, command: Cmd, expected: usize, retry: bool) -> u64 {
        let t0 = Instant::now();
        let mut starts = 0;
        while t0.elapsed() < Duration::from_secs(10) && !self.check_finished() {
            let mut index = None;
            for _ in 0..self.n() {
                starts = (starts + 1) % self.n();
                if self.is_connected(starts) {
                    if let Some((i, _)) = self.start(starts, command.clone()) {
                        index = Some(i);
                        break;
                    }
                }
            }

            if let Some(index) = index {
                // Somebody claimed to be the leader and to have submitted our command; wait
                // a while for agreement.
                let t1 = Instant::now();
                while t1.elapsed() < Duration::from_secs(2) {
                    let (count, applied) = self.n_committed(index);
                    if count > 0 && count >= expected && applied.as_ref() == Some(&command) {
                        return index;
                    }
                    sleep(Duration::from_millis(20)).await;
                }
                if !retry {
                    panic!("one({}) failed to reach agreement", show(&command));
                }
            } else {
                sleep(Duration::from_millis(50)).await;
            }
        }
        if !self.check_finished() {
            panic!("one({}) failed to reach agreement", show(&command));
        }
        0
    }

    /// Waits for at least `n` peers to apply `index` (30 polls, backing off from 10 ms to
    /// 1.28 s). Returns what was applied, or `None` early if a peer's term passes
    /// `start_term`: then the leader may have lost the entry. Fails if too few applied it.
    pub async fn wait(&self, index: u64, n: usize, start_term: Option<u64>) -> Option<Cmd> {
        let mut pause = Duration::from_millis(10);
        for _ in 0..30 {
            let (count, _) = self.n_committed(index);
            if count >= n {
                break;
            }
            sleep(pause).await;
            if pause < Duration::from_secs(1) {
                pause *= 2;
            }
            if let Some(start_term) = start_term {
                for i in 0..self.n() {
                    if let Some(raft) = self.raft(i) {
                        if raft.get_state().0 > start_term {
                            // Someone has moved on: we can no longer expect to "win".
                            return None;
                        }
                    }
                }
            }
        }
        let (count, command) = self.n_committed(index);
        if count < n {
            panic!("only {count} decided for index {index}; wanted {n}");
        }
        command
    }
}
