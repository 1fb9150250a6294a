//! The course's Raft tester (`src/raft/config.go`), in Rust.
//!
//! A [`Config`] is a network of `n` Raft peers that a test can disconnect, crash, restart
//! and make unreliable, plus the checkers that watch everything the peers apply:
//! - `mod.rs` (this file): building the network, crash and restart, the result line;
//! - [`applier`]: the apply checkers (agreement at every index, order, the snapshotting
//!   service of part 2D);
//! - [`checks`]: what tests assert and wait for (`check_one_leader`, `one`, `wait`, …);
//! - [`commands`]: how tests encode commands, and their randomness.
//!
//! Everything runs inside the test's simulation: time is tokio's (simulated) clock and
//! every random choice comes from the simulation's seeded generator.

#![allow(dead_code)] // Each test module uses a different part of the tester.

mod applier;
mod checks;
pub mod commands;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use harness::report;
use labrpc::{ClientEnd, Network, Server};
use raft::{Persister, Raft};
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub use commands::{cmd, cmd_value, random_cmd, random_int, Cmd};

/// The tester generously allows solutions to complete elections in one second (much more
/// than the paper's range of timeouts).
pub const RAFT_ELECTION_TIMEOUT: Duration = Duration::from_millis(1000);

/// The snapshotting service snapshots after every this many applied entries.
pub const SNAPSHOT_INTERVAL: u64 = 10;

/// Part 2D fails a peer whose saved Raft state reaches this size.
pub const MAX_LOG_SIZE: usize = 2000;

/// The course's per-test limit.
const TEST_LIMIT: Duration = Duration::from_secs(120);

/// Runs one test as a simulation, with the course's 120 s limit.
pub fn run<F, Fut>(body: F)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    harness::run_test(harness::COURSE_TEST_BUDGET, body);
}

/// A tester: n Raft peers on one simulated network. Cheap to clone; clones share it.
#[derive(Clone)]
pub struct Config {
    inner: Arc<Inner>,
}

struct Inner {
    n: usize,
    net: Network,
    /// Whether restarted peers get the snapshotting applier (part 2D).
    snapshot: bool,
    start: Instant,
    finished: AtomicBool,
    state: Mutex<State>,
}

/// What the tester knows, behind one lock (as config.go's `cfg.mu`).
struct State {
    rafts: Vec<Option<Raft>>,
    /// Each peer's applier task, and its incarnation (bumped on every crash, so an old
    /// applier that is still draining its channel stops instead of checking stale messages).
    appliers: Vec<Option<JoinHandle<()>>>,
    incarnation: Vec<u64>,
    connected: Vec<bool>,
    saved: Vec<Arc<Persister>>,
    end_names: Vec<Vec<String>>,
    /// `logs[i][index]`: the command peer i applied at index.
    logs: Vec<Vec<Option<Cmd>>>,
    last_applied: Vec<u64>,
    apply_err: Vec<Option<String>>,
    max_index: u64,
    // Taken at begin(), for the result line.
    t0: Instant,
    rpcs0: u64,
    bytes0: u64,
    max_index0: u64,
}

impl Config {
    /// The course's `make_config(n, unreliable, snapshot)`: n peers, all started and
    /// connected, long delays on.
    pub fn new(n: usize, unreliable: bool, snapshot: bool) -> Config {
        let net = Network::new();
        let now = Instant::now();
        let cfg = Config {
            inner: Arc::new(Inner {
                n,
                net,
                snapshot,
                start: now,
                finished: AtomicBool::new(false),
                state: Mutex::new(State {
                    rafts: vec![None; n],
                    appliers: (0..n).map(|_| None).collect(),
                    incarnation: vec![0; n],
                    connected: vec![false; n],
                    saved: (0..n).map(|_| Arc::new(Persister::new())).collect(),
                    end_names: vec![Vec::new(); n],
                    logs: vec![Vec::new(); n],
                    last_applied: vec![0; n],
                    apply_err: vec![None; n],
                    max_index: 0,
                    t0: now,
                    rpcs0: 0,
                    bytes0: 0,
                    max_index0: 0,
                }),
            }),
        };
        cfg.set_unreliable(unreliable);
        cfg.inner.net.set_long_delays(true);
        for i in 0..n {
            cfg.start1(i);
        }
        for i in 0..n {
            cfg.connect(i);
        }
        cfg
    }

    pub fn n(&self) -> usize {
        self.inner.n
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap()
    }

    /// Peer i's Raft, unless it is crashed.
    pub fn raft(&self, i: usize) -> Option<Raft> {
        self.state().rafts[i].clone()
    }

    pub fn is_connected(&self, i: usize) -> bool {
        self.state().connected[i]
    }

    /// `Start(cmd)` on peer i; `None` if it is not the leader or is crashed.
    pub fn start(&self, i: usize, command: Cmd) -> Option<(u64, u64)> {
        self.raft(i)?.start(command)
    }

    /// `GetState()` of peer i, which must not be crashed.
    pub fn get_state(&self, i: usize) -> (u64, bool) {
        self.raft(i)
            .unwrap_or_else(|| panic!("peer {i} is crashed"))
            .get_state()
    }

    /// Shuts peer i down in a way that lets it be restarted with its saved state: cut it off,
    /// delete its server (so no reply of its ever arrives again), give the tester a copy of
    /// its persister (so the old instance cannot change what the next one reads), kill it.
    pub fn crash1(&self, i: usize) {
        self.disconnect(i);
        self.inner.net.delete_server(&server_name(i));
        let mut st = self.state();
        st.saved[i] = Arc::new(st.saved[i].copy());
        if let Some(raft) = st.rafts[i].take() {
            tracing::debug!(node = i, topic = "crash", "tester crashed peer {i}");
            raft.kill();
        }
        st.incarnation[i] += 1;
        if let Some(applier) = st.appliers[i].take() {
            applier.abort();
        }
    }

