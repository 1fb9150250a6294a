//! Faults that strike at a protocol moment rather than at a time: what the tester arms on a
//! [`Network`](crate::Network), and how the network finds the one that applies.
//!
//! The course's faults (drops, delays, reordering, crashes) come by chance or by the clock;
//! bugs hide between two steps of a protocol. A tester arms a fault for one particular
//! message, chosen by server, method and a predicate on its encoded bytes, and the network
//! springs it on the first message that matches, then disarms it:
//! - a *reply fault* ([`Network::after_reply`](crate::Network::after_reply)) runs an action
//!   (a crash) the moment a server has produced a reply, before the reply leaves;
//! - a *request fault* ([`Network::delay_request`](crate::Network::delay_request),
//!   [`Network::duplicate_request`](crate::Network::duplicate_request)) holds a request back
//!   so that it arrives after later ones, or delivers a second copy of it later.
//!
//! Faults are kept in the order they were armed and looked up first match first, so which
//! one fires depends only on the run, never on hashing. Nothing here draws from the seeded
//! generator: a run that arms nothing is the same run, digest for digest, as before faults
//! existed. A fault that fires is recorded in the digest and traced with `topic = "fault"`
//! (with the struck server's trace `node` when the tester has named it, see
//! [`Network::trace_as`](crate::Network::trace_as)), which the timeline page marks.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Which replies a reply fault waits for: it sees the encoded request and reply.
pub(crate) type ReplyFilter = Box<dyn Fn(&[u8], &[u8]) -> bool + Send>;

/// Which requests a request fault waits for: it sees the encoded request.
pub(crate) type RequestFilter = Box<dyn Fn(&[u8]) -> bool + Send>;

/// An action to take right after a server has produced a reply of a method.
pub(crate) struct ReplyTrigger {
    pub server: String,
    pub method: String,
    pub when: ReplyFilter,
    pub action: Box<dyn FnOnce() + Send>,
}

/// What a request fault does to the request it strikes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum RequestFault {
    /// Hold the request back this long before it reaches the server.
    Delay(Duration),
    /// Deliver the request as usual, and a copy of it this long afterwards.
    Duplicate(Duration),
}

impl RequestFault {
    /// The digest's and the trace's name for it.
    pub fn name(self) -> &'static str {
        match self {
            RequestFault::Delay(_) => "delay",
            RequestFault::Duplicate(_) => "duplicate",
        }
    }
}

/// A fault waiting for a request of a method to a server.
pub(crate) struct RequestTrigger {
    pub server: String,
    pub method: String,
    pub when: RequestFilter,
    pub fault: RequestFault,
}

/// Every fault armed and not yet fired, and the trace nodes of servers, for the trace.
#[derive(Default)]
pub(crate) struct Faults {
    pub replies: Vec<ReplyTrigger>,
    pub requests: Vec<RequestTrigger>,
    /// Server name to trace node. Only looked up by name, never iterated.
    pub nodes: HashMap<Arc<str>, i64>,
}

impl Faults {
    /// How many faults are armed.
    pub fn armed(&self) -> usize {
        self.replies.len() + self.requests.len()
    }

    /// Whether a reply fault is armed for `method` on `server` (so the request must be kept
    /// for its predicate).
    pub fn watches_replies(&self, server: &str, method: &str) -> bool {
        self.replies
            .iter()
            .any(|t| t.server == server && t.method == method)
    }

    /// Takes the first reply fault that this reply springs.
    pub fn take_reply(
        &mut self,
        server: &str,
        method: &str,
        request: &[u8],
        reply: &[u8],
    ) -> Option<ReplyTrigger> {
        let position = self
            .replies
            .iter()
            .position(|t| t.server == server && t.method == method && (t.when)(request, reply))?;
        Some(self.replies.remove(position))
    }

    /// Takes the first request fault that this request springs.
    pub fn take_request(
        &mut self,
        server: &str,
        method: &str,
        request: &[u8],
    ) -> Option<RequestFault> {
        let position = self
            .requests
            .iter()
            .position(|t| t.server == server && t.method == method && (t.when)(request))?;
        Some(self.requests.remove(position).fault)
    }
}

/// Traces a fault's moment on the struck server's node, if it has one; `from`: the end the
/// request came from, when the fault knows it.
pub(crate) fn trace(node: Option<i64>, server: &str, method: &str, from: Option<&str>, text: &str) {
    match (node, from) {
        (Some(node), Some(from)) => {
            tracing::debug!(node, topic = "fault", server, method, from, "{text}")
        }
        (Some(node), None) => tracing::debug!(node, topic = "fault", server, method, "{text}"),
        (None, Some(from)) => tracing::debug!(topic = "fault", server, method, from, "{text}"),
        (None, None) => tracing::debug!(topic = "fault", server, method, "{text}"),
    }
}
