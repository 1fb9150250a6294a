//! The clerk: the client library. `get`, `put` and `append` retry until some server carries
//! the operation out, so to the caller each one simply happens, once.
//!
//! The clerk remembers which server answered last (the leader, most likely) and starts
//! there. A wrong-leader or timeout answer, or a call the network lost, sends it to the next
//! server at once; only after every server in turn has failed does it pause briefly, so that
//! during an election it does not spin. Requests are numbered per clerk and sent one at a
//! time (`&mut self`), which is what lets servers recognise a retried write.

use std::time::Duration;

use labrpc::{sim, ClientEnd};

use crate::ops::Op;
use crate::rpc::{kv_rpc, Request};

/// How long the clerk waits after every server in turn has failed a request before starting
/// the round again. Long enough not to flood the network while no leader exists (an
/// election takes a few hundred milliseconds), short enough to find a new one promptly.
pub const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// A client of the key/value service.
pub struct Clerk {
    servers: Vec<kv_rpc::Client>,
    /// The server to try first: the one that answered last.
    leader: usize,
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
        assert!(!servers.is_empty(), "a clerk needs at least one server");
        Clerk {
            servers: servers.into_iter().map(kv_rpc::Client::new).collect(),
            leader: 0,
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
        let n = self.servers.len();
        let mut failures = 0;
        loop {
            match self.servers[self.leader].execute(&request).await {
                Ok(Ok(value)) => return value,
                // Wrong leader, timed out, or lost on the way: the next server, at once.
                Ok(Err(_)) | Err(_) => {
                    self.leader = (self.leader + 1) % n;
                    failures += 1;
                    if failures % n == 0 {
                        tokio::time::sleep(RETRY_PAUSE).await;
                    }
                }
            }
        }
    }
}
