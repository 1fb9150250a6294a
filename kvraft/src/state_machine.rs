//! The replicated key/value state: the data and the duplicate table, changed only by
//! committed commands applied in log order.
//!
//! It is plain, deterministic data: no locks, no tasks, no clock. It implements
//! [`rsm::StateMachine`], so the replication layer ([`rsm::Rsm`]) feeds it from Raft's apply
// BEGIN SOLUTION 3A
//! channel and answers the clerks' requests from what it returns. Its snapshot bytes are in
//! [`crate::snapshot`].

use std::collections::BTreeMap;

use rsm::{Dedup, SnapshotError};

use crate::ops::{Command, Op};
// HANDOUT
// //! channel and answers the clerks' requests from what it returns.
// //!
// //! Lab 3A: the data and [`apply`](rsm::StateMachine::apply); Lab 3B: the snapshot bytes.
// //! The kvraft tester reads a saved snapshot with `rsm::read_snapshot::<KvStore>` and looks
// //! keys up with [`KvStore::get`], so the type, `Default`, `get` and the trait impl stay.
// //!
// //! Hints:
// //! - Applying must be deterministic: every replica applies the same commands in the same
// //!   order and must end in the same state (a `BTreeMap`, never anything random or timed).
// //! - A write whose request number the duplicate table ([`rsm::Dedup`]) has seen is skipped;
// //!   a Get changes nothing and need not be recorded.
// //! - An Append to a missing key acts like a Put; a Get of a missing key reads "".
// //! - The snapshot must hold the duplicate table as well as the data: a server restarted
// //!   from a snapshot must still recognise retries (`rsm::machine::encode_snapshot` and
// //!   `decode_snapshot` do the encoding; undecodable bytes are an error, not a panic).
// //! - The trait's provided methods (`answer_at_once`, `apply_unanswered`, `snapshot_into`)
// //!   are optional speed-ups.
//
// // Stubs leave their arguments unused: delete this line when you start.
// #![allow(unused_variables, dead_code)]
//
// use rsm::SnapshotError;
//
// use crate::ops::Command;
// END SOLUTION

/// The key/value state of one replica.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvStore {
    // BEGIN SOLUTION 3A
    pub(crate) data: BTreeMap<String, String>,
    pub(crate) dedup: Dedup,
    // HANDOUT
    // // Hint: the data (key to value) and the duplicate table.
    // END SOLUTION
}

impl KvStore {
    // BEGIN SOLUTION 3A
    /// An empty store: every key reads as "".
    pub fn new() -> KvStore {
        KvStore::default()
    }

    // END SOLUTION
    /// The value of `key` ("" if it was never written).
    pub fn get(&self, key: &str) -> &str {
        // BEGIN SOLUTION 3A
        self.data.get(key).map_or("", String::as_str)
        // HANDOUT
        // todo!("Lab 3A: the value of key, \"\" if it was never written")
        // END SOLUTION
    }
    // BEGIN SOLUTION 3A

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
    // END SOLUTION
}

impl rsm::StateMachine for KvStore {
    type Command = Command;
    /// The value read for a Get, "" for a write.
    type Output = String;

    fn apply(&mut self, command: &Command) -> String {
        // BEGIN SOLUTION 3A
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
        // HANDOUT
        // todo!("Lab 3A: apply a Get, Put or Append once per client request; answer a Get's value")
        // END SOLUTION
    }
    // BEGIN SOLUTION 3A

    fn apply_unanswered(&mut self, command: &Command) {
        // A read changes nothing; only the server answering it copies the value out.
        if command.op.is_write() {
            self.apply(command);
        }
    }

    fn answer_at_once(&self, command: &Command) -> Option<String> {
        (command.op.is_write() && self.has_applied(command.client, command.seq)).then(String::new)
    }

    // END SOLUTION

    fn snapshot(&self) -> Vec<u8> {
        // BEGIN SOLUTION 3B
        self.encode()
        // HANDOUT
        // todo!("Lab 3B: the data and the duplicate table as bytes")
        // END SOLUTION
    }
    // BEGIN SOLUTION 3B

    fn snapshot_into(&self, out: &mut Vec<u8>) {
        self.encode_into(out);
    }
    // END SOLUTION

    fn restore(&mut self, bytes: &[u8]) -> Result<(), SnapshotError> {
        // BEGIN SOLUTION 3B
        *self = KvStore::decode(bytes)?;
        Ok(())
        // HANDOUT
        // todo!("Lab 3B: replace the state with what snapshot bytes hold, or an error")
        // END SOLUTION
    }
}
// BEGIN SOLUTION 3A

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
// END SOLUTION
