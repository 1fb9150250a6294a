//! The course's shardkv tester (`src/shardkv/config.go`), in Rust, built from the toolkit.
//!
//! A [`Config`] is three shard controllers ("ctrler0..2", never restarted) and three replica
//! groups (gids 100, 101, 102) of three shardkv servers each ("server-<gid>-<i>"), on one
//! simulated network. Each server gets ends to its group's peers, ends to the controllers,
//! and a `make_end` that reaches any server by name. Tests join and leave groups through the
//! tester's own controller clerk, shut whole groups (or single servers) down and restart
//! them from a copy of what they persisted, and check the size of what servers persist.
//! Each group's wiring is a toolkit [`Group`]; clerks are toolkit [`LoggedClerk`]s.

#![allow(dead_code)] // Each test module uses a different part of the tester.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use harness::report;
use labrpc::{ClientEnd, Network, Server};
use shardkv::kv::MakeEnd;
use shardkv::{Clerk, CtrlerClerk, Gid, ShardCtrler, ShardKv};
use tester::logged::OpCounter;
use tester::{shuffle, Group, KvClerk, LoggedClerk};
use tokio::time::Instant;

pub use tester::History;

/// Controller servers, replica groups, and servers per group, as in the course.
pub const NCTRLERS: usize = 3;
pub const NGROUPS: usize = 3;
pub const NSERVERS: usize = 3;

/// Each message's time on the wire: 3–5 ms, as in the Lab 3 tester (tokio's timers count
/// whole milliseconds). The course's reliable network delivers in no time, but its clients
/// still spend real time on each operation; without a latency, an operation here would take
/// no simulated time and the back-to-back clients of `concurrent3` would stop the paused
/// clock for good. With 1–2 ms (the first choice) those clients made three times the
/// operations they make now, and the suite cost 1.6 times the wall time, for no scenario the
/// tests need: no Lab 4 test has a speed criterion (README, Lab 4).
pub const WIRE_LATENCY: (Duration, Duration) = (Duration::from_millis(3), Duration::from_millis(5));

/// Runs one test as a simulation with the course's 120 s budget.
pub fn run<F, Fut>(body: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    harness::run_test(harness::COURSE_TEST_BUDGET, body);
}

/// A shardkv clerk, as the toolkit's [`LoggedClerk`] drives it.
pub struct Skv(pub Clerk);

impl KvClerk for Skv {
    async fn get(&mut self, key: &str) -> String {
        self.0.get(key).await
    }
    async fn put(&mut self, key: &str, value: &str) {
        self.0.put(key, value).await
    }
    async fn append(&mut self, key: &str, value: &str) {
        self.0.append(key, value).await
    }
}

/// The clerks tests use: counted, traced, and recorded when attached to a history.
pub type TestClerk = LoggedClerk<Skv>;

/// A tester. Cheap to clone; clones share it.
#[derive(Clone)]
pub struct Config {
    inner: Arc<Inner>,
}

struct Inner {
    net: Network,
    start: Instant,
    maxraftstate: i64,
    ctrlers: Group<Arc<ShardCtrler>>,
    groups: Vec<ReplicaGroup>,
    /// The tester's own controller clerk, for joins and leaves.
    mck: tokio::sync::Mutex<CtrlerClerk>,
    ops: Arc<OpCounter>,
    /// Numbers the ends the tester makes, so every name is unique.
    next_end: Arc<AtomicU64>,
    next_clerk: AtomicU64,
}

/// One replica group: its gid, its servers' wiring, and each server's ends to the
/// controllers (which the course disables when it shuts the server down).
struct ReplicaGroup {
    gid: Gid,
    servers: Group<Arc<ShardKv>>,
    ctrler_ends: Mutex<Vec<Vec<String>>>,
}

