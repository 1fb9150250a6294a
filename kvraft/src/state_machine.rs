//! The replicated state machine: the key/value data and the duplicate table, changed only by
//! committed commands applied in log order.
//!
//! It is plain, deterministic data: no locks, no tasks, no clock. Every replica feeds it the
//! same commands in the same order and so holds the same state; the server
//! ([`crate::server`]) is a thin async layer that feeds it from Raft's apply channel and reads
//! answers out of it. Snapshots of it are in [`crate::snapshot`].

use std::collections::BTreeMap;

use crate::dedup::Dedup;
use crate::ops::{Command, Op};

/// The key/value state of one replica, as of log index [`applied_index`](Self::applied_index).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateMachine {
    pub(crate) data: BTreeMap<String, String>,
    pub(crate) dedup: Dedup,
    pub(crate) applied_index: u64,
}

/// What applying one command did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// The command was applied (for a Get: the state is now the one the read must see).
    Applied,
    /// A write this client's request number says was applied before: skipped.
    Duplicate,
    /// The index is at or below one already applied (a snapshot covered it): skipped.
    Stale,
}

impl StateMachine {
    /// An empty store: every key reads as "".
    pub fn new() -> StateMachine {
        StateMachine::default()
    }

    /// The log index of the last command applied (or covered by the snapshot restored).
    pub fn applied_index(&self) -> u64 {
        self.applied_index
    }

    /// Applies the command committed at log `index`.
    pub fn apply(&mut self, index: u64, command: &Command) -> Effect {
        if index <= self.applied_index {
            return Effect::Stale;
        }
        self.applied_index = index;
        if !command.op.is_write() {
            return Effect::Applied;
        }
        if self.dedup.is_duplicate(command.client, command.seq) {
            return Effect::Duplicate;
        }
        match &command.op {
            Op::Put { key, value } => {
                self.data.insert(key.clone(), value.clone());
            }
            Op::Append { key, value } => self.data.entry(key.clone()).or_default().push_str(value),
            Op::Get { .. } => unreachable!("reads returned above"),
        }
        self.dedup.record(command.client, command.seq);
        Effect::Applied
    }

    /// Skips log `index` without changing the data (its command did not decode: every replica
    /// skips it alike, so they stay identical).
    pub fn skip(&mut self, index: u64) {
        self.applied_index = self.applied_index.max(index);
    }

    /// The value of `key` ("" if it was never written).
    pub fn get(&self, key: &str) -> &str {
        self.data.get(key).map_or("", String::as_str)
    }

    /// Whether the write `seq` of `client` has been applied (so a retry can be answered at
    /// once, without going through the log again).
    pub fn has_applied(&self, client: u64, seq: u64) -> bool {
        self.dedup.is_duplicate(client, seq)
    }

    /// How many keys hold a value.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(client: u64, seq: u64, op: Op) -> Command {
        Command { client, seq, op }
    }

    fn put(k: &str, v: &str) -> Op {
        Op::Put {
            key: k.into(),
            value: v.into(),
        }
    }

    fn append(k: &str, v: &str) -> Op {
        Op::Append {
            key: k.into(),
            value: v.into(),
        }
    }

    #[test]
    fn put_append_get() {
        let mut m = StateMachine::new();
        assert_eq!(m.get("a"), "");
        assert_eq!(m.apply(1, &cmd(1, 1, append("a", "x"))), Effect::Applied);
        assert_eq!(m.apply(2, &cmd(1, 2, append("a", "y"))), Effect::Applied);
        assert_eq!(m.get("a"), "xy");
        assert_eq!(m.apply(3, &cmd(2, 1, put("a", "z"))), Effect::Applied);
        assert_eq!(m.get("a"), "z");
        let read = Op::Get { key: "a".into() };
        assert_eq!(m.apply(4, &cmd(2, 2, read)), Effect::Applied);
        assert_eq!((m.applied_index(), m.len()), (4, 1));
    }

    #[test]
    fn a_retried_write_takes_effect_once() {
        let mut m = StateMachine::new();
        m.apply(1, &cmd(7, 1, append("k", "a")));
        // The same request committed again (its first reply was lost).
        assert_eq!(m.apply(2, &cmd(7, 1, append("k", "a"))), Effect::Duplicate);
        assert_eq!(m.get("k"), "a");
        assert!(m.has_applied(7, 1) && !m.has_applied(7, 2));
        // Another client's request 1 is not a duplicate.
        assert_eq!(m.apply(3, &cmd(8, 1, append("k", "b"))), Effect::Applied);
        assert_eq!(m.get("k"), "ab");
        assert_eq!(m.applied_index(), 3);
    }

    #[test]
    fn indices_at_or_below_the_applied_one_are_stale() {
        let mut m = StateMachine::new();
        m.apply(5, &cmd(1, 1, put("k", "v")));
        assert_eq!(m.apply(5, &cmd(2, 1, put("k", "w"))), Effect::Stale);
        assert_eq!(m.apply(3, &cmd(2, 1, put("k", "w"))), Effect::Stale);
        assert_eq!(m.get("k"), "v");
        m.skip(6);
        assert_eq!(m.applied_index(), 6);
    }
}
