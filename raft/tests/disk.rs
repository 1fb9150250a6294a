//! The persister on disk ([`Persister::open`]), within one process: what it gives back after
//! a reopen, after a crash cut its last save short, and after damage.
//!
//! - round trips: a randomized run of saves (appends, suffix truncations, compactions,
//!   snapshots, whole states), the same on disk and in memory, compared after every reopen;
//! - torn tails: the log cut at every byte of its last frame reopens to the save before;
//! - damage: any byte of the log flipped, a damaged or missing snapshot, garbage files: an
//!   error naming the file, never a panic;
//! - an invalid save (a bug in the caller): a panic before anything is written;
//! - the directory lock;
//! - Raft: a three-peer cluster stopped and restarted from its directories keeps its log.
//!
//! Tests with child processes (kills, a failing save) are in `disk_crash.rs`: a child forked
//! while a test here holds a directory's lock would share the lock until it execs, and make
//! another test's reopen of that directory fail.
//!
//! Each test works in a directory of its own under the system's temp dir, removed when the
//! test passes (kept for a look when it fails).

mod disk_common;

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use disk_common::{assert_same, copy_dir, log_len, random_bytes, random_op, Op, TempDir, LOG};
use labrpc::{Network, Server};
use raft::{ApplyMsg, NewRecords, Persister, Raft, StateUpdate};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
#[test]
fn a_new_directory_is_an_empty_state() {
    let dir = TempDir::new("new");
    let p = Persister::open(dir.join("nested/peer")).unwrap();
    assert_same(&p, &Persister::new(), "when new");
    drop(p);
    let p = Persister::open(dir.join("nested/peer")).unwrap();
    assert_same(&p, &Persister::new(), "reopened");
}

#[test]
fn saves_round_trip_through_reopens() {
    for seed in 0..3 {
        let dir = TempDir::new("round-trip");
        let mut rng = SmallRng::seed_from_u64(seed);
        let model = Persister::new();
        let mut disk = Persister::open(dir.path()).unwrap();
        let mut rewrites = 0;
        let mut last_len = log_len(dir.path());
        for tag in 1..=400 {
            let op = random_op(&mut rng, &model, tag, 5000);
            op.apply(&model);
            op.apply(&disk);
            assert_same(&disk, &model, &format!("after save {tag} (seed {seed})"));
            let len = log_len(dir.path());
            if len < last_len {
                rewrites += 1;
            }
            last_len = len;
            if rng.random_bool(0.1) {
                drop(disk);
                disk = Persister::open(dir.path()).unwrap();
                assert_same(
                    &disk,
                    &model,
                    &format!("reopened after {tag} (seed {seed})"),
                );
            }
        }
        // Dead bytes reclaimed: the log was rewritten, and holds little beyond the live state.
        eprintln!(
            "seed {seed}: {rewrites} rewrites, log {} bytes",
            log_len(dir.path())
        );
        assert!(rewrites > 0, "seed {seed}: the log was never rewritten");
        drop(disk);
        let disk = Persister::open(dir.path()).unwrap();
        assert_same(&disk, &model, &format!("at the end (seed {seed})"));
        // At most one snapshot file is left: the one in force.
        let snapshots = snapshot_files(dir.path());
        assert!(snapshots <= 1, "{snapshots} snapshot files");
    }
}

