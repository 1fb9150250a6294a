//! The clerk: the client library. `get`, `put` and `append` retry until some server carries
//! the operation out, so to the caller each one simply happens, once.
//!
// BEGIN SOLUTION 3A
//! Finding the leader and retrying is the replication layer's [`LeaderCursor`], shared with
//! the shard controller's clerk. Requests are numbered per clerk and sent one at a time
//! (`&mut self`), which is what lets servers recognise a retried write.

use labrpc::{sim, ClientEnd};
use rsm::LeaderCursor;

use crate::ops::Op;
use crate::rpc::{kv_rpc, Request};
// HANDOUT
// //! Lab 3A. Hints:
// //! - Finding the leader and retrying is the replication layer's `rsm::LeaderCursor`
// //!   (yours too, shared with the shard controller's clerk): a wrong-leader or timeout
// //!   reply, or a call the network lost (`Err` from the RPC), means try the next server.
// //! - Number the requests 1, 2, 3… and keep one random id per clerk
// //!   (`labrpc::sim::random_range`, the simulation's seeded generator, so runs replay): the
// //!   servers recognise a retry by the two. `&mut self` means one request at a time.
// //! - Each server's end is a `kv_rpc::Client::new(end)`, with an `execute` method.
//
// // Stubs leave their arguments unused: delete this line when you start.
// #![allow(unused_variables, dead_code)]
//
// use labrpc::ClientEnd;
// END SOLUTION

/// A client of the key/value service.
pub struct Clerk {
    // BEGIN SOLUTION 3A
    servers: Vec<kv_rpc::Client>,
    /// Which server to try next.
    leader: LeaderCursor,
    /// Random, so clerks made anywhere are told apart (from the simulation's seeded
    /// generator, so runs still replay).
    client: u64,
    /// The number of the latest request.
    seq: u64,
    // HANDOUT
    // // Hint: a client per server, where to try first, this clerk's id, the number of its
    // // latest request.
    // END SOLUTION
}

impl Clerk {
    /// A clerk that reaches the servers through `servers` (one end per server, in any order).
    /// Must be called inside a simulation ([`labrpc::sim`]).
    pub fn new(servers: Vec<ClientEnd>) -> Clerk {
        // BEGIN SOLUTION 3A
        Clerk {
            leader: LeaderCursor::new(servers.len()),
            servers: servers.into_iter().map(kv_rpc::Client::new).collect(),
            client: sim::random_range(0..=u64::MAX),
            seq: 0,
        }
        // HANDOUT
        // todo!("Lab 3A: a clerk over one end per server, with an id of its own")
        // END SOLUTION
    }
    // BEGIN SOLUTION 3A

    /// The id the servers know this clerk by.
    pub fn id(&self) -> u64 {
        self.client
    }
    // END SOLUTION

    /// The value of `key`, "" if it was never written.
    pub async fn get(&mut self, key: &str) -> String {
        // BEGIN SOLUTION 3A
        self.run(Op::Get { key: key.into() }).await
        // HANDOUT
        // todo!("Lab 3A: Get, retried until a server carries it out")
        // END SOLUTION
    }

    /// Sets `key` to `value`.
    pub async fn put(&mut self, key: &str, value: &str) {
        // BEGIN SOLUTION 3A
        let op = Op::Put {
            key: key.into(),
            value: value.into(),
        };
        self.run(op).await;
        // HANDOUT
        // todo!("Lab 3A: Put, retried until a server carries it out")
        // END SOLUTION
    }

    /// Appends `value` to the value of `key`.
    pub async fn append(&mut self, key: &str, value: &str) {
        // BEGIN SOLUTION 3A
        let op = Op::Append {
            key: key.into(),
            value: value.into(),
        };
        self.run(op).await;
        // HANDOUT
        // todo!("Lab 3A: Append, retried until a server carries it out")
        // END SOLUTION
    }
    // BEGIN SOLUTION 3A

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
    // END SOLUTION
}
