//! The shard controller's clerk: `join`, `leave`, `move_shard` and `query`, each retried
//! (through the replication layer's [`rsm::LeaderCursor`]) until some controller carries it
//! out.
//!
//! The clerk numbers its requests and sends one at a time, so a retried Join, Leave or Move
//! takes effect once. A request the controller refuses (joining a group that is already
//! there, moving a shard to an unknown group) comes back as an error naming why.
// BEGIN SOLUTION 4A
// HANDOUT
// //!
// //! Hints:
// //! - Like Lab 3's clerk: `rsm::LeaderCursor` tries the controllers in turn, starting with
// //!   the one that answered last, until one carries the request out.
// //! - Draw the clerk's id with `labrpc::sim::random_range`, never from the OS, so that a
// //!   seed replays a run exactly.
// //! - The shardkv servers poll the controller with this clerk too. A server that is killed
// //!   must stop polling, so a query that retries until it is answered is not enough for
// //!   them: give them a way to try each controller once and give up.
//
// // Stubs leave their arguments unused: delete this attribute when you start.
// #![allow(unused_variables, dead_code)]
// END SOLUTION

use std::collections::BTreeMap;

// BEGIN SOLUTION 4A
use labrpc::{sim, ClientEnd};
use rsm::LeaderCursor;

use super::rpc::{ctrler_rpc, Answer, CtrlerOp, Request};
// HANDOUT
// use labrpc::ClientEnd;
//
// END SOLUTION
use crate::config::{Config, Gid};

/// A client of the shard controller.
pub struct CtrlerClerk {
    // BEGIN SOLUTION 4A
    servers: Vec<ctrler_rpc::Client>,
    leader: LeaderCursor,
    client: u64,
    seq: u64,
    // HANDOUT
    // // Your state: a client of the "ShardCtrler" service per controller, which one answered
    // // last, this clerk's id and the number of its latest request.
    // END SOLUTION
}

impl CtrlerClerk {
    /// A clerk that reaches the controllers through `servers`. Must be called inside a
    /// simulation ([`labrpc::sim`]).
    pub fn new(servers: Vec<ClientEnd>) -> CtrlerClerk {
        // BEGIN SOLUTION 4A
        CtrlerClerk {
            leader: LeaderCursor::new(servers.len()),
            servers: servers.into_iter().map(ctrler_rpc::Client::new).collect(),
            client: sim::random_range(0..=u64::MAX),
            seq: 0,
        }
        // HANDOUT
        // todo!("Lab 4A: CtrlerClerk::new: a clerk of the controllers `servers` reaches")
        // END SOLUTION
    }

    /// Configuration `num`; -1 (or a number past the latest) for the latest.
    pub async fn query(&mut self, num: i64) -> Config {
        // BEGIN SOLUTION 4A
        match self.run(CtrlerOp::Query { num }).await {
            Ok(Some(config)) => config,
            // The controller answers every query with a configuration.
            other => unreachable!("a query answered {other:?}"),
        }
        // HANDOUT
        // todo!("Lab 4A: CtrlerClerk::query: configuration `num`, or the latest for -1")
        // END SOLUTION
    }
    // BEGIN SOLUTION 4A

    /// Like [`query`](Self::query), but tries each controller only once: `None` if none
    /// answered. For servers, whose polling loop must notice when it is stopped.
    pub async fn try_query(&mut self, num: i64) -> Option<Config> {
        let request = self.next_request(CtrlerOp::Query { num });
        let servers = &self.servers;
        let mut call = |i: usize| {
            let request = &request;
            async move { servers[i].execute(request).await.ok()?.ok() }
        };
        match self.leader.one_round(&mut call).await? {
            Ok(Some(config)) => Some(config),
            _ => None,
        }
    }
    // END SOLUTION

    /// Adds groups (gid → server names) and rebalances.
    pub async fn join(&mut self, groups: BTreeMap<Gid, Vec<String>>) -> Result<(), String> {
        // BEGIN SOLUTION 4A
        self.run(CtrlerOp::Join { groups }).await.map(drop)
        // HANDOUT
        // todo!("Lab 4A: CtrlerClerk::join: add the groups, retrying until it is done")
        // END SOLUTION
    }

    /// Removes groups and rebalances.
    pub async fn leave(&mut self, gids: Vec<Gid>) -> Result<(), String> {
        // BEGIN SOLUTION 4A
        self.run(CtrlerOp::Leave { gids }).await.map(drop)
        // HANDOUT
        // todo!("Lab 4A: CtrlerClerk::leave: remove the groups, retrying until it is done")
        // END SOLUTION
    }

    /// Assigns `shard` to `gid`.
    pub async fn move_shard(&mut self, shard: usize, gid: Gid) -> Result<(), String> {
        // BEGIN SOLUTION 4A
        self.run(CtrlerOp::Move { shard, gid }).await.map(drop)
        // HANDOUT
        // todo!("Lab 4A: CtrlerClerk::move_shard: assign the shard, retrying until it is done")
        // END SOLUTION
    }
    // BEGIN SOLUTION 4A

    fn next_request(&mut self, op: CtrlerOp) -> Request {
        self.seq += 1;
        Request {
            client: self.client,
            seq: self.seq,
            op,
        }
    }

    async fn run(&mut self, op: CtrlerOp) -> Answer {
        let request = self.next_request(op);
        let servers = &self.servers;
        self.leader
            .until_answered(|i| {
                let request = &request;
                async move { servers[i].execute(request).await.ok()?.ok() }
            })
            .await
    }
    // END SOLUTION
}