#[test]
fn a_scripted_run_round_trips() {
    let dir = TempDir::new("scripted");
    let model = Persister::new();
    let records = |rs: &[&[u8]]| rs.iter().map(|r| r.to_vec()).collect();
    let ops = [
        Op::Update {
            header: b"h1".to_vec(),
            first: 1,
            from: 1,
            records: records(&[b"a", b"bb", b"c"]),
            snapshot: None,
        },
        // A conflicting suffix from record 2 on, replaced.
        Op::Update {
            header: b"h2".to_vec(),
            first: 1,
            from: 2,
            records: records(&[b"X", b"Y"]),
            snapshot: None,
        },
        // Compaction through record 2, with a snapshot.
        Op::Update {
            header: b"h3".to_vec(),
            first: 3,
            from: 4,
            records: Vec::new(),
            snapshot: Some(b"snap".to_vec()),
        },
        // A snapshot past every record held.
        Op::Update {
            header: b"h4".to_vec(),
            first: 10,
            from: 10,
            records: records(&[b"z"]),
            snapshot: Some(b"snap2".to_vec()),
        },
        Op::SaveRaftState(b"whole".to_vec()),
        Op::Update {
            header: b"h5".to_vec(),
            first: 20,
            from: 20,
            records: records(&[b"e"]),
            snapshot: None,
        },
        Op::Save(b"whole2".to_vec(), Vec::new()),
    ];
    for (i, op) in ops.iter().enumerate() {
        let disk = Persister::open(dir.path()).unwrap();
        op.apply(&model);
        op.apply(&disk);
        drop(disk);
        let disk = Persister::open(dir.path()).unwrap();
        assert_same(&disk, &model, &format!("after op {i}"));
    }
    assert_eq!(model.read_raft_state(), b"whole2");
    assert_eq!(model.read_snapshot(), b"");
}

/// Runs `count` random saves on a new directory, then the one `last` makes of the state they
/// leave, and returns the model before the last one, the model after it, and the log's
/// length before the last one.
fn saves_then_one_more(
    dir: &Path,
    count: u64,
    last: impl FnOnce(&Persister) -> Op,
) -> (Persister, Persister, u64) {
    let mut rng = SmallRng::seed_from_u64(7);
    let model = Persister::new();
    let disk = Persister::open(dir).unwrap();
    for tag in 1..=count {
        let op = random_op(&mut rng, &model, tag, 50);
        op.apply(&model);
        op.apply(&disk);
    }
    let before = model.copy();
    let len_before = log_len(dir);
    let last = last(&model);
    last.apply(&model);
    last.apply(&disk);
    (before, model, len_before)
}

#[test]
fn a_torn_last_save_reopens_to_the_save_before() {
    let dir = TempDir::new("torn");
    // The last save appends records, compacts, and replaces the snapshot: cut short
    // anywhere, it must leave the old snapshot in force and the new snapshot's file unused.
    let last = |model: &Persister| {
        let range = model.saved_records().unwrap_or(31..31);
        Op::Update {
            header: b"last header".to_vec(),
            first: range.start + (range.end - range.start) / 2,
            from: range.end,
            records: vec![vec![1; 40], vec![2; 3], vec![]],
            snapshot: Some(vec![9; 100]),
        }
    };
    let (before, after, len_before) = saves_then_one_more(dir.path(), 30, last);
    let len_after = log_len(dir.path());
    assert!(len_after > len_before + 100);
    let mut checked = 0;
    for cut in len_before..=len_after {
        let copy = TempDir::new("torn-copy");
        copy_dir(dir.path(), copy.path());
        fs::OpenOptions::new()
            .write(true)
            .open(copy.join(LOG))
            .unwrap()
            .set_len(cut)
            .unwrap();
        let p =
            Persister::open(copy.path()).unwrap_or_else(|err| panic!("cut at byte {cut}: {err}"));
        if cut == len_after {
            assert_same(&p, &after, "uncut");
        } else {
            assert_same(&p, &before, &format!("cut at byte {cut}"));
            // The torn bytes are gone, and saving goes on after the last whole save.
            assert_eq!(log_len(copy.path()), len_before, "cut at byte {cut}");
            let next = Op::SaveRaftState(b"next".to_vec());
            next.apply(&p);
            drop(p);
            let p = Persister::open(copy.path()).unwrap();
            let expected = before.copy();
            next.apply(&expected);
            assert_same(&p, &expected, &format!("saved after a cut at byte {cut}"));
        }
        checked += 1;
    }
    assert_eq!(checked, len_after - len_before + 1);
}

