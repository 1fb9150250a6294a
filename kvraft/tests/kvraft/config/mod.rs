//! The course's kvraft tester (`src/kvraft/config.go`), in Rust.
//!
//! A [`Config`] is `n` key/value servers on one simulated network, each a labrpc server
//! holding its "KVServer" and "Raft" services, plus the clerks a test makes. A test can
//! partition the servers (server-to-server links only: clerks still reach everyone they are
//! connected to), shut servers down and restart them from a copy of what they persisted,
//! connect and disconnect clerks, and read log and snapshot sizes.
//! - `mod.rs` (this file): servers, links, crash and restart, the result line;
//! - [`clerk`]: the clerks tests use, which count, trace and record every operation;
//! - [`history`]: the operation history and its linearizability check;
//! - [`generic`]: the course's `GenericTest` and `GenericTestSpeed`, which most tests are.
//!
//! As in the course, long delays stay off (a call to a disconnected server fails within
//! 100 ms, so clerks move on quickly). Time is the simulation's clock and every random choice
//! comes from its seeded generator.

#![allow(dead_code)] // Each test module uses a different part of the tester.

pub mod generic;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use harness::report;
use kvraft::{Clerk, KvServer, KvStore, Reply};
use labrpc::{ClientEnd, Network, Server};
use tester::logged::OpCounter;
use tester::{shuffle, Group, KvClerk, LoggedClerk};
use tokio::time::Instant;

pub use tester::History;

/// A kvraft clerk, as the toolkit's [`LoggedClerk`] drives it.
pub struct Kv(pub Clerk);

impl KvClerk for Kv {
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
pub type TestClerk = LoggedClerk<Kv>;

/// Each message's time on the wire: 3–5 ms (uniform, whole milliseconds: tokio's timers
/// count milliseconds). The course's network delivers at once, but its clients spend real
/// time on each operation; without a latency an operation here would take no simulated time,
/// a client looping on operations would stop the paused clock, and at a crash no client would
/// be in the middle of one. Any latency fixes that; its size sets how many operations a test
/// makes. At 3–5 ms (about 16 ms per operation) one client keeps the course's reference pace
/// (914 operations in `one client` against 903), the speed tests stay at half the course's
/// 33 ms limit, and the suite stays under a second of wall time per seed (README, Lab 3).
pub const WIRE_LATENCY: (Duration, Duration) = (Duration::from_millis(3), Duration::from_millis(5));

/// The tester's allowance for electing a leader.
pub const ELECTION_TIMEOUT: Duration = Duration::from_millis(1000);

/// The course's per-test limit, checked when a test ends (the harness also stops a run that
/// goes past it).
const TEST_LIMIT: Duration = harness::COURSE_TEST_BUDGET;

/// Runs one test as a simulation with the course's 120 s budget.
pub fn run<F, Fut>(body: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    harness::run_test(harness::COURSE_TEST_BUDGET, body);
}

/// A tester. Cheap to clone; clones share it.
#[derive(Clone)]
pub struct Config {
    inner: Arc<Inner>,
}

struct Inner {
    net: Network,
    servers: Group<Arc<KvServer>>,
    maxraftstate: i64,
    start: Instant,
    ops: Arc<OpCounter>,
    next_end: AtomicU64,
    next_clerk: AtomicU64,
    state: Mutex<State>,
}

/// What the tester knows besides the servers, behind one lock.
struct State {
    /// Each clerk's ends, indexed by server.
    clerks: BTreeMap<u64, Vec<String>>,
    t0: Instant,
    rpcs0: u64,
}

impl Config {
    /// The course's `make_config(n, unreliable, maxraftstate)`: n servers, started and fully
    /// connected.
    pub fn new(n: usize, unreliable: bool, maxraftstate: i64) -> Config {
        let net = Network::new();
        net.set_reliable(!unreliable);
        net.set_long_delays(false);
        net.set_latency(WIRE_LATENCY.0, WIRE_LATENCY.1);
        let now = Instant::now();
        let names = (0..n).map(|i| format!("kv{i}")).collect();
        let nodes = (0..n as i64).collect();
        let cfg = Config {
            inner: Arc::new(Inner {
                servers: Group::new(&net, names, nodes),
                net,
                maxraftstate,
                start: now,
                ops: Arc::default(),
                next_end: AtomicU64::new(0),
                next_clerk: AtomicU64::new(0),
                state: Mutex::new(State {
                    clerks: BTreeMap::new(),
                    t0: now,
                    rpcs0: 0,
                }),
            }),
        };
        for i in 0..n {
            cfg.start_server(i);
        }
        cfg.connect_all();
        cfg
    }

