//! The course's `GenericTest` and `GenericTestSpeed`, which 19 of the 23 tests are made of,
//! and the value checks they share.
//!
//! As in the course, clients loop on operations without a gap, and every operation takes
//! time: the tester's network gives each message 3–5 ms on the wire (see
//! [`WIRE_LATENCY`](super::WIRE_LATENCY)). So when the tester shuts every server down,
//! nearly every client is in the middle of an operation, which must then complete exactly
//! once after the restart; the test prints how many were, and the reliable restart tests
//! require that most were.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use labrpc::sim;
use tokio::time::{sleep, Instant};

use tester::KvClerk;

use super::{Config, History, TestClerk, ELECTION_TIMEOUT};

/// How long the clients run in each of the three iterations.
const CLIENT_RUN: Duration = Duration::from_secs(5);

/// What a GenericTest exercises.
#[derive(Clone, Copy)]
pub struct Generic {
    pub part: &'static str,
    pub nclients: usize,
    pub nservers: usize,
    pub unreliable: bool,
    pub crash: bool,
    pub partitions: bool,
    pub maxraftstate: i64,
    pub randomkeys: bool,
}

impl Generic {
    /// The course's title: "unreliable net, restarts, partitions, snapshots, random keys,
    /// many clients", as applicable.
    fn title(&self) -> String {
        let mut title = String::new();
        if self.unreliable {
            title += "unreliable net, ";
        }
        if self.crash {
            title += "restarts, ";
        }
        if self.partitions {
            title += "partitions, ";
        }
        if self.maxraftstate != -1 {
            title += "snapshots, ";
        }
        if self.randomkeys {
            title += "random keys, ";
        }
        title += if self.nclients > 1 {
            "many clients"
        } else {
            "one client"
        };
        title
    }
}

/// The course's `GenericTest`: see specs/kvraft.md, section 3.2.
pub async fn generic_test(g: Generic) {
    let title = g.title();
    let cfg = Config::new(g.nservers, g.unreliable, g.maxraftstate);
    cfg.begin(g.part, &title);
    let history = History::new();
    let mut ck = cfg.make_client(&cfg.all());
    ck.record_in(&history, 0);

    // Clients in the middle of an operation when the servers went down, summed over the
    // restarts: those operations must complete, exactly once, after the restart.
    let (mut restarts, mut busy_at_restart, mut clients_at_restart) = (0, 0, 0);
    for _iteration in 0..3 {
        let done_clients = Arc::new(AtomicBool::new(false));
        let done_partitioner = Arc::new(AtomicBool::new(false));
        let mut outstanding = Vec::new();
        let clients: Vec<_> = (0..g.nclients)
            .map(|cli| {
                let mut myck = cfg.make_client(&cfg.all());
                myck.record_in(&history, cli);
                outstanding.push(myck.outstanding());
                let (cfg, done) = (cfg.clone(), done_clients.clone());
                sim::spawn(async move {
                    let j = run_client(cli, &mut myck, g, &done).await;
                    cfg.delete_client(&myck);
                    j
                })
            })
            .collect();

        let partitioner = if g.partitions {
            // Let the clients make some progress without interruption first.
            sleep(Duration::from_secs(1)).await;
            let (cfg, done) = (cfg.clone(), done_partitioner.clone());
            Some(sim::spawn(async move { partitioner(&cfg, &done).await }))
        } else {
            None
        };
        sleep(CLIENT_RUN).await;
        done_clients.store(true, Ordering::Release);
        done_partitioner.store(true, Ordering::Release);

        if let Some(partitioner) = partitioner {
            partitioner.await.expect("the partitioner failed");
            // A client may have submitted a request in a minority: it completes only once
            // that server learns of a newer term.
            cfg.connect_all();
            sleep(ELECTION_TIMEOUT).await;
        }

        if g.crash {
            let busy = outstanding
                .iter()
                .filter(|f| f.load(Ordering::Acquire))
                .count();
            restarts += 1;
            println!(
                "info: restart {restarts}: {busy} of {} clients had an operation outstanding",
                g.nclients
            );
            busy_at_restart += busy;
            clients_at_restart += g.nclients;
            for i in 0..g.nservers {
                cfg.shutdown_server(i);
            }
            // Shutting down is not instantaneous in the course either.
            sleep(ELECTION_TIMEOUT).await;
            for i in 0..g.nservers {
                cfg.start_server(i);
            }
            cfg.connect_all();
        }

        for (i, client) in clients.into_iter().enumerate() {
            let j = client.await.expect("a client failed");
            let v = ck.get(&i.to_string()).await;
            if !g.randomkeys {
                check_clnt_appends(i, &v, j);
            }
        }

        if g.maxraftstate > 0 {
            // After the servers have handled every request and had time to snapshot.
            let size = cfg.log_size();
            let limit = 8 * g.maxraftstate as usize;
            assert!(
                size <= limit,
                "logs were not trimmed ({size} > 8*{})",
                g.maxraftstate
            );
        }
        if g.maxraftstate < 0 {
            let size = cfg.snapshot_size();
            assert!(
                size == 0,
                "snapshot too large ({size}), should not be used when maxraftstate = {}",
                g.maxraftstate
            );
        }
    }

    if g.crash && !g.unreliable && !g.partitions {
        // On a reliable network an operation is never waiting on a retry, so this is about
        // the path, not luck: most clients must have been mid-operation at the restarts.
        assert!(
            2 * busy_at_restart > clients_at_restart,
            "only {busy_at_restart} of {clients_at_restart} clients had an operation outstanding \
             at the restarts: the test no longer exercises operations in flight across a restart"
        );
    }
    history.check(&title);
    cfg.end();
    cfg.cleanup();
}