#[test]
fn a_flipped_byte_anywhere_in_the_log_is_an_error_naming_it() {
    let dir = TempDir::new("flip");
    let (_, after, _) = saves_then_one_more(dir.path(), 8, |_| Op::SaveRaftState(b"x".to_vec()));
    drop(after);
    let log = fs::read(dir.join(LOG)).unwrap();
    let copy = TempDir::new("flip-copy");
    copy_dir(dir.path(), copy.path());
    for at in 0..log.len() {
        let mut damaged = log.clone();
        damaged[at] ^= 0x20;
        fs::write(copy.join(LOG), &damaged).unwrap();
        let err = match Persister::open(copy.path()) {
            Ok(_) => panic!("byte {at} of {} flipped, yet the log opened", log.len()),
            Err(err) => err,
        };
        assert!(err.is_corrupt(), "byte {at}: {err}");
        assert_eq!(err.path(), copy.join(LOG), "byte {at}: {err}");
        assert!(
            err.to_string()
                .contains(&copy.join(LOG).display().to_string()),
            "{err}"
        );
    }
}

#[test]
fn a_damaged_or_missing_snapshot_is_an_error_naming_it() {
    let dir = TempDir::new("snapshot");
    let p = Persister::open(dir.path()).unwrap();
    p.save(b"state".to_vec(), b"the snapshot".to_vec());
    drop(p);
    let name = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|path| path.to_str().unwrap().contains("raft.snapshot."))
        .expect("a snapshot file");
    for damage in [&b"the snapshoT"[..], b"the snapshot!", b""] {
        fs::write(&name, damage).unwrap();
        let err = Persister::open(dir.path())
            .err()
            .expect("a damaged snapshot");
        assert_eq!(err.path(), name, "{err}");
        assert!(err.to_string().contains("raft.snapshot."), "{err}");
    }
    fs::remove_file(&name).unwrap();
    let err = Persister::open(dir.path())
        .err()
        .expect("a missing snapshot");
    assert_eq!(err.path(), name, "{err}");
    fs::write(&name, b"the snapshot").unwrap();
    let p = Persister::open(dir.path()).unwrap();
    assert_eq!(p.read_snapshot(), b"the snapshot");
}