    pub fn n(&self) -> usize {
        self.inner.servers.n()
    }

    /// Every server: `0..n`.
    pub fn all(&self) -> Vec<usize> {
        self.inner.servers.all()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap()
    }

    /// A fresh end name (the course uses random names; unique ones serve the same purpose).
    fn end_name(&self, prefix: &str) -> String {
        let n = self.inner.next_end.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}-{n}")
    }

    // ---- links, crash and restart: the toolkit's group ---------------------------------

    /// Connects server i to each of `to` (both ways).
    pub fn connect(&self, i: usize, to: &[usize]) {
        self.inner.servers.connect(i, to);
    }

    /// Cuts server i off from each of `from` (both ways).
    pub fn disconnect(&self, i: usize, from: &[usize]) {
        self.inner.servers.disconnect(i, from);
    }

    /// Connects every server to every other.
    pub fn connect_all(&self) {
        self.inner.servers.connect_all();
    }

    /// Splits the servers into two sides, each fully connected inside and cut off from the
    /// other. Clerks' links are not touched.
    pub fn partition(&self, p1: &[usize], p2: &[usize]) {
        self.inner.servers.partition(p1, p2);
    }

    /// The course's `ShutdownServer`: see [`Group::shutdown_server`].
    pub fn shutdown_server(&self, i: usize) {
        if let Some(server) = self.inner.servers.shutdown_server(i) {
            server.kill();
        }
    }

    /// The course's `StartServer`: see [`Group::start_server`]. The caller connects it.
    pub fn start_server(&self, i: usize) {
        let maxraftstate = self.inner.maxraftstate;
        self.inner.servers.start_server(i, |ends, persister| {
            let kv = KvServer::start(ends, i, persister, maxraftstate)
                .unwrap_or_else(|err| panic!("server {i} cannot start: {err}"));
            let mut server = Server::new();
            server.add_service(kv.service());
            server.add_service(kv.raft().service());
            (kv, server)
        });
    }

    /// The server that believes it leads, if any.
    pub fn leader(&self) -> Option<usize> {
        self.inner.servers.leader(|kv| kv.raft().get_state().1)
    }

    /// The course's `make_partition`: a majority without the leader, and a minority of one
    /// follower and the leader (server 0's side if nobody leads).
    pub fn make_partition(&self) -> (Vec<usize>, Vec<usize>) {
        let n = self.n();
        let leader = self.leader().unwrap_or(0);
        let others: Vec<usize> = (0..n).filter(|&i| i != leader).collect();
        let p1 = others[..n / 2 + 1].to_vec();
        let mut p2 = others[n / 2 + 1..].to_vec();
        p2.push(leader);
        (p1, p2)
    }

    // ---- clerks ----------------------------------------------------------------------

