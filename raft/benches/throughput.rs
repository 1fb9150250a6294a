//! Committed commands per second on 3 Raft servers, in real time.
//!
//! `cargo bench -p raft --bench throughput` runs the simulation runtime in realtime mode (a
//! multi-threaded tokio runtime on the wall clock) over a reliable, zero-delay labrpc
//! network: every call is still encoded, counted and dispatched in its own task, and every
//! batch of state is still saved to the persister. A proposer calls `start()` on the leader
//! and waits until the leader applies that index; it then proposes again. The service on
//! each server snapshots every 1000 entries. One line per number of concurrent proposers.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use labrpc::{sim, Network, Server};
use raft::{ApplyMsg, Persister, Raft};
use tokio::sync::oneshot;

const SERVERS: usize = 3;
const MEASURE: Duration = Duration::from_secs(3);
const WARM_UP: Duration = Duration::from_millis(500);
const COMMAND_BYTES: usize = 16;
/// The service snapshots after every this many entries, as a service with `maxraftstate`
/// would, so the log (kept in memory) stays bounded over a long run.
const SNAPSHOT_EVERY: u64 = 1000;

/// What the leader has applied, and who is waiting for which index.
#[derive(Default)]
struct Applied {
    index: u64,
    waiters: BTreeMap<u64, Vec<oneshot::Sender<()>>>,
}

impl Applied {
    /// Waits until `index` is applied.
    async fn wait(shared: &Mutex<Applied>, index: u64) {
        let rx = {
            let mut applied = shared.lock().unwrap();
            if applied.index >= index {
                return;
            }
            let (tx, rx) = oneshot::channel();
            applied.waiters.entry(index).or_default().push(tx);
            rx
        };
        let _ = rx.await;
    }

    fn advance(&mut self, index: u64) {
        self.index = self.index.max(index);
        let later = self.waiters.split_off(&(self.index + 1));
        for (_, waiters) in std::mem::replace(&mut self.waiters, later) {
            for tx in waiters {
                let _ = tx.send(());
            }
        }
    }
}

/// Starts 3 connected servers; returns them with each one's record of what it applied.
fn cluster(net: &Network) -> Vec<(Raft, Arc<Mutex<Applied>>)> {
    let mut out = Vec::new();
    for i in 0..SERVERS {
        let ends = (0..SERVERS)
            .map(|j| {
                let name = format!("{i}->{j}");
                let end = net.make_end(name.clone());
                net.connect(&name, &j.to_string());
                net.enable(&name, true);
                end
            })
            .collect();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let raft = Raft::new(ends, i, Arc::new(Persister::new()), tx).expect("fresh state");
        let applied = Arc::new(Mutex::new(Applied::default()));
        let record = applied.clone();
        let service = raft.clone();
        sim::spawn(async move {
            while let Some(msg) = rx.recv().await {
                if let ApplyMsg::Command { index, .. } = msg {
                    record.lock().unwrap().advance(index);
                    // Like a real service, snapshot now and then so the log stays short.
                    if index % SNAPSHOT_EVERY == 0 {
                        service.snapshot(index, index.to_le_bytes().to_vec());
                    }
                }
            }
        });
        let mut server = Server::new();
        server.add_service(raft.service());
        net.add_server(i.to_string(), server);
        out.push((raft, applied));
    }
    out
}

/// Commands committed per second with `proposers` concurrent proposers.
fn run(proposers: usize) -> (u64, f64) {
    let (_sim, outcome) = sim::run(1, true, Duration::from_secs(60), move || async move {
        let net = Network::new();
        let peers = cluster(&net);
        let leader = loop {
            if let Some(p) = peers.iter().position(|(raft, _)| raft.get_state().1) {
                break p;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let (raft, applied) = peers[leader].clone();
        let counting = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut tasks = Vec::new();
        for _ in 0..proposers {
            let (raft, applied) = (raft.clone(), applied.clone());
            let (counting, stop) = (counting.clone(), stop.clone());
            tasks.push(sim::spawn(async move {
                let mut committed = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let (index, _) = raft
                        .start(vec![7; COMMAND_BYTES])
                        .expect("the leader stays leader on a reliable network");
                    Applied::wait(&applied, index).await;
                    if counting.load(std::sync::atomic::Ordering::Relaxed) {
                        committed += 1;
                    }
                }
                committed
            }));
        }
        tokio::time::sleep(WARM_UP).await;
        counting.store(true, std::sync::atomic::Ordering::Relaxed);
        let t0 = Instant::now();
        tokio::time::sleep(MEASURE).await;
        counting.store(false, std::sync::atomic::Ordering::Relaxed);
        let elapsed = t0.elapsed().as_secs_f64();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut committed = 0;
        for task in tasks {
            committed += task.await.unwrap();
        }
        for (raft, _) in &peers {
            raft.kill();
        }
        net.cleanup();
        (committed, elapsed)
    });
    outcome.expect("benchmark run failed")
}

fn main() {
    for proposers in [1, 64] {
        let (committed, seconds) = run(proposers);
        println!(
            "raft throughput: {SERVERS} servers, {proposers:2} proposer(s), realtime, reliable \
             zero-delay network: {committed} commands in {seconds:.2} s = {:.0} commits/s",
            committed as f64 / seconds
        );
    }
}