/// A frame with good checksums around `body`.
fn frame(body: &[u8]) -> Vec<u8> {
    let len = (body.len() as u64).to_le_bytes();
    let mut out = len.to_vec();
    out.extend_from_slice(&crc32fast::hash(&len).to_le_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    out
}

/// An update's body: kind 1, no snapshot, first, from, header, records.
fn update_body(first: u64, from: u64, header: &[u8], records: &[&[u8]]) -> Vec<u8> {
    let mut out = vec![1, 0];
    for n in [first, from, header.len() as u64] {
        out.extend_from_slice(&n.to_le_bytes());
    }
    out.extend_from_slice(header);
    out.extend_from_slice(&(records.len() as u64).to_le_bytes());
    for r in records {
        out.extend_from_slice(&(r.len() as u32).to_le_bytes());
    }
    for r in records {
        out.extend_from_slice(r);
    }
    out
}

#[test]
fn garbage_files_are_errors_not_panics() {
    let mut rng = SmallRng::seed_from_u64(3);
    let dir = TempDir::new("garbage");
    fs::create_dir_all(dir.path()).unwrap();
    let mut magic = b"RAFTLOG1".to_vec();
    let good = update_body(1, 1, b"h", &[b"a", b"b"]);
    let mut cases: Vec<(String, Vec<u8>)> = vec![
        ("empty".into(), vec![]),
        ("short".into(), b"RAFT".to_vec()),
        ("wrong magic".into(), b"RAFTLOG2".to_vec()),
        ("text".into(), b"term=3 vote=1\n".to_vec()),
        ("unknown kind".into(), {
            let mut body = good.clone();
            body[0] = 7;
            [magic.clone(), frame(&body)].concat()
        }),
        ("bad snapshot flag".into(), {
            let mut body = good.clone();
            body[1] = 5;
            [magic.clone(), frame(&body)].concat()
        }),
        ("bytes left over".into(), {
            let mut body = good.clone();
            body.push(0);
            [magic.clone(), frame(&body)].concat()
        }),
        ("records past the body".into(), {
            let mut body = good.clone();
            body.pop();
            [magic.clone(), frame(&body)].concat()
        }),
        ("a gap between saves".into(), {
            let second = update_body(1, 5, b"h", &[b"e"]);
            [magic.clone(), frame(&good), frame(&second)].concat()
        }),
        ("a huge record count".into(), {
            let mut body = update_body(1, 1, b"h", &[]);
            let at = body.len() - 8;
            body[at..].copy_from_slice(&u64::MAX.to_le_bytes());
            [magic.clone(), frame(&body)].concat()
        }),
    ];
    for i in 0..50 {
        let mut bytes = random_bytes(&mut rng, 300);
        if i % 2 == 0 {
            bytes = [magic.clone(), bytes].concat();
            // Long enough to be more than a torn length.
            bytes.extend((0..12).map(|_| rng.random::<u8>()));
        }
        cases.push((format!("random {i}"), bytes));
    }
    for (what, bytes) in cases {
        fs::write(dir.join(LOG), &bytes).unwrap();
        match Persister::open(dir.path()) {
            Ok(_) => panic!("{what}: garbage opened"),
            Err(err) => {
                assert!(err.is_corrupt(), "{what}: {err}");
                assert_eq!(err.path(), dir.join(LOG), "{what}: {err}");
            }
        }
    }
    // The good frame alone opens: the cases above fail for what they damage.
    magic.extend(frame(&good));
    fs::write(dir.join(LOG), &magic).unwrap();
    let p = Persister::open(dir.path()).unwrap();
    assert_eq!(p.read_raft_state(), b"hab");
    assert_eq!(p.saved_records(), Some(1..3));
    drop(p);
    // A log that is a directory, or a directory that is a file: errors too.
    fs::remove_file(dir.join(LOG)).unwrap();
    fs::create_dir(dir.join(LOG)).unwrap();
    let err = Persister::open(dir.path())
        .err()
        .expect("a directory as the log");
    assert!(err.to_string().contains(LOG), "{err}");
    fs::write(dir.join("file"), b"").unwrap();
    let err = Persister::open(dir.join("file"))
        .err()
        .expect("a file as the dir");
    assert!(err.to_string().contains("file"), "{err}");
}

/// An update of the given byte-string records.
fn an_update(first: u64, from: u64, records: &[&[u8]]) -> StateUpdate {
    let mut new = NewRecords::default();
    for record in records {
        new.push(|out| out.extend_from_slice(record));
    }
    StateUpdate {
        header: b"h".to_vec(),
        first,
        from,
        records: new,
    }
}

#[test]
fn an_invalid_save_panics_before_anything_is_written() {
    let dir = TempDir::new("invalid");
    let p = Persister::open(dir.path()).unwrap();
    p.save_update(an_update(1, 1, &[b"a", b"b"]), None);
    let log = fs::read(dir.join(LOG)).unwrap();
    // A gap after the records saved, and an append before the first of them, each with a
    // snapshot: neither the log nor a snapshot file may change.
    for (bad, expected) in [
        (
            an_update(1, 5, &[b"e"]),
            "from 5, but the saved ones run 1..3",
        ),
        (
            an_update(0, 0, &[b"z"]),
            "from 0, but the saved ones start at 1",
        ),
    ] {
        let panic = panic::catch_unwind(AssertUnwindSafe(|| {
            p.save_update(bad, Some(b"snapshot".to_vec()))
        }))
        .expect_err("an invalid save was taken");
        let message = panic.downcast_ref::<String>().expect("a message");
        assert!(message.contains(expected), "{message}");
        let now = fs::read(dir.join(LOG)).unwrap();
        assert!(
            now == log,
            "after {message}: the log went from {} to {} bytes",
            log.len(),
            now.len()
        );
        assert_eq!(p.read_raft_state(), b"hab", "after {message}");
        assert!(p.read_snapshot().is_empty(), "after {message}");
    }
    // Still saving, and the files hold only the valid saves.
    p.save_update(an_update(1, 3, &[b"c"]), None);
    drop(p);
    let p = Persister::open(dir.path()).unwrap();
    assert_eq!(p.read_raft_state(), b"habc");
    assert_eq!(p.saved_records(), Some(1..4));
    assert_eq!(
        snapshot_files(dir.path()),
        0,
        "a snapshot file written for an invalid save"
    );
}

/// How many snapshot files the directory holds.
fn snapshot_files(dir: &Path) -> usize {
    fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_str().unwrap().starts_with("raft.snapshot.")
        })
        .count()
}

