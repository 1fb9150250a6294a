//! The simulated network, with the course's labrpc semantics, and the [`ClientEnd`] labs call
//! through (which may instead reach another process over TCP: see [`crate::tcp`]).
//!
//! A [`Network`] holds named client ends and named servers. An end is directional: one sender
//! to one server. The tester wires ends to servers, enables and disables ends ("disconnecting"
//! a peer disables every end it owns and every end pointing at it), makes the network
//! unreliable, turns on long reordering of replies and long delays for unreachable calls, and
//! deletes servers. Every call's arguments and reply are encoded, counted and recorded in the
//! run's digest. The fate of one call, step by step (see `ClientEnd::call_raw`):
//!
//! 1. count the call and its request bytes (even if it goes nowhere);
//! 2. unreachable (end disabled or unconnected, server absent): fail after a random delay,
//!    0–7 s with long delays on, else 0–100 ms;
//! 3. unreliable: wait 0–26 ms, then drop the request with probability 1/10;
//! 4. run the handler; give up as soon as the server is deleted or replaced or the end
//!    disabled (the handler keeps running, as a Go goroutine would: see `handler.rs`);
//! 5. a reply from a server that has since died is never delivered; unreliable: drop the reply
//!    with probability 1/10; long reordering: hold it back 200–2200 ms with probability 2/3;
//! 6. deliver, counting the reply's bytes.
//!
//! Faults the tester arms for one particular message (see [`crate::faults`]) strike between
//! these steps: a request fault after step 3 (the request is held back, or a copy of it is
//! delivered later), a reply fault in step 4, the moment the handler has produced its reply.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::faults::{self, Faults, ReplyTrigger, RequestFault, RequestTrigger};
use crate::handler::Handler;
use crate::pending::{PendingCall, PendingGuard, PendingTable};
use crate::sim::{self, Sim};
use crate::tcp::TcpEnd;
use crate::{codec, RpcError, Server};

/// The course's constants.
const SHORT_DELAY_MAX_MS: u64 = 27; // unreliable: uniform 0..27 ms before delivery
const DROP_PER_MILLE: u64 = 100; // unreliable: drop 100/1000 requests and 100/1000 replies
const UNREACHABLE_LONG_MS: u64 = 7000; // long delays: fail after 0..7000 ms
const UNREACHABLE_SHORT_MS: u64 = 100; // otherwise after 0..100 ms

/// A simulated network. Cheap to clone; clones share the network.
#[derive(Clone)]
pub struct Network {
    inner: Arc<NetInner>,
}

struct NetInner {
    sim: Sim,
    state: Mutex<NetState>,
    /// The topology's generation: bumped on every change that can strand a pending call (a
    /// server deleted or replaced, an end disabled or rewired, cleanup). A call that sees it
    /// unchanged since it found its server knows it still reaches that server without
    /// looking again.
    generation: AtomicU64,
    total_count: AtomicU64,
    total_bytes: AtomicU64,
    /// Calls waiting on a handler: woken on every bump of the generation, so that they
    /// re-check their route at once; and listed in the hang report, since a handler that
    /// never returns is the one way a call can hang.
    in_handler: Mutex<PendingTable>,
    /// How many faults are armed, so that calls skip the lock when none is.
    armed: AtomicU64,
}

#[derive(Default)]
struct NetState {
    reliable: bool,
    long_delays: bool,
    long_reordering: bool,
    /// Each message's time on the wire, drawn uniformly from this range (ms, inclusive).
    latency_ms: (u64, u64),
    closed: bool,
    /// Faults armed to strike at a protocol moment (see [`crate::faults`]), in the order they
    /// were armed.
    faults: Faults,
    // Only looked up by name, never iterated: order cannot leak into the run.
    ends: HashMap<Arc<str>, EndState>,
    servers: HashMap<Arc<str>, Arc<Server>>,
}

struct EndState {
    enabled: bool,
    server: Option<Arc<str>>,
}

/// A server as a call reaches it: its name and the very instance (a replacement of the same
/// name is another server).
type Target = (Arc<str>, Arc<Server>);

