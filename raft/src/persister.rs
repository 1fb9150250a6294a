//! The persister: where a peer's Raft state and snapshot survive a crash.
//!
//! As in the course, it stands in for a disk: Raft saves its state (and, with snapshots, the
//! service's snapshot) here, and on restart the tester hands the new Raft instance a copy of
//! what was last saved. Both parts are saved together, atomically, so a restart never sees a
//! snapshot that disagrees with the log beside it. The tester replaces a crashed peer's
//! persister by a [`copy`](Persister::copy), so a Raft instance that is still running after
//! its "crash" can no longer change what its successor reads.
//!
//! Part of the lab's given interface, as `persister.go` is in the course: the tester, the
//! services of Labs 3 and 4 and the real processes of `cluster/` create, copy and read
//! persisters, so Raft uses this one rather than its own.
//!
//! # Saving what changed
//!
//! Raft saves before it answers or sends anything, so a save is on the path of every
//! operation. The course's persister takes the whole encoded state each time, which makes a
//! save cost the length of the log (quadratic over a run whose log is never compacted, and
//! whole-log copies of a 100 MB shard on every save in shardkv). So the state is held in the
//! shape a log file on disk would have:
//!
//! - a small **header** (Raft's term, vote and snapshot boundary, encoded as Raft chooses),
//!   rewritten whole on every save;
//! - an append-only run of **records** (the encoded log entries), numbered by their Raft
//!   index, which a save only changes where the log changed: it drops the records a
//!   compaction discarded (those before [`StateUpdate::first`]), drops a conflicting suffix
//!   (those from [`StateUpdate::from`] on) and appends the new records after it.
//!
//! [`Persister::save_update`] applies such an update; its cost is the header plus the bytes
//! appended plus a step per chunk dropped. The records live in chunks shared by reference
//! counting, so [`Persister::copy`] shares them instead of duplicating the log, and a chunk
//! is written in place only while nobody else holds it (copy-on-write, chunk by chunk).
//!
//! The course's byte-string interface stays: [`Persister::read_raft_state`] returns the
//! header followed by every record, which is the whole state as Raft decodes it at restart
//! (it is built on demand, only then), and
//! [`raft_state_size`](Persister::raft_state_size) is its length, so services comparing it
//! with `maxraftstate` see the same number a whole-state persister would report.
//! [`save`](Persister::save) and [`save_raft_state`](Persister::save_raft_state) still take
//! a whole state as opaque bytes (held as a header with no records).
//!
//! # On disk
//!
//! [`Persister::new`] holds everything in memory, for the simulation. [`Persister::open`]
//! holds the same in memory and also makes every save durable before it returns, in a
//! directory it locks (`disk.rs`: each save appends one checksummed frame of what changed to
//! a log file and fsyncs it; open replays the frames). Reads always come from memory.
//! [`copy`](Persister::copy) of either kind is an in-memory persister.

use std::collections::VecDeque;
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::disk::{self, Change, Disk, DiskError, Frame, Live};

/// Records are appended into chunks of about this many bytes. Bigger chunks mean fewer for
/// `copy` to share and for a truncation to walk; smaller ones mean less copied when a chunk
/// shared with a copy has to be left and a new one started, and less memory held by a chunk
/// whose records were mostly dropped.
const CHUNK_BYTES: usize = 64 * 1024;

#[derive(Default)]
pub struct Persister {
    saved: Mutex<Saved>,
    /// The files each save is made durable in, for a persister opened on a directory.
    /// Locked before `saved` (a save holds both, so that the files and the memory change in
    /// the same order).
    disk: Option<Mutex<Disk>>,
}

/// What a persister holds. Cloning shares the records' chunks and the snapshot.
#[derive(Default, Clone)]
struct Saved {
    header: Vec<u8>,
    records: Records,
    /// The state was last saved by [`Persister::save_update`], so the records are the log's
    /// entries (not a whole state saved as one opaque header).
    by_updates: bool,
    snapshot: Arc<Vec<u8>>,
}