/// One client of an iteration: returns how many appends (and puts) it made.
async fn run_client(cli: usize, ck: &mut TestClerk, g: Generic, done: &AtomicBool) -> usize {
    let mut j = 0;
    let mut last = String::new(); // what the client's key should hold (own keys only)
    if !g.randomkeys {
        ck.put(&cli.to_string(), &last).await;
    }
    while !done.load(Ordering::Acquire) {
        let key = if g.randomkeys {
            sim::random_range(0..g.nclients).to_string()
        } else {
            cli.to_string()
        };
        let nv = format!("x {cli} {j} y");
        if sim::random_range(0..1000) < 500 {
            ck.append(&key, &nv).await;
            if !g.randomkeys {
                last.push_str(&nv);
            }
            j += 1;
        } else if g.randomkeys && sim::random_range(0..1000) < 100 {
            // Only with random keys: a Put would break the check of Get's value below.
            ck.put(&key, &nv).await;
            j += 1;
        } else {
            let v = ck.get(&key).await;
            if !g.randomkeys && v != last {
                panic!("get wrong value, key {key}, wanted:\n{last}\n, got\n{v}\n");
            }
        }
    }
    j
}

/// Repeatedly splits the servers into two random sides (either may be empty).
async fn partitioner(cfg: &Config, done: &AtomicBool) {
    while !done.load(Ordering::Acquire) {
        let mut sides = (Vec::new(), Vec::new());
        for i in 0..cfg.n() {
            if sim::random_bool(0.5) {
                sides.1.push(i);
            } else {
                sides.0.push(i);
            }
        }
        cfg.partition(&sides.0, &sides.1);
        let extra = Duration::from_millis(sim::random_range(0..200));
        sleep(ELECTION_TIMEOUT + extra).await;
    }
}

