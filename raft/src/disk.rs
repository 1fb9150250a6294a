//! The persister's files: what [`Persister::open`](crate::Persister::open) keeps in its
//! directory, so that a real process (issue 15's `kvserver`) survives `kill -9` and power
//! loss.
//!
//! The persister keeps working from memory exactly as the simulated one does; this module
//! only makes each save durable before it returns, and rebuilds the memory from the files at
//! open. A directory holds:
//!
//! - `LOCK`: held with an exclusive `flock` (`File::try_lock`) for as long as the persister
//!   lives, so two servers never write one directory; it holds the owner's pid, for the
//!   error message of the second one. (A flock belongs to the open file, which a fork
//!   shares: a child forked while the lock is held keeps it until the child execs or exits.)
//! - `raft.log`: the 8 bytes `RAFTLOG1`, then one **frame** per save, appended and fsynced
//!   (`fdatasync`) before the save returns. A frame is what the save changed, never the
//!   whole log, so a save costs what changed:
//!
//!   ```text
//!   length: u64, crc32(length): u32, body (length bytes), crc32(body): u32
//!   body:  kind: u8 (1 = update, 2 = whole state)
//!          snapshot: u8 (0 = unchanged, 1 = replaced by: sequence: u64, length: u64, crc32: u32)
//!          update: first: u64, from: u64, header length: u64, header,
//!                  record count: u64, each record's length: u32, the records back to back
//!          whole:  state length: u64, state
//!   ```
//!
//!   (integers little-endian; an update is a [`StateUpdate`], a whole state is what `save`
//!   or `save_raft_state` took). Open replays the frames in order.
//! - `raft.snapshot.N`: the snapshot named by the last frame that replaced it (sequence `N`;
//!   an empty snapshot has no file). A new snapshot is written whole under its new name and
//!   fsynced, with the directory, *before* the frame that names it is appended: until that
//!   frame is durable the old snapshot stays in force, so snapshot and Raft state change
//!   together. The old file is deleted once the frame is durable; open deletes any file no
//!   frame names (left by a crash in between).
//!
//! # Crash safety
//!
//! A process killed at any instant leaves a log whose frames are whole, except perhaps the
//! last one, cut short by the kill in the middle of its append: the save it belonged to never
//! returned, so open drops it (truncating the file back to the last whole frame) and the
//! state is that of the last completed save. The length has its own checksum, so a damaged
//! length is told apart from a short tail. Anything else that does not check or decode (a
//! bad checksum, a frame that contradicts the state before it, a missing or damaged snapshot
//! file, a file that is not a log at all) is damage no crash causes: open fails with a
//! [`DiskError`] naming the file, and nothing is changed.
//!
//! # Space
//!
//! Frames of earlier saves become dead as later ones replace their header, drop their
//! records or save a whole state. When the dead bytes exceed [`REWRITE_RATIO`] times the
//! live ones (and [`REWRITE_MIN_DEAD`]), the live state is written as one frame into
//! `raft.log.tmp`, fsynced, renamed over `raft.log`, and the directory fsynced: a crash
//! leaves either file whole. Each rewrite costs the live bytes, and comes only after twice
//! as many dead bytes were appended since the last one, so its amortised cost is a fraction
//! of what the saves themselves wrote: still proportional to what changed.
//!
//! # A save that fails
//!
//! The course's `save_*` methods return nothing, and Raft goes on as if the state were on
//! disk: it would grant a vote or acknowledge entries it could forget at the next crash,
//! breaking the guarantees its peers rely on. After a failed `fsync` the kernel may even
//! have dropped the unwritten pages, so retrying proves nothing. So a write or fsync that
//! fails during a save prints the file and the cause on stderr and ends the process at once
//! with exit code [`SAVE_FAILED_EXIT`] (`EX_IOERR`): a crash, which Raft is built to
//! survive, instead of a lie. It never panics (a panic in one of Raft's tasks would not stop
//! the process from answering).

use std::fmt;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::persister::{NewRecords, StateUpdate};