/// A change to the saved Raft state, made by [`Persister::save_update`]: the state becomes
/// `header` followed by the saved records numbered `first..from`, then `records`. Which
/// updates are valid is [`check`](StateUpdate::check)'s to say.
///
/// The on-disk persister writes an update as it is, one frame (`disk.rs`), and replays the
/// frames as updates at open, through the same check and the same code in memory.
#[derive(Debug, Default)]
pub struct StateUpdate {
    /// The new header, replacing the old one.
    pub header: Vec<u8>,
    /// The number of the first record kept: saved records before it are dropped (the log
    /// was compacted up to here).
    pub first: u64,
    /// The number of the first record appended: saved records from it on are dropped (a
    /// suffix that changed).
    pub from: u64,
    /// The records appended, numbered from `from`.
    pub records: NewRecords,
}

impl StateUpdate {
    /// Whether this update is valid for saved records numbered `held` (`held.start` is the
    /// next record's number when none are held). The one definition of a valid update: a
    /// save checks it before anything is written, and open checks each frame it replays.
    ///
    /// An update is valid when
    /// - it appends no earlier than the first record held (`held.start <= from`), and
    /// - the records it keeps (those of `held` within `first..from`) run exactly up to
    ///   `from`, so that the records appended follow them with no gap; or it keeps none and
    ///   starts afresh, with `first == from`.
    pub(crate) fn check(&self, held: Range<u64>) -> Result<(), String> {
        let (first, from) = (self.first, self.from);
        if from < held.start {
            return Err(format!(
                "a save appends records from {from}, but the saved ones start at {}",
                held.start
            ));
        }
        // The records kept: those held, less those from `from` on and those before `first`
        // (none kept: the records start afresh at `first`).
        let end = held.end.min(from);
        let start = held.start.max(first).min(end);
        let kept = if start < end {
            start..end
        } else {
            first..first
        };
        if kept.end != from {
            return Err(format!(
                "a save appends records from {from}, but the saved ones run {}..{}",
                kept.start, kept.end
            ));
        }
        Ok(())
    }
}

/// Records to append, encoded back to back.
#[derive(Debug, Default)]
pub struct NewRecords {
    /// The records' bytes (the disk writes and reads them as they are).
    pub(crate) bytes: Vec<u8>,
    /// `bytes[..ends[i]]` holds records `0..=i`.
    pub(crate) ends: Vec<usize>,
}

impl NewRecords {
    /// Adds one record, which `encode` writes at the end of the buffer it is given.
    pub fn push(&mut self, encode: impl FnOnce(&mut Vec<u8>)) {
        encode(&mut self.bytes);
        self.ends.push(self.bytes.len());
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The records' size in bytes.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }
}

impl Persister {
    /// An empty persister in memory (the simulation's disk).
    pub fn new() -> Persister {
        Persister::default()
    }

    /// Opens the persister stored in directory `dir` (creating the directory and an empty
    /// state if absent), holding an exclusive lock on it for as long as the Persister lives:
    /// a second open of the same dir, from this or another process, fails with an error
    /// saying the directory is in use by another server. Loads what was last saved; a file
    /// that does not decode is an error naming the file.
    ///
    /// Every save is durable when it returns; a save that cannot be made durable ends the
    /// process (see `disk.rs` for the format, crash safety and why). Reads come from memory.
    pub fn open(dir: impl AsRef<Path>) -> Result<Persister, DiskError> {
        let mut saved = Saved::default();
        let (disk, snapshot) = Disk::open(dir.as_ref(), |frame| match frame {
            // Already on disk: nothing to write before applying it.
            Frame::Update(update) => saved.update(update, |_| {}),
            Frame::Whole { state } => {
                saved.apply_whole(state.to_vec());
                Ok(())
            }
        })?;
        saved.snapshot = Arc::new(snapshot);
        Ok(Persister {
            saved: Mutex::new(saved),
            disk: Some(Mutex::new(disk)),
        })
    }

    /// A new persister in memory holding what this one holds now. It shares the records and
    /// snapshot with this one rather than copying them (its cost is a step per chunk);
    /// whatever either saves afterwards leaves the other unchanged.
    pub fn copy(&self) -> Persister {
        Persister {
            saved: Mutex::new(self.lock().clone()),
            disk: None,
        }
    }