/// The switches in force when a call was sent; they govern the whole call.
#[derive(Clone, Copy)]
struct Switches {
    reliable: bool,
    long_delays: bool,
    long_reordering: bool,
    latency_ms: (u64, u64),
}

impl Default for Network {
    fn default() -> Self {
        Network::new()
    }
}

impl Network {
    /// A new network in the current simulation: reliable, no long delays, no reordering.
    pub fn new() -> Network {
        let sim = sim::current();
        let inner = Arc::new(NetInner {
            sim: sim.clone(),
            state: Mutex::new(NetState {
                reliable: true,
                ..NetState::default()
            }),
            generation: AtomicU64::new(0),
            total_count: AtomicU64::new(0),
            total_bytes: AtomicU64::new(0),
            in_handler: Mutex::new(PendingTable::default()),
            armed: AtomicU64::new(0),
        });
        let weak = Arc::downgrade(&inner);
        sim.on_hang(Box::new(move || {
            weak.upgrade()
                .map(|net| net.in_handler.lock().unwrap().report())
        }));
        Network { inner }
    }

    /// Reliable: no delays, no drops. Unreliable: short random delays, 10% of requests and 10%
    /// of replies dropped.
    pub fn set_reliable(&self, yes: bool) {
        self.inner.state.lock().unwrap().reliable = yes;
    }

    /// Calls to unreachable servers fail after up to 7 s instead of up to 100 ms.
    pub fn set_long_delays(&self, yes: bool) {
        self.inner.state.lock().unwrap().long_delays = yes;
    }

    /// Two replies in three are held back 200–2200 ms, so replies arrive out of order.
    pub fn set_long_reordering(&self, yes: bool) {
        self.inner.state.lock().unwrap().long_reordering = yes;
    }

    /// Every request and every reply spends `min..=max` on the wire (uniformly random, whole
    /// milliseconds), on top of the unreliable network's delays. Off (zero) by default, as
    /// in the course, where a reliable network delivers in no time; a test that loops on
    /// operations back to back needs it on the paused clock, or its operations would take
    /// no simulated time at all and the clock would never move.
    pub fn set_latency(&self, min: Duration, max: Duration) {
        assert!(min <= max, "latency range {min:?}..={max:?} is empty");
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        self.inner.state.lock().unwrap().latency_ms = (ms(min), ms(max));
    }

    /// Arms a fault that strikes at a protocol moment rather than at a time: the first time
    /// server `server` produces a reply to `method` (`"Service.method"`) that `when` accepts
    /// (it sees the encoded request and reply), `action` runs at once, where the handler
    /// runs, before the reply leaves and before any other task runs: before anything else the
    /// server would do next, such as a save it left to another task. A tester passes its crash
    /// as the action (deleting the server then loses the reply, as a crash would). Only
    /// requests that reach the server after the fault is armed are considered. Fires once;
    /// recorded in the digest and traced (`topic = "fault"`).
    pub fn after_reply(
        &self,
        server: &str,
        method: &str,
        when: impl Fn(&[u8], &[u8]) -> bool + Send + 'static,
        action: impl FnOnce() + Send + 'static,
    ) {
        self.inner
            .state
            .lock()
            .unwrap()
            .faults
            .replies
            .push(ReplyTrigger {
                server: server.to_string(),
                method: method.to_string(),
                when: Box::new(when),
                action: Box::new(action),
            });
        self.inner.armed.fetch_add(1, Ordering::Relaxed);
    }

    /// Arms a fault that holds one request back so that it arrives after later ones: the
    /// first request of `method` to server `server` that `when` accepts (it sees the encoded
    /// request), sent after the fault is armed and not lost on the way, spends `by` more on
    /// the wire before it reaches the server. It then reaches whatever server its end reaches
    /// at that moment (a restarted server of the same name included; nothing, if the end has
    /// been disabled or the server deleted meanwhile, and the call fails). The caller waits
    /// for it as for any slow call; the sender's later requests overtake it. Fires once;
    /// recorded in the digest and traced (`topic = "fault"`) both when the request is held
    /// back and when it arrives.
    pub fn delay_request(
        &self,
        server: &str,
        method: &str,
        when: impl Fn(&[u8]) -> bool + Send + 'static,
        by: Duration,
    ) {
        self.arm_request(server, method, Box::new(when), RequestFault::Delay(by));
    }