    /// Starts or restarts peer i from its saved state, with fresh end names (so the crashed
    /// instance's ends can no longer send). Does not connect it.
    pub fn start1(&self, i: usize) {
        self.crash1(i);
        let net = &self.inner.net;
        let mut st = self.state();
        st.end_names[i] = (0..self.inner.n)
            .map(|_| commands::random_string(20))
            .collect();
        let ends: Vec<ClientEnd> = st.end_names[i]
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let end = net.make_end(name.clone());
                net.connect(name, &server_name(j));
                end
            })
            .collect();

        // Like a key/value service, the tester restores a peer's snapshot itself.
        st.saved[i] = Arc::new(st.saved[i].copy());
        st.last_applied[i] = 0;
        let snapshot = st.saved[i].read_snapshot();
        if !snapshot.is_empty() {
            if let Err(err) = st.ingest_snapshot(i, &snapshot, None) {
                panic!("{err}");
            }
        }

        let (apply_tx, apply_rx) = tokio::sync::mpsc::unbounded_channel();
        let raft = Raft::new(ends, i, st.saved[i].clone(), apply_tx)
            .unwrap_or_else(|err| panic!("server {i} cannot restart: {err}"));
        st.rafts[i] = Some(raft.clone());
        let incarnation = st.incarnation[i];
        let applier = applier::spawn(
            self.clone(),
            i,
            incarnation,
            raft.clone(),
            apply_rx,
            self.inner.snapshot,
        );
        st.appliers[i] = Some(applier);
        drop(st);

        let mut server = Server::new();
        server.add_service(raft.service());
        net.add_server(server_name(i), server);
        tracing::debug!(node = i, topic = "restart", "tester started peer {i}");
    }

    /// Attaches peer i to the network: its ends to connected peers, and theirs to it.
    pub fn connect(&self, i: usize) {
        let mut st = self.state();
        if !st.connected[i] {
            tracing::debug!(node = i, topic = "connect", "tester connected peer {i}");
        }
        st.connected[i] = true;
        for j in 0..self.inner.n {
            if st.connected[j] {
                self.inner.net.enable(&st.end_names[i][j], true);
                self.inner.net.enable(&st.end_names[j][i], true);
            }
        }
    }

    /// Detaches peer i from the network, both ways.
    pub fn disconnect(&self, i: usize) {
        let mut st = self.state();
        if st.connected[i] {
            tracing::debug!(
                node = i,
                topic = "disconnect",
                "tester disconnected peer {i}"
            );
        }
        st.connected[i] = false;
        for j in 0..self.inner.n {
            if let Some(name) = st.end_names[i].get(j) {
                self.inner.net.enable(name, false);
            }
            if let Some(name) = st.end_names[j].get(i) {
                self.inner.net.enable(name, false);
            }
        }
    }

    pub fn set_unreliable(&self, unreliable: bool) {
        self.inner.net.set_reliable(!unreliable);
    }

    pub fn set_long_reordering(&self, yes: bool) {
        self.inner.net.set_long_reordering(yes);
    }

    /// Requests that reached peer i's current server.
    pub fn rpc_count(&self, i: usize) -> u64 {
        self.inner.net.count(&server_name(i))
    }

    pub fn rpc_total(&self) -> u64 {
        self.inner.net.total_count()
    }

    pub fn bytes_total(&self) -> u64 {
        self.inner.net.total_bytes()
    }

    /// The largest saved Raft state among the peers.
    pub fn log_size(&self) -> usize {
        let st = self.state();
        st.saved
            .iter()
            .map(|p| p.raft_state_size())
            .max()
            .unwrap_or(0)
    }

    /// Whether the test has finished (long-running helpers stop then).
    pub fn check_finished(&self) -> bool {
        self.inner.finished.load(Ordering::Acquire)
    }

    /// Prints `Test (PART): TITLE ...` and starts the counters of the result line.
    pub fn begin(&self, part: &str, title: &str) {
        report::begin(part, title);
        let (rpcs, bytes) = (self.rpc_total(), self.bytes_total());
        let mut st = self.state();
        st.t0 = Instant::now();
        st.rpcs0 = rpcs;
        st.bytes0 = bytes;
        st.max_index0 = st.max_index;
    }

    /// Prints the result line (simulated seconds, peers, RPCs, bytes, commands committed),
    /// then shuts everything down.
    pub fn end(&self) {
        self.check_timeout();
        let (rpcs, bytes) = (self.rpc_total(), self.bytes_total());
        let st = self.state();
        let elapsed = st.t0.elapsed();
        let commands = st.max_index - st.max_index0;
        let (rpcs, bytes) = (rpcs - st.rpcs0, bytes - st.bytes0);
        drop(st);
        report::passed_raft(elapsed, self.inner.n, rpcs, bytes, commands);
        self.cleanup();
    }

    /// Stops every peer and the network.
    pub fn cleanup(&self) {
        self.inner.finished.store(true, Ordering::Release);
        let st = self.state();
        for raft in st.rafts.iter().flatten() {
            raft.kill();
        }
        drop(st);
        self.inner.net.cleanup();
    }

    fn check_timeout(&self) {
        if self.inner.start.elapsed() > TEST_LIMIT {
            panic!("test took longer than 120 seconds");
        }
    }
}

fn server_name(i: usize) -> String {
    i.to_string()
}
