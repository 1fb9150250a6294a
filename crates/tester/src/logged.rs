//! A clerk wrapper that counts, traces and records every operation: the course's logging
//! `Get`, `Put` and `Append` helpers in its key/value tests, for any service's clerk.
//!
//! Every operation is counted (the OPS column of the result line), traced at debug level
//! (`topic = "client"`, a `call` and a `return` event with the same client and id, which the
//! timeline page pairs up), and, for a clerk attached to a [`History`], recorded with its
//! simulated call and return times for the linearizability check.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use lincheck::KvInput;

use crate::history::History;

/// What a key/value clerk offers. Test crates implement it for a newtype around their
/// service's clerk.
pub trait KvClerk: Send {
    fn get(&mut self, key: &str) -> impl Future<Output = String> + Send;
    fn put(&mut self, key: &str, value: &str) -> impl Future<Output = ()> + Send;
    fn append(&mut self, key: &str, value: &str) -> impl Future<Output = ()> + Send;
}

/// The counters a tester shares with its clerks.
#[derive(Default)]
pub struct OpCounter {
    /// Operations since the tester last reset it (the result line's count).
    ops: AtomicU64,
    /// Numbers operations for the trace (call and return share a number).
    next_id: AtomicU64,
}

impl OpCounter {
    /// Operations counted since the last [`reset`](Self::reset).
    pub fn ops(&self) -> u64 {
        self.ops.load(Ordering::Relaxed)
    }

    pub fn reset(&self) {
        self.ops.store(0, Ordering::Relaxed);
    }

    fn count(&self) -> u64 {
        self.ops.fetch_add(1, Ordering::Relaxed);
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// A clerk made by a tester.
pub struct LoggedClerk<C> {
    counter: Arc<OpCounter>,
    /// The tester's number for this clerk (for its ends, and the trace).
    id: u64,
    clerk: C,
    /// Where operations are recorded, and as which client.
    log: Option<(History, usize)>,
    /// Whether an operation is under way (called, not yet returned).
    outstanding: Arc<AtomicBool>,
}

impl<C: KvClerk> LoggedClerk<C> {
    pub fn new(counter: Arc<OpCounter>, id: u64, clerk: C) -> LoggedClerk<C> {
        LoggedClerk {
            counter,
            id,
            clerk,
            log: None,
            outstanding: Arc::default(),
        }
    }

    /// A flag that is set while this clerk has an operation under way, for a tester that
    /// wants to know, at a crash, which clients were in the middle of one.
    pub fn outstanding(&self) -> Arc<AtomicBool> {
        self.outstanding.clone()
    }

    pub fn tester_id(&self) -> u64 {
        self.id
    }

    /// Records this clerk's operations in `history` as client `client`.
    pub fn record_in(&mut self, history: &History, client: usize) {
        self.log = Some((history.clone(), client));
    }

    pub async fn get(&mut self, key: &str) -> String {
        let call = self.call(&KvInput::get(key));
        let value = self.clerk.get(key).await;
        self.returned(call, value.clone());
        value
    }

    pub async fn put(&mut self, key: &str, value: &str) {
        let call = self.call(&KvInput::put(key, value));
        self.clerk.put(key, value).await;
        self.returned(call, String::new());
    }

    pub async fn append(&mut self, key: &str, value: &str) {
        let call = self.call(&KvInput::append(key, value));
        self.clerk.append(key, value).await;
        self.returned(call, String::new());
    }

    /// The untracked clerk: the speed tests' operations bypass the counter, as in the course.
    pub fn inner(&mut self) -> &mut C {
        &mut self.clerk
    }

    /// Counts, traces and records a call; returns what `returned` needs.
    fn call(&self, input: &KvInput) -> Call {
        self.outstanding.store(true, Ordering::Release);
        let op = self.counter.count();
        tracing::debug!(
            topic = "client",
            client = self.id,
            id = op,
            phase = "call",
            op = %Describe(input),
        );
        let recorded = self
            .log
            .as_ref()
            .map(|(history, client)| history.call(*client, input.clone()));
        Call { op, recorded }
    }

    fn returned(&self, call: Call, output: String) {
        self.outstanding.store(false, Ordering::Release);
        tracing::debug!(
            topic = "client",
            client = self.id,
            id = call.op,
            phase = "return",
            op = %Short(&output),
        );
        if let (Some((history, _)), Some(index)) = (&self.log, call.recorded) {
            history.returned(index, output);
        }
    }
}

struct Call {
    op: u64,
    /// The operation's index in the history, if recorded.
    recorded: Option<usize>,
}

/// `get(k)`, `put(k,v)`, `append(k,v)`, formatted only if the event is printed.
struct Describe<'a>(&'a KvInput);

impl fmt::Display for Describe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            KvInput::Get { key } => write!(f, "get({key})"),
            KvInput::Put { key, value } => write!(f, "put({key},{value})"),
            KvInput::Append { key, value } => write!(f, "append({key},{value})"),
        }
    }
}

/// A returned value, cut short: Gets return whole accumulated values.
struct Short<'a>(&'a str);

impl fmt::Display for Short<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const LIMIT: usize = 24;
        let s = self.0;
        if s.len() <= LIMIT {
            return write!(f, "{s:?}");
        }
        let mut cut = LIMIT;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        write!(f, "{:?}…({} bytes)", &s[..cut], s.len())
    }
}