/// The lock file's name.
pub const LOCK_FILE: &str = "LOCK";
/// The log file's name.
pub const LOG_FILE: &str = "raft.log";
/// Where a rewrite of the log is prepared.
const LOG_TMP: &str = "raft.log.tmp";
/// Snapshot files are this followed by their sequence number.
const SNAPSHOT_PREFIX: &str = "raft.snapshot.";
/// The first bytes of a log file.
const MAGIC: &[u8; 8] = b"RAFTLOG1";
/// A frame's length and the length's checksum.
const FRAME_HEAD: u64 = 12;
/// A frame's body checksum.
const FRAME_TAIL: u64 = 4;

const KIND_UPDATE: u8 = 1;
const KIND_WHOLE: u8 = 2;

/// The log is rewritten when its dead bytes exceed this many times the live ones...
pub const REWRITE_RATIO: u64 = 2;
/// ...and this many bytes: small states are not rewritten every few saves.
pub const REWRITE_MIN_DEAD: u64 = 1 << 20;

/// The exit code of a process whose save failed (`EX_IOERR` of `sysexits.h`).
pub const SAVE_FAILED_EXIT: i32 = 74;

/// Why a persister's directory could not be opened (or, on stderr, why a save failed).
#[derive(Debug)]
pub struct DiskError {
    path: PathBuf,
    cause: Cause,
}

#[derive(Debug)]
enum Cause {
    /// Another persister, in this process or another, holds the directory's lock.
    InUse {
        owner: Option<String>,
    },
    Io {
        doing: &'static str,
        err: io::Error,
    },
    /// The file does not decode: `at` is the byte offset of the frame concerned.
    Corrupt {
        at: Option<u64>,
        why: String,
    },
}

impl DiskError {
    /// The file or directory concerned.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory is in use by another server (another live persister holds its lock).
    pub fn is_in_use(&self) -> bool {
        matches!(self.cause, Cause::InUse { .. })
    }

    /// A file does not decode: damage, not a crash (which open recovers from).
    pub fn is_corrupt(&self) -> bool {
        matches!(self.cause, Cause::Corrupt { .. })
    }

    fn io<'a>(path: &'a Path, doing: &'static str) -> impl FnOnce(io::Error) -> DiskError + 'a {
        move |err| DiskError {
            path: path.to_path_buf(),
            cause: Cause::Io { doing, err },
        }
    }

    fn corrupt(path: &Path, at: Option<u64>, why: impl Into<String>) -> DiskError {
        DiskError {
            path: path.to_path_buf(),
            cause: Cause::Corrupt {
                at,
                why: why.into(),
            },
        }
    }
}

impl fmt::Display for DiskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match &self.cause {
            Cause::InUse { owner } => {
                write!(
                    f,
                    "{path}: directory in use by another server (it holds {})",
                    self.path.join(LOCK_FILE).display()
                )?;
                match owner {
                    Some(pid) => write!(f, ", pid {pid}"),
                    None => Ok(()),
                }
            }
            Cause::Io { doing, err } => write!(f, "{path}: cannot {doing}: {err}"),
            Cause::Corrupt { at: Some(at), why } => {
                write!(f, "{path}: does not decode at byte {at}: {why}")
            }
            Cause::Corrupt { at: None, why } => write!(f, "{path}: does not decode: {why}"),
        }
    }
}

impl std::error::Error for DiskError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.cause {
            Cause::Io { err, .. } => Some(err),
            _ => None,
        }
    }
}

/// One save, as the persister hands it over to be made durable (an update already checked
/// valid: the files never hold one that is not).
pub enum Change<'a> {
    Update(&'a StateUpdate),
    /// A whole state (`save`, `save_raft_state`).
    Whole {
        state: &'a [u8],
    },
}

/// One frame of the log, as open replays it: the save that wrote it. An update is checked
/// by whoever applies it (a damaged log could hold one that is not valid).
pub enum Frame<'a> {
    Update(StateUpdate),
    Whole { state: &'a [u8] },
}

/// The live state, as a rewrite of the log writes it: one frame that, replayed on an empty
/// state, gives it back.
pub struct Live<'a, L, B> {
    /// The header (or the whole state, if not `by_updates`).
    pub header: &'a [u8],
    /// The state was saved by updates: the records follow, numbered from `first`.
    pub by_updates: bool,
    pub first: u64,
    pub count: u64,
    pub bytes: u64,
    /// Each record's length, in order.
    pub lens: L,
    /// The records' bytes, in order, in any number of pieces.
    pub pieces: B,
}