    /// Arms a fault that delivers one request twice: the first request of `method` to server
    /// `server` that `when` accepts (as for [`Network::delay_request`]) goes on as usual, and
    /// a copy of it reaches the server `after` later (whatever server the sender's end reaches
    /// then, as for a delayed request), as a duplicated packet would. The copy's reply is
    /// thrown away: the caller has had its answer, or given up. Fires once; recorded in the
    /// digest and traced (`topic = "fault"`) when the request is copied and when the copy
    /// arrives.
    pub fn duplicate_request(
        &self,
        server: &str,
        method: &str,
        when: impl Fn(&[u8]) -> bool + Send + 'static,
        after: Duration,
    ) {
        self.arm_request(
            server,
            method,
            Box::new(when),
            RequestFault::Duplicate(after),
        );
    }

    fn arm_request(
        &self,
        server: &str,
        method: &str,
        when: faults::RequestFilter,
        fault: RequestFault,
    ) {
        self.inner
            .state
            .lock()
            .unwrap()
            .faults
            .requests
            .push(RequestTrigger {
                server: server.to_string(),
                method: method.to_string(),
                when,
                fault,
            });
        self.inner.armed.fetch_add(1, Ordering::Relaxed);
    }

    /// Names server `server` in the trace as node `node` (as its lab traces it), so that the
    /// faults that strike it are traced on that node and the timeline page marks them on its
    /// lane. Only the fault events use it.
    pub fn trace_as(&self, server: &str, node: i64) {
        self.inner
            .state
            .lock()
            .unwrap()
            .faults
            .nodes
            .insert(server.into(), node);
    }

    /// Faults still armed.
    pub fn armed_faults(&self) -> usize {
        self.inner.state.lock().unwrap().faults.armed()
    }

    /// Whether some fault is armed (without taking the lock).
    fn any_armed(&self) -> bool {
        self.inner.armed.load(Ordering::Relaxed) != 0
    }

    /// The trace node of a server, if the tester named one.
    fn trace_node(&self, server: &str) -> Option<i64> {
        self.inner
            .state
            .lock()
            .unwrap()
            .faults
            .nodes
            .get(server)
            .copied()
    }

    /// Whether a reply fault is armed for this method on this server: the request must then
    /// be kept for the fault's predicate.
    fn watches_replies(&self, server: &str, method: &str) -> bool {
        self.any_armed()
            && self
                .inner
                .state
                .lock()
                .unwrap()
                .faults
                .watches_replies(server, method)
    }

    /// Runs the first armed reply fault for this reply, if one matches.
    fn fire_reply_triggers(&self, server: &str, method: &str, request: &[u8], reply: &[u8]) {
        if !self.any_armed() {
            return;
        }
        let trigger = self
            .inner
            .state
            .lock()
            .unwrap()
            .faults
            .take_reply(server, method, request, reply);
        if let Some(trigger) = trigger {
            self.inner.armed.fetch_sub(1, Ordering::Relaxed);
            self.inner
                .sim
                .record(&[b"fault", server.as_bytes(), method.as_bytes()]);
            faults::trace(
                self.trace_node(server),
                server,
                method,
                None,
                &format!("a fault armed for this reply strikes, after {server} answers {method}"),
            );
            (trigger.action)();
        }
    }

    /// Takes the first armed request fault for this request, if one matches, and records it.
    fn take_request_fault(
        &self,
        from: &str,
        server: &str,
        method: &str,
        request: &[u8],
    ) -> Option<RequestFault> {
        if !self.any_armed() {
            return None;
        }
        let fault = self
            .inner
            .state
            .lock()
            .unwrap()
            .faults
            .take_request(server, method, request)?;
        self.inner.armed.fetch_sub(1, Ordering::Relaxed);
        let (kind, by) = match fault {
            RequestFault::Delay(by) | RequestFault::Duplicate(by) => (fault.name(), by),
        };
        self.inner.sim.record(&[
            b"fault",
            kind.as_bytes(),
            from.as_bytes(),
            server.as_bytes(),
            method.as_bytes(),
            &(by.as_nanos() as u64).to_le_bytes(),
        ]);
        let text = match fault {
            RequestFault::Delay(by) => format!(
                "a fault holds back {method} from {from} to {server} by {:.3} s",
                by.as_secs_f64()
            ),
            RequestFault::Duplicate(after) => format!(
                "a fault copies {method} from {from} to {server}; the copy arrives {:.3} s later",
                after.as_secs_f64()
            ),
        };
        faults::trace(self.trace_node(server), server, method, Some(from), &text);
        Some(fault)
    }

