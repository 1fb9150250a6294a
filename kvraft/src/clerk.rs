//! The clerk: the client library. `get`, `put` and `append` retry until some server carries
//! the operation out, so to the caller each one simply happens, once.
//!
//! Finding the leader and retrying is the replication layer's [`LeaderCursor`], shared with
//! the shard controller's clerk. Requests are numbered per clerk and sent one at a time
//! (`&mut self`), which is what lets servers recognise a retried write.

use labrpc::{sim, ClientEnd};
use rsm::LeaderCursor;

use crate::ops::Op;
use crate::rpc::{kv_rpc, Request};

/// A client of the key/value service.
pub struct Clerk {
    servers: Vec<kv_rpc::Client>,
    /// Which server to try next.
    leader: LeaderCursor,
    /// Random, so clerks made anywhere are told apart (from the simulation's seeded
    /// generator, so runs still replay).
    client: u64,
    /// The number of the latest request.
    seq: u64,
}

impl Clerk {
    /// A clerk that reaches the servers through `servers` (one end per server, in any order).
    /// Must be called inside a simulation ([`labrpc::sim`]).
    pub fn new(servers: Vec<ClientEnd>) -> Clerk {
        Clerk {
            leader: LeaderCursor::new(servers.len()),
            servers: servers.into_iter().map(kv_rpc::Client::new).collect(),
            client: sim::random_range(0..=u64::MAX),
            seq: 0,
        }
    }

    /// The id the servers know this clerk by.
    pub fn id(&self) -> u64 {
        self.client
    }

    /// The value of `key`, "" if it was never written.
    pub async fn get(&mut self, key: &str) -> String {
        self.run(Op::Get { key: key.into() }).await
    }

    /// Sets `key` to `value`.
    pub async fn put(&mut self, key: &str, value: &str) {
        let op = Op::Put {
            key: key.into(),
            value: value.into(),
        };
        self.run(op).await;
    }

    /// Appends `value` to the value of `key`.
    pub async fn append(&mut self, key: &str, value: &str) {
        let op = Op::Append {
            key: key.into(),
            value: value.into(),
        };
        self.run(op).await;
    }

    /// Sends the request to server after server until one carries it out.
    async fn run(&mut self, op: Op) -> String {
        self.seq += 1;
        let request = Request {
            client: self.client,
            seq: self.seq,
            op,
        };
        let servers = &self.servers;
        self.leader
            .until_answered(|i| {
                let request = &request;
                // Wrong leader, timed out, or lost on the way: the next server.
                async move { servers[i].execute(request).await.ok()?.ok() }
            })
            .await
    }
}