    /// Saves the Raft state and the snapshot together, atomically.
    pub fn save(&self, raft_state: Vec<u8>, snapshot: Vec<u8>) {
        let mut disk = self.lock_disk();
        let mut saved = self.lock();
        if let Some(disk) = disk.as_mut() {
            disk.save(Change::Whole { state: &raft_state }, Some(&snapshot));
        }
        saved.apply_whole(raft_state);
        saved.snapshot = Arc::new(snapshot);
        Self::maybe_rewrite(disk, &saved);
    }

    /// Saves the Raft state, keeping the snapshot saved before.
    pub fn save_raft_state(&self, raft_state: Vec<u8>) {
        let mut disk = self.lock_disk();
        let mut saved = self.lock();
        if let Some(disk) = disk.as_mut() {
            disk.save(Change::Whole { state: &raft_state }, None);
        }
        saved.apply_whole(raft_state);
        Self::maybe_rewrite(disk, &saved);
    }

    /// Changes the saved Raft state as `update` says, and replaces the snapshot if one is
    /// given, together, atomically. Costs what changed, not what the state holds.
    ///
    /// Panics if the update is not valid for the records saved ([`StateUpdate::check`]: the
    /// caller lost track of what it saved, a bug, not a condition of the data), before
    /// anything is written.
    pub fn save_update(&self, update: StateUpdate, snapshot: Option<Vec<u8>>) {
        let mut disk = self.lock_disk();
        let mut saved = self.lock();
        let written = saved.update(update, |update| {
            if let Some(disk) = disk.as_mut() {
                disk.save(Change::Update(update), snapshot.as_deref());
            }
        });
        if let Err(why) = written {
            panic!("{why}");
        }
        if let Some(snapshot) = snapshot {
            saved.snapshot = Arc::new(snapshot);
        }
        Self::maybe_rewrite(disk, &saved);
    }

    /// After a save on disk: rewrites the log if it holds too many dead bytes.
    fn maybe_rewrite(disk: Option<MutexGuard<'_, Disk>>, saved: &Saved) {
        let Some(mut disk) = disk else { return };
        let records = &saved.records;
        let live = disk::live_frame_len(
            saved.header.len(),
            saved.by_updates,
            records.len,
            records.bytes as u64,
        );
        if !disk.wants_rewrite(live) {
            return;
        }
        let lens = records.pieces.iter().flat_map(|piece| {
            let chunk = &piece.chunk;
            (piece.start..piece.end).map(move |i| chunk.offset(i + 1) - chunk.offset(i))
        });
        disk.rewrite(Live {
            header: &saved.header,
            by_updates: saved.by_updates,
            first: records.first,
            count: records.len,
            bytes: records.bytes as u64,
            lens,
            pieces: records.pieces.iter().map(Piece::bytes),
        });
    }

    /// The whole saved state: the header, then every record. Built on demand (a restart
    /// reads it once).
    pub fn read_raft_state(&self) -> Vec<u8> {
        let saved = self.lock();
        let mut out = Vec::with_capacity(saved.header.len() + saved.records.bytes);
        out.extend_from_slice(&saved.header);
        for piece in &saved.records.pieces {
            out.extend_from_slice(piece.bytes());
        }
        out
    }

    /// The numbers of the records held, if the state was last saved by
    /// [`save_update`](Persister::save_update); `None` if it was saved whole. A restarting
    /// Raft whose decoded log is exactly these records knows they need no saving again.
    pub fn saved_records(&self) -> Option<Range<u64>> {
        let saved = self.lock();
        saved.by_updates.then(|| saved.records.numbers())
    }

    pub fn read_snapshot(&self) -> Vec<u8> {
        self.lock().snapshot.to_vec()
    }

    /// The size of [`read_raft_state`](Persister::read_raft_state), without building it.
    pub fn raft_state_size(&self) -> usize {
        let saved = self.lock();
        saved.header.len() + saved.records.bytes
    }

    pub fn snapshot_size(&self) -> usize {
        self.lock().snapshot.len()
    }

