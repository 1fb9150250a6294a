// BEGIN SOLUTION 2C
//! What Raft saves in its [`Persister`](crate::Persister), and how it reads it back.
//!
//! Figure 2's persistent state is the current term, the vote, and the log; with snapshots the
//! log also records the index and term of the snapshot's last entry. The snapshot itself is
//! saved next to this state, atomically with it (the persister holds both).
//!
//! The format is small and explicit, all integers little-endian:
//!
//! ```text
//! version: u8 = 1
//! term: u64, voted_for: u64 (0 = nobody, else peer + 1), snapshot_index: u64, snapshot_term: u64
//! then, to the end: one entry after another, each term: u64, length: u32, command bytes
//! ```
//!
//! The persister holds this as its header (the first 33 bytes) and its records (one per
//! entry, numbered by the entry's Raft index), so a save sends it only what changed: the new
//! header and the entries from the first one the log changed since the last save
//! ([`update`]). What it gives back at restart is the whole encoding above. State that does
//! not decode, or decodes to something no Raft could have written, is a [`PersistError`],
//! never a panic.

use std::fmt;

use crate::log::Log;
use crate::messages::Entry;
use crate::persister::{NewRecords, StateUpdate};

const VERSION: u8 = 1;
const HEADER_LEN: usize = 1 + 4 * 8;

// HANDOUT
// //! What Raft saves in its [`Persister`](crate::Persister), and how it reads it back: yours to
// //! write (Lab 2C). Given here is [`PersistError`], what `Raft::new` returns when the saved state
// //! does not decode (the services of Labs 3 and 4 pass it on).
// //!
// //! Hints:
// //! - Figure 2's persistent state is the current term, the vote and the log; from 2D on, also
// //!   the index and term of the last entry the snapshot covers (the snapshot itself is saved
// //!   beside it, by the persister).
// //! - Any encoding will do: a struct deriving serde's `Serialize` and `Deserialize` through
// //!   `labrpc::codec::{encode, decode}` (what the RPCs use), or bytes written by hand.
// //! - `Persister::read_raft_state` gives back what was last saved; empty bytes mean the peer
// //!   never saved anything (a fresh start). Saved state that does not decode is a
// //!   [`PersistError`] for `Raft::new` to return, never a panic.
// //! - Save every time the term, the vote or the log changes, before any reply or request
// //!   that reveals the change leaves the peer: `Persister::save_raft_state`, or from 2D on
// //!   `Persister::save`, which keeps state and snapshot together.
// //! - A save of the whole state costs the length of the log, which grows long in Lab 3.
// //!   Should saving show in your timings, `Persister::save_update` saves only what changed
// //!   (see the persister's doc).
//
// use std::fmt;
//
// END SOLUTION
/// Why persisted Raft state could not be restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersistError {
    /// The bytes end in the middle of a field.
    Truncated { needed: usize, offset: usize },
    /// The state was written by an unknown version of this format.
    UnknownVersion(u8),
    /// The bytes decode, but to a state Raft could not have been in.
    Inconsistent(String),
}

impl fmt::Display for PersistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PersistError::Truncated { needed, offset } => write!(
                f,
                "persisted Raft state is truncated: {needed} more bytes needed at offset {offset}"
            ),
            PersistError::UnknownVersion(v) => {
                write!(f, "persisted Raft state has unknown format version {v}")
            }
            PersistError::Inconsistent(why) => {
                write!(f, "persisted Raft state is inconsistent: {why}")
            }
        }
    }
}

impl std::error::Error for PersistError {}
// BEGIN SOLUTION 2C

/// Figure 2's persistent state, as restored at start-up.
#[derive(Debug)]
pub struct DurableState {
    pub term: u64,
    pub voted_for: Option<usize>,
    pub log: Log,
}

/// What to save: the header, and the log's entries from the first one it changed since its
/// last save ([`Log::unsaved_from`]); the caller then tells the log they are saved. Costs
/// what changed, not the length of the log.
pub fn update(term: u64, voted_for: Option<usize>, log: &Log) -> StateUpdate {
    let first = log.snapshot_index() + 1;
    let from = log.unsaved_from().max(first);
    let mut records = NewRecords::default();
    for index in from..=log.last_index() {
        let entry = log.get(index).expect("a retained entry");
        records.push(|out| encode_entry(entry, out));
    }
    StateUpdate {
        header: encode_header(term, voted_for, log),
        first,
        from,
        records,
    }
}

/// Encodes the whole persistent state at once, as [`Persister::read_raft_state`] gives it
/// back (the tests' reference for what a series of updates must add up to).
///
/// [`Persister::read_raft_state`]: crate::Persister::read_raft_state
#[cfg(test)]
pub fn encode_state(term: u64, voted_for: Option<usize>, log: &Log) -> Vec<u8> {
    let mut out = encode_header(term, voted_for, log);
    for index in log.snapshot_index() + 1..=log.last_index() {
        encode_entry(log.get(index).expect("a retained entry"), &mut out);
    }
    out
}

