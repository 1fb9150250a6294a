//! The shard controller's operations and its "ShardCtrler" RPC service.
//!
//! One method carries every operation, tagged with the clerk's id and request number so a
//! retried Join, Leave or Move takes effect once; the same [`Request`] is what travels
//! through the controller's Raft log.
//!
//! Given in the handout, whole: the tests build [`Request`]s and apply them to the
//! controller's state machine directly (`tests/shardkv/rebalance.rs`), and expect its
//! [`Answer`]s; the clerk and the server meet over this service.

use std::collections::BTreeMap;
use std::fmt;

use rsm::RsmError;
use serde::{Deserialize, Serialize};

use crate::config::{Config, Gid};

/// One shard-controller operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CtrlerOp {
    /// New groups, each with its servers' names.
    Join { groups: BTreeMap<Gid, Vec<String>> },
    /// Groups that leave; their shards go to the others.
    Leave { gids: Vec<Gid> },
    /// Assign one shard to one group (no rebalancing).
    Move { shard: usize, gid: Gid },
    /// Configuration `num`; -1, or a number past the latest, asks for the latest.
    Query { num: i64 },
}

/// An operation as a clerk sends it and as it travels through the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub client: u64,
    pub seq: u64,
    pub op: CtrlerOp,
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.op {
            CtrlerOp::Join { groups } => {
                let gids: Vec<String> = groups.keys().map(Gid::to_string).collect();
                write!(f, "join({})", gids.join(","))
            }
            CtrlerOp::Leave { gids } => {
                let gids: Vec<String> = gids.iter().map(Gid::to_string).collect();
                write!(f, "leave({})", gids.join(","))
            }
            CtrlerOp::Move { shard, gid } => write!(f, "move({shard}→{gid})"),
            CtrlerOp::Query { num } => write!(f, "query({num})"),
        }?;
        write!(f, " from {}#{}", self.client, self.seq)
    }
}

/// What an operation answers once applied: the configuration for a Query, nothing for the
/// others, or why the operation was refused (a Join of an existing group, a Move to an
/// unknown one, …). A refused operation changes nothing.
pub type Answer = Result<Option<Config>, String>;

/// The reply on the wire: the answer, or why this server did not carry the request out.
pub type Reply = Result<Answer, RsmError>;

labrpc::service! {
    /// The shard controller a clerk (or a shardkv server) calls.
    pub mod ctrler_rpc("ShardCtrler") {
        /// Carries out a Join, Leave, Move or Query once it has committed.
        fn execute(Request) -> Reply;
    }
}
