//! The shard controller's clerk: `join`, `leave`, `move_shard` and `query`, each retried
//! (through the replication layer's [`LeaderCursor`]) until some controller carries it out.
//!
//! The clerk numbers its requests and sends one at a time, so a retried Join, Leave or Move
//! takes effect once. A request the controller refuses (joining a group that is already
//! there, moving a shard to an unknown group) comes back as an error naming why.

use std::collections::BTreeMap;

use labrpc::{sim, ClientEnd};
use rsm::LeaderCursor;

use super::rpc::{ctrler_rpc, Answer, CtrlerOp, Request};
use crate::config::{Config, Gid};

/// A client of the shard controller.
pub struct CtrlerClerk {
    servers: Vec<ctrler_rpc::Client>,
    leader: LeaderCursor,
    client: u64,
    seq: u64,
}

impl CtrlerClerk {
    /// A clerk that reaches the controllers through `servers`. Must be called inside a
    /// simulation ([`labrpc::sim`]).
    pub fn new(servers: Vec<ClientEnd>) -> CtrlerClerk {
        CtrlerClerk {
            leader: LeaderCursor::new(servers.len()),
            servers: servers.into_iter().map(ctrler_rpc::Client::new).collect(),
            client: sim::random_range(0..=u64::MAX),
            seq: 0,
        }
    }

    /// Configuration `num`; -1 (or a number past the latest) for the latest.
    pub async fn query(&mut self, num: i64) -> Config {
        match self.run(CtrlerOp::Query { num }).await {
            Ok(Some(config)) => config,
            // The controller answers every query with a configuration.
            other => unreachable!("a query answered {other:?}"),
        }
    }

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

    /// Adds groups (gid → server names) and rebalances.
    pub async fn join(&mut self, groups: BTreeMap<Gid, Vec<String>>) -> Result<(), String> {
        self.run(CtrlerOp::Join { groups }).await.map(drop)
    }

    /// Removes groups and rebalances.
    pub async fn leave(&mut self, gids: Vec<Gid>) -> Result<(), String> {
        self.run(CtrlerOp::Leave { gids }).await.map(drop)
    }

    /// Assigns `shard` to `gid`.
    pub async fn move_shard(&mut self, shard: usize, gid: Gid) -> Result<(), String> {
        self.run(CtrlerOp::Move { shard, gid }).await.map(drop)
    }

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
}
