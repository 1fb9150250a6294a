//! Histories: what the clients did and saw, with the times they did it.
//!
//! A history is a plain `Vec<Operation<I, O>>` (or any slice of them) in no particular order.
//! Each operation has the time the client called it and, if a reply arrived, the time and the
//! output of that reply. Times are `u64` in any unit (the kvraft tester uses nanoseconds since its
//! start; the parsers use line numbers); only their order matters.
//!
//! An operation without a reply (the client gave up, crashed, or the test ended first) may have
//! taken effect at any moment after its call, or never. The checker models that exactly as
//! porcupine does: its return time is treated as infinite and its output as matching anything
//! (the model's `step` receives `None` as the output).

use serde::{Deserialize, Serialize};

/// A history: the operations of all clients, in any order.
pub type History<I, O> = Vec<Operation<I, O>>;

/// One operation by one client: its input, when it was called, and its reply if one came.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation<I, O> {
    /// Which client issued it; used only for display (one row per client in the HTML).
    pub client: usize,
    /// What was asked, e.g. `KvInput::Get { key }`.
    pub input: I,
    /// When the client issued the call.
    pub call: u64,
    /// The reply, or `None` if the outcome is unknown.
    pub reply: Option<Reply<O>>,
}

/// The observed reply to an operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply<O> {
    /// When the reply reached the client. A time before the call is treated as equal to it.
    pub time: u64,
    /// What the operation returned.
    pub output: O,
}

impl<I, O> Operation<I, O> {
    /// An operation that returned `output` at time `returned`.
    pub fn returned(client: usize, input: I, call: u64, output: O, returned: u64) -> Self {
        Operation {
            client,
            input,
            call,
            reply: Some(Reply {
                time: returned,
                output,
            }),
        }
    }

    /// An operation whose outcome is unknown: it may have taken effect at any time after `call`,
    /// or never.
    pub fn no_reply(client: usize, input: I, call: u64) -> Self {
        Operation {
            client,
            input,
            call,
            reply: None,
        }
    }

    /// The output, if a reply was observed.
    pub fn output(&self) -> Option<&O> {
        self.reply.as_ref().map(|reply| &reply.output)
    }

    /// The return time, or `None` for "never observed" (infinitely late).
    pub fn return_time(&self) -> Option<u64> {
        // Clamp so that a return never precedes its own call, whatever the recorder did.
        self.reply.as_ref().map(|reply| reply.time.max(self.call))
    }
}