/// The size of the frame [`Disk::rewrite`] would write for a live state of this shape.
pub fn live_frame_len(header: usize, by_updates: bool, count: u64, bytes: u64) -> u64 {
    FRAME_HEAD + body_len(header, by_updates, count, bytes, true) + FRAME_TAIL
}

fn body_len(header: usize, by_updates: bool, count: u64, bytes: u64, snapshot: bool) -> u64 {
    let snapshot = if snapshot { 1 + 20 } else { 1 };
    let rest = if by_updates {
        8 + 8 + 8 + header as u64 + 8 + 4 * count + bytes
    } else {
        8 + header as u64
    };
    1 + snapshot + rest
}

/// Which snapshot file is in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
struct SnapshotRef {
    /// 0: the snapshot is empty, and has no file.
    seq: u64,
    len: u64,
    crc: u32,
}

/// The files of an open persister directory. Holds the lock until dropped.
pub struct Disk {
    dir: PathBuf,
    /// Held (locked) for the lock's sake only.
    _lock: File,
    log: File,
    log_path: PathBuf,
    log_len: u64,
    snapshot: SnapshotRef,
    /// The sequence number the next snapshot file takes.
    next_seq: u64,
}

impl Disk {
    /// Opens (creating if need be) the persister directory `dir`, locks it, and replays its
    /// log into `apply`, which rejects a frame that does not follow from the state before it.
    /// Returns the disk and the snapshot in force.
    pub fn open(
        dir: &Path,
        mut apply: impl FnMut(Frame<'_>) -> Result<(), String>,
    ) -> Result<(Disk, Vec<u8>), DiskError> {
        let created = !dir.exists();
        fs::create_dir_all(dir).map_err(DiskError::io(dir, "create the directory"))?;
        if created {
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                sync_dir(parent)?;
            }
        }
        let lock = lock_dir(dir)?;

        let tmp = dir.join(LOG_TMP);
        remove_if_present(&tmp)?;
        let log_path = dir.join(LOG_FILE);
        if !log_path.exists() {
            // Created whole, the safe way: a crash leaves no log or an empty one.
            let file = create_file(&tmp)?;
            (&file)
                .write_all(MAGIC)
                .map_err(DiskError::io(&tmp, "write"))?;
            file.sync_all().map_err(DiskError::io(&tmp, "fsync"))?;
            fs::rename(&tmp, &log_path).map_err(DiskError::io(&log_path, "rename into place"))?;
            sync_dir(dir)?;
        }

        let mut bytes = Vec::new();
        File::open(&log_path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(DiskError::io(&log_path, "read"))?;
        let (end, snapshot) = replay(&log_path, &bytes, &mut apply)?;
        let log = OpenOptions::new()
            .append(true)
            .open(&log_path)
            .map_err(DiskError::io(&log_path, "open for appending"))?;
        if end < bytes.len() as u64 {
            // A save cut short by a crash: it never returned, so it never happened. Cut it
            // away before anything is appended after it.
            tracing::warn!(
                "{}: dropping {} bytes of a save that a crash cut short",
                log_path.display(),
                bytes.len() as u64 - end
            );
            log.set_len(end)
                .map_err(DiskError::io(&log_path, "truncate a torn save"))?;
            log.sync_all().map_err(DiskError::io(&log_path, "fsync"))?;
        }
        drop(bytes);

        let snapshot_bytes = read_snapshot(dir, snapshot)?;
        let next_seq = remove_stale_snapshots(dir, snapshot.seq)?.max(snapshot.seq) + 1;
        let disk = Disk {
            dir: dir.to_path_buf(),
            _lock: lock,
            log,
            log_path,
            log_len: end,
            snapshot,
            next_seq,
        };
        Ok((disk, snapshot_bytes))
    }

    /// Makes `change` (and the new snapshot, if any) durable, or ends the process (see the
    /// module documentation).
    pub fn save(&mut self, change: Change<'_>, snapshot: Option<&[u8]>) {
        if let Err(err) = self.try_save(change, snapshot) {
            fatal(&err);
        }
    }

    /// Whether the log holds enough dead bytes, beside `live` ([`live_frame_len`]), to be
    /// rewritten.
    pub fn wants_rewrite(&self, live: u64) -> bool {
        let dead = self.log_len.saturating_sub(MAGIC.len() as u64 + live);
        dead > REWRITE_MIN_DEAD && dead > REWRITE_RATIO * live
    }

    /// Rewrites the log as the one frame of `live`, or ends the process.
    pub fn rewrite<'b>(
        &mut self,
        live: Live<'_, impl Iterator<Item = usize>, impl Iterator<Item = &'b [u8]>>,
    ) {
        if let Err(err) = self.try_rewrite(live) {
            fatal(&err);
        }
    }

