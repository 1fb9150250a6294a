//! The sequential specification a history is checked against.
//!
//! A [`Model`] says what a single correct copy of the object would do: its initial state, and for
//! each operation whether the observed output is possible from a given state and what the state
//! becomes. The checker searches for an order of the operations, consistent with their real-time
//! intervals, in which every step is possible. A model can also split a history into independent
//! parts (e.g. per key) that are checked separately, which makes the search far cheaper.

use crate::history::Operation;
use std::fmt::Debug;
use std::hash::Hash;

/// One independent part of a history: the indices of its operations and a label for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// Shown in messages and in the HTML, e.g. `key "x"`.
    pub label: String,
    /// Indices into the history, in any order.
    pub ops: Vec<usize>,
}

/// What a model settled about one partition without searching (see [`Model::decide`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The partition has a linearization.
    Linearizable,
    /// It has none, for the reason given.
    NotLinearizable(Conflict),
}

/// Why a partition cannot be linearized, as found by [`Model::decide`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The operations involved, as indices into the slice given to [`Model::decide`].
    pub ops: Vec<usize>,
    /// One line saying which operations conflict and why, with their times.
    pub reason: String,
}

/// A sequential specification. See [`crate::KvModel`] and [`crate::RegisterModel`] for examples.
pub trait Model {
    /// What a client asks for.
    type Input: Debug;
    /// What a client is told.
    type Output: Debug;
    /// The object's state. The memo cache stores and compares states, hence `Eq + Hash`.
    type State: Clone + Eq + Hash + Debug;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// Applies one operation: `None` if `output` is impossible from `state`, otherwise the new
    /// state. `output` is `None` when the operation's reply was never observed; the step must
    /// then accept (the operation's effect, if any, is unconstrained by what the client saw).
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Option<Self::State>;

    /// Splits a history into parts that can be checked independently: operations in different
    /// parts must never affect each other. Must be deterministic (the order of the parts is the
    /// order they are checked and reported in). The default is one part holding everything.
    fn partition(&self, history: &[Operation<Self::Input, Self::Output>]) -> Vec<Partition> {
        vec![Partition {
            label: "history".to_string(),
            ops: (0..history.len()).collect(),
        }]
    }

    /// Decides one partition (its operations, in history order) without the search, if the
    /// model knows how; `None` leaves it to the search. An answer must be exact: the checker
    /// trusts it as it would trust the search. The default knows nothing. [`crate::KvModel`]
    /// decides histories whose written values are unique (see `models/kv_order`).
    fn decide(&self, ops: &[&Operation<Self::Input, Self::Output>]) -> Option<Decision> {
        let _ = ops;
        None
    }

    /// A short human-readable form of an operation, e.g. `get("x") -> "1"`; `output` is `None`
    /// if no reply was observed.
    fn describe_operation(&self, input: &Self::Input, output: Option<&Self::Output>) -> String {
        match output {
            Some(output) => format!("{input:?} -> {output:?}"),
            None => format!("{input:?} -> ?"),
        }
    }

    /// A short human-readable form of a state.
    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }
}
