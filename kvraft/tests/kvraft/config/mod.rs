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

pub mod clerk;
pub mod generic;
pub mod history;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use harness::report;
use kvraft::{Clerk, KvServer};
use labrpc::{sim, ClientEnd, Network, Server};
use raft::Persister;
use tokio::time::Instant;

pub use clerk::TestClerk;
pub use history::History;

/// The tester's allowance for electing a leader.
pub const ELECTION_TIMEOUT: Duration = Duration::from_millis(1000);

/// The course's per-test limit, checked when a test ends (the harness also stops a run that
/// goes past it).
const TEST_LIMIT: Duration = harness::COURSE_TEST_BUDGET;

/// Runs one test as a simulation with the course's 120 s budget.
pub fn run<F, Fut>(body: F)
where
    F: FnOnce() -> Fut,
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
    n: usize,
    net: Network,
    maxraftstate: i64,
    start: Instant,
    /// Get/Put/Append calls made through [`TestClerk`] since `begin`.
    ops: AtomicU64,
    /// Numbers operations for the trace (call and return share a number).
    next_op: AtomicU64,
    next_end: AtomicU64,
    next_clerk: AtomicU64,
    state: Mutex<State>,
}

/// What the tester knows, behind one lock (config.go's `cfg.mu`).
struct State {
    servers: Vec<Option<Arc<KvServer>>>,
    saved: Vec<Arc<Persister>>,
    /// `end_names[i][j]`: server i's end to server j.
    end_names: Vec<Vec<String>>,
    /// `links[i][j]`: server i's end to server j is enabled.
    links: Vec<Vec<bool>>,
    /// Whether each server was last traced as cut off from some live peer.
    cut: Vec<bool>,
    /// How many times each server has been started.
    starts: Vec<u32>,
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
        let now = Instant::now();
        let cfg = Config {
            inner: Arc::new(Inner {
                n,
                net,
                maxraftstate,
                start: now,
                ops: AtomicU64::new(0),
                next_op: AtomicU64::new(0),
                next_end: AtomicU64::new(0),
                next_clerk: AtomicU64::new(0),
                state: Mutex::new(State {
                    servers: vec![None; n],
                    saved: (0..n).map(|_| Arc::new(Persister::new())).collect(),
                    end_names: vec![Vec::new(); n],
                    links: vec![vec![false; n]; n],
                    cut: vec![false; n],
                    starts: vec![0; n],
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
        self.inner.n
    }

    /// Every server: `0..n`.
    pub fn all(&self) -> Vec<usize> {
        (0..self.inner.n).collect()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap()
    }

    /// A fresh end name (the course uses random names; unique ones serve the same purpose).
    fn end_name(&self, prefix: &str) -> String {
        let n = self.inner.next_end.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}-{n}")
    }

    // ---- links between servers -------------------------------------------------------

    /// Enables or disables the links between i and each of `others`, both ways.
    fn set_links(&self, st: &mut State, i: usize, others: &[usize], enabled: bool) {
        for &j in others {
            for (a, b) in [(i, j), (j, i)] {
                if let Some(name) = st.end_names[a].get(b) {
                    self.inner.net.enable(name, enabled);
                    st.links[a][b] = enabled;
                }
            }
        }
    }

    /// Traces "disconnect" for each live server newly cut off from some live peer, and
    /// "connect" for each one whose links are all whole again.
    fn trace_links(&self, st: &mut State) {
        let n = self.inner.n;
        for i in 0..n {
            if st.servers[i].is_none() {
                continue;
            }
            let cut = (0..n)
                .any(|j| j != i && st.servers[j].is_some() && !(st.links[i][j] && st.links[j][i]));
            if cut != st.cut[i] {
                st.cut[i] = cut;
                if cut {
                    tracing::debug!(node = i, topic = "disconnect");
                } else {
                    tracing::debug!(node = i, topic = "connect");
                }
            }
        }
    }

    /// Connects server i to each of `to` (both ways).
    pub fn connect(&self, i: usize, to: &[usize]) {
        let mut st = self.state();
        self.set_links(&mut st, i, to, true);
        self.trace_links(&mut st);
    }

    /// Cuts server i off from each of `from` (both ways).
    pub fn disconnect(&self, i: usize, from: &[usize]) {
        let mut st = self.state();
        self.set_links(&mut st, i, from, false);
        self.trace_links(&mut st);
    }

    /// Connects every server to every other.
    pub fn connect_all(&self) {
        let all = self.all();
        let mut st = self.state();
        for i in 0..self.inner.n {
            self.set_links(&mut st, i, &all, true);
        }
        self.trace_links(&mut st);
    }

    /// Splits the servers into two sides, each fully connected inside and cut off from the
    /// other. Clerks' links are not touched.
    pub fn partition(&self, p1: &[usize], p2: &[usize]) {
        let mut st = self.state();
        for (side, other) in [(p1, p2), (p2, p1)] {
            for &i in side {
                self.set_links(&mut st, i, other, false);
                self.set_links(&mut st, i, side, true);
            }
        }
        self.trace_links(&mut st);
    }

    // ---- crash and restart -----------------------------------------------------------

    /// The course's `ShutdownServer`: cut i off, delete its server (so none of its replies
    /// arrives any more, and it cannot acknowledge a write it then persists in a superseded
    /// persister), keep a copy of what it persisted, and kill it.
    pub fn shutdown_server(&self, i: usize) {
        let all = self.all();
        let mut st = self.state();
        self.set_links(&mut st, i, &all, false);
        self.inner.net.delete_server(&server_name(i));
        st.saved[i] = Arc::new(st.saved[i].copy());
        // `cut[i]` stays as it was: the server is traced "connect" once it is back and whole.
        let server = st.servers[i].take();
        drop(st);
        if let Some(server) = server {
            tracing::debug!(node = i, topic = "crash");
            server.kill();
        }
    }

    /// The course's `StartServer`: a fresh set of ends, a copy of the persisted state, a new
    /// server on the network. The caller connects it.
    pub fn start_server(&self, i: usize) {
        let net = &self.inner.net;
        let n = self.inner.n;
        let mut st = self.state();
        let names: Vec<String> = (0..n).map(|_| self.end_name(&format!("s{i}"))).collect();
        let ends: Vec<ClientEnd> = names
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let end = net.make_end(name.clone());
                net.connect(name, &server_name(j));
                end
            })
            .collect();
        st.end_names[i] = names;
        st.links[i] = vec![false; n];
        st.saved[i] = Arc::new(st.saved[i].copy());
        let persister = st.saved[i].clone();
        drop(st);

        let kv = KvServer::start(ends, i, persister, self.inner.maxraftstate)
            .unwrap_or_else(|err| panic!("server {i} cannot start: {err}"));
        let mut server = Server::new();
        server.add_service(kv.service());
        server.add_service(kv.raft().service());
        net.add_server(server_name(i), server);
        let restarted = {
            let mut st = self.state();
            st.servers[i] = Some(kv);
            st.starts[i] += 1;
            st.starts[i] > 1
        };
        if restarted {
            tracing::debug!(node = i, topic = "restart");
        }
    }

    /// The server that believes it leads, if any.
    pub fn leader(&self) -> Option<usize> {
        let st = self.state();
        (0..self.inner.n).find(|&i| {
            st.servers[i]
                .as_ref()
                .is_some_and(|kv| kv.raft().get_state().1)
        })
    }

    /// The course's `make_partition`: a majority without the leader, and a minority of one
    /// follower and the leader (server 0's side if nobody leads).
    pub fn make_partition(&self) -> (Vec<usize>, Vec<usize>) {
        let n = self.inner.n;
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
        let n = self.inner.n;
        let id = self.inner.next_clerk.fetch_add(1, Ordering::Relaxed);
        let names: Vec<String> = (0..n).map(|_| self.end_name(&format!("c{id}"))).collect();
        let mut ends: Vec<ClientEnd> = names
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let end = self.inner.net.make_end(name.clone());
                self.inner.net.connect(name, &server_name(j));
                end
            })
            .collect();
        shuffle(&mut ends);
        self.state().clerks.insert(id, names);
        let clerk = TestClerk::new(self.clone(), id, Clerk::new(ends));
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

