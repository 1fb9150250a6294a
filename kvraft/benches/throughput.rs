//! Throughput of the key/value service on the wall clock: `cargo bench -p kvraft`.
//!
//! Three servers on a reliable, zero-delay labrpc network, run by `labrpc::sim::run` in
//! realtime mode (a multi-threaded tokio runtime against the wall clock), so what is measured
//! is the CPU cost of an operation through clerk, server, Raft and the simulated network.
//! Each scenario runs clients for a fixed time, each doing Put then Get on a key of its own
//! (values stay small, so the state and its snapshots do), and prints completed operations
//! per second. `maxraftstate` keeps Raft's log short, as a deployment would.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kvraft::{Clerk, KvServer};
use labrpc::{sim, ClientEnd, Network, Server};
use raft::Persister;
use tokio::time::Instant;

const SERVERS: usize = 3;
const MAXRAFTSTATE: i64 = 64 * 1024;
const RUN: Duration = Duration::from_secs(3);

fn main() {
    for clients in [1, 64] {
        let (_, outcome) = sim::run(1, true, Duration::from_secs(120), || scenario(clients));
        let ops = outcome.unwrap_or_else(|e| panic!("benchmark failed: {e}"));
        println!(
            "kvraft throughput: {clients:2} client(s), {SERVERS} servers, reliable zero-delay \
             network, maxraftstate {MAXRAFTSTATE}: {ops} ops in {:.1} s = {:.0} ops/s",
            RUN.as_secs_f64(),
            ops as f64 / RUN.as_secs_f64()
        );
    }
}

/// Runs `clients` clients for [`RUN`]; returns how many operations completed.
async fn scenario(clients: usize) -> u64 {
    let net = Network::new();
    let mut servers = Vec::new();
    for i in 0..SERVERS {
        let ends = (0..SERVERS)
            .map(|j| connected_end(&net, format!("s{i}-{j}"), j))
            .collect();
        let kv = KvServer::start(ends, i, Arc::new(Persister::new()), MAXRAFTSTATE)
            .expect("a fresh server starts");
        let mut server = Server::new();
        server.add_service(kv.service());
        server.add_service(kv.raft().service());
        net.add_server(format!("kv{i}"), server);
        servers.push(kv);
    }

    // Wait for a leader before the clock starts.
    let mut first = clerk(&net, "warmup");
    first.get("warmup").await;

    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + RUN;
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let mut ck = clerk(&net, &format!("c{c}"));
            let done = done.clone();
            sim::spawn(async move {
                let key = c.to_string();
                let mut n = 0u64;
                while Instant::now() < deadline {
                    ck.put(&key, &n.to_string()).await;
                    let v = ck.get(&key).await;
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
    for kv in &servers {
        kv.kill();
    }
    net.cleanup();
    done.load(Ordering::Relaxed)
}

fn connected_end(net: &Network, name: String, server: usize) -> ClientEnd {
    let end = net.make_end(name.clone());
    net.connect(&name, &format!("kv{server}"));
    net.enable(&name, true);
    end
}

fn clerk(net: &Network, name: &str) -> Clerk {
    let ends = (0..SERVERS)
        .map(|j| connected_end(net, format!("{name}-{j}"), j))
        .collect();
    Clerk::new(ends)
}