    fn try_save(&mut self, change: Change<'_>, snapshot: Option<&[u8]>) -> Result<(), DiskError> {
        let new_snapshot = snapshot
            .map(|bytes| self.write_snapshot(bytes))
            .transpose()?;
        let frame = encode_frame(&change, new_snapshot)
            .map_err(|why| DiskError::io(&self.log_path, "encode a save")(io::Error::other(why)))?;
        (&self.log)
            .write_all(&frame)
            .map_err(DiskError::io(&self.log_path, "append a save"))?;
        self.log
            .sync_data()
            .map_err(DiskError::io(&self.log_path, "fsync"))?;
        self.log_len += frame.len() as u64;
        if let Some(new) = new_snapshot {
            let old = std::mem::replace(&mut self.snapshot, new);
            if old.seq != 0 && old.seq != new.seq {
                // No longer named by the log. Failing to delete it wastes space but loses
                // nothing (the next open deletes it), so it is not worth ending the process.
                let path = snapshot_path(&self.dir, old.seq);
                if let Err(err) = fs::remove_file(&path) {
                    tracing::warn!("{}: cannot delete an old snapshot: {err}", path.display());
                }
            }
        }
        Ok(())
    }

    /// Writes a new snapshot file, durably, before the frame that names it.
    fn write_snapshot(&mut self, bytes: &[u8]) -> Result<SnapshotRef, DiskError> {
        if bytes.is_empty() {
            return Ok(SnapshotRef::default());
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let path = snapshot_path(&self.dir, seq);
        let file = create_file(&path)?;
        (&file)
            .write_all(bytes)
            .map_err(DiskError::io(&path, "write"))?;
        file.sync_all().map_err(DiskError::io(&path, "fsync"))?;
        sync_dir(&self.dir)?;
        Ok(SnapshotRef {
            seq,
            len: bytes.len() as u64,
            crc: crc32fast::hash(bytes),
        })
    }

    fn try_rewrite<'b>(
        &mut self,
        live: Live<'_, impl Iterator<Item = usize>, impl Iterator<Item = &'b [u8]>>,
    ) -> Result<(), DiskError> {
        let tmp = self.dir.join(LOG_TMP);
        let file = create_file(&tmp)?;
        let len = {
            let mut out = BufWriter::with_capacity(1 << 20, &file);
            out.write_all(MAGIC).map_err(DiskError::io(&tmp, "write"))?;
            let len = write_live_frame(&mut out, live, self.snapshot)
                .map_err(DiskError::io(&tmp, "write"))?;
            out.flush().map_err(DiskError::io(&tmp, "write"))?;
            MAGIC.len() as u64 + len
        };
        file.sync_all().map_err(DiskError::io(&tmp, "fsync"))?;
        fs::rename(&tmp, &self.log_path)
            .map_err(DiskError::io(&self.log_path, "rename into place"))?;
        sync_dir(&self.dir)?;
        // The new file is the log now; its position is at its end, where saves append.
        self.log = file;
        self.log_len = len;
        Ok(())
    }
}

/// Prints why a save failed and ends the process (see the module documentation).
fn fatal(err: &DiskError) -> ! {
    eprintln!(
        "raft: cannot save Raft state: {err}; stopping this server now, since Raft must not \
         answer as if it had saved (exit code {SAVE_FAILED_EXIT})"
    );
    std::process::exit(SAVE_FAILED_EXIT)
}