    // ---- counters and sizes ----------------------------------------------------------

    pub(crate) fn count_op(&self) -> u64 {
        self.inner.ops.fetch_add(1, Ordering::Relaxed);
        self.inner.next_op.fetch_add(1, Ordering::Relaxed)
    }

    pub fn rpc_total(&self) -> u64 {
        self.inner.net.total_count()
    }

    /// The largest saved Raft state among the servers (the course's `LogSize`).
    pub fn log_size(&self) -> usize {
        let st = self.state();
        st.saved
            .iter()
            .map(|p| p.raft_state_size())
            .max()
            .unwrap_or(0)
    }

    /// The largest saved snapshot among the servers.
    pub fn snapshot_size(&self) -> usize {
        let st = self.state();
        st.saved
            .iter()
            .map(|p| p.snapshot_size())
            .max()
            .unwrap_or(0)
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
        self.inner.ops.store(0, Ordering::Relaxed);
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
            self.inner.n,
            self.rpc_total() - rpcs0,
            self.inner.ops.load(Ordering::Relaxed),
        );
    }

    /// Stops every server and the network.
    pub fn cleanup(&self) {
        let servers: Vec<_> = self
            .state()
            .servers
            .iter_mut()
            .flat_map(Option::take)
            .collect();
        for server in servers {
            server.kill();
        }
        self.inner.net.cleanup();
        self.check_timeout();
    }
}

fn server_name(i: usize) -> String {
    format!("kv{i}")
}

/// Fisher–Yates, with the simulation's generator.
pub fn shuffle<T>(items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = sim::random_range(0..=i);
        items.swap(i, j);
    }
}
