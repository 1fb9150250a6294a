// BEGIN SOLUTION 4B
//! A shardkv server: the [`ShardState`] state machine replicated by [`rsm::Rsm`] within its
//! group, the "ShardKV" RPC handlers, and the three background tasks that move shards.
//!
//! While its peer leads the group, a server runs:
//! - the **config poller**: every [`POLL_INTERVAL`], if every shard is settled, asks the
//!   controller for the next configuration and proposes it (one at a time, in order);
//! - the **puller**: for shards this group gained, fetches their data from the group that
//!   owned them in the previous configuration and proposes it to its own log;
//! - the **cleaner**: for shards installed that way, tells the previous owner to drop its
//!   copy, then records in its own log that it did.
//!
//! Followers run the same loops but do nothing while they are not leading. Everything that
//! changes state goes through the log, so a new leader carries on where the old one stopped.
//! A shard's data is served to a puller by any replica that has reached the configuration:
//! from then on the data cannot change (see [`crate::kv::state`]).
// HANDOUT
// //! A shardkv server: the [`ShardState`] state machine replicated by [`rsm::Rsm`] within its
// //! group, and the "ShardKV" RPC handlers.
// //!
// //! Hints (the course's, for this interface):
// //! - Start as the controller did: [`ShardKv::start`] runs the group's `ShardState` under
// //!   `rsm::Rsm::start_traced` (with `maxraftstate`, and [`trace_node`] as its trace node),
// //!   and [`execute`](shardkv_rpc::Handler::execute) submits the clerk's request.
// //! - Poll the controller about every [`POLL_INTERVAL`] from a task of your own
// //!   (`labrpc::sim::spawn`, `tokio::time::sleep`: the simulation's clock and tasks, never
// //!   threads or the OS clock). Ask for the configuration after the one the group is in, not
// //!   the latest: take reconfigurations one at a time, in order, and put each one through the
// //!   group's log, so every replica changes configuration at the same point among the
// //!   clerks' operations. Only the leader needs to poll.
// //! - A server must refuse a key of a shard its group does not serve with
// //!   `Refusal::WrongGroup`. Decide it when the operation is applied, not in the handler: a
// //!   reconfiguration may be applied in between. The first test, `static_shards_4b`, passes
// //!   with no shard ever moving, once this much works.
// //! - Shards move between groups by RPC: the group that gains a shard fetches it from the
// //!   group that served it in the previous configuration (`make_end` makes an end from a
// //!   server name of a configuration), data and duplicate table together, and puts it in its
// //!   own log before serving it. Does it matter at what point of its log the old owner hands
// //!   a shard over?
// //! - In one reconfiguration two groups may each need shards from the other: a group that
// //!   waits for its shards must still answer the other's requests for shards, or both wait
// //!   forever.
// //! - It is fine, at first, for a group to keep shards it no longer serves. Challenge 1
// //!   (`challenge1_delete_4b`) asks it to drop their data once the new owner has it safely
// //!   in its own log (the test measures what every server persists); challenge 2 (`challenge2_unaffected_4b`,
// //!   `challenge2_partial_4b`) asks it to serve the shards that do not move during a
// //!   reconfiguration, and each arriving shard as soon as it is installed.
// //! - A killed server must stop its tasks: check `Rsm::is_killed`, and do not wait forever on
// //!   a controller or a group that may be down.
//
// // Stubs leave their arguments unused: delete this attribute when you start.
// #![allow(unused_variables, dead_code)]
// END SOLUTION

// BEGIN SOLUTION 4B
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use labrpc::{sim, ClientEnd};
use raft::{Persister, Raft};
use rsm::{Rsm, RsmError, StartError};

use super::rpc::{
    shardkv_rpc, ClientRequest, Command, DeleteArgs, DeleteReply, ExecuteReply, FetchArgs,
    FetchError, FetchReply,
};
use super::state::{ShardState, Status};
use crate::config::{trace_node, Config, Gid};
use crate::ctrler::CtrlerClerk;
// HANDOUT
// use std::sync::Arc;
// use std::time::Duration;
//
// use labrpc::ClientEnd;
// use raft::{Persister, Raft};
// use rsm::StartError;
//
// use super::rpc::{shardkv_rpc, ClientRequest, ExecuteReply};
// use super::state::ShardState;
// use crate::config::{trace_node, Config, Gid};
// END SOLUTION

/// How often a leader asks the controller for a newer configuration (the course's lab page
/// asks for about 100 ms).
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);
// BEGIN SOLUTION 4B

/// How often a leader retries pulling shards and cleaning up after them.
pub const MOVE_INTERVAL: Duration = Duration::from_millis(50);
// END SOLUTION

