//! The replicated key/value state: the data and the duplicate table, changed only by
//! committed commands applied in log order.
//!
//! It is plain, deterministic data: no locks, no tasks, no clock. It implements
//! [`rsm::StateMachine`], so the replication layer ([`rsm::Rsm`]) feeds it from Raft's apply
//! channel and answers the clerks' requests from what it returns. Its snapshot bytes are in
//! [`crate::snapshot`].

use std::collections::BTreeMap;

use rsm::{Dedup, SnapshotError};

use crate::ops::{Command, Op};

/// The key/value state of one replica.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvStore {
    pub(crate) data: BTreeMap<String, String>,
    pub(crate) dedup: Dedup,
}

impl KvStore {
    /// An empty store: every key reads as "".
    pub fn new() -> KvStore {
        KvStore::default()
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

impl rsm::StateMachine for KvStore {
    type Command = Command;
    /// The value read for a Get, "" for a write.
    type Output = String;

    fn apply(&mut self, command: &Command) -> String {
        match &command.op {
            Op::Get { key } => return self.get(key).to_string(),
            // A write this client's request number says was applied before: skipped.
            _ if self.dedup.is_duplicate(command.client, command.seq) => return String::new(),
            Op::Put { key, value } => {
                self.data.insert(key.clone(), value.clone());
            }
            // Only a new key is copied into the map.
            Op::Append { key, value } => match self.data.get_mut(key) {
                Some(old) => old.push_str(value),
                None => {
                    self.data.insert(key.clone(), value.clone());
                }
            },
        }
        self.dedup.record(command.client, command.seq);
        String::new()
    }

    fn apply_unanswered(&mut self, command: &Command) {
        // A read changes nothing; only the server answering it copies the value out.
        if command.op.is_write() {
            self.apply(command);
        }
    }

    fn answer_at_once(&self, command: &Command) -> Option<String> {
        (command.op.is_write() && self.has_applied(command.client, command.seq)).then(String::new)
    }

    fn snapshot(&self) -> Vec<u8> {
        self.encode()
    }

    fn snapshot_into(&self, out: &mut Vec<u8>) {
        self.encode_into(out);
    }

    fn restore(&mut self, bytes: &[u8]) -> Result<(), SnapshotError> {
        *self = KvStore::decode(bytes)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsm::StateMachine;

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
        let mut m = KvStore::new();
        assert_eq!(m.get("a"), "");
        m.apply(&cmd(1, 1, append("a", "x")));
        m.apply(&cmd(1, 2, append("a", "y")));
        assert_eq!(m.get("a"), "xy");
        m.apply(&cmd(2, 1, put("a", "z")));
        let read = Op::Get { key: "a".into() };
        assert_eq!(m.apply(&cmd(2, 2, read)), "z");
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn a_retried_write_takes_effect_once() {
        let mut m = KvStore::new();
        m.apply(&cmd(7, 1, append("k", "a")));
        // The same request committed again (its first reply was lost).
        m.apply(&cmd(7, 1, append("k", "a")));
        assert_eq!(m.get("k"), "a");
        assert!(m.has_applied(7, 1) && !m.has_applied(7, 2));
        assert_eq!(
            m.answer_at_once(&cmd(7, 1, append("k", "a"))),
            Some(String::new())
        );
        assert_eq!(m.answer_at_once(&cmd(7, 2, append("k", "a"))), None);
        assert_eq!(
            m.answer_at_once(&cmd(7, 1, Op::Get { key: "k".into() })),
            None
        );
        // Another client's request 1 is not a duplicate.
        m.apply(&cmd(8, 1, append("k", "b")));
        assert_eq!(m.get("k"), "ab");
    }
}
