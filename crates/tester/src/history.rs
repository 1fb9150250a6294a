//! The operation history (the course's `OpLog`) and its linearizability check.
//!
//! Each operation is recorded at its call, as an operation without a reply, and completed
//! when it returns; one that never returns stays a no-reply operation, which the checker
//! lets take effect at any time after its call, or never. Times are simulated nanoseconds,
//! nudged so that every event gets a distinct, increasing stamp: on the paused clock many
//! events share an instant, and the order in which they were recorded is their real order.
//!
//! [`History::check`] runs `lincheck` with the KV model and a deterministic step budget. A
//! history that is not linearizable fails the test and is drawn as an HTML page in the
//! system's temp directory; a search that runs out of budget fails the test too (no verdict
//! is not a pass).

use std::sync::{Arc, Mutex};

use labrpc::sim;
use lincheck::{check, write_html, KvInput, KvModel, Operation, Outcome, Reply, DEFAULT_BUDGET};

/// A shared, growing history. Cheap to clone; clones share it.
#[derive(Clone, Default)]
pub struct History {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    ops: Vec<Operation<KvInput, String>>,
    last_stamp: u64,
}

impl Inner {
    fn stamp(&mut self) -> u64 {
        let now = u64::try_from(sim::now().as_nanos()).unwrap_or(u64::MAX);
        self.last_stamp = now.max(self.last_stamp + 1);
        self.last_stamp
    }
}

impl History {
    pub fn new() -> History {
        History::default()
    }

    /// Records a call; returns the operation's index.
    pub fn call(&self, client: usize, input: KvInput) -> usize {
        let mut inner = self.inner.lock().unwrap();
        let call = inner.stamp();
        inner.ops.push(Operation::no_reply(client, input, call));
        inner.ops.len() - 1
    }

    /// Records the return of operation `index`.
    pub fn returned(&self, index: usize, output: String) {
        let mut inner = self.inner.lock().unwrap();
        let time = inner.stamp();
        inner.ops[index].reply = Some(Reply { time, output });
    }

    pub fn len(&self) -> usize {
        self.inner.lock().unwrap().ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fails the test unless the history is linearizable. `test` names the history's page
    /// (written to the system's temp directory when it is not).
    pub fn check(&self, test: &str) {
        // Checked in place, under the lock: a copy of a history whose Gets return long values
        // cost a few per cent of the kvraft suite. Nothing records while the check runs; the
        // lock is let go before a failure panics, so it is not left poisoned.
        let failure = {
            let inner = self.inner.lock().unwrap();
            let ops = &inner.ops;
            let outcome = check(&KvModel, ops, DEFAULT_BUDGET);
            match &outcome {
                Outcome::Linearizable { steps } => {
                    println!(
                        "  info: {} operations: linearizable ({steps} of {DEFAULT_BUDGET} search steps)",
                        ops.len()
                    );
                    None
                }
                Outcome::NotLinearizable(_) => {
                    let path = std::env::temp_dir().join(format!(
                        "history-{}-seed{}.html",
                        test.replace(|c: char| !c.is_ascii_alphanumeric(), "-"),
                        sim::current().seed()
                    ));
                    match write_html(&KvModel, ops, &outcome, &path) {
                        Ok(()) => {
                            println!("info: wrote history visualization to {}", path.display())
                        }
                        Err(e) => println!("info: could not write {}: {e}", path.display()),
                    }
                    Some(format!("history is not linearizable: {outcome}"))
                }
                Outcome::BudgetExhausted { .. } => Some(format!(
                    "linearizability check gave no verdict on {} operations: {outcome}",
                    ops.len()
                )),
            }
        };
        if let Some(failure) = failure {
            panic!("{failure}");
        }
    }
}