/// Makes an end to a server, by name (the tester's `make_end`).
pub type MakeEnd = Arc<dyn Fn(&str) -> ClientEnd + Send + Sync>;

/// One shardkv server.
pub struct ShardKv {
    // BEGIN SOLUTION 4B
    gid: Gid,
    /// This server's `node` in traces.
    node: i64,
    rsm: Arc<Rsm<ShardState>>,
    make_end: MakeEnd,
    /// Ends to other groups' servers, made once per name.
    ends: Mutex<BTreeMap<String, shardkv_rpc::Client>>,
    // HANDOUT
    // // Your state: the group's id, the replication layer running its `ShardState`, and what
    // // it takes to reach other groups' servers (`make_end`).
    // END SOLUTION
}

impl ShardKv {
    /// The course's `StartServer(servers, me, persister, maxraftstate, gid, ctrlers,
    /// make_end)`: server `me` of group `gid`, whose peers' Raft ends are `servers`, that
    /// reaches the controllers through `ctrlers` and any other server through `make_end`.
    ///
    /// Fails, starting nothing, if the saved Raft state or snapshot does not decode.
    pub fn start(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        maxraftstate: i64,
        gid: Gid,
        ctrlers: Vec<ClientEnd>,
        make_end: MakeEnd,
    ) -> Result<Arc<ShardKv>, StartError> {
        let node = trace_node(gid, me);
        // Names the lane's group for the log view and the timeline page.
        tracing::debug!(
            node,
            topic = "group",
            group = gid,
            "server {me} of group {gid}"
        );
        // BEGIN SOLUTION 4B
        let machine = ShardState::new(gid, node);
        let rsm = Rsm::start_traced(servers, me, persister, maxraftstate, machine, node)?;
        let kv = Arc::new(ShardKv {
            gid,
            node,
            rsm,
            make_end,
            ends: Mutex::new(BTreeMap::new()),
        });
        sim::spawn(kv.clone().poll_configs(CtrlerClerk::new(ctrlers)));
        sim::spawn(kv.clone().move_shards());
        Ok(kv)
        // HANDOUT
        // todo!("Lab 4B: ShardKv::start: start server `me` of group `gid` and its tasks")
        // END SOLUTION
    }

    /// The "ShardKV" RPC service.
    pub fn service(self: &Arc<Self>) -> impl labrpc::Service {
        shardkv_rpc::service(self.clone())
    }

    /// This server's Raft peer.
    pub fn raft(&self) -> &Raft {
        // BEGIN SOLUTION 4B
        self.rsm.raft()
        // HANDOUT
        // todo!("Lab 4B: ShardKv::raft: this server's Raft peer")
        // END SOLUTION
    }
    // BEGIN SOLUTION 4B

    pub fn gid(&self) -> Gid {
        self.gid
    }
    // END SOLUTION

    /// Stops the server, its Raft peer and its background tasks.
    pub fn kill(&self) {
        // BEGIN SOLUTION 4B
        self.rsm.kill();
        // HANDOUT
        // todo!("Lab 4B: ShardKv::kill: stop the server, its Raft peer and its tasks")
        // END SOLUTION
    }

    /// Reads the group's state as this server has applied it (the tester's hang report
    /// prints [`ShardState::summary`] of every server).
    pub fn read<T>(&self, f: impl FnOnce(&ShardState) -> T) -> T {
        // BEGIN SOLUTION 4B
        self.rsm.read(f)
        // HANDOUT
        // todo!("Lab 4B: ShardKv::read: `f` of the state this server has applied")
        // END SOLUTION
    }

    /// The configuration this server is in (for tests and traces).
    pub fn config(&self) -> Config {
        // BEGIN SOLUTION 4B
        self.rsm.read(|s| s.config().clone())
        // HANDOUT
        // todo!("Lab 4B: ShardKv::config: the configuration this server has applied")
        // END SOLUTION
    }
    // BEGIN SOLUTION 4B

    /// The client for server `name`, made on first use.
    fn end(&self, name: &str) -> shardkv_rpc::Client {
        let mut ends = self.ends.lock().unwrap();
        ends.entry(name.to_string())
            .or_insert_with(|| shardkv_rpc::Client::new((self.make_end)(name)))
            .clone()
    }