impl Config {
    /// The course's `make_config(3, unreliable, maxraftstate)`: three controllers and three
    /// groups of three, every server started; no group has joined yet.
    pub fn new(unreliable: bool, maxraftstate: i64) -> Config {
        let net = Network::new();
        net.set_reliable(!unreliable);
        net.set_latency(WIRE_LATENCY.0, WIRE_LATENCY.1);
        let ctrler_names = (0..NCTRLERS).map(|i| format!("ctrler{i}")).collect();
        let ctrlers = Group::new(&net, ctrler_names, (0..NCTRLERS as i64).collect());
        for i in 0..NCTRLERS {
            ctrlers.start_server(i, |ends, persister| {
                let ctrler = ShardCtrler::start(ends, i, persister)
                    .unwrap_or_else(|err| panic!("controller {i} cannot start: {err}"));
                let mut server = Server::new();
                server.add_service(ctrler.service());
                server.add_service(ctrler.raft().service());
                (ctrler, server)
            });
        }
        ctrlers.connect_all();

        let groups = (0..NGROUPS)
            .map(|gi| {
                let gid = 100 + gi as Gid;
                let names = (0..NSERVERS).map(|i| server_name(gid, i)).collect();
                let nodes = (0..NSERVERS).map(|i| shardkv::trace_node(gid, i)).collect();
                ReplicaGroup {
                    gid,
                    servers: Group::new(&net, names, nodes),
                    ctrler_ends: Mutex::new(vec![Vec::new(); NSERVERS]),
                }
            })
            .collect();
        let next_end = Arc::new(AtomicU64::new(0));
        let mck = CtrlerClerk::new(ctrler_ends(&net, &ctrlers, "tester", &next_end).1);
        let cfg = Config {
            inner: Arc::new(Inner {
                net,
                start: Instant::now(),
                maxraftstate,
                ctrlers,
                groups,
                mck: tokio::sync::Mutex::new(mck),
                ops: Arc::default(),
                next_end,
                next_clerk: AtomicU64::new(0),
            }),
        };
        for gi in 0..NGROUPS {
            for i in 0..NSERVERS {
                cfg.start_server(gi, i);
            }
        }
        // A run that hangs says where every server's shards stand.
        let weak = Arc::downgrade(&cfg.inner);
        labrpc::sim::current().on_hang(Box::new(move || {
            let inner = weak.upgrade()?;
            let mut out = String::from(
                "  shardkv servers (S serving, P pulling, C cleaning, O offering, - absent):\n",
            );
            for group in &inner.groups {
                for i in 0..NSERVERS {
                    let line = match group.servers.server(i) {
                        Some(kv) => {
                            let (term, leader) = kv.raft().get_state();
                            let role = if leader { "leader" } else { "" };
                            format!("{} term {term} {role}", kv.read(|s| s.summary()))
                        }
                        None => "down".into(),
                    };
                    out.push_str(&format!("    {}: {line}\n", group.servers.name(i)));
                }
            }
            Some(out)
        }));
        cfg
    }

    /// Group `gi`'s id.
    pub fn gid(&self, gi: usize) -> Gid {
        self.inner.groups[gi].gid
    }

    // ---- servers ---------------------------------------------------------------------

    /// The course's `StartServer(gi, i)`: fresh ends to the group's peers and to the
    /// controllers, a copy of what the server persisted, and a `make_end` that reaches any
    /// server by name; connected at once, as in the course.
    pub fn start_server(&self, gi: usize, i: usize) {
        let inner = &self.inner;
        let group = &inner.groups[gi];
        let owner = server_name(group.gid, i);
        let (names, ctrlers) = ctrler_ends(&inner.net, &inner.ctrlers, &owner, &inner.next_end);
        group.ctrler_ends.lock().unwrap()[i] = names;
        let make_end = make_end_fn(&inner.net, owner, &inner.next_end);
        let (gid, maxraftstate) = (group.gid, inner.maxraftstate);
        group.servers.start_server(i, move |ends, persister| {
            let kv = ShardKv::start(ends, i, persister, maxraftstate, gid, ctrlers, make_end)
                .unwrap_or_else(|err| panic!("server {i} of group {gid} cannot start: {err}"));
            let mut server = Server::new();
            server.add_service(kv.service());
            server.add_service(kv.raft().service());
            (kv, server)
        });
        group.servers.connect(i, &group.servers.all());
    }

    /// The course's `ShutdownServer(gi, i)`: cut the server's links to its peers and the
    /// controllers, delete it, keep a copy of what it persisted, kill it.
    pub fn shutdown_server(&self, gi: usize, i: usize) {
        let group = &self.inner.groups[gi];
        for name in &group.ctrler_ends.lock().unwrap()[i] {
            self.inner.net.enable(name, false);
        }
        if let Some(server) = group.servers.shutdown_server(i) {
            server.kill();
        }
    }

    pub fn shutdown_group(&self, gi: usize) {
        for i in 0..NSERVERS {
            self.shutdown_server(gi, i);
        }
    }

    pub fn start_group(&self, gi: usize) {
        for i in 0..NSERVERS {
            self.start_server(gi, i);
        }
    }

    /// The course's `checklogs`: with snapshots, every server's Raft state is at most
    /// 8 × maxraftstate; without (maxraftstate −1), no server has a snapshot.
    pub fn check_logs(&self) {
        let max = self.inner.maxraftstate;
        for group in &self.inner.groups {
            for i in 0..NSERVERS {
                let persister = group.servers.persister(i);
                let (raft, snap) = (persister.raft_state_size(), persister.snapshot_size());
                if max >= 0 {
                    assert!(
                        raft <= 8 * max as usize,
                        "server {i} of group {}: persister.RaftStateSize() {raft}, but maxraftstate {max}",
                        group.gid
                    );
                } else {
                    assert!(
                        snap == 0,
                        "server {i} of group {}: maxraftstate is -1, but snapshot is non-empty!",
                        group.gid
                    );
                }
            }
        }
    }

    /// Raft state plus snapshot bytes, summed over every server of every group (challenge
    /// 1's measure).
    pub fn total_saved_size(&self) -> usize {
        self.inner
            .groups
            .iter()
            .map(|g| g.servers.total_saved_size())
            .sum()
    }