    /// A request held back or copied by a fault arrives: records it and returns the server
    /// the sender's end reaches now, if any.
    fn late_arrival(&self, fault: RequestFault, from: &str, method: &str) -> Option<Target> {
        let target = self.route(from).1;
        let to = target.as_ref().map_or("", |(name, _)| &**name);
        let kind = match fault {
            RequestFault::Delay(_) => "delayed-arrives",
            RequestFault::Duplicate(_) => "copy-arrives",
        };
        self.inner.sim.record(&[
            b"fault",
            kind.as_bytes(),
            from.as_bytes(),
            to.as_bytes(),
            method.as_bytes(),
        ]);
        let what = match fault {
            RequestFault::Delay(_) => "the held-back",
            RequestFault::Duplicate(_) => "the copy of",
        };
        let text = match &target {
            Some(_) => format!("{what} {method} from {from} arrives at {to}"),
            None => format!("{what} {method} from {from} is lost: the end reaches no server now"),
        };
        let node = target.as_ref().and_then(|(name, _)| self.trace_node(name));
        faults::trace(node, to, method, Some(from), &text);
        target
    }

    /// Delivers a copy of a request `after` from now, in a task of its own; its reply goes
    /// nowhere.
    fn deliver_copy(
        &self,
        from: Arc<str>,
        method: &'static str,
        request: Vec<u8>,
        after: Duration,
    ) {
        let net = self.clone();
        sim::spawn(async move {
            net.inner.sim.sleep(after).await;
            let Some((name, server)) =
                net.late_arrival(RequestFault::Duplicate(after), &from, method)
            else {
                return;
            };
            let keep = net.watches_replies(&name, method).then(|| request.clone());
            if let Ok(reply) = server.dispatch(method, request).await {
                net.fire_reply_triggers(&name, method, keep.as_deref().unwrap_or(&[]), &reply);
            }
        });
    }

    /// A new client end, disabled and unconnected.
    pub fn make_end(&self, name: impl Into<String>) -> ClientEnd {
        let name: Arc<str> = name.into().into();
        let mut state = self.inner.state.lock().unwrap();
        assert!(
            !state.ends.contains_key(&name),
            "labrpc: client end {name:?} already exists"
        );
        state.ends.insert(
            name.clone(),
            EndState {
                enabled: false,
                server: None,
            },
        );
        ClientEnd {
            name,
            via: Via::Sim(self.clone()),
        }
    }

    /// Adds a server under `name`, replacing (and so killing) any server of that name.
    pub fn add_server(&self, name: impl Into<String>, server: Server) {
        let name: Arc<str> = name.into().into();
        self.inner
            .state
            .lock()
            .unwrap()
            .servers
            .insert(name, Arc::new(server));
        self.topology_changed();
    }

    /// Deletes a server: its pending calls fail, and none of its replies is delivered.
    pub fn delete_server(&self, name: &str) {
        self.inner.state.lock().unwrap().servers.remove(name);
        self.topology_changed();
    }

    /// Points an end at a server (which need not exist yet).
    pub fn connect(&self, end: &str, server: &str) {
        let mut state = self.inner.state.lock().unwrap();
        let end = state
            .ends
            .get_mut(end)
            .unwrap_or_else(|| panic!("labrpc: no client end {end:?}"));
        end.server = Some(server.into());
        drop(state);
        self.topology_changed();
    }

    /// Enables or disables an end. A disabled end's calls go nowhere.
    pub fn enable(&self, end: &str, enabled: bool) {
        let mut state = self.inner.state.lock().unwrap();
        let end = state
            .ends
            .get_mut(end)
            .unwrap_or_else(|| panic!("labrpc: no client end {end:?}"));
        end.enabled = enabled;
        drop(state);
        self.topology_changed();
    }

