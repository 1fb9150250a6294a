//! Snapshots of the state machine: what a server hands Raft to compact its log, and what it
//! restores from at start-up or when the leader installs a snapshot.
//!
//! A snapshot holds everything the replicated state consists of: the data, the duplicate
//! table (without it a restarted server would apply a retried write a second time) and the
//! log index it covers. It starts with a format version, and bytes that do not decode are a
//! [`SnapshotError`], never a panic.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::dedup::Dedup;
use crate::state_machine::StateMachine;

const VERSION: u8 = 1;

/// Why snapshot bytes could not be restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotError {
    /// The bytes do not decode as a snapshot.
    Undecodable(String),
    /// A snapshot written by an unknown version of this format.
    UnknownVersion(u8),
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::Undecodable(why) => write!(f, "undecodable key/value snapshot: {why}"),
            SnapshotError::UnknownVersion(v) => {
                write!(f, "key/value snapshot has unknown format version {v}")
            }
        }
    }
}

impl std::error::Error for SnapshotError {}

/// The snapshot's layout on the wire (borrowing, so taking one copies the state once).
#[derive(Serialize)]
struct Encoded<'a> {
    version: u8,
    applied_index: u64,
    data: &'a BTreeMap<String, String>,
    dedup: &'a Dedup,
}

#[derive(Deserialize)]
struct Decoded {
    version: u8,
    applied_index: u64,
    data: BTreeMap<String, String>,
    dedup: Dedup,
}

impl StateMachine {
    /// The state as snapshot bytes.
    pub fn snapshot(&self) -> Vec<u8> {
        let encoded = Encoded {
            version: VERSION,
            applied_index: self.applied_index,
            data: &self.data,
            dedup: &self.dedup,
        };
        labrpc::codec::encode(&encoded).expect("a snapshot always encodes")
    }

    /// The state a snapshot holds. Empty bytes are the empty state (nothing was ever saved).
    pub fn restore(bytes: &[u8]) -> Result<StateMachine, SnapshotError> {
        if bytes.is_empty() {
            return Ok(StateMachine::new());
        }
        // Look at the version before trusting the rest of the layout.
        if bytes[0] != VERSION {
            return Err(SnapshotError::UnknownVersion(bytes[0]));
        }
        let decoded: Decoded =
            labrpc::codec::decode(bytes).map_err(|e| SnapshotError::Undecodable(e.to_string()))?;
        debug_assert_eq!(decoded.version, VERSION);
        Ok(StateMachine {
            data: decoded.data,
            dedup: decoded.dedup,
            applied_index: decoded.applied_index,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Command, Op};

    fn sample() -> StateMachine {
        let mut m = StateMachine::new();
        for (i, (client, key)) in [(1, "a"), (2, "b"), (1, "a")].into_iter().enumerate() {
            let op = Op::Append {
                key: key.into(),
                value: format!("v{i}"),
            };
            let seq = i as u64 + 1;
            m.apply(seq, &Command { client, seq, op });
        }
        m
    }

    #[test]
    fn round_trip_keeps_data_dedup_and_index() {
        let m = sample();
        let restored = StateMachine::restore(&m.snapshot()).unwrap();
        assert_eq!(restored, m);
        assert_eq!(restored.get("a"), "v0v2");
        assert!(restored.has_applied(1, 3) && restored.has_applied(2, 2));
        assert_eq!(restored.applied_index(), 3);
    }

    #[test]
    fn empty_bytes_are_the_empty_state() {
        assert_eq!(StateMachine::restore(&[]).unwrap(), StateMachine::new());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let bytes = sample().snapshot();
        for cut in 1..bytes.len() {
            assert!(
                StateMachine::restore(&bytes[..cut]).is_err(),
                "a snapshot cut at {cut} decoded"
            );
        }
        assert_eq!(
            StateMachine::restore(&[9, 1, 2]),
            Err(SnapshotError::UnknownVersion(9))
        );
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(StateMachine::restore(&trailing).is_err());
        assert!(StateMachine::restore(&[VERSION, 0xff, 0xff, 0xff]).is_err());
    }
}
