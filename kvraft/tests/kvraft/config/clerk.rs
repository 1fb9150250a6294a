//! The clerks tests use: the course's logging wrappers (`Get`, `Put`, `Append` in
//! test_test.go) around a [`kvraft::Clerk`].
//!
//! Every operation is counted (the OPS column of the result line), traced at debug level
//! (`topic = "client"`, a `call` and a `return` event with the same client and id), and, for
//! a clerk attached to a [`History`], recorded with its simulated call and return times for
//! the linearizability check.

use std::fmt;

use kvraft::Clerk;
use lincheck::KvInput;

use super::{Config, History};

/// A clerk made by the tester.
pub struct TestClerk {
    cfg: Config,
    /// The tester's number for this clerk (for its ends, and the trace).
    id: u64,
    clerk: Clerk,
    /// Where operations are recorded, and as which client.
    log: Option<(History, usize)>,
}

impl TestClerk {
    pub(super) fn new(cfg: Config, id: u64, clerk: Clerk) -> TestClerk {
        TestClerk {
            cfg,
            id,
            clerk,
            log: None,
        }
    }

    pub fn tester_id(&self) -> u64 {
        self.id
    }

    /// Records this clerk's operations in `history` as client `client`.
    pub fn record_in(&mut self, history: &History, client: usize) {
        self.log = Some((history.clone(), client));
    }

    pub async fn get(&mut self, key: &str) -> String {
        let input = KvInput::get(key);
        let call = self.call(&input);
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

    /// The untracked clerk: the speed test's operations bypass the counter, as in the course.
    pub fn inner(&mut self) -> &mut Clerk {
        &mut self.clerk
    }

    /// Counts, traces and records a call; returns what `returned` needs.
    fn call(&self, input: &KvInput) -> Call {
        let op = self.cfg.count_op();
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
