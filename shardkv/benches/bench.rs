// BEGIN SOLUTION 4
//! Benchmarks of the sharded key/value service: `cargo bench -p shardkv`.
//!
//! Every scenario wires, on one labrpc network, 3 shard controllers ("ctrler0..2") and 3
//! replica groups (gids 100, 101, 102) of 3 shardkv servers each ("server-<gid>-<i>"), with a
//! `make_end` that reaches any server by name, as the tests' tester does. The network is
//! reliable. Two things are measured:
//!
//! 1. **Client throughput** on the wall clock (`sim::run` in realtime mode: a multi-threaded
//!    tokio runtime), with all three groups joined: N clients each do Put then Get, cycling
//!    over ten keys of their own (one per shard, so every group serves them), for [`RUN`];
//!    printed as completed operations per second. `maxraftstate` keeps the logs short, as
//!    kvraft's bench does. What this measures is the CPU cost of an operation through clerk,
//!    group, Raft and the simulated network.
//! 2. **Moving one shard** of 1, 10 and 100 MB, as a simulation (paused clock, 1–2 ms per
//!    message on the wire, as the tests' tester sets). Only group A (100) has joined; one
//!    clerk fills one shard with 100 values adding up to that size. Then group B (101) joins;
//!    the controller's rebalancer gives B five of A's shards, the full one among them (the
//!    bench picks the shard so). Measured from the Join: when a fresh clerk's Get on that
//!    shard is served (by B), and when the move has settled (B serves it without further
//!    clean-up and every server of A has dropped its copy), in simulated time
//!    (`sim::now()`) and in wall time (the CPU the move costs: encoding, copying,
//!    persisting, applying, which the paused clock does not count); and the bytes that
//!    crossed the network meanwhile (`Network::total_bytes`). `maxraftstate` is -1 here (no
//!    snapshots), so nothing but the move itself copies the shard.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use labrpc::{sim, ClientEnd, Network, Server};
use raft::Persister;
use shardkv::ctrler::rebalance::rebalance;
use shardkv::kv::state::Status;
use shardkv::kv::MakeEnd;
use shardkv::{key2shard, Clerk, CtrlerClerk, Gid, ShardCtrler, ShardKv, NSHARDS};
use tokio::time::Instant;

const NCTRLERS: usize = 3;
const GIDS: [Gid; 3] = [100, 101, 102];
const NSERVERS: usize = 3;

/// How long each throughput scenario runs its clients.
const RUN: Duration = Duration::from_secs(3);
/// The throughput scenarios' snapshot threshold (kvraft's bench uses the same).
const MAXRAFTSTATE: i64 = 64 * 1024;
/// The move scenarios: one shard of each size, filled with this many values.
const SHARD_SIZES: [usize; 3] = [1 << 20, 10 << 20, 100 << 20];
const VALUES_PER_SHARD: usize = 100;
/// Per-message wire latency in the move scenarios (the tests' tester uses the same).
const LATENCY: (Duration, Duration) = (Duration::from_millis(1), Duration::from_millis(2));

const MB: f64 = (1 << 20) as f64;