#[test]
fn a_second_open_of_a_directory_in_use_is_refused() {
    let dir = TempDir::new("lock");
    let p = Persister::open(dir.path()).unwrap();
    p.save_raft_state(b"mine".to_vec());
    let err = Persister::open(dir.path()).err().expect("a second open");
    assert!(err.is_in_use(), "{err}");
    assert_eq!(err.path(), dir.path());
    let message = err.to_string();
    assert!(message.contains("in use by another server"), "{message}");
    assert!(
        message.contains(&format!("pid {}", std::process::id())),
        "{message}"
    );
    // The refused open changed nothing, and the directory is free once the first is gone.
    assert_eq!(p.read_raft_state(), b"mine");
    drop(p);
    let p = Persister::open(dir.path()).unwrap();
    assert_eq!(p.read_raft_state(), b"mine");
}

/// What a peer's service has applied: its commands in log order (restored from the
/// snapshot, then applied one by one).
type Applied = Arc<Mutex<Vec<Vec<u8>>>>;

fn encode_commands(commands: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for command in commands {
        out.extend_from_slice(&(command.len() as u32).to_le_bytes());
        out.extend_from_slice(command);
    }
    out
}

fn decode_commands(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let len = u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
        out.push(bytes[4..4 + len].to_vec());
        bytes = &bytes[4 + len..];
    }
    out
}

/// Three Raft peers on a simulated network, each with a persister on disk.
struct Cluster {
    net: Network,
    rafts: Vec<Raft>,
    applied: Vec<Applied>,
    persisters: Vec<Weak<Persister>>,
    generation: usize,
}

impl Cluster {
    fn start(net: &Network, dirs: &[PathBuf], generation: usize) -> Cluster {
        let n = dirs.len();
        let name = |i: usize| format!("g{generation}-{i}");
        let mut cluster = Cluster {
            net: net.clone(),
            rafts: Vec::new(),
            applied: Vec::new(),
            persisters: Vec::new(),
            generation,
        };
        for (i, dir) in dirs.iter().enumerate() {
            let persister = Arc::new(Persister::open(dir).unwrap());
            // Like a key/value service, the peer restores its snapshot itself.
            let applied: Applied =
                Arc::new(Mutex::new(decode_commands(&persister.read_snapshot())));
            let ends = (0..n)
                .map(|j| {
                    let end = format!("{}->{j}", name(i));
                    let client = net.make_end(end.clone());
                    net.connect(&end, &name(j));
                    net.enable(&end, true);
                    client
                })
                .collect();
            cluster.persisters.push(Arc::downgrade(&persister));
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let raft = Raft::new(ends, i, persister, tx).unwrap();
            let mut server = Server::new();
            server.add_service(raft.service());
            net.add_server(name(i), server);
            let (state, handle) = (applied.clone(), raft.clone());
            labrpc::sim::spawn(async move {
                while let Some(msg) = rx.recv().await {
                    let mut commands = state.lock().unwrap();
                    match msg {
                        ApplyMsg::Command { index, command, .. } => {
                            assert_eq!(index, commands.len() as u64 + 1, "peer {i}");
                            commands.push(command);
                            if index.is_multiple_of(10) {
                                handle.snapshot(index, encode_commands(&commands));
                            }
                        }
                        ApplyMsg::Snapshot { index, data, .. } => {
                            *commands = decode_commands(&data);
                            assert_eq!(commands.len() as u64, index, "peer {i}");
                        }
                    }
                }
            });
            cluster.rafts.push(raft);
            cluster.applied.push(applied);
        }
        cluster
    }

