//! A call's handler on the simulated network: run in the calling task, and moved to a task of
//! its own only if the call gives up on it.
//!
//! The course's labrpc runs every handler in a goroutine of its own, so that a handler keeps
//! running after its caller stopped waiting (the server was deleted, the end disabled, or the
//! caller dropped the call). Spawning a task per call gives the same semantics but costs a
//! spawn and an extra task poll on every call, most of which simply run to completion while
//! their caller waits. [`Handler`] gives the same semantics more cheaply: the caller polls
//! the handler's future itself while it waits, and if it stops waiting before the handler
//! finished, dropping the [`Handler`] hands the rest of the future to a new task, which
//! carries on from where the caller left it. Either way the handler runs to the end, and a
//! panic in it fails the run (the caller's task, or the new one, is a [`sim::spawn`]ed task).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::server::BoxFuture;
use crate::sim::Sim;
use crate::RpcError;

/// What a handler produces: the encoded reply, or why there is none.
pub(crate) type Reply = Result<Vec<u8>, RpcError>;

/// A handler's future, polled by its caller until it finishes or the caller gives up.
pub(crate) struct Handler {
    /// `None` once the handler finished.
    future: Option<BoxFuture<Reply>>,
    sim: Sim,
}

impl Handler {
    pub(crate) fn new(sim: Sim, future: BoxFuture<Reply>) -> Handler {
        Handler {
            future: Some(future),
            sim,
        }
    }
}

impl Future for Handler {
    type Output = Reply;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Reply> {
        let future = self
            .future
            .as_mut()
            .expect("a finished handler is not polled again");
        let reply = std::task::ready!(future.as_mut().poll(cx));
        // For the livelock monitor, a handler is work like a task's poll, as it was when
        // every handler had a task: a loop of instant calls is caught at the same count.
        self.sim.count_poll();
        self.future = None;
        Poll::Ready(reply)
    }
}

impl Drop for Handler {
    fn drop(&mut self) {
        let Some(future) = self.future.take() else {
            return;
        };
        // Only a runtime can carry the handler on. Without one (the runtime itself is being
        // torn down, dropping every task), the run is over and nobody would see the reply.
        if tokio::runtime::Handle::try_current().is_ok() {
            self.sim.spawn(async move {
                // Its caller is gone: the reply goes nowhere.
                let _ = future.await;
            });
        }
    }
}
