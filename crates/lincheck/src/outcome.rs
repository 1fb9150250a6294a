//! The checker's verdict, with enough detail to explain a failure.
//!
//! Every field is plain data (operation indices and pre-rendered descriptions), so an
//! [`Outcome`] can be printed, compared, stored or serialized without knowing the model. Its
//! `Display` is a one-line summary suitable for a test failure message.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The result of [`crate::check`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Every partition has a linearization.
    Linearizable {
        /// Search steps spent in total.
        steps: u64,
    },
    /// Some partition has no linearization; the first such partition is explained.
    NotLinearizable(Box<Failure>),
    /// The step budget ran out before a verdict. This is *not* a pass: the caller should fail
    /// (or retry with a larger budget).
    BudgetExhausted {
        /// The budget that was spent.
        budget: u64,
        /// Labels of the partitions still undecided when it ran out.
        undecided: Vec<String>,
    },
}

/// Why a history is not linearizable: the longest linearization prefix of the failing partition
/// that the search found, and the operations that could not be placed after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// Label of the failing partition, e.g. `key "x"`.
    pub partition: String,
    /// Indices (into the checked history) of the failing partition's operations, sorted.
    pub partition_ops: Vec<usize>,
    /// The longest linearization prefix found, in order.
    pub linearized: Vec<LinearizedOp>,
    /// The model state after that prefix (the initial state if the prefix is empty).
    pub final_state: String,
    /// Operations that would have to come next but whose outputs are impossible in
    /// `final_state`. (Any other remaining operation must wait for one of these.)
    pub unplaced: Vec<OpSummary>,
    /// Search steps spent in total, including earlier partitions.
    pub steps: u64,
    /// When the model decided the partition from its values ([`crate::Model::decide`]): which
    /// operations conflict and why, in one line. `None` when the search found the failure.
    #[serde(default)]
    pub reason: Option<String>,
    /// The operations `reason` names.
    #[serde(default)]
    pub conflicting: Vec<OpSummary>,
}

/// One operation of a linearization prefix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinearizedOp {
    /// The operation (index into the checked history), its client and description.
    pub op: OpSummary,
    /// The model state right after this operation.
    pub state_after: String,
}

/// An operation, identified by its index in the checked history, with a readable description.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpSummary {
    /// Index into the checked history.
    pub index: usize,
    /// The client that issued it.
    pub client: usize,
    /// `Model::describe_operation` of its input and output.
    pub description: String,
}

impl Outcome {
    /// True only for [`Outcome::Linearizable`].
    pub fn is_linearizable(&self) -> bool {
        matches!(self, Outcome::Linearizable { .. })
    }

    /// The failure explanation, if the history is not linearizable.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Outcome::NotLinearizable(failure) => Some(failure),
            _ => None,
        }
    }

    /// Search steps spent.
    pub fn steps(&self) -> u64 {
        match self {
            Outcome::Linearizable { steps } => *steps,
            Outcome::NotLinearizable(failure) => failure.steps,
            Outcome::BudgetExhausted { budget, .. } => *budget,
        }
    }
}

impl fmt::Display for OpSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "client {}: {}",
            self.client,
            abbreviate(&self.description)
        )
    }
}

/// At most this many stuck operations (or undecided partitions) are listed in the summary.
const SUMMARY_LIMIT: usize = 3;

/// Descriptions and states longer than this many characters are cut short in the summary (the
/// [`Failure`] and the HTML page have them in full).
const TEXT_LIMIT: usize = 160;

fn abbreviate(text: &str) -> String {
    let length = text.chars().count();
    if length <= TEXT_LIMIT {
        return text.to_string();
    }
    let kept: String = text.chars().take(TEXT_LIMIT).collect();
    format!("{kept}... ({length} characters)")
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Linearizable { steps } => write!(f, "linearizable ({steps} search steps)"),
            Outcome::BudgetExhausted { budget, undecided } => {
                write!(
                    f,
                    "no verdict: the search budget of {budget} steps was exhausted with {} \
                     partition(s) undecided (",
                    undecided.len()
                )?;
                for (i, label) in undecided.iter().take(SUMMARY_LIMIT).enumerate() {
                    write!(f, "{}{label}", if i > 0 { ", " } else { "" })?;
                }
                if undecided.len() > SUMMARY_LIMIT {
                    write!(f, ", ...")?;
                }
                write!(f, "); raise the budget")
            }
            Outcome::NotLinearizable(failure) if failure.reason.is_some() => {
                let reason = failure.reason.as_deref().unwrap_or_default();
                write!(f, "not linearizable: {}: {reason}", failure.partition)
            }
            Outcome::NotLinearizable(failure) => {
                write!(
                    f,
                    "not linearizable: {}: at most {} of its {} operations can be linearized, \
                     reaching state {}; ",
                    failure.partition,
                    failure.linearized.len(),
                    failure.partition_ops.len(),
                    abbreviate(&failure.final_state),
                )?;
                write!(f, "none of these can come next: ")?;
                for (i, op) in failure.unplaced.iter().take(SUMMARY_LIMIT).enumerate() {
                    if i > 0 {
                        write!(f, "; ")?;
                    }
                    write!(f, "[{op}]")?;
                }
                if failure.unplaced.len() > SUMMARY_LIMIT {
                    write!(f, "; and {} more", failure.unplaced.len() - SUMMARY_LIMIT)?;
                }
                Ok(())
            }
        }
    }
}
