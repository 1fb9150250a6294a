//! The shardkv clerk: `get`, `put` and `append` on the sharded service.
//!
// BEGIN SOLUTION 4B
//! The clerk caches a configuration. For each operation it finds the key's shard, the group
//! serving it and that group's servers, and tries them in turn (starting with the one that
//! answered last in that group). A wrong-group answer (the group does not serve the shard, or
//! its data has not arrived yet), or a whole round of failures, makes it wait
//! [`CONFIG_RETRY`] and fetch the latest configuration before trying again, as the course's
//! clerk does. Requests are numbered per clerk and sent one at a time, so a write retried
//! across groups still takes effect once (the duplicate table moves with the shard).
// HANDOUT
// //! Hints (the course's clerk does this much; it is yours to write here):
// //! - Cache a configuration, starting from none (configuration 0). For each operation, find
// //!   the key's shard ([`key2shard`](crate::key2shard)), the group serving it and that
// //!   group's servers, and try them in turn; reach a server by its name with `make_end`.
// //! - On a wrong-group answer, or when no server of the group answered, wait about 100 ms,
// //!   ask the controller for the latest configuration, and try again.
// //! - Number the operations (a random clerk id from `labrpc::sim::random_range`, a request
// //!   number) and keep the number of a retried operation, even when you retry it at another
// //!   group: the duplicate table must travel with the shard for that to work.
//
// // Stubs leave their arguments unused: delete this attribute when you start.
// #![allow(unused_variables, dead_code)]
// END SOLUTION

// BEGIN SOLUTION 4B
use std::collections::BTreeMap;
use std::time::Duration;

use kvraft::Op;
use labrpc::{sim, ClientEnd};

use super::rpc::{shardkv_rpc, ClientRequest, Refusal};
use super::server::MakeEnd;
use crate::config::{key2shard, Config, Gid};
use crate::ctrler::CtrlerClerk;

/// How long the clerk waits before re-reading the configuration (the course's 100 ms).
pub const CONFIG_RETRY: Duration = Duration::from_millis(100);
// HANDOUT
// use labrpc::ClientEnd;
//
// use super::server::MakeEnd;
// END SOLUTION

/// A client of the sharded key/value service.
pub struct Clerk {
    // BEGIN SOLUTION 4B
    ctrler: CtrlerClerk,
    make_end: MakeEnd,
    config: Config,
    /// Ends made so far, by server name.
    ends: BTreeMap<String, shardkv_rpc::Client>,
    /// Per group, the index of the server that answered last.
    leaders: BTreeMap<Gid, usize>,
    client: u64,
    seq: u64,
    // HANDOUT
    // // Your state: a controller clerk, `make_end`, the configuration last fetched, ends to
    // // the servers made so far, this clerk's id and the number of its latest request.
    // END SOLUTION
}

impl Clerk {
    /// The course's `MakeClerk(ctrlers, make_end)`. Must be called inside a simulation.
    pub fn new(ctrlers: Vec<ClientEnd>, make_end: MakeEnd) -> Clerk {
        // BEGIN SOLUTION 4B
        Clerk {
            ctrler: CtrlerClerk::new(ctrlers),
            make_end,
            config: Config::default(),
            ends: BTreeMap::new(),
            leaders: BTreeMap::new(),
            client: sim::random_range(0..=u64::MAX),
            seq: 0,
        }
        // HANDOUT
        // todo!("Lab 4B: Clerk::new: a clerk of the sharded service")
        // END SOLUTION
    }

    /// The value of `key`, "" if it was never written.
    pub async fn get(&mut self, key: &str) -> String {
        // BEGIN SOLUTION 4B
        self.run(Op::Get { key: key.into() }).await
        // HANDOUT
        // todo!("Lab 4B: Clerk::get: the value of `key` from the group serving its shard")
        // END SOLUTION
    }

    /// Sets `key` to `value`.
    pub async fn put(&mut self, key: &str, value: &str) {
        // BEGIN SOLUTION 4B
        let op = Op::Put {
            key: key.into(),
            value: value.into(),
        };
        self.run(op).await;
        // HANDOUT
        // todo!("Lab 4B: Clerk::put: set `key` to `value` at the group serving its shard")
        // END SOLUTION
    }

    /// Appends `value` to the value of `key`.
    pub async fn append(&mut self, key: &str, value: &str) {
        // BEGIN SOLUTION 4B
        let op = Op::Append {
            key: key.into(),
            value: value.into(),
        };
        self.run(op).await;
        // HANDOUT
        // todo!("Lab 4B: Clerk::append: append `value` to `key` at the group serving its shard")
        // END SOLUTION
    }
    // BEGIN SOLUTION 4B

    async fn run(&mut self, op: Op) -> String {
        self.seq += 1;
        let request = ClientRequest {
            client: self.client,
            seq: self.seq,
            op,
        };
        let shard = key2shard(request.op.key());
        loop {
            let gid = self.config.shards[shard];
            let servers = self.config.servers_of(gid).to_vec();
            if !servers.is_empty() {
                let first = self.leaders.get(&gid).copied().unwrap_or(0);
                for k in 0..servers.len() {
                    let i = (first + k) % servers.len();
                    let reply = self.end(&servers[i]).execute(&request).await;
                    match reply {
                        Ok(Ok(Ok(value))) => {
                            self.leaders.insert(gid, i);
                            return value;
                        }
                        Ok(Ok(Err(Refusal::WrongGroup))) => break,
                        // Wrong leader, timed out, or lost: the group's next server.
                        Ok(Err(_)) | Err(_) => {}
                    }
                }
            }
            tokio::time::sleep(CONFIG_RETRY).await;
            self.config = self.ctrler.query(-1).await;
        }
    }

    fn end(&mut self, name: &str) -> shardkv_rpc::Client {
        self.ends
            .entry(name.to_string())
            .or_insert_with(|| shardkv_rpc::Client::new((self.make_end)(name)))
            .clone()
    }
    // END SOLUTION
}