fn encode_header(term: u64, voted_for: Option<usize>, log: &Log) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN);
    out.push(VERSION);
    out.extend_from_slice(&term.to_le_bytes());
    let vote = voted_for.map_or(0, |peer| peer as u64 + 1);
    out.extend_from_slice(&vote.to_le_bytes());
    out.extend_from_slice(&log.snapshot_index().to_le_bytes());
    out.extend_from_slice(&log.snapshot_term().to_le_bytes());
    out
}

/// Appends one entry's encoding to `out`.
fn encode_entry(entry: &Entry, out: &mut Vec<u8>) {
    out.extend_from_slice(&entry.term.to_le_bytes());
    let len = u32::try_from(entry.command.len()).expect("a command of 4 GiB or more");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&entry.command);
}

/// Decodes persisted state. Empty bytes are a peer that never saved anything: a fresh state.
pub fn decode_state(bytes: &[u8]) -> Result<DurableState, PersistError> {
    if bytes.is_empty() {
        return Ok(DurableState {
            term: 0,
            voted_for: None,
            log: Log::new(),
        });
    }
    let mut r = Reader { bytes, offset: 0 };
    let version = r.take(1)?[0];
    if version != VERSION {
        return Err(PersistError::UnknownVersion(version));
    }
    let term = r.u64()?;
    let voted_for = match r.u64()? {
        0 => None,
        peer => Some(
            usize::try_from(peer - 1)
                .map_err(|_| PersistError::Inconsistent(format!("vote for peer {}", peer - 1)))?,
        ),
    };
    let snapshot_index = r.u64()?;
    let snapshot_term = r.u64()?;
    if snapshot_term > term {
        return Err(PersistError::Inconsistent(format!(
            "snapshot term {snapshot_term} is past the current term {term}"
        )));
    }
    let mut entries = Vec::new();
    let mut last_term = snapshot_term;
    while !r.at_end() {
        let entry_term = r.u64()?;
        let len = r.u32()? as usize;
        let command = r.take(len)?.to_vec();
        if entry_term < last_term || entry_term > term {
            return Err(PersistError::Inconsistent(format!(
                "entry {} has term {entry_term} after term {last_term}, current term {term}",
                snapshot_index + 1 + entries.len() as u64
            )));
        }
        last_term = entry_term;
        entries.push(Entry {
            term: entry_term,
            command,
        });
    }
    Ok(DurableState {
        term,
        voted_for,
        log: Log::restore(snapshot_index, snapshot_term, entries),
    })
}

/// Reads fields off the front of a byte slice, failing cleanly at the end.
struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], PersistError> {
        let rest = &self.bytes[self.offset..];
        if rest.len() < n {
            return Err(PersistError::Truncated {
                needed: n - rest.len(),
                offset: self.offset,
            });
        }
        self.offset += n;
        Ok(&rest[..n])
    }

    fn u64(&mut self) -> Result<u64, PersistError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }

    fn u32(&mut self) -> Result<u32, PersistError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }

    fn at_end(&self) -> bool {
        self.offset == self.bytes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_log() -> Log {
        let mut log = Log::new();
        for (term, command) in [(1, b"a".to_vec()), (1, vec![]), (3, vec![7; 300])] {
            log.append(Entry { term, command });
        }
        log
    }

    #[test]
    fn round_trip() {
        let mut log = sample_log();
        log.compact_through(1);
        let bytes = encode_state(5, Some(2), &log);
        let state = decode_state(&bytes).unwrap();
        assert_eq!(state.term, 5);
        assert_eq!(state.voted_for, Some(2));
        assert_eq!(state.log.snapshot_index(), 1);
        assert_eq!(state.log.snapshot_term(), 1);
        assert_eq!(state.log.last_index(), 3);
        assert_eq!(state.log.get(3).unwrap().command, vec![7; 300]);
        assert_eq!(encode_state(5, Some(2), &state.log), bytes);
    }

    #[test]
    fn nothing_saved_is_a_fresh_state() {
        let state = decode_state(&[]).unwrap();
        assert_eq!((state.term, state.voted_for), (0, None));
        assert_eq!(state.log.last_index(), 0);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let bytes = encode_state(5, None, &sample_log());
        for cut in 1..bytes.len() {
            if let Ok(state) = decode_state(&bytes[..cut]) {
                // Cutting exactly between entries leaves a valid shorter log.
                assert!(state.log.last_index() < 3);
            }
        }
        assert!(matches!(
            decode_state(&bytes[..10]),
            Err(PersistError::Truncated { .. })
        ));
        assert_eq!(
            decode_state(&[9, 0, 0]).unwrap_err(),
            PersistError::UnknownVersion(9)
        );
        // A log whose entry terms run past the current term.
        let bad = encode_state(2, None, &sample_log());
        assert!(matches!(
            decode_state(&bad),
            Err(PersistError::Inconsistent(_))
        ));
    }
}
// END SOLUTION
