//! The shardkv clerk: `get`, `put` and `append` on the sharded service.
//!
//! The clerk caches a configuration. For each operation it finds the key's shard, the group
//! serving it and that group's servers, and tries them in turn (starting with the one that
//! answered last in that group). A wrong-group answer (the group does not serve the shard, or
//! its data has not arrived yet), or a whole round of failures, makes it wait
//! [`CONFIG_RETRY`] and fetch the latest configuration before trying again, as the course's
//! clerk does. Requests are numbered per clerk and sent one at a time, so a write retried
//! across groups still takes effect once (the duplicate table moves with the shard).

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

/// A client of the sharded key/value service.
pub struct Clerk {
    ctrler: CtrlerClerk,
    make_end: MakeEnd,
    config: Config,
    /// Ends made so far, by server name.
    ends: BTreeMap<String, shardkv_rpc::Client>,
    /// Per group, the index of the server that answered last.
    leaders: BTreeMap<Gid, usize>,
    client: u64,
    seq: u64,
}

impl Clerk {
    /// The course's `MakeClerk(ctrlers, make_end)`. Must be called inside a simulation.
    pub fn new(ctrlers: Vec<ClientEnd>, make_end: MakeEnd) -> Clerk {
        Clerk {
            ctrler: CtrlerClerk::new(ctrlers),
            make_end,
            config: Config::default(),
            ends: BTreeMap::new(),
            leaders: BTreeMap::new(),
            client: sim::random_range(0..=u64::MAX),
            seq: 0,
        }
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
}