    /// Requests that reached server `name`'s dispatch (0 for an unknown server).
    pub fn count(&self, name: &str) -> u64 {
        self.inner
            .state
            .lock()
            .unwrap()
            .servers
            .get(name)
            .map_or(0, |s| s.count())
    }

    /// Every call sent on this network, delivered or not.
    pub fn total_count(&self) -> u64 {
        self.inner.total_count.load(Ordering::Relaxed)
    }

    /// Bytes of every request sent and every reply delivered.
    pub fn total_bytes(&self) -> u64 {
        self.inner.total_bytes.load(Ordering::Relaxed)
    }

    /// Shuts the network down: pending and future calls fail at once.
    pub fn cleanup(&self) {
        self.inner.state.lock().unwrap().closed = true;
        self.topology_changed();
    }

    /// Bumps the generation, then wakes every call waiting on a handler to re-check its
    /// route (in the order they began waiting). A call enters the table before it checks
    /// the generation for the last time, so none can miss a bump.
    fn topology_changed(&self) {
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
        self.inner.in_handler.lock().unwrap().wake_all();
    }

    /// The switches now, and the server `end` reaches, if it reaches one.
    fn route(&self, end: &str) -> (Switches, Option<Target>) {
        let state = self.inner.state.lock().unwrap();
        let switches = Switches {
            reliable: state.reliable,
            long_delays: state.long_delays,
            long_reordering: state.long_reordering,
            latency_ms: state.latency_ms,
        };
        let target = match state.ends.get(end) {
            Some(EndState {
                enabled: true,
                server: Some(name),
            }) if !state.closed => state
                .servers
                .get(name)
                .map(|server| (name.clone(), server.clone())),
            _ => None,
        };
        (switches, target)
    }

    /// The topology's generation now; read it before [`Network::route`], so that a change
    /// after that read makes [`Network::still_reaches`] look again.
    fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::Acquire)
    }

    /// Whether `end` still reaches this very server (not a replacement of the same name),
    /// found when the topology's generation was `seen`.
    fn still_reaches(&self, end: &str, server: &Arc<Server>, seen: u64) -> bool {
        if self.generation() == seen {
            return true;
        }
        match self.route(end).1 {
            Some((_, now)) => Arc::ptr_eq(&now, server),
            None => false,
        }
    }

    fn per_mille(&self, threshold: u64) -> bool {
        self.inner
            .sim
            .with_rng(|rng| rand::Rng::random_range(rng, 0..1000))
            < threshold
    }

    fn random_ms(&self, below: u64) -> Duration {
        Duration::from_millis(
            self.inner
                .sim
                .with_rng(|rng| rand::Rng::random_range(rng, 0..below)),
        )
    }

    /// One message's time on the wire under `switches`, if any.
    async fn wire(&self, switches: &Switches) {
        let (min, max) = switches.latency_ms;
        if max > 0 {
            let ms = self
                .inner
                .sim
                .with_rng(|rng| rand::Rng::random_range(rng, min..=max));
            self.inner.sim.sleep(Duration::from_millis(ms)).await;
        }
    }

    /// The long-reordering hold-back: 200 + rand[0, rand[0, 2000]] ms, skewed low.
    fn reorder_delay(&self) -> Option<Duration> {
        self.inner.sim.with_rng(|rng| {
            use rand::Rng;
            if rng.random_range(0..900) < 600 {
                let upper = rng.random_range(0..2000u64);
                Some(Duration::from_millis(200 + rng.random_range(0..=upper)))
            } else {
                None
            }
        })
    }
}

/// What became of a call, for the digest and the trace.
#[derive(Clone, Copy)]
enum Fate {
    Sent,
    Unreachable,
    RequestDropped,
    ServerGone,
    ReplyDropped,
    Delivered,
    Failed,
}

impl Fate {
    fn as_str(self) -> &'static str {
        match self {
            Fate::Sent => "send",
            Fate::Unreachable => "unreachable",
            Fate::RequestDropped => "drop-request",
            Fate::ServerGone => "server-gone",
            Fate::ReplyDropped => "drop-reply",
            Fate::Delivered => "deliver",
            Fate::Failed => "failed",
        }
    }
}