    /// The configuration number each live server of group `gi` has reached.
    pub fn config_nums(&self, gi: usize) -> Vec<u64> {
        let group = &self.inner.groups[gi];
        group
            .servers
            .live()
            .iter()
            .map(|kv| kv.config().num)
            .collect()
    }

    // ---- the controller --------------------------------------------------------------

    /// Group `gi` joins.
    pub async fn join(&self, gi: usize) {
        self.joinm(&[gi]).await;
    }

    /// Groups `gis` join, in one Join.
    pub async fn joinm(&self, gis: &[usize]) {
        let groups: BTreeMap<Gid, Vec<String>> = gis
            .iter()
            .map(|&gi| {
                let group = &self.inner.groups[gi];
                (group.gid, group.servers.names().to_vec())
            })
            .collect();
        let mut mck = self.inner.mck.lock().await;
        mck.join(groups)
            .await
            .expect("the controller refused a join");
    }

    /// Group `gi` leaves.
    pub async fn leave(&self, gi: usize) {
        self.leavem(&[gi]).await;
    }

    /// Groups `gis` leave, in one Leave.
    pub async fn leavem(&self, gis: &[usize]) {
        let gids = gis.iter().map(|&gi| self.gid(gi)).collect();
        let mut mck = self.inner.mck.lock().await;
        mck.leave(gids)
            .await
            .expect("the controller refused a leave");
    }

    /// The latest configuration.
    pub async fn query(&self) -> shardkv::Config {
        self.inner.mck.lock().await.query(-1).await
    }

    // ---- clerks ----------------------------------------------------------------------

    /// The course's `makeClient`: a clerk with ends to every controller and a `make_end`.
    pub fn make_client(&self) -> TestClerk {
        let inner = &self.inner;
        let id = inner.next_clerk.fetch_add(1, Ordering::Relaxed);
        let owner = format!("clerk{id}");
        let (_, ctrlers) = ctrler_ends(&inner.net, &inner.ctrlers, &owner, &inner.next_end);
        let make_end = make_end_fn(&inner.net, owner, &inner.next_end);
        TestClerk::new(inner.ops.clone(), id, Skv(Clerk::new(ctrlers, make_end)))
    }

    /// Makes the network reliable or not.
    pub fn set_unreliable(&self, unreliable: bool) {
        self.inner.net.set_reliable(!unreliable);
    }

    // ---- the result line -------------------------------------------------------------

    /// Prints `Test (4B): TITLE ...`.
    pub fn begin(&self, title: &str) {
        report::begin("4B", title);
        self.inner.ops.reset();
    }

    /// Prints the result line: simulated seconds, servers, RPCs, clerk operations.
    pub fn end(&self) {
        let elapsed = self.inner.start.elapsed();
        assert!(
            elapsed <= harness::COURSE_TEST_BUDGET,
            "test took longer than 120 seconds ({:.1} s)",
            elapsed.as_secs_f64()
        );
        report::passed_kv(
            elapsed,
            NGROUPS * NSERVERS,
            self.inner.net.total_count(),
            self.inner.ops.ops(),
        );
    }

    /// Stops every server and the network.
    pub fn cleanup(&self) {
        for group in &self.inner.groups {
            for server in group.servers.live() {
                server.kill();
            }
        }
        for ctrler in self.inner.ctrlers.live() {
            ctrler.kill();
        }
        self.inner.net.cleanup();
    }
}

/// Server i of group `gid`'s name on the network.
pub fn server_name(gid: Gid, i: usize) -> String {
    format!("server-{gid}-{i}")
}

/// Fresh ends from `owner` to every controller, connected and enabled, in random order:
/// their names and the ends.
fn ctrler_ends(
    net: &Network,
    ctrlers: &Group<Arc<ShardCtrler>>,
    owner: &str,
    next_end: &AtomicU64,
) -> (Vec<String>, Vec<ClientEnd>) {
    let mut pairs: Vec<(String, ClientEnd)> = (0..ctrlers.n())
        .map(|j| {
            let k = next_end.fetch_add(1, Ordering::Relaxed);
            let name = format!("{owner}>{}~{k}", ctrlers.name(j));
            let end = net.make_end(name.clone());
            net.connect(&name, ctrlers.name(j));
            net.enable(&name, true);
            (name, end)
        })
        .collect();
    shuffle(&mut pairs);
    pairs.into_iter().unzip()
}

/// The course's `make_end` for a server or clerk called `owner`: a fresh end to the named
/// server, connected and enabled.
fn make_end_fn(net: &Network, owner: String, next_end: &Arc<AtomicU64>) -> MakeEnd {
    let (net, next_end) = (net.clone(), next_end.clone());
    Arc::new(move |server: &str| {
        let k = next_end.fetch_add(1, Ordering::Relaxed);
        let name = format!("{owner}>{server}~{k}");
        let end = net.make_end(name.clone());
        net.connect(&name, server);
        net.enable(&name, true);
        end
    })
}

/// How long tests wait for things to settle, as the course's `time.Sleep`s do.
pub fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}