    fn lock(&self) -> MutexGuard<'_, Saved> {
        // Every change is made in steps that each leave a consistent state, so a panic
        // elsewhere cannot leave it half-updated.
        self.saved.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_disk(&self) -> Option<MutexGuard<'_, Disk>> {
        // A save that fails ends the process rather than panicking, so a poisoned lock
        // means a panic outside the disk's code (a save that did not follow, caught before
        // anything was written).
        self.disk
            .as_ref()
            .map(|disk| disk.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Saved {
    /// Applies `update` if it is valid for the records held ([`StateUpdate::check`]), calling
    /// `write` with it first (a save on disk writes its frame there); if it is not, changes
    /// nothing, calls nothing, and says why. Every update goes through here: each save's, and
    /// each one open replays.
    fn update(
        &mut self,
        update: StateUpdate,
        write: impl FnOnce(&StateUpdate),
    ) -> Result<(), String> {
        update.check(self.records.numbers())?;
        write(&update);
        self.records
            .update(update.first, update.from, update.records);
        self.header = update.header;
        self.by_updates = true;
        Ok(())
    }

    /// A whole state saved, in memory (the snapshot is left as it is).
    fn apply_whole(&mut self, state: Vec<u8>) {
        self.header = state;
        self.records = Records::default();
        self.by_updates = false;
    }
}

/// Saved records, back to back, in chunks.
#[derive(Clone, Default)]
struct Records {
    /// The number of the first record held (or of the next one, when none are held).
    first: u64,
    /// How many records are held.
    len: u64,
    /// Their total size in bytes.
    bytes: usize,
    /// The records, in order; never an empty piece.
    pieces: VecDeque<Piece>,
}

/// A run of whole records within a chunk.
#[derive(Clone)]
struct Piece {
    chunk: Arc<Chunk>,
    /// The chunk's records `start..end`.
    start: usize,
    end: usize,
}

/// Records encoded back to back. Written only while one piece alone holds it.
#[derive(Default)]
struct Chunk {
    bytes: Vec<u8>,
    /// `bytes[..ends[i]]` holds the chunk's records `0..=i`.
    ends: Vec<usize>,
}

impl Chunk {
    fn offset(&self, record: usize) -> usize {
        if record == 0 {
            0
        } else {
            self.ends[record - 1]
        }
    }
}

impl Piece {
    fn bytes(&self) -> &[u8] {
        &self.chunk.bytes[self.chunk.offset(self.start)..self.chunk.offset(self.end)]
    }

    fn len(&self) -> u64 {
        (self.end - self.start) as u64
    }
}

impl Records {
    /// The numbers of the records held.
    fn numbers(&self) -> Range<u64> {
        self.first..self.first + self.len
    }

    /// See [`StateUpdate`]; the update must be valid ([`StateUpdate::check`], which
    /// [`Saved::update`] makes).
    fn update(&mut self, first: u64, from: u64, records: NewRecords) {
        self.truncate_from(from);
        self.drop_before(first);
        if self.len == 0 {
            self.first = first;
        }
        debug_assert_eq!(self.first + self.len, from, "an update that is not valid");
        self.append(records);
    }

    /// Drops the records numbered `from` and after.
    fn truncate_from(&mut self, from: u64) {
        while self.len > 0 && self.first + self.len > from {
            let excess = self.first + self.len - from;
            let piece = self.pieces.back_mut().expect("records are held in pieces");
            if piece.len() <= excess {
                self.len -= piece.len();
                self.bytes -= piece.bytes().len();
                self.pieces.pop_back();
            } else {
                let before = piece.bytes().len();
                piece.end -= excess as usize;
                self.len -= excess;
                self.bytes -= before - piece.bytes().len();
                // Free the dropped bytes now if nobody else sees them, so the chunk can be
                // appended to again.
                let end = piece.end;
                if let Some(chunk) = Arc::get_mut(&mut piece.chunk) {
                    let cut = chunk.offset(end);
                    chunk.ends.truncate(end);
                    chunk.bytes.truncate(cut);
                }
            }
        }
    }

    /// Drops the records numbered before `first`.
    fn drop_before(&mut self, first: u64) {
        while self.len > 0 && self.first < first {
            let excess = first - self.first;
            let piece = self.pieces.front_mut().expect("records are held in pieces");
            if piece.len() <= excess {
                self.first += piece.len();
                self.len -= piece.len();
                self.bytes -= piece.bytes().len();
                self.pieces.pop_front();
            } else {
                // The chunk keeps the dropped bytes until its last record goes: at most a
                // chunk's worth per persister.
                let before = piece.bytes().len();
                piece.start += excess as usize;
                self.first += excess;
                self.len -= excess;
                self.bytes -= before - piece.bytes().len();
            }
        }
    }

    /// Appends `records` after those held.
    fn append(&mut self, records: NewRecords) {
        if records.is_empty() {
            return;
        }
        self.len += records.len() as u64;
        self.bytes += records.bytes.len();
        if records.bytes.len() >= CHUNK_BYTES {
            // Big records (a shard moving in shardkv) become a chunk of their own as they
            // are: no copy at all.
            let end = records.ends.len();
            self.pieces.push_back(Piece {
                chunk: Arc::new(Chunk {
                    bytes: records.bytes,
                    ends: records.ends,
                }),
                start: 0,
                end,
            });
            return;
        }
        // The last chunk takes the records if it has room and nobody else holds it (no copy
        // shares it, and no record of it was dropped by a piece that a copy still sees).
        let writable = self.pieces.back().is_some_and(|piece| {
            Arc::strong_count(&piece.chunk) == 1
                && piece.end == piece.chunk.ends.len()
                && piece.chunk.bytes.len() + records.bytes.len() <= CHUNK_BYTES
        });
        if !writable {
            // The chunk grows as records come (doubling, so each byte is copied O(1) times
            // on average): a peer whose log stays short, or is compacted often, never holds
            // or allocates a whole chunk's worth.
            self.pieces.push_back(Piece {
                chunk: Arc::new(Chunk::default()),
                start: 0,
                end: 0,
            });
        }
        let piece = self.pieces.back_mut().expect("a piece was just ensured");
        let chunk = Arc::get_mut(&mut piece.chunk).expect("held by this piece alone");
        let base = chunk.bytes.len();
        chunk.bytes.extend_from_slice(&records.bytes);
        chunk.ends.extend(records.ends.iter().map(|end| base + end));
        piece.end = chunk.ends.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An update whose records are the given byte strings.
    fn update(header: &[u8], first: u64, from: u64, records: &[&[u8]]) -> StateUpdate {
        let mut new = NewRecords::default();
        for record in records {
            new.push(|out| out.extend_from_slice(record));
        }
        StateUpdate {
            header: header.to_vec(),
            first,
            from,
            records: new,
        }
    }

    #[test]
    fn copies_are_independent() {
        let p = Persister::new();
        p.save(vec![1, 2], vec![3]);
        let q = p.copy();
        p.save_raft_state(vec![9]);
        assert_eq!(p.read_raft_state(), vec![9]);
        assert_eq!(p.read_snapshot(), vec![3]);
        assert_eq!(q.read_raft_state(), vec![1, 2]);
        assert_eq!((q.raft_state_size(), q.snapshot_size()), (2, 1));
    }

    #[test]
    fn updates_append_truncate_and_compact() {
        let p = Persister::new();
        p.save_update(update(b"h1", 1, 1, &[b"a", b"bb", b"c"]), None);
        assert_eq!(p.read_raft_state(), b"h1abbc");
        assert_eq!(p.raft_state_size(), 6);
        // A conflicting suffix from record 2 on, replaced.
        p.save_update(update(b"h2", 1, 2, &[b"X", b"Y"]), None);
        assert_eq!(p.read_raft_state(), b"h2aXY");
        // Compaction through record 2, with a snapshot, nothing appended.
        p.save_update(update(b"h3", 3, 4, &[]), Some(b"snap".to_vec()));
        assert_eq!(p.read_raft_state(), b"h3Y");
        assert_eq!(p.read_snapshot(), b"snap");
        // A snapshot past every record held (InstallSnapshot that the log does not extend).
        p.save_update(update(b"h4", 10, 10, &[b"z"]), None);
        assert_eq!(p.read_raft_state(), b"h4z");
        assert_eq!(p.raft_state_size(), 3);
        assert_eq!(p.read_snapshot(), b"snap");
    }

    #[test]
    fn an_update_after_a_whole_state_starts_over() {
        let p = Persister::new();
        p.save_update(update(b"h", 1, 1, &[b"a"]), None);
        assert_eq!(p.saved_records(), Some(1..2));
        p.save_raft_state(b"whole".to_vec());
        assert_eq!(p.read_raft_state(), b"whole");
        assert_eq!(p.saved_records(), None);
        p.save_update(update(b"h", 5, 5, &[b"e"]), None);
        assert_eq!(p.read_raft_state(), b"he");
        assert_eq!(p.saved_records(), Some(5..6));
        assert_eq!(p.copy().saved_records(), Some(5..6));
    }

    #[test]
    fn which_updates_are_valid() {
        let check =
            |held: Range<u64>, first: u64, from: u64| update(b"", first, from, &[]).check(held);
        // Valid: the first save, an append, a suffix replaced, a compaction, a compaction
        // past every record held, a fresh start after records were all compacted away.
        assert_eq!(check(0..0, 1, 1), Ok(()));
        assert_eq!(check(1..4, 1, 4), Ok(()));
        assert_eq!(check(1..4, 1, 2), Ok(()));
        assert_eq!(check(1..4, 3, 4), Ok(()));
        assert_eq!(check(1..4, 10, 10), Ok(()));
        assert_eq!(check(5..5, 7, 7), Ok(()));
        // Not valid: a gap after the records held, a gap after the ones kept by a
        // compaction, appending before the first record held (even when none is).
        let err = |from, rest: &str| Err(format!("a save appends records from {from}, {rest}"));
        assert_eq!(check(1..4, 1, 6), err(6, "but the saved ones run 1..4"));
        assert_eq!(
            check(1..4, 10, 11),
            err(11, "but the saved ones run 10..10")
        );
        assert_eq!(check(3..6, 1, 2), err(2, "but the saved ones start at 3"));
        assert_eq!(check(5..5, 3, 3), err(3, "but the saved ones start at 5"));
    }

    #[test]
    #[should_panic(expected = "a save appends records from 3")]
    fn a_gap_in_the_records_is_a_bug() {
        let p = Persister::new();
        p.save_update(update(b"h", 1, 1, &[b"a"]), None);
        p.save_update(update(b"h", 1, 3, &[b"c"]), None);
    }

    #[test]
    fn copies_share_chunks_but_not_changes() {
        // Enough records for several chunks, some big enough for a chunk of their own.
        let p = Persister::new();
        let mut expected: Vec<Vec<u8>> = Vec::new();
        let record = |i: usize| {
            vec![
                i as u8;
                if i.is_multiple_of(97) {
                    CHUNK_BYTES + 5
                } else {
                    100
                }
            ]
        };
        for i in 0..2000 {
            let r = record(i);
            p.save_update(update(b"h", 1, i as u64 + 1, &[&r]), None);
            expected.push(r);
        }
        let whole = |records: &[Vec<u8>]| {
            let mut out = b"h".to_vec();
            out.extend(records.iter().flatten());
            out
        };
        assert_eq!(p.read_raft_state(), whole(&expected));
        let q = p.copy();
        // Both sides now truncate, compact and append; neither sees the other's changes.
        p.save_update(update(b"h", 500, 1500, &[b"p"]), None);
        q.save_update(update(b"h", 1, 1999, &[b"q1", b"q2"]), None);
        let mut p_expected = expected[499..1499].to_vec();
        p_expected.push(b"p".to_vec());
        let mut q_expected = expected[..1998].to_vec();
        q_expected.extend([b"q1".to_vec(), b"q2".to_vec()]);
        assert_eq!(p.read_raft_state(), whole(&p_expected));
        assert_eq!(q.read_raft_state(), whole(&q_expected));
        assert_eq!(p.raft_state_size(), whole(&p_expected).len());
        assert_eq!(q.raft_state_size(), whole(&q_expected).len());
        // Once the copy is gone, the original writes its chunks in place again.
        drop(q);
        p.save_update(update(b"h", 500, 1501, &[b"more"]), None);
        p_expected.push(b"more".to_vec());
        assert_eq!(p.read_raft_state(), whole(&p_expected));
    }
}