/// One sender's end of a link to one server: on a simulated [`Network`], or over TCP to a
/// server in another process ([`ClientEnd::tcp`], see [`crate::tcp`]). Code that calls
/// through an end cannot tell which, so the labs run unchanged on either.
#[derive(Clone)]
pub struct ClientEnd {
    name: Arc<str>,
    via: Via,
}

/// The network an end sends on.
#[derive(Clone)]
enum Via {
    Sim(Network),
    Tcp(Arc<TcpEnd>),
}

impl ClientEnd {
    /// An end that calls over TCP through `end` (made by [`ClientEnd::tcp`]); named after the
    /// address it reaches.
    pub(crate) fn from_tcp(end: TcpEnd) -> ClientEnd {
        ClientEnd {
            name: end.addr().into(),
            via: Via::Tcp(Arc::new(end)),
        }
    }

    /// The end's name on the network (for a TCP end, the address it calls).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Calls `method` ("Service.method") with typed arguments and reply. Labs use the typed
    /// clients the [`service!`](crate::service) macro generates rather than this.
    pub async fn call<A, R>(&self, method: &'static str, args: &A) -> Result<R, RpcError>
    where
        A: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        let request = codec::encode(args)?;
        let reply = self.call_raw(method, request).await?;
        codec::decode(&reply)
    }

    /// Calls `method` with encoded arguments; returns the encoded reply. On the simulated
    /// network it never hangs unless the handler itself never returns on a live server; over
    /// TCP it fails once the end's timeout has passed.
    pub async fn call_raw(
        &self,
        method: &'static str,
        request: Vec<u8>,
    ) -> Result<Vec<u8>, RpcError> {
        match &self.via {
            Via::Sim(net) => self.call_sim(net, method, request).await,
            // Boxed: a TCP call's future is four times a simulated call's, and would make
            // every simulated call's future as large (2.6 KB instead of 560 bytes), which a
            // Raft peer spawns one of per message it sends.
            Via::Tcp(end) => Box::pin(end.call(method, request)).await,
        }
    }

