//! The key/value service on the real network: three `KvServer`s in one process, each served
//! on its own loopback port, whose Raft peers and clerk reach one another only through TCP
//! client ends (`labrpc::ClientEnd::tcp`). Not a line of kvraft or raft changes for it: the
//! same code the simulated tests grade runs here on the wall clock (`sim::run_service`).
//!
//! It writes, kills the leader (its listener closed, its server and Raft peer stopped), and
//! reads the value back from the two survivors, which must elect a new leader among
//! themselves: a few seconds of wall time in all.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kvraft::{Clerk, KvServer};
use labrpc::{sim, tcp, ClientEnd, Server};
use raft::Persister;
use tokio::net::TcpListener;

/// The longest the whole scenario may take on the wall clock before the test fails as hung.
const GUARD: Duration = Duration::from_secs(30);

/// Small, so that the servers snapshot (and a lagging peer may be sent one) over TCP too.
const MAXRAFTSTATE: i64 = 2000;

#[test]
fn kv_over_tcp_survives_its_leader_killed() {
    let outcome = sim::run_service(1, || async {
        tokio::time::timeout(GUARD, scenario()).await
    });
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(_)) => panic!("the cluster did not answer within {GUARD:?}"),
        Err(error) => panic!("{error}"),
    }
}

async fn scenario() {
    let start = Instant::now();
    let mut listeners = Vec::new();
    for _ in 0..3 {
        listeners.push(TcpListener::bind("127.0.0.1:0").await.unwrap());
    }
    let addrs: Vec<String> = listeners
        .iter()
        .map(|l| l.local_addr().unwrap().to_string())
        .collect();
    let ends = || addrs.iter().map(ClientEnd::tcp).collect::<Vec<_>>();

    let mut replicas = Vec::new();
    let mut served = Vec::new();
    for (me, listener) in listeners.into_iter().enumerate() {
        let kv = KvServer::start(ends(), me, Arc::new(Persister::new()), MAXRAFTSTATE).unwrap();
        let mut server = Server::new();
        server.add_service(kv.service());
        server.add_service(kv.raft().service());
        served.push(Some(tcp::serve(listener, server).unwrap()));
        replicas.push(kv);
    }

    let mut clerk = Clerk::new(ends());
    clerk.put("k", "v1").await;
    clerk.append("k", "+a").await;
    // Enough writes to pass MAXRAFTSTATE a few times.
    for i in 0..40 {
        clerk.put(&format!("filler{i}"), &"z".repeat(50)).await;
    }
    assert_eq!(clerk.get("k").await, "v1+a");
    let written = start.elapsed();

    // The leader is the peer that leads in the highest term (a deposed one may not know yet).
    let leader = (0..3)
        .filter_map(|i| {
            let (term, leads) = replicas[i].raft().get_state();
            leads.then_some((term, i))
        })
        .max()
        .map(|(_, i)| i)
        .expect("some peer leads: it just committed the clerk's writes");
    served[leader].take().unwrap().shutdown().await;
    replicas[leader].kill();
    let killed = Instant::now();

    // The survivors elect a leader between them and answer, to the same clerk and to a new one.
    assert_eq!(clerk.get("k").await, "v1+a");
    clerk.append("k", "+b").await;
    let mut fresh = Clerk::new(ends());
    assert_eq!(fresh.get("k").await, "v1+a+b");
    assert_eq!(fresh.get("filler39").await, "z".repeat(50));
    eprintln!(
        "kv over tcp: writes in {:.2} s; leader {leader} killed; survivors answered in {:.2} s",
        written.as_secs_f64(),
        killed.elapsed().as_secs_f64()
    );

    for (i, kv) in replicas.iter().enumerate() {
        if i != leader {
            kv.kill();
        }
    }
    for server in served.into_iter().flatten() {
        server.shutdown().await;
    }
}