/// Takes the directory's lock, or says who holds it.
fn lock_dir(dir: &Path) -> Result<File, DiskError> {
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(DiskError::io(&path, "open the lock file"))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut owner = String::new();
            let _ = file.read_to_string(&mut owner);
            let owner = owner.trim();
            return Err(DiskError {
                path: dir.to_path_buf(),
                cause: Cause::InUse {
                    owner: (!owner.is_empty()).then(|| owner.to_string()),
                },
            });
        }
        Err(TryLockError::Error(err)) => return Err(DiskError::io(&path, "lock")(err)),
    }
    // The owner's pid, for the message of whoever finds the directory locked. Not needed for
    // correctness (the lock is the flock), so not fsynced.
    file.set_len(0)
        .and_then(|()| (&file).write_all(std::process::id().to_string().as_bytes()))
        .map_err(DiskError::io(&path, "write"))?;
    Ok(file)
}

fn create_file(path: &Path) -> Result<File, DiskError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(DiskError::io(path, "create"))
}

/// Makes the directory's entries (a file created, renamed or removed) durable.
fn sync_dir(dir: &Path) -> Result<(), DiskError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(DiskError::io(dir, "fsync the directory"))
}

fn remove_if_present(path: &Path) -> Result<(), DiskError> {
    match fs::remove_file(path) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => {
            Err(DiskError::io(path, "remove a stale file")(err))
        }
        _ => Ok(()),
    }
}

fn snapshot_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{SNAPSHOT_PREFIX}{seq}"))
}

fn read_snapshot(dir: &Path, snapshot: SnapshotRef) -> Result<Vec<u8>, DiskError> {
    if snapshot.seq == 0 {
        return Ok(Vec::new());
    }
    let path = snapshot_path(dir, snapshot.seq);
    let bytes = fs::read(&path).map_err(DiskError::io(&path, "read the snapshot"))?;
    if bytes.len() as u64 != snapshot.len {
        return Err(DiskError::corrupt(
            &path,
            None,
            format!(
                "the snapshot holds {} bytes, the log says {}",
                bytes.len(),
                snapshot.len
            ),
        ));
    }
    if crc32fast::hash(&bytes) != snapshot.crc {
        return Err(DiskError::corrupt(
            &path,
            None,
            "snapshot checksum mismatch",
        ));
    }
    Ok(bytes)
}

/// Deletes every snapshot file but the one in force (left by a crash between writing a new
/// snapshot and the frame naming it, or before the old one was deleted). Returns the highest
/// sequence number seen, so that a new file never takes an old name.
fn remove_stale_snapshots(dir: &Path, keep: u64) -> Result<u64, DiskError> {
    let mut highest = 0;
    let entries = fs::read_dir(dir).map_err(DiskError::io(dir, "list the directory"))?;
    for entry in entries {
        let entry = entry.map_err(DiskError::io(dir, "list the directory"))?;
        let name = entry.file_name();
        let Some(seq) = name
            .to_str()
            .and_then(|name| name.strip_prefix(SNAPSHOT_PREFIX))
            .and_then(|seq| seq.parse::<u64>().ok())
        else {
            continue;
        };
        highest = highest.max(seq);
        if seq != keep {
            let path = entry.path();
            fs::remove_file(&path).map_err(DiskError::io(&path, "remove a stale snapshot"))?;
        }
    }
    Ok(highest)
}