    /// One call on the simulated network, step by step as the module documentation says.
    async fn call_sim(
        &self,
        net: &Network,
        method: &'static str,
        request: Vec<u8>,
    ) -> Result<Vec<u8>, RpcError> {
        // Every call counts against the task's cooperative budget, as waiting on a spawned
        // handler's task did: a caller that loops on calls whose handlers finish at once
        // (no wire latency) still yields to the scheduler now and then, so that the livelock
        // monitor and the other tasks get to run.
        tokio::task::coop::consume_budget().await;
        let inner = &net.inner;
        inner.total_count.fetch_add(1, Ordering::Relaxed);
        inner
            .total_bytes
            .fetch_add(request.len() as u64, Ordering::Relaxed);
        let generation = net.generation();
        let (switches, target) = net.route(&self.name);
        let to = target.as_ref().map_or("", |(name, _)| &**name);
        self.record(net, Fate::Sent, to, method, request.len());

        let Some((server_name, server)) = target else {
            let below = if switches.long_delays {
                UNREACHABLE_LONG_MS
            } else {
                UNREACHABLE_SHORT_MS
            };
            net.inner.sim.sleep(net.random_ms(below)).await;
            self.record(net, Fate::Unreachable, "", method, 0);
            return Err(RpcError::Lost);
        };

        if !switches.reliable {
            net.inner.sim.sleep(net.random_ms(SHORT_DELAY_MAX_MS)).await;
            if net.per_mille(DROP_PER_MILLE) {
                self.record(net, Fate::RequestDropped, &server_name, method, 0);
                return Err(RpcError::Lost);
            }
        }

        net.wire(&switches).await;
        // A fault armed for this request holds it back (it then reaches whatever the end
        // reaches when it arrives), or has a copy of it delivered later.
        let (server_name, server) =
            match net.take_request_fault(&self.name, &server_name, method, &request) {
                Some(fault @ RequestFault::Delay(by)) => {
                    net.inner.sim.sleep(by).await;
                    match net.late_arrival(fault, &self.name, method) {
                        Some(target) => target,
                        None => {
                            self.record(net, Fate::ServerGone, &server_name, method, 0);
                            return Err(RpcError::Lost);
                        }
                    }
                }
                Some(RequestFault::Duplicate(after)) => {
                    net.deliver_copy(self.name.clone(), method, request.clone(), after);
                    (server_name, server)
                }
                None => (server_name, server),
            };
        // The handler runs in this task while the call waits for it, and in a task of its own
        // once the call gives up on it (see `handler.rs`): either way it runs on to the end.
        // A fault armed for its reply strikes the moment the reply exists (the request is
        // kept for the fault's predicate only while one is armed).
        let reply_future = match net.watches_replies(&server_name, method) {
            false => server.dispatch(method, request),
            true => {
                let (dispatching, armed) = (server.clone(), net.clone());
                let target_name = server_name.clone();
                Box::pin(async move {
                    let reply = dispatching.dispatch(method, request.clone()).await;
                    if let Ok(bytes) = &reply {
                        armed.fire_reply_triggers(&target_name, method, &request, bytes);
                    }
                    reply
                })
            }
        };
        let mut handler = Handler::new(inner.sim.clone(), reply_future);
        let mut pending = PendingGuard::new(&inner.in_handler);
        let since = inner.sim.elapsed();
        // Waits for the handler, or for a topology change that leaves the server out of reach
        // (`None`).
        let reply = std::future::poll_fn(|cx| {
            // Before the handler's first poll too: a request that arrives at a server cut off
            // meanwhile is never handled.
            if !net.still_reaches(&self.name, &server, generation) {
                return Poll::Ready(None);
            }
            if let Poll::Ready(outcome) = Pin::new(&mut handler).poll(cx) {
                return Poll::Ready(Some(outcome));
            }
            pending.register(cx.waker(), |waker| PendingCall {
                from: self.name.clone(),
                to: server_name.clone(),
                method,
                since,
                waker,
            });
            // Again once registered, in case the handler changed the topology: any bump from
            // now on wakes this call.
            if !net.still_reaches(&self.name, &server, generation) {
                return Poll::Ready(None);
            }
            Poll::Pending
        })
        .await;
        drop(pending);
        let Some(reply) = reply else {
            self.record(net, Fate::ServerGone, &server_name, method, 0);
            return Err(RpcError::Lost);
        };
        let reply = match reply {
            Ok(reply) => reply,
            Err(error) => {
                self.record(net, Fate::Failed, &server_name, method, 0);
                return Err(error);
            }
        };
        // The reply's time on the wire comes first, so a crash loses a reply still on its
        // way, as it loses one still being computed: with a wire latency, a client is then
        // left to retry an operation that did take effect, which is the path duplicate
        // detection exists for.
        net.wire(&switches).await;
        // A server deleted while handling never produces a positive reply: its state may have
        // gone into a persister that has since been superseded.
        if !net.still_reaches(&self.name, &server, generation) {
            self.record(net, Fate::ServerGone, &server_name, method, 0);
            return Err(RpcError::Lost);
        }
        if !switches.reliable && net.per_mille(DROP_PER_MILLE) {
            self.record(net, Fate::ReplyDropped, &server_name, method, 0);
            return Err(RpcError::Lost);
        }
        if switches.long_reordering {
            if let Some(delay) = net.reorder_delay() {
                net.inner.sim.sleep(delay).await;
            }
        }
        inner
            .total_bytes
            .fetch_add(reply.len() as u64, Ordering::Relaxed);
        self.record(net, Fate::Delivered, &server_name, method, reply.len());
        Ok(reply)
    }

    fn record(&self, net: &Network, fate: Fate, to: &str, method: &'static str, size: usize) {
        let sim = &net.inner.sim;
        sim.note_network(fate.as_str(), &self.name, to, method, size);
        sim.record(&[
            fate.as_str().as_bytes(),
            self.name.as_bytes(),
            to.as_bytes(),
            method.as_bytes(),
            &(size as u64).to_le_bytes(),
        ]);
        tracing::trace!(
            target: "labrpc",
            topic = fate.as_str(),
            from = &*self.name,
            to,
            method,
            bytes = size,
        );
    }
}
