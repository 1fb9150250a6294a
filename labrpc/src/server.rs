//! Servers and services: what a call is dispatched to.
//!
//! A [`Server`] is a set of services (say "Raft" and "KVServer" on one peer) and counts the
//! requests that reached it. A [`Service`] turns a method name and request bytes into reply
//! bytes; labs never implement it by hand: the [`service!`](crate::service) macro generates it
//! from a typed handler trait.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::RpcError;

/// A boxed, sendable future: what a dispatched call runs as.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A named set of methods, callable with encoded arguments.
pub trait Service: Send + Sync + 'static {
    /// The service's name: the part of "Raft.append_entries" before the dot.
    fn name(&self) -> &'static str;
    /// Starts one call of `method` (the part after the dot) on encoded `request` bytes.
    fn dispatch(&self, method: &str, request: Vec<u8>) -> BoxFuture<Result<Vec<u8>, RpcError>>;
}

/// One peer's services, as the network sees it.
#[derive(Default)]
pub struct Server {
    services: BTreeMap<&'static str, Arc<dyn Service>>,
    count: AtomicU64,
}

impl Server {
    pub fn new() -> Server {
        Server::default()
    }

    /// Adds a service; a later service with the same name replaces the earlier one.
    pub fn add_service(&mut self, service: impl Service) {
        self.services.insert(service.name(), Arc::new(service));
    }

    /// How many requests reached this server (after the network's request-drop decision).
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Counts a request and starts its handler.
    pub(crate) fn dispatch(
        &self,
        full_method: &str,
        request: Vec<u8>,
    ) -> BoxFuture<Result<Vec<u8>, RpcError>> {
        self.count.fetch_add(1, Ordering::Relaxed);
        let (service, method) = full_method.split_once('.').unwrap_or((full_method, ""));
        match self.services.get(service) {
            Some(service) => service.dispatch(method, request),
            None => {
                let error = RpcError::UnknownMethod(full_method.to_string());
                Box::pin(async move { Err(error) })
            }
        }
    }
}