    /// A clerk with an end to every server, in random order, enabled only to `to`.
    pub fn make_client(&self, to: &[usize]) -> TestClerk {
        let n = self.n();
        let id = self.inner.next_clerk.fetch_add(1, Ordering::Relaxed);
        let names: Vec<String> = (0..n).map(|_| self.end_name(&format!("c{id}"))).collect();
        let mut ends: Vec<ClientEnd> = names
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let end = self.inner.net.make_end(name.clone());
                self.inner.net.connect(name, self.inner.servers.name(j));
                end
            })
            .collect();
        shuffle(&mut ends);
        self.state().clerks.insert(id, names);
        let clerk = TestClerk::new(self.inner.ops.clone(), id, Kv(Clerk::new(ends)));
        self.connect_client(&clerk, to);
        clerk
    }

    /// Forgets a clerk (its ends stay as they are, as in the course).
    pub fn delete_client(&self, clerk: &TestClerk) {
        self.state().clerks.remove(&clerk.tester_id());
    }

    /// Enables the clerk's ends to `to` (and only those).
    pub fn connect_client(&self, clerk: &TestClerk, to: &[usize]) {
        self.connect_client_id(clerk.tester_id(), to);
    }

    /// [`connect_client`](Self::connect_client) for a clerk another task holds.
    pub fn connect_client_id(&self, id: u64, to: &[usize]) {
        let st = self.state();
        let names = &st.clerks[&id];
        for (j, name) in names.iter().enumerate() {
            self.inner.net.enable(name, to.contains(&j));
        }
    }

    /// Disables the clerk's ends to `from`.
    pub fn disconnect_client(&self, clerk: &TestClerk, from: &[usize]) {
        let st = self.state();
        let names = &st.clerks[&clerk.tester_id()];
        for &j in from {
            self.inner.net.enable(&names[j], false);
        }
    }

    // ---- scripted faults (the extra tests) ---------------------------------------------

    /// Arms a fault for the next successful reply of server i to a clerk: as the reply
    /// leaves, `clerk` is cut off from every server, so the reply is lost and the clerk keeps
    /// retrying, unanswered, until it is connected again. Returns a flag set when it strikes.
    /// The fault cannot tell clerks apart: arm it while `clerk` is the only one calling i.
    pub fn lose_next_reply(&self, i: usize, clerk: &TestClerk) -> Arc<AtomicBool> {
        let struck = Arc::new(AtomicBool::new(false));
        let (cfg, id, flag) = (self.clone(), clerk.tester_id(), struck.clone());
        let answered = |_request: &[u8], reply: &[u8]| {
            matches!(labrpc::codec::decode::<Reply>(reply), Ok(Ok(_)))
        };
        self.inner.net.after_reply(
            self.inner.servers.name(i),
            "KVServer.execute",
            answered,
            move || {
                cfg.connect_client_id(id, &[]);
                flag.store(true, Ordering::Release);
            },
        );
        struck
    }

    /// The key/value state server i would restart from: what its saved snapshot holds
    /// (`None` before its first snapshot).
    pub fn saved_store(&self, i: usize) -> Option<KvStore> {
        let bytes = self.inner.servers.persister(i).read_snapshot();
        rsm::read_snapshot::<KvStore>(&bytes)
            .unwrap_or_else(|err| panic!("server {i}'s saved snapshot does not decode: {err}"))
            .map(|(_, store)| store)
    }

    // ---- counters and sizes ----------------------------------------------------------

    pub fn rpc_total(&self) -> u64 {
        self.inner.net.total_count()
    }

    /// The largest saved Raft state among the servers (the course's `LogSize`).
    pub fn log_size(&self) -> usize {
        self.inner.servers.max_raft_state_size()
    }

    /// The largest saved snapshot among the servers.
    pub fn snapshot_size(&self) -> usize {
        self.inner.servers.max_snapshot_size()
    }

    /// Fails the test if it has run past the course's limit.
    fn check_timeout(&self) {
        let elapsed = self.inner.start.elapsed();
        assert!(
            elapsed <= TEST_LIMIT,
            "test took longer than {} seconds ({:.1} s)",
            TEST_LIMIT.as_secs(),
            elapsed.as_secs_f64()
        );
    }

    /// Prints `Test (PART): TITLE ...` and starts the counters of the result line.
    pub fn begin(&self, part: &str, title: &str) {
        report::begin(part, title);
        let rpcs = self.rpc_total();
        let mut st = self.state();
        st.t0 = Instant::now();
        st.rpcs0 = rpcs;
        self.inner.ops.reset();
    }

    /// Prints the result line: simulated seconds, servers, RPCs, clerk operations.
    pub fn end(&self) {
        self.check_timeout();
        let (t0, rpcs0) = {
            let st = self.state();
            (st.t0, st.rpcs0)
        };
        report::passed_kv(
            t0.elapsed(),
            self.n(),
            self.rpc_total() - rpcs0,
            self.inner.ops.ops(),
        );
    }

    /// Stops every server and the network.
    pub fn cleanup(&self) {
        for server in self.inner.servers.live() {
            server.kill();
        }
        self.inner.net.cleanup();
        self.check_timeout();
    }
}