/// The course's `GenericTestSpeed`: 1000 sequential appends from one clerk on a reliable
/// network, faster than three per 100 ms heartbeat interval.
pub async fn generic_test_speed(part: &'static str, maxraftstate: i64) {
    const NSERVERS: usize = 3;
    const NUM_OPS: usize = 1000;
    let cfg = Config::new(NSERVERS, false, maxraftstate);
    let mut ck = cfg.make_client(&cfg.all());
    cfg.begin(part, "ops complete fast enough");

    // Wait until the first op completes, so a leader is elected and the servers are ready.
    ck.inner().get("x").await;
    let start = Instant::now();
    for i in 0..NUM_OPS {
        ck.inner().append("x", &format!("x 0 {i} y")).await;
    }
    let duration = start.elapsed();
    let v = ck.inner().get("x").await;
    check_clnt_appends(0, &v, NUM_OPS);

    // The course: the heartbeat interval is about 100 ms; require at least three ops per.
    let time_per_op = Duration::from_millis(100) / 3;
    let per_op = duration / NUM_OPS as u32;
    println!(
        "  info: {NUM_OPS} appends in {:.3} s of simulated time: {:.3} ms per operation",
        duration.as_secs_f64(),
        per_op.as_secs_f64() * 1e3
    );
    assert!(
        duration <= time_per_op * NUM_OPS as u32,
        "Operations completed too slowly {per_op:?}/op > {time_per_op:?}/op"
    );
    cfg.end();
    cfg.cleanup();
}

/// Every "x `clnt` k y" for k < `count` is in `v` exactly once, in order: the course's
/// check, with its failures in its order (the first k missing, duplicated or out of order).
///
/// The course looks each element up from the start of the value, which is quadratic in the
/// value's length (a few per cent of the suite); this finds every element in one pass. An
/// occurrence of "x `clnt` k y" is an occurrence of "x `clnt` " followed by a run of digits
/// that is k written in decimal and then " y"; each such place is one k, so recording the
/// first and last place of every k finds what `find` and `rfind` would.
pub fn check_clnt_appends(clnt: usize, v: &str, count: usize) {
    let prefix = format!("x {clnt} ");
    // (first, last) byte offset of each element k < count.
    let mut places: Vec<Option<(usize, usize)>> = vec![None; count];
    let bytes = v.as_bytes();
    let mut from = 0;
    while let Some(found) = v[from..].find(&prefix) {
        let at = from + found;
        // The prefix starts with an ASCII 'x', so the next byte starts a character.
        from = at + 1;
        let digits = &v[at + prefix.len()..];
        let len = digits.bytes().take_while(u8::is_ascii_digit).count();
        let canonical = len == 1 || (len > 1 && !digits.starts_with('0'));
        if !canonical || !bytes[at + prefix.len() + len..].starts_with(b" y") {
            continue;
        }
        // Too long to parse: far beyond `count` anyway.
        let Ok(k) = digits[..len].parse::<usize>() else {
            continue;
        };
        if let Some(place) = places.get_mut(k) {
            let first = place.map_or(at, |(first, _)| first);
            *place = Some((first, at));
        }
    }
    let mut last_off = None;
    for (j, place) in places.into_iter().enumerate() {
        let Some((off, off1)) = place else {
            panic!("{clnt} missing element x {clnt} {j} y in Append result {v}");
        };
        assert!(
            off1 == off,
            "duplicate element x {clnt} {j} y in Append result"
        );
        if let Some(last) = last_off {
            assert!(
                off > last,
                "wrong order for element x {clnt} {j} y in Append result"
            );
        }
        last_off = Some(off);
    }
}

/// Every client's appends are in `v` exactly once, in order (`counts[i]` from client i).
pub fn check_concurrent_appends(v: &str, counts: &[usize]) {
    for (i, &count) in counts.iter().enumerate() {
        check_clnt_appends(i, v, count);
    }
}

/// The value of `key` read through `ck` is `value`.
pub async fn check(ck: &mut TestClerk, key: &str, value: &str) {
    let v = ck.get(key).await;
    assert!(v == value, "get({key}): expected:\n{value}\nreceived:\n{v}");
}