/// Replays the log's frames into `apply`. Returns where the last whole frame ends (the file's
/// length, unless a crash cut the last save short) and the snapshot in force.
fn replay(
    path: &Path,
    bytes: &[u8],
    apply: &mut impl FnMut(Frame<'_>) -> Result<(), String>,
) -> Result<(u64, SnapshotRef), DiskError> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        // Always created whole, with its first bytes, by a rename: a file without them is
        // not a log at all.
        return Err(DiskError::corrupt(
            path,
            Some(0),
            "not a Raft log (it does not start with RAFTLOG1)",
        ));
    }
    let mut snapshot = SnapshotRef::default();
    let mut at = MAGIC.len();
    while at < bytes.len() {
        let rest = &bytes[at..];
        if rest.len() < FRAME_HEAD as usize {
            break; // Torn: the length itself is cut short.
        }
        let len_bytes = &rest[..8];
        let len = u64::from_le_bytes(len_bytes.try_into().unwrap());
        let len_crc = u32::from_le_bytes(rest[8..12].try_into().unwrap());
        let corrupt = |why: String| DiskError::corrupt(path, Some(at as u64), why);
        if crc32fast::hash(len_bytes) != len_crc {
            return Err(corrupt("frame length checksum mismatch".into()));
        }
        let whole = len
            .checked_add(FRAME_HEAD + FRAME_TAIL)
            .filter(|&whole| whole <= rest.len() as u64);
        let Some(whole) = whole else {
            break; // Torn: the frame runs past the end of the file.
        };
        let body = &rest[FRAME_HEAD as usize..(FRAME_HEAD + len) as usize];
        let crc = u32::from_le_bytes(rest[whole as usize - 4..whole as usize].try_into().unwrap());
        if crc32fast::hash(body) != crc {
            return Err(corrupt("frame checksum mismatch".into()));
        }
        let (frame, new_snapshot) =
            decode_body(body).map_err(|why| corrupt(format!("undecodable frame: {why}")))?;
        apply(frame).map_err(|why| corrupt(format!("a frame that cannot follow: {why}")))?;
        if let Some(new) = new_snapshot {
            snapshot = new;
        }
        at += whole as usize;
    }
    Ok((at as u64, snapshot))
}

/// Encodes one save's frame.
fn encode_frame(change: &Change<'_>, snapshot: Option<SnapshotRef>) -> Result<Vec<u8>, String> {
    let (header_len, by_updates, count, bytes_len) = match change {
        Change::Update(update) => (
            update.header.len(),
            true,
            update.records.len() as u64,
            update.records.byte_len() as u64,
        ),
        Change::Whole { state } => (state.len(), false, 0, 0),
    };
    let len = body_len(header_len, by_updates, count, bytes_len, snapshot.is_some());
    let mut out = Vec::with_capacity((FRAME_HEAD + len + FRAME_TAIL) as usize);
    put_frame_head(&mut out, len);
    match change {
        Change::Update(update) => {
            let NewRecords { bytes, ends } = &update.records;
            out.push(KIND_UPDATE);
            put_snapshot(&mut out, snapshot);
            for n in [update.first, update.from, update.header.len() as u64] {
                out.extend_from_slice(&n.to_le_bytes());
            }
            out.extend_from_slice(&update.header);
            out.extend_from_slice(&(ends.len() as u64).to_le_bytes());
            let mut start = 0;
            for &end in ends {
                out.extend_from_slice(&record_len(end - start)?.to_le_bytes());
                start = end;
            }
            out.extend_from_slice(bytes);
        }
        Change::Whole { state } => {
            out.push(KIND_WHOLE);
            put_snapshot(&mut out, snapshot);
            out.extend_from_slice(&(state.len() as u64).to_le_bytes());
            out.extend_from_slice(state);
        }
    }
    debug_assert_eq!(out.len() as u64, FRAME_HEAD + len);
    let crc = crc32fast::hash(&out[FRAME_HEAD as usize..]);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

fn put_frame_head(out: &mut Vec<u8>, len: u64) {
    let len = len.to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&crc32fast::hash(&len).to_le_bytes());
}

fn put_snapshot(out: &mut Vec<u8>, snapshot: Option<SnapshotRef>) {
    match snapshot {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            out.extend_from_slice(&s.seq.to_le_bytes());
            out.extend_from_slice(&s.len.to_le_bytes());
            out.extend_from_slice(&s.crc.to_le_bytes());
        }
    }
}

fn record_len(len: usize) -> Result<u32, String> {
    u32::try_from(len).map_err(|_| format!("a record of {len} bytes (4 GiB or more)"))
}