    /// Commits `command` (retrying through leader changes) and waits until every peer has
    /// applied it.
    async fn commit(&self, command: Vec<u8>) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while tokio::time::Instant::now() < deadline {
            let started = self
                .rafts
                .iter()
                .find_map(|raft| raft.start(command.clone()));
            if let Some((index, _)) = started {
                for _ in 0..100 {
                    let done = self.applied.iter().all(|applied| {
                        applied.lock().unwrap().get(index as usize - 1) == Some(&command)
                    });
                    if done {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            } else {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        panic!("generation {}: {command:?} did not commit", self.generation);
    }

    /// Kills every peer and waits until their drivers have let go of the persisters (so
    /// their directories are unlocked).
    async fn stop(self) {
        for (i, raft) in self.rafts.iter().enumerate() {
            raft.kill();
            self.net.delete_server(&format!("g{}-{i}", self.generation));
        }
        for _ in 0..500 {
            if self.persisters.iter().all(|p| p.upgrade().is_none()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the killed peers still hold their persisters after 5 s");
    }
}

#[test]
fn raft_peers_restart_from_their_directories() {
    let root = TempDir::new("raft");
    let dirs: Vec<PathBuf> = (0..3).map(|i| root.join(&format!("peer{i}"))).collect();
    let command = |i: usize| format!("command {i}").into_bytes();
    let (_, outcome) = labrpc::sim::run(1, false, Duration::from_secs(120), || async {
        let net = Network::new();
        let cluster = Cluster::start(&net, &dirs, 0);
        for i in 1..=45 {
            cluster.commit(command(i)).await;
        }
        let terms: Vec<u64> = cluster.rafts.iter().map(|r| r.get_state().0).collect();
        cluster.stop().await;

        // What each directory holds: every entry, in the log or in the snapshot.
        for (i, dir) in dirs.iter().enumerate() {
            let p = Persister::open(dir).unwrap();
            let snapshot = decode_commands(&p.read_snapshot());
            assert!(
                snapshot.len() >= 40,
                "peer {i}: snapshot of {}",
                snapshot.len()
            );
            assert_eq!(
                snapshot[..],
                (1..=snapshot.len()).map(command).collect::<Vec<_>>()
            );
            assert_eq!(
                p.saved_records(),
                Some(snapshot.len() as u64 + 1..46),
                "peer {i}"
            );
        }

        let cluster = Cluster::start(&net, &dirs, 1);
        // The directories are the new peers' own.
        let err = Persister::open(&dirs[0]).err().expect("a dir in use");
        assert!(err.is_in_use(), "{err}");
        for (i, raft) in cluster.rafts.iter().enumerate() {
            assert!(raft.get_state().0 >= terms[i], "peer {i} forgot its term");
        }
        // Entries 1..=45 commit again with the first of the new leader's term, which can
        // only happen if the peers kept them: each peer's service ends up with all 46.
        cluster.commit(command(46)).await;
        let expected: Vec<Vec<u8>> = (1..=46).map(command).collect();
        for (i, applied) in cluster.applied.iter().enumerate() {
            assert_eq!(*applied.lock().unwrap(), expected, "peer {i}");
        }
        cluster.stop().await;
    });
    outcome.unwrap();
}
