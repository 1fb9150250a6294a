// BEGIN SOLUTION 3B
//! The key/value state's snapshot bytes.
//!
//! A snapshot holds the data and the duplicate table (without it, a restarted server would
//! apply a retried write a second time); the replication layer adds the log index it
//! covers. It starts with a format version, and bytes that do not decode are a
//! [`SnapshotError`], never a panic.

use std::collections::BTreeMap;

use rsm::machine::{decode_snapshot, encode_snapshot};
use rsm::{Dedup, SnapshotError};
use serde::{Deserialize, Serialize};

use crate::state_machine::KvStore;

const VERSION: u8 = 2;

/// The snapshot's layout on the wire (borrowing, so taking one copies the state once).
#[derive(Serialize)]
struct Encoded<'a> {
    version: u8,
    data: &'a BTreeMap<String, String>,
    dedup: &'a Dedup,
}

#[derive(Deserialize)]
struct Decoded {
    version: u8,
    data: BTreeMap<String, String>,
    dedup: Dedup,
}

impl KvStore {
    /// The state as snapshot bytes.
    pub fn encode(&self) -> Vec<u8> {
        encode_snapshot(&self.encoded())
    }

    /// [`encode`](Self::encode)'s bytes, appended to `out`: the wire codec's encoding
    /// (bincode's standard configuration; its size limit only bounds decoding), written in
    /// place rather than copied in from a buffer of its own.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        // Plain data always encodes into a Vec; a failure here would be a bug in bincode.
        bincode::serde::encode_into_std_write(self.encoded(), out, bincode::config::standard())
            .expect("a snapshot always encodes");
    }

    fn encoded(&self) -> Encoded<'_> {
        Encoded {
            version: VERSION,
            data: &self.data,
            dedup: &self.dedup,
        }
    }

    /// The state snapshot bytes hold.
    pub fn decode(bytes: &[u8]) -> Result<KvStore, SnapshotError> {
        // Look at the version before trusting the rest of the layout.
        match bytes.first() {
            Some(&VERSION) => {}
            Some(&other) => return Err(SnapshotError::UnknownVersion(other)),
            None => return Err(SnapshotError::Undecodable("no bytes".into())),
        }
        let decoded: Decoded = decode_snapshot(bytes)?;
        debug_assert_eq!(decoded.version, VERSION);
        Ok(KvStore {
            data: decoded.data,
            dedup: decoded.dedup,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Command, Op};
    use rsm::StateMachine;

    fn sample() -> KvStore {
        let mut m = KvStore::new();
        for (i, (client, key)) in [(1, "a"), (2, "b"), (1, "a")].into_iter().enumerate() {
            let op = Op::Append {
                key: key.into(),
                value: format!("v{i}"),
            };
            let seq = i as u64 + 1;
            m.apply(&Command { client, seq, op });
        }
        m
    }

    #[test]
    fn round_trip_keeps_data_and_dedup() {
        let m = sample();
        let mut appended = vec![7, 7];
        m.encode_into(&mut appended);
        assert_eq!(
            appended[2..],
            m.encode()[..],
            "encode_into appends encode's bytes"
        );
        let restored = KvStore::decode(&m.encode()).unwrap();
        assert_eq!(restored, m);
        assert_eq!(restored.get("a"), "v0v2");
        assert!(restored.has_applied(1, 3) && restored.has_applied(2, 2));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let bytes = sample().encode();
        for cut in 0..bytes.len() {
            assert!(
                KvStore::decode(&bytes[..cut]).is_err(),
                "a snapshot cut at {cut} decoded"
            );
        }
        assert_eq!(
            KvStore::decode(&[9, 1, 2]),
            Err(SnapshotError::UnknownVersion(9))
        );
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(KvStore::decode(&trailing).is_err());
        assert!(KvStore::decode(&[VERSION, 0xff, 0xff, 0xff]).is_err());
    }
}
// END SOLUTION
