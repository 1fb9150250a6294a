//! Readers for the two text history formats of the test data (see `tests/data/README.md`):
//! [`kv`] for the course's key/value histories and [`jepsen`] for Jepsen's etcd register logs.
//!
//! Both are event logs: a client process *invokes* an operation on one line and the matching
//! completion appears on a later line. The line number serves as the event's time, so the
//! operations' intervals are exactly as the log orders them. Completions are `ok` (returned
//! with an output), `fail` (returned, did not take effect) or `info` (outcome unknown); an
//! invocation never completed is also of unknown outcome.

pub mod jepsen;
pub mod kv;

use crate::history::{Operation, Reply};
use std::collections::BTreeMap;
use std::fmt;

/// A problem in a history file: what is wrong and on which line (1-based), if it is one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The offending line, or `None` for a problem with the file as a whole.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl ParseError {
    pub(crate) fn at(line: usize, message: impl Into<String>) -> Self {
        ParseError {
            line: Some(line),
            message: message.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

impl std::error::Error for ParseError {}

/// Pairs each process's invocation with its completion, building operations as it goes.
pub(crate) struct Pairer<I, O> {
    ops: Vec<Operation<I, O>>,
    /// False for operations that failed (did not take effect) and are left out of the history.
    keep: Vec<bool>,
    /// For each process with an operation in flight: that operation's index and line.
    pending: BTreeMap<u64, (usize, usize)>,
}

impl<I, O> Pairer<I, O> {
    pub fn new() -> Self {
        Pairer {
            ops: Vec::new(),
            keep: Vec::new(),
            pending: BTreeMap::new(),
        }
    }

    /// Records that `process` called `input` on `line`.
    pub fn invoke(&mut self, line: usize, process: u64, input: I) -> Result<(), ParseError> {
        if let Some(&(_, earlier)) = self.pending.get(&process) {
            return Err(ParseError::at(
                line,
                format!(
                    "process {process} invokes an operation while its operation from line \
                     {earlier} is still pending"
                ),
            ));
        }
        let client = usize::try_from(process).unwrap_or(usize::MAX);
        self.pending.insert(process, (self.ops.len(), line));
        self.ops
            .push(Operation::no_reply(client, input, line as u64));
        self.keep.push(true);
        Ok(())
    }

    /// The input of the operation `process` has in flight, for checking a completion against.
    pub fn pending_input(&self, line: usize, process: u64) -> Result<&I, ParseError> {
        match self.pending.get(&process) {
            Some(&(op, _)) => Ok(&self.ops[op].input),
            None => Err(never_invoked(line, process)),
        }
    }

    /// Completes `process`'s operation on `line` with an output.
    pub fn ok(&mut self, line: usize, process: u64, output: O) -> Result<(), ParseError> {
        let op = self.take(line, process)?;
        self.ops[op].reply = Some(Reply {
            time: line as u64,
            output,
        });
        Ok(())
    }

    /// Completes `process`'s operation as failed: it did not take effect, so it is dropped.
    pub fn fail(&mut self, line: usize, process: u64) -> Result<(), ParseError> {
        let op = self.take(line, process)?;
        self.keep[op] = false;
        Ok(())
    }

    /// Completes `process`'s operation with an unknown outcome (no reply; may or may not have
    /// taken effect).
    pub fn info(&mut self, line: usize, process: u64) -> Result<(), ParseError> {
        self.take(line, process).map(|_| ())
    }

    /// The operations in invocation order; those still pending have unknown outcomes.
    pub fn finish(self) -> Vec<Operation<I, O>> {
        self.ops
            .into_iter()
            .zip(self.keep)
            .filter_map(|(op, keep)| keep.then_some(op))
            .collect()
    }

    fn take(&mut self, line: usize, process: u64) -> Result<usize, ParseError> {
        match self.pending.remove(&process) {
            Some((op, _)) => Ok(op),
            None => Err(never_invoked(line, process)),
        }
    }
}

fn never_invoked(line: usize, process: u64) -> ParseError {
    ParseError::at(
        line,
        format!("process {process} completes an operation it never invoked"),
    )
}

/// The error for a file with no operations in it (usually the wrong file or the wrong format).
pub(crate) fn no_operations(format: &str) -> ParseError {
    ParseError {
        line: None,
        message: format!("no operations found (is this a {format} history?)"),
    }
}