/// Writes the live state as one frame, streaming the records (a rewrite need not hold a
/// second copy of a big log in memory). Returns the frame's length.
fn write_live_frame<'b>(
    out: &mut impl Write,
    live: Live<'_, impl Iterator<Item = usize>, impl Iterator<Item = &'b [u8]>>,
    snapshot: SnapshotRef,
) -> io::Result<u64> {
    let len = body_len(
        live.header.len(),
        live.by_updates,
        live.count,
        live.bytes,
        true,
    );
    let mut head = Vec::with_capacity(FRAME_HEAD as usize);
    put_frame_head(&mut head, len);
    out.write_all(&head)?;
    let mut body = Hashing {
        out,
        hasher: crc32fast::Hasher::new(),
        written: 0,
    };
    let mut fixed = Vec::with_capacity(64);
    fixed.push(if live.by_updates {
        KIND_UPDATE
    } else {
        KIND_WHOLE
    });
    put_snapshot(&mut fixed, Some(snapshot));
    if live.by_updates {
        for n in [live.first, live.first, live.header.len() as u64] {
            fixed.extend_from_slice(&n.to_le_bytes());
        }
        body.write_all(&fixed)?;
        body.write_all(live.header)?;
        body.write_all(&live.count.to_le_bytes())?;
        let mut count = 0;
        for len in live.lens {
            let len = record_len(len).map_err(io::Error::other)?;
            body.write_all(&len.to_le_bytes())?;
            count += 1;
        }
        for piece in live.pieces {
            body.write_all(piece)?;
        }
        if count != live.count {
            return Err(io::Error::other(
                "the live state's record count is off (a bug)",
            ));
        }
    } else {
        fixed.extend_from_slice(&(live.header.len() as u64).to_le_bytes());
        body.write_all(&fixed)?;
        body.write_all(live.header)?;
    }
    if body.written != len {
        return Err(io::Error::other("the live state's size is off (a bug)"));
    }
    let crc = body.hasher.finalize();
    out.write_all(&crc.to_le_bytes())?;
    Ok(FRAME_HEAD + len + FRAME_TAIL)
}

/// A writer that checksums what passes through it.
struct Hashing<'a, W> {
    out: &'a mut W,
    hasher: crc32fast::Hasher,
    written: u64,
}

impl<W: Write> Hashing<'_, W> {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hasher.update(bytes);
        self.written += bytes.len() as u64;
        self.out.write_all(bytes)
    }
}

/// Decodes a frame's body (whose checksum matched).
fn decode_body(body: &[u8]) -> Result<(Frame<'_>, Option<SnapshotRef>), String> {
    let mut r = Reader { bytes: body, at: 0 };
    let kind = r.u8()?;
    let snapshot = match r.u8()? {
        0 => None,
        1 => {
            let seq = r.u64()?;
            let len = r.u64()?;
            let crc = r.u32()?;
            if (seq == 0) != (len == 0) {
                return Err(format!("snapshot {seq} of {len} bytes"));
            }
            Some(SnapshotRef { seq, len, crc })
        }
        flag => return Err(format!("unknown snapshot flag {flag}")),
    };
    let frame = match kind {
        KIND_UPDATE => {
            let first = r.u64()?;
            let from = r.u64()?;
            let header_len = r.u64()?;
            let header = r.take(header_len)?;
            let count = r.u64()?;
            let lens = r.take(count.checked_mul(4).ok_or("too many records")?)?;
            let mut ends = Vec::with_capacity(count as usize);
            let mut end = 0usize;
            for len in lens.chunks_exact(4) {
                end = end
                    .checked_add(u32::from_le_bytes(len.try_into().unwrap()) as usize)
                    .ok_or("records too long")?;
                ends.push(end);
            }
            let bytes = r.take(end as u64)?;
            Frame::Update(StateUpdate {
                header: header.to_vec(),
                first,
                from,
                records: NewRecords {
                    bytes: bytes.to_vec(),
                    ends,
                },
            })
        }
        KIND_WHOLE => {
            let len = r.u64()?;
            Frame::Whole {
                state: r.take(len)?,
            }
        }
        kind => return Err(format!("unknown kind {kind}")),
    };
    if r.at != body.len() {
        return Err(format!("{} bytes left over", body.len() - r.at));
    }
    Ok((frame, snapshot))
}

/// Reads fields off the front of a frame body, failing cleanly at its end.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: u64) -> Result<&'a [u8], String> {
        let rest = &self.bytes[self.at..];
        if (rest.len() as u64) < n {
            return Err(format!(
                "{n} bytes needed at body offset {}, {} left",
                self.at,
                rest.len()
            ));
        }
        let n = n as usize;
        self.at += n;
        Ok(&rest[..n])
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
}
