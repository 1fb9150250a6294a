//! The sharded key/value service's RPCs ("ShardKV") and the commands its Raft log carries.
//!
// BEGIN SOLUTION 4B
//! Clerks call [`execute`](shardkv_rpc::Client::execute) with a Get, Put or Append. Groups
//! call each other to move shards: the new owner of a shard pulls it from the old one with
//! [`fetch_shards`](shardkv_rpc::Client::fetch_shards), and once the data is safely in its
//! own log tells the old owner to drop it with
//! [`delete_shards`](shardkv_rpc::Client::delete_shards).
// HANDOUT
// //! Clerks call [`execute`](shardkv_rpc::Client::execute) with a Get, Put or Append.
// //!
// //! Given in the handout as a starting point: the clerk's request and its answers, as in
// //! Lab 3, with the one refusal shardkv adds ([`Refusal::WrongGroup`]). Yours: the calls
// //! groups make to each other to move shards (add them to the service), and the rest of
// //! what a group's log carries ([`Command`]). Change any of it as you like: no test sees it.
// END SOLUTION

// BEGIN SOLUTION 4B
use std::collections::BTreeMap;
// END SOLUTION
use std::fmt;

use kvraft::Op;
// BEGIN SOLUTION 4B
use rsm::{Dedup, RsmError};
// HANDOUT
// use rsm::RsmError;
// END SOLUTION
use serde::{Deserialize, Serialize};
// BEGIN SOLUTION 4B

use crate::config::Config;
// END SOLUTION

/// A clerk's request: one operation, tagged so the servers can tell retries apart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRequest {
    pub client: u64,
    pub seq: u64,
    pub op: Op,
}

/// Why a group refused a clerk's request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// This group does not serve the key's shard in its current configuration, or the
    /// shard's data has not arrived yet: the clerk re-reads the configuration and retries.
    WrongGroup,
}

/// What a command answers once applied: a Get's value ("" for everything else), or a
/// refusal.
pub type Answer = Result<String, Refusal>;

/// The reply to [`ClientRequest`]: the answer, or why this server did not carry it out.
pub type ExecuteReply = Result<Answer, RsmError>;
// BEGIN SOLUTION 4B

/// One shard's contents as they move between groups: the data and its duplicate table (so
/// a write applied by the old owner is still recognised as applied by the new one).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardData {
    pub data: BTreeMap<String, String>,
    pub dedup: Dedup,
}

impl ShardData {
    /// Bytes of keys and values, for the size checks and traces.
    pub fn size(&self) -> usize {
        self.data.iter().map(|(k, v)| k.len() + v.len()).sum()
    }
}

/// "Give me these shards, as you hold them at the end of configuration `config_num - 1`."
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchArgs {
    pub config_num: u64,
    pub shards: Vec<usize>,
}

/// Why a group cannot hand shards over (yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FetchError {
    /// The group has not reached that configuration, or no longer holds the shards.
    NotReady,
}

pub type FetchReply = Result<BTreeMap<usize, ShardData>, FetchError>;

/// "I hold these shards of configuration `config_num` now: drop your copies."
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteArgs {
    pub config_num: u64,
    pub shards: Vec<usize>,
}

/// Ok once the old owner has dropped the shards (or had already).
pub type DeleteReply = Result<(), RsmError>;
// END SOLUTION

labrpc::service! {
    /// The sharded key/value service: clerks' operations and shard moves between groups.
    pub mod shardkv_rpc("ShardKV") {
        /// Carries out a Get, Put or Append once it has committed.
        fn execute(ClientRequest) -> ExecuteReply;
        // BEGIN SOLUTION 4B
        /// Hands over shards this group no longer serves.
        fn fetch_shards(FetchArgs) -> FetchReply;
        /// Drops shards their new owner has installed.
        fn delete_shards(DeleteArgs) -> DeleteReply;
        // HANDOUT
        // // Yours: the calls that move a shard (its data and its duplicate table) from the
        // // group that served it in the previous configuration to the one that serves it now.
        // END SOLUTION
    }
}

/// What travels through a shardkv group's Raft log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// A clerk's operation.
    Client(ClientRequest),
    // BEGIN SOLUTION 4B
    /// Move to the next configuration.
    Reconfigure(Config),
    /// Shards pulled from their previous owner, for configuration `config_num`.
    InsertShards {
        config_num: u64,
        shards: BTreeMap<usize, ShardData>,
    },
    /// The new owner holds these shards: drop our copies.
    DeleteShards { config_num: u64, shards: Vec<usize> },
    /// The previous owner dropped these shards: they need no more clean-up.
    ShardsDeleted { config_num: u64, shards: Vec<usize> },
    // HANDOUT
    // // Yours: everything else that changes a group's state goes through its log too, so
    // // that every replica makes the change at the same point among the clerks' operations:
    // // moving to the next configuration, installing shards that arrived, and (challenge 1)
    // // dropping shards handed over. Show each new command in `Display` below too: traces
    // // print every command a replica applies.
    // END SOLUTION
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // BEGIN SOLUTION 4B
            Command::Reconfigure(config) => write!(f, "reconfigure {config}"),
            Command::InsertShards { config_num, shards } => {
                let list: Vec<String> = shards.keys().map(usize::to_string).collect();
                write!(f, "insert shards [{}] c{config_num}", list.join(" "))
            }
            Command::DeleteShards { config_num, shards } => {
                write!(f, "delete shards {shards:?} c{config_num}")
            }
            Command::ShardsDeleted { config_num, shards } => {
                write!(f, "shards deleted {shards:?} c{config_num}")
            }
            // END SOLUTION
            Command::Client(r) => write!(f, "{} from {}#{}", r.op, r.client, r.seq),
        }
    }
}