fn main() {
    println!("shardkv: 3 controllers, 3 groups of 3 servers, reliable network");
    println!();
    println!("1. client throughput, wall clock (realtime mode), all 3 groups joined, each client");
    println!(
        "   doing Put then Get over 10 keys of its own (one per shard), maxraftstate {MAXRAFTSTATE}:"
    );
    for clients in [1, 64] {
        let ops = simulate(true, Duration::from_secs(120), || throughput(clients));
        println!(
            "   {clients:2} client(s): {ops:6} ops in {:.1} s = {:7.0} ops/s",
            RUN.as_secs_f64(),
            ops as f64 / RUN.as_secs_f64()
        );
    }
    println!();
    println!("2. moving one shard from group A (100) to group B (101) when B joins, simulated");
    println!("   (paused clock, 1-2 ms per message), maxraftstate -1 (no snapshots).");
    println!("   Expected network bytes ~3x the shard: B's leader pulls it from A (1x), then");
    println!("   replicates the InsertShards entry to B's two followers (2x); A drops its copy");
    println!("   through a small DeleteShards entry. Simulated times are polls and round trips");
    println!("   (100 ms config poll, the clerk's 100 ms retry): labrpc models latency, not");
    println!("   bandwidth, and CPU takes no simulated time, so they do not grow with the shard.");
    println!("   Wall time (Join to settled) is the CPU the move costs.");
    for size in SHARD_SIZES {
        let m = simulate(false, Duration::from_secs(600), || move_shard(size));
        println!(
            "   {:3.0} MB shard ({VALUES_PER_SHARD} values, filled in {:5.2} s wall): Get served \
             after {:3.0} ms sim; settled after {:3.0} ms sim, {:6.3} s wall; \
             {:6.1} MB on the network = {:.2}x the shard",
            size as f64 / MB,
            m.fill_wall.as_secs_f64(),
            m.served_sim.as_secs_f64() * 1e3,
            m.settled_sim.as_secs_f64() * 1e3,
            m.settled_wall.as_secs_f64(),
            m.bytes as f64 / MB,
            m.bytes as f64 / size as f64
        );
    }
}

/// Runs `body` as one simulation (seed 1), or on the wall clock if `realtime`.
fn simulate<F, Fut>(realtime: bool, budget: Duration, body: F) -> Fut::Output
where
    F: FnOnce() -> Fut,
    Fut: Future,
{
    let (_, outcome) = sim::run(1, realtime, budget, body);
    outcome.unwrap_or_else(|e| panic!("benchmark failed: {e}"))
}

// ---- 1. throughput -------------------------------------------------------------------

