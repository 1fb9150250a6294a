//! The course's shardctrler tester (`src/shardctrler/config.go`), in Rust: three controller
//! servers on a reliable simulated network, built from the toolkit's [`Group`], and the
//! clerks tests make.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use labrpc::{ClientEnd, Network, Server};
use shardkv::{CtrlerClerk, ShardCtrler};
use tester::{shuffle, Group};

/// A shard-controller tester. Cheap to clone; clones share it.
#[derive(Clone)]
pub struct CtrlerConfig {
    net: Network,
    servers: Group<Arc<ShardCtrler>>,
    next_clerk: Arc<AtomicU64>,
}

impl CtrlerConfig {
    /// `n` controllers, started and connected, on a reliable network.
    pub fn new(n: usize) -> CtrlerConfig {
        let net = Network::new();
        net.set_reliable(true);
        let names = (0..n).map(|i| format!("ctrler{i}")).collect();
        let cfg = CtrlerConfig {
            servers: Group::new(&net, names, (0..n as i64).collect()),
            net,
            next_clerk: Arc::default(),
        };
        for i in 0..n {
            cfg.start_server(i);
        }
        cfg.servers.connect_all();
        cfg
    }

    pub fn n(&self) -> usize {
        self.servers.n()
    }

    /// A clerk with an end to every controller, in random order.
    pub fn make_client(&self) -> CtrlerClerk {
        let id = self.next_clerk.fetch_add(1, Ordering::Relaxed);
        let mut ends: Vec<ClientEnd> = (0..self.n())
            .map(|j| {
                let name = format!("ctrler-clerk{id}>{j}");
                let end = self.net.make_end(name.clone());
                self.net.connect(&name, self.servers.name(j));
                self.net.enable(&name, true);
                end
            })
            .collect();
        shuffle(&mut ends);
        CtrlerClerk::new(ends)
    }

    pub fn shutdown_server(&self, i: usize) {
        if let Some(server) = self.servers.shutdown_server(i) {
            server.kill();
        }
    }

    pub fn start_server(&self, i: usize) {
        self.servers.start_server(i, |ends, persister| {
            let ctrler = ShardCtrler::start(ends, i, persister)
                .unwrap_or_else(|err| panic!("controller {i} cannot start: {err}"));
            let mut server = Server::new();
            server.add_service(ctrler.service());
            server.add_service(ctrler.raft().service());
            (ctrler, server)
        });
    }

    pub fn connect_all(&self) {
        self.servers.connect_all();
    }

    /// The controller whose Raft peer believes it leads, if any.
    pub fn leader(&self) -> Option<usize> {
        self.servers.leader(|c| c.raft().get_state().1)
    }

    pub fn cleanup(&self) {
        for server in self.servers.live() {
            server.kill();
        }
        self.net.cleanup();
    }
}
