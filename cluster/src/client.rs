//! Clerks with deadlines, for command-line clients and the nemesis's workload.
//!
//! The labs' clerks retry until some server carries an operation out, which is what the
//! course asks of them, and what a person at a terminal facing a dead cluster does not want.
//! Here every operation is given a deadline: past it, the caller gets an error saying no
//! server answered, and the clerk is dropped (the operation may still take effect later, as a
//! request lost in the network can; a new clerk, with a new id, carries on).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use labrpc::ClientEnd;

/// Which service a client talks to.
#[derive(Clone, Debug)]
pub enum Target {
    /// Lab 3's key/value service, at these replicas.
    Kv(Vec<String>),
    /// Lab 4's sharded service, through these controllers.
    Sharded(Vec<String>),
    /// An etcd cluster at these client endpoints (for comparison: Get and Put only).
    Etcd(Vec<String>),
}

impl Target {
    fn describe(&self) -> String {
        match self {
            Target::Kv(servers) => format!("the key/value servers {}", servers.join(",")),
            Target::Sharded(ctrlers) => {
                format!("the sharded service (controllers {})", ctrlers.join(","))
            }
            Target::Etcd(endpoints) => format!("etcd at {}", endpoints.join(",")),
        }
    }
}

enum Inner {
    Kv(kvraft::Clerk),
    Sharded(shardkv::Clerk),
    Etcd(crate::etcd::Etcd),
}

/// A clerk of either service whose operations fail after a deadline.
pub struct Client {
    target: Target,
    deadline: Duration,
    inner: Inner,
}

impl Client {
    /// Must be called inside [`crate::process::run`].
    pub fn new(target: &Target, deadline: Duration) -> Client {
        Client {
            inner: clerk(target),
            target: target.clone(),
            deadline,
        }
    }

    pub async fn get(&mut self, key: &str) -> Result<String, String> {
        let deadline = self.deadline;
        let result = match &mut self.inner {
            Inner::Kv(c) => within(deadline, c.get(key)).await,
            Inner::Sharded(c) => within(deadline, c.get(key)).await,
            Inner::Etcd(c) => {
                return within(deadline, c.get(key))
                    .await
                    .unwrap_or_else(|| self.settle(None))
            }
        };
        self.settle(result)
    }

    pub async fn put(&mut self, key: &str, value: &str) -> Result<(), String> {
        let deadline = self.deadline;
        let result = match &mut self.inner {
            Inner::Kv(c) => within(deadline, c.put(key, value)).await,
            Inner::Sharded(c) => within(deadline, c.put(key, value)).await,
            Inner::Etcd(c) => {
                return within(deadline, c.put(key, value))
                    .await
                    .unwrap_or_else(|| self.settle(None))
            }
        };
        self.settle(result)
    }

    pub async fn append(&mut self, key: &str, value: &str) -> Result<(), String> {
        let deadline = self.deadline;
        let result = match &mut self.inner {
            Inner::Kv(c) => within(deadline, c.append(key, value)).await,
            Inner::Sharded(c) => within(deadline, c.append(key, value)).await,
            Inner::Etcd(_) => return Err("etcd has no append".into()),
        };
        self.settle(result)
    }

    /// After a missed deadline the clerk may still have the operation outstanding, so it is
    /// replaced: a clerk has one request outstanding at a time, and a new id keeps the servers'
    /// duplicate table exact.
    fn settle<T>(&mut self, result: Option<T>) -> Result<T, String> {
        match result {
            Some(value) => Ok(value),
            None => {
                self.inner = clerk(&self.target);
                Err(format!(
                    "no answer from {} within {:.1} s",
                    self.target.describe(),
                    self.deadline.as_secs_f64()
                ))
            }
        }
    }
}

fn clerk(target: &Target) -> Inner {
    match target {
        Target::Kv(servers) => Inner::Kv(kvraft::Clerk::new(
            servers.iter().map(ClientEnd::tcp).collect(),
        )),
        Target::Sharded(ctrlers) => Inner::Sharded(shardkv::Clerk::new(
            ctrlers.iter().map(ClientEnd::tcp).collect(),
            make_end(),
        )),
        Target::Etcd(endpoints) => Inner::Etcd(crate::etcd::Etcd::new(endpoints.clone())),
    }
}

/// Ends to shardkv servers, which configurations name by address.
pub fn make_end() -> shardkv::kv::MakeEnd {
    Arc::new(|name: &str| ClientEnd::tcp(name))
}

/// `future`'s output, or `None` past `deadline`.
pub async fn within<T>(deadline: Duration, future: impl Future<Output = T>) -> Option<T> {
    tokio::time::timeout(deadline, future).await.ok()
}