/// Runs `clients` clients for [`RUN`] against three joined groups; returns how many
/// operations completed.
async fn throughput(clients: usize) -> u64 {
    let cluster = Cluster::start(MAXRAFTSTATE);
    cluster.join(&GIDS).await;
    // Wait until every shard is served before the clock starts.
    let mut warmup = cluster.clerk("warmup");
    for key in keys_over_all_shards("warmup") {
        warmup.put(&key, "x").await;
    }

    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + RUN;
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let mut ck = cluster.clerk(&format!("c{c}"));
            let done = done.clone();
            sim::spawn(async move {
                let keys = keys_over_all_shards(&format!("c{c}"));
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let key = &keys[n as usize % keys.len()];
                    ck.put(key, &n.to_string()).await;
                    let v = ck.get(key).await;
                    assert_eq!(v, n.to_string(), "client {c} read a wrong value");
                    n += 1;
                    done.fetch_add(2, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a client failed");
    }
    cluster.stop();
    done.load(Ordering::Relaxed)
}

/// Ten keys for one client, one on each shard.
fn keys_over_all_shards(owner: &str) -> Vec<String> {
    let keys: Vec<String> = (0..NSHARDS)
        .map(|s| format!("{}{owner}", key_prefix(s)))
        .collect();
    debug_assert!((0..NSHARDS).all(|s| key2shard(&keys[s]) == s));
    keys
}

/// A first character that puts a key on `shard` (digits: '0' is shard 8).
fn key_prefix(shard: usize) -> char {
    let c = (b'0'..=b'9')
        .find(|&b| key2shard(&(b as char).to_string()) == shard)
        .expect("the ten digits cover every shard");
    c as char
}

// ---- 2. moving a shard ---------------------------------------------------------------

/// What one shard move cost.
struct Move {
    fill_wall: Duration,
    /// From the Join until a clerk's Get on the shard was served.
    served_sim: Duration,
    /// From the Join until B served the shard with no clean-up pending and A had dropped it.
    settled_sim: Duration,
    settled_wall: Duration,
    /// Bytes on the network from the Join until settled.
    bytes: u64,
}

/// Fills one shard of group A with `size` bytes, lets B join, and measures the move.
async fn move_shard(size: usize) -> Move {
    let (a, b) = (GIDS[0], GIDS[1]);
    let cluster = Cluster::start(-1);
    cluster.net.set_latency(LATENCY.0, LATENCY.1);
    cluster.join(&[a]).await;

    // The first shard the rebalancer hands B when it joins: the one to fill.
    let after_join = rebalance(&[a; NSHARDS], &[a, b]);
    let shard = (0..NSHARDS)
        .find(|&s| after_join[s] == b)
        .expect("B gets shards");
    let prefix = key_prefix(shard);
    let fill_start = std::time::Instant::now();
    let mut ck = cluster.clerk("filler");
    let value = "v".repeat(size / VALUES_PER_SHARD);
    for i in 0..VALUES_PER_SHARD {
        ck.put(&format!("{prefix}{i:03}"), &value).await;
    }
    let marker = format!("{prefix}marker");
    ck.put(&marker, "here").await;
    let fill_wall = fill_start.elapsed();
    // Let A's followers catch up, so the measurement starts from a quiet cluster.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(cluster.all_hold(a, shard, size));

    let (sim0, wall0, bytes0) = (sim::now(), std::time::Instant::now(), cluster.bytes());
    cluster.join(&[b]).await;
    let mut reader = cluster.clerk("reader");
    assert_eq!(reader.get(&marker).await, "here");
    let served_sim = sim::now() - sim0;
    while !cluster.moved(shard, a, b) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (settled_sim, settled_wall) = (sim::now() - sim0, wall0.elapsed());
    let bytes = cluster.bytes() - bytes0;

    assert!(
        cluster.all_hold(b, shard, size),
        "B lacks some of the shard"
    );
    assert_eq!(cluster.data_sizes(a), [0; NSERVERS], "A kept data");
    assert_eq!(reader.get(&format!("{prefix}000")).await.len(), value.len());
    cluster.stop();
    Move {
        fill_wall,
        served_sim,
        settled_sim,
        settled_wall,
        bytes,
    }
}

// ---- the cluster ---------------------------------------------------------------------

/// Three controllers and three groups of three servers on one network; no group joined.
struct Cluster {
    net: Network,
    ctrlers: Vec<Arc<ShardCtrler>>,
    groups: BTreeMap<Gid, Vec<Arc<ShardKv>>>,
    /// Numbers the ends made, so every end's name is unique.
    next_end: Arc<AtomicU64>,
}

impl Cluster {
    fn start(maxraftstate: i64) -> Cluster {
        let net = Network::new();
        let next_end = Arc::new(AtomicU64::new(0));
        let names: Vec<String> = (0..NCTRLERS).map(|i| format!("ctrler{i}")).collect();
        let ctrlers = (0..NCTRLERS)
            .map(|i| {
                let peers = ends(&net, &next_end, &names[i], &names);
                let ctrler = ShardCtrler::start(peers, i, Arc::new(Persister::new()))
                    .expect("a fresh controller starts");
                let mut server = Server::new();
                server.add_service(ctrler.service());
                server.add_service(ctrler.raft().service());
                net.add_server(names[i].clone(), server);
                ctrler
            })
            .collect();
        let mut cluster = Cluster {
            net,
            ctrlers,
            groups: BTreeMap::new(),
            next_end,
        };
        for gid in GIDS {
            let group = (0..NSERVERS)
                .map(|i| cluster.start_server(gid, i, maxraftstate))
                .collect();
            cluster.groups.insert(gid, group);
        }
        cluster
    }

    fn start_server(&self, gid: Gid, i: usize, maxraftstate: i64) -> Arc<ShardKv> {
        let me = server_name(gid, i);
        let peers = ends(&self.net, &self.next_end, &me, &group_names(gid));
        let kv = ShardKv::start(
            peers,
            i,
            Arc::new(Persister::new()),
            maxraftstate,
            gid,
            self.ctrler_ends(&me),
            self.make_end(&me),
        )
        .expect("a fresh server starts");
        let mut server = Server::new();
        server.add_service(kv.service());
        server.add_service(kv.raft().service());
        self.net.add_server(me, server);
        kv
    }

    fn ctrler_ends(&self, owner: &str) -> Vec<ClientEnd> {
        let names: Vec<String> = (0..NCTRLERS).map(|i| format!("ctrler{i}")).collect();
        ends(&self.net, &self.next_end, owner, &names)
    }

    /// The course's `make_end` for `owner`: a fresh end to any server, by name.
    fn make_end(&self, owner: &str) -> MakeEnd {
        let (net, next_end, owner) = (self.net.clone(), self.next_end.clone(), owner.to_string());
        Arc::new(move |server: &str| end(&net, &next_end, &owner, server))
    }

    fn clerk(&self, owner: &str) -> Clerk {
        Clerk::new(self.ctrler_ends(owner), self.make_end(owner))
    }

    /// Groups `gids` join, in one Join.
    async fn join(&self, gids: &[Gid]) {
        let groups = gids.iter().map(|&g| (g, group_names(g))).collect();
        let owner = format!("joiner{}", self.next_end.load(Ordering::Relaxed));
        let mut mck = CtrlerClerk::new(self.ctrler_ends(&owner));
        mck.join(groups)
            .await
            .expect("the controller refused a join");
    }

    /// Whether every server of `gid` holds at least `size` bytes of `shard`'s data.
    fn all_hold(&self, gid: Gid, shard: usize, size: usize) -> bool {
        self.groups[&gid]
            .iter()
            .all(|kv| kv.read(|s| s.status(shard) == Status::Serving && s.data_size() >= size))
    }

    /// Whether `shard` has settled on `to` (served, no clean-up pending) on every server of
    /// `to`, and every server of `from` has dropped it.
    fn moved(&self, shard: usize, from: Gid, to: Gid) -> bool {
        let status_is = |gid: Gid, status: Status| {
            self.groups[&gid]
                .iter()
                .all(|kv| kv.read(|s| s.status(shard) == status))
        };
        status_is(to, Status::Serving) && status_is(from, Status::Absent)
    }

    /// Bytes of keys and values each server of `gid` holds.
    fn data_sizes(&self, gid: Gid) -> Vec<usize> {
        self.groups[&gid]
            .iter()
            .map(|kv| kv.read(|s| s.data_size()))
            .collect()
    }

    fn bytes(&self) -> u64 {
        self.net.total_bytes()
    }

    fn stop(&self) {
        for kv in self.groups.values().flatten() {
            kv.kill();
        }
        for ctrler in &self.ctrlers {
            ctrler.kill();
        }
        self.net.cleanup();
    }
}

fn server_name(gid: Gid, i: usize) -> String {
    format!("server-{gid}-{i}")
}

fn group_names(gid: Gid) -> Vec<String> {
    (0..NSERVERS).map(|i| server_name(gid, i)).collect()
}

/// Fresh ends from `owner` to each of `servers`, connected and enabled.
fn ends(net: &Network, next_end: &AtomicU64, owner: &str, servers: &[String]) -> Vec<ClientEnd> {
    servers
        .iter()
        .map(|s| end(net, next_end, owner, s))
        .collect()
}

/// A fresh end from `owner` to `server`, connected and enabled.
fn end(net: &Network, next_end: &AtomicU64, owner: &str, server: &str) -> ClientEnd {
    let k = next_end.fetch_add(1, Ordering::Relaxed);
    let name = format!("{owner}>{server}~{k}");
    let end = net.make_end(name.clone());
    net.connect(&name, server);
    net.enable(&name, true);
    end
}
// END SOLUTION
