//! The course's Raft tester (`src/raft/config.go`), in Rust.
//!
//! A [`Config`] is a network of `n` Raft peers that a test can disconnect, crash, restart
//! and make unreliable, plus the checkers that watch everything the peers apply:
//! - `mod.rs` (this file): the peers (a toolkit [`Group`]: links, crash and restart with
//!   persister copies), the result line;
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

use applier::Applier;
use harness::report;
use labrpc::{ClientEnd, Network, Server};
use raft::Raft;
use tester::Group;
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
    F: Fn() -> Fut,
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
    net: Network,
    /// The peers, named "0", "1", …; connected and disconnected as the course's Raft tester
    /// does ([`Group::attach`]).
    peers: Group<Raft>,
    /// Whether restarted peers get the snapshotting applier (part 2D).
    snapshot: bool,
    start: Instant,
    finished: AtomicBool,
    state: Mutex<State>,
}

/// What the tester knows, behind one lock (as config.go's `cfg.mu`).
struct State {
    /// Each live peer's apply checker (taken out and stopped when the peer crashes).
    appliers: Vec<Option<Applier>>,
    /// `logs[i][index]`: the command peer i applied at index.
    logs: Vec<Vec<Option<Cmd>>>,
    last_applied: Vec<u64>,
    apply_err: Vec<Option<String>>,
    max_index: u64,
    /// Ends made by [`Config::tester_end`] so far (each gets a fresh name).
    tester_ends: u64,
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
        let names = (0..n).map(|i| i.to_string()).collect();
        let cfg = Config {
            inner: Arc::new(Inner {
                peers: Group::new(&net, names, (0..n as i64).collect()),
                net,
                snapshot,
                start: now,
                finished: AtomicBool::new(false),
                state: Mutex::new(State {
                    appliers: (0..n).map(|_| None).collect(),
                    logs: vec![Vec::new(); n],
                    last_applied: vec![0; n],
                    apply_err: vec![None; n],
                    max_index: 0,
                    tester_ends: 0,
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
        self.inner.peers.n()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap()
    }

    /// Peer i's Raft, unless it is crashed.
    pub fn raft(&self, i: usize) -> Option<Raft> {
        self.inner.peers.server(i)
    }

    pub fn is_connected(&self, i: usize) -> bool {
        self.inner.peers.is_attached(i)
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
    /// its persister (so the old instance cannot change what the next one reads), kill it,
    /// then check what it had delivered and its checker had not read yet (as the course's
    /// checker, which sees every message, would) and stop its checker.
    pub fn crash1(&self, i: usize) {
        if let Some(raft) = self.inner.peers.shutdown_server(i) {
            raft.kill();
        }
        // Taken out first: stopping checks messages, which takes the state lock.
        let applier = self.state().appliers[i].take();
        if let Some(applier) = applier {
            applier.stop(self, i, self.inner.snapshot);
        }
    }

    /// Starts or restarts peer i from its saved state, with fresh ends (so the crashed
    /// instance's ends can no longer send). Does not connect it.
    pub fn start1(&self, i: usize) {
        self.crash1(i);
        self.inner.peers.start_server(i, |ends, persister| {
            // Like a key/value service, the tester restores a peer's snapshot itself.
            let mut st = self.state();
            st.last_applied[i] = 0;
            let snapshot = persister.read_snapshot();
            if !snapshot.is_empty() {
                st.ingest_snapshot(i, &snapshot, None)
                    .unwrap_or_else(|err| panic!("{err}"));
            }
            let (apply_tx, apply_rx) = tokio::sync::mpsc::unbounded_channel();
            let raft = Raft::new(ends, i, persister, apply_tx)
                .unwrap_or_else(|err| panic!("server {i} cannot restart: {err}"));
            let applier =
                applier::spawn(self.clone(), i, raft.clone(), apply_rx, self.inner.snapshot);
            st.appliers[i] = Some(applier);
            let mut server = Server::new();
            server.add_service(raft.service());
            (raft, server)
        });
    }

    /// The course's `connect(i)`: attaches peer i to every connected peer, both ways.
    pub fn connect(&self, i: usize) {
        self.inner.peers.attach(i);
    }

    /// The course's `disconnect(i)`: detaches peer i from everyone, both ways.
    pub fn disconnect(&self, i: usize) {
        self.inner.peers.detach(i);
    }

    pub fn set_unreliable(&self, unreliable: bool) {
        self.inner.net.set_reliable(!unreliable);
    }

    pub fn set_long_reordering(&self, yes: bool) {
        self.inner.net.set_long_reordering(yes);
    }

    /// Requests that reached peer i's current server.
    pub fn rpc_count(&self, i: usize) -> u64 {
        self.inner.net.count(self.inner.peers.name(i))
    }

    pub fn rpc_total(&self) -> u64 {
        self.inner.net.total_count()
    }

    pub fn bytes_total(&self) -> u64 {
        self.inner.net.total_bytes()
    }

    /// The size of the Raft state peer i last saved (the persister it runs with, or the copy
    /// kept when it crashed).
    pub fn raft_state_size(&self, i: usize) -> usize {
        self.inner.peers.persister(i).raft_state_size()
    }

    /// Crashes peer i the moment it produces a reply to `method` ("Raft.request_vote") that
    /// `when` accepts (it sees the encoded request and reply), before the peer takes another
    /// step (labrpc's `Network::after_reply`); the crash loses that reply.
    pub fn crash_after_reply(
        &self,
        i: usize,
        method: &str,
        when: impl Fn(&[u8], &[u8]) -> bool + Send + 'static,
    ) {
        let cfg = self.clone();
        let name = self.inner.peers.name(i).to_string();
        self.inner
            .net
            .after_reply(&name, method, when, move || cfg.crash1(i));
    }

    /// Holds back by `by` the first request of `method` ("Raft.install_snapshot") to peer i
    /// that `when` accepts (it sees the encoded request), so that it arrives after later ones
    /// (labrpc's `Network::delay_request`).
    pub fn delay_request(
        &self,
        i: usize,
        method: &str,
        when: impl Fn(&[u8]) -> bool + Send + 'static,
        by: Duration,
    ) {
        let name = self.inner.peers.name(i);
        self.inner.net.delay_request(name, method, when, by);
    }

    /// Faults armed with [`Config::crash_after_reply`] or [`Config::delay_request`] that
    /// have not struck yet.
    pub fn armed_faults(&self) -> usize {
        self.inner.net.armed_faults()
    }

    /// A client end of the tester's own to peer i's server, enabled whether or not i is
    /// connected to its peers: the tester can then call i's RPCs itself, as a peer would.
    /// Each call makes a fresh end (the network's end names are unique).
    pub fn tester_end(&self, i: usize) -> ClientEnd {
        let mut st = self.state();
        st.tester_ends += 1;
        let name = format!("tester>{}#{}", self.inner.peers.name(i), st.tester_ends);
        drop(st);
        let end = self.inner.net.make_end(name.clone());
        self.inner.net.connect(&name, self.inner.peers.name(i));
        self.inner.net.enable(&name, true);
        end
    }

    /// The largest saved Raft state among the peers.
    pub fn log_size(&self) -> usize {
        self.inner.peers.max_raft_state_size()
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
        report::passed_raft(elapsed, self.n(), rpcs, bytes, commands);
        self.cleanup();
    }

    /// Stops every peer and the network.
    pub fn cleanup(&self) {
        self.inner.finished.store(true, Ordering::Release);
        for raft in self.inner.peers.live() {
            raft.kill();
        }
        self.inner.net.cleanup();
    }

    fn check_timeout(&self) {
        if self.inner.start.elapsed() > TEST_LIMIT {
            panic!("test took longer than 120 seconds");
        }
    }
}