    /// The config poller: see the module documentation.
    async fn poll_configs(self: Arc<Self>, mut ctrler: CtrlerClerk) {
        while !self.rsm.is_killed() {
            let next = self.rsm.read(|s| s.settled().then(|| s.config().num + 1));
            if let (true, Some(num)) = (self.rsm.is_leader(), next) {
                // One round of the controllers: a killed server must not loop forever here.
                if let Some(config) = ctrler.try_query(num as i64).await {
                    if config.num == num {
                        tracing::debug!(node = self.node, topic = "poll", "proposing {config}");
                        if self.rsm.submit(Command::Reconfigure(config)).await.is_ok() {
                            continue; // there may be more: ask again at once
                        }
                    }
                }
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// The puller and the cleaner: see the module documentation.
    async fn move_shards(self: Arc<Self>) {
        while !self.rsm.is_killed() {
            if self.rsm.is_leader() {
                let (config_num, prev, pulling, cleaning) = self.rsm.read(|s| {
                    (
                        s.config().num,
                        s.prev().clone(),
                        s.by_previous_owner(Status::Pulling),
                        s.by_previous_owner(Status::Cleaning),
                    )
                });
                // One task per group we deal with, so a group that is down delays no other.
                let mut tasks = Vec::new();
                for (from, shards) in pulling {
                    let kv = self.clone();
                    let servers = prev.servers_of(from).to_vec();
                    tasks.push(sim::spawn(async move {
                        kv.pull(config_num, from, &servers, shards).await
                    }));
                }
                for (from, shards) in cleaning {
                    let kv = self.clone();
                    let servers = prev.servers_of(from).to_vec();
                    tasks.push(sim::spawn(async move {
                        kv.clean(config_num, from, &servers, shards).await
                    }));
                }
                for task in tasks {
                    let _ = task.await;
                }
            }
            tokio::time::sleep(MOVE_INTERVAL).await;
        }
    }

    /// Fetches `shards` of configuration `config_num` from group `from` and proposes them.
    async fn pull(&self, config_num: u64, from: Gid, servers: &[String], shards: Vec<usize>) {
        let args = FetchArgs { config_num, shards };
        for name in servers {
            if self.rsm.is_killed() {
                return;
            }
            let Ok(Ok(data)) = self.end(name).fetch_shards(&args).await else {
                continue;
            };
            let bytes: usize = data.values().map(|d| d.size()).sum();
            tracing::debug!(
                node = self.node,
                topic = "shard",
                from,
                shards = ?args.shards,
                bytes,
                "pulled shards of c{config_num}"
            );
            let command = Command::InsertShards {
                config_num,
                shards: data,
            };
            let _ = self.rsm.submit(command).await;
            return;
        }
    }

    /// Tells group `from` to drop `shards` of configuration `config_num`, then records it.
    async fn clean(&self, config_num: u64, from: Gid, servers: &[String], shards: Vec<usize>) {
        let args = DeleteArgs { config_num, shards };
        for name in servers {
            if self.rsm.is_killed() {
                return;
            }
            if let Ok(Ok(())) = self.end(name).delete_shards(&args).await {
                tracing::debug!(
                    node = self.node,
                    gid = self.gid,
                    topic = "shard",
                    from,
                    shards = ?args.shards,
                    "previous owner dropped shards of c{config_num}"
                );
                let command = Command::ShardsDeleted {
                    config_num,
                    shards: args.shards,
                };
                let _ = self.rsm.submit(command).await;
                return;
            }
        }
    }
    // END SOLUTION
}

impl shardkv_rpc::Handler for ShardKv {
    async fn execute(&self, request: ClientRequest) -> ExecuteReply {
        // BEGIN SOLUTION 4B
        self.rsm.submit(Command::Client(request)).await
        // HANDOUT
        // todo!("Lab 4B: ShardKv::execute: carry out a clerk's request once it has committed")
        // END SOLUTION
    }
    // BEGIN SOLUTION 4B

    async fn fetch_shards(&self, args: FetchArgs) -> FetchReply {
        self.rsm
            .read(|s| s.offer(args.config_num, &args.shards))
            .ok_or(FetchError::NotReady)
    }

    async fn delete_shards(&self, args: DeleteArgs) -> DeleteReply {
        if self.rsm.read(|s| s.config().num > args.config_num) {
            return Ok(()); // dropped long ago
        }
        let command = Command::DeleteShards {
            config_num: args.config_num,
            shards: args.shards,
        };
        match self.rsm.submit(command).await? {
            Ok(_) => Ok(()),
            // Not in that configuration yet: cannot be holding what the caller has.
            Err(_) => Err(RsmError::Timeout),
        }
    }
    // END SOLUTION
}
// BEGIN SOLUTION 4B

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undecodable_saved_state_is_an_error_not_a_panic() {
        let make_end: MakeEnd =
            Arc::new(|_| unreachable!("no end is made before the state decodes"));
        let garbage = Arc::new(Persister::new());
        garbage.save(Vec::new(), vec![1, 0, 0, 0, 0, 0, 0, 0, 5, 0xff, 0xff]);
        let outcome = ShardKv::start(Vec::new(), 0, garbage, 100, 100, Vec::new(), make_end);
        assert!(matches!(outcome, Err(StartError::Snapshot(_))));
    }
}
// END SOLUTION
