//! The entry point: partition the history, search the partitions, assemble the verdict.
//!
//! One failing partition is enough to make the whole history non-linearizable, and partitions
//! differ wildly in difficulty (in `kv/c50-bad.txt`, key "1" fails in a few thousand steps while
//! key "0" is undecided after hundreds of millions). So rather than finishing one partition before
//! starting the next, the partitions take turns: each undecided partition in turn gets a quantum
//! of steps, in the model's partition order, until one fails or all pass. This finds a cheap
//! failure anywhere quickly, like porcupine's parallel partitions, but deterministically: the
//! same history and budget always give the same outcome and step count.
//!
//! Before any search, the model may decide a partition outright ([`Model::decide`]; the key/value
//! model does when the written values are unique). Decided partitions cost no steps. A partition
//! decided not linearizable is reported at once, with the model's reason; a short search (at most
//! [`EXPLAIN_STEPS`]) still looks for a longest linearization prefix to show beside it, since
//! that picture helps on small histories and costs little.

use crate::history::Operation;
use crate::model::{Conflict, Decision, Model};
use crate::outcome::{Failure, LinearizedOp, OpSummary, Outcome};
use crate::search::{Explanation, Search, Verdict};

/// The default step budget: about seven times what the hardest history in this crate's test data
/// needs (1.4 million steps), while bounding a pathological search to a few seconds and, since
/// each step may remember one configuration (roughly 50 to 200 bytes), about a gigabyte.
pub const DEFAULT_BUDGET: u64 = 10_000_000;

/// Steps an undecided partition gets per turn: large enough that switching costs nothing,
/// small enough that a cheap failure is not kept waiting behind hard partitions.
const QUANTUM: u64 = 10_000;

/// Steps the search may spend on a longest linearization prefix to illustrate a failure the
/// model already proved: a few milliseconds and megabytes at most.
const EXPLAIN_STEPS: u64 = 20_000;

/// Checks whether `history` is linearizable with respect to `model`, spending at most `budget`
/// search steps in total (see [`DEFAULT_BUDGET`]).
///
/// ```
/// use lincheck::{check, KvInput, KvModel, Operation, DEFAULT_BUDGET};
///
/// // Client 0 puts "1"; later client 1 reads "1": linearizable.
/// let history = vec![
///     Operation::returned(0, KvInput::put("x", "1"), 0, String::new(), 10),
///     Operation::returned(1, KvInput::get("x"), 20, "1".to_string(), 30),
/// ];
/// let outcome = check(&KvModel, &history, DEFAULT_BUDGET);
/// assert!(outcome.is_linearizable(), "{outcome}");
/// ```
pub fn check<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    budget: u64,
) -> Outcome {
    struct Part<'a, M: Model> {
        label: String,
        /// Indices into `history` of the partition's operations, sorted.
        indices: Vec<usize>,
        search: Search<'a, M>,
    }

    let mut parts: Vec<Part<M>> = Vec::new();
    for partition in model.partition(history) {
        // Indices the model got wrong are ignored rather than trusted.
        let mut indices = partition.ops;
        indices.retain(|&i| i < history.len());
        indices.sort_unstable();
        indices.dedup();
        let ops: Vec<_> = indices.iter().map(|&i| &history[i]).collect();
        match model.decide(&ops) {
            Some(Decision::Linearizable) => {}
            Some(Decision::NotLinearizable(conflict)) => {
                return proven_failure(model, history, partition.label, indices, conflict, budget)
            }
            None => parts.push(Part {
                label: partition.label,
                indices,
                search: Search::new(model, ops),
            }),
        }
    }

    let mut steps = 0u64;
    while !parts.is_empty() {
        let mut undecided = Vec::with_capacity(parts.len());
        let mut turns = parts.into_iter();
        while let Some(mut part) = turns.next() {
            let remaining = budget - steps;
            if remaining == 0 {
                undecided.push(part);
                undecided.extend(turns);
                return Outcome::BudgetExhausted {
                    budget,
                    undecided: undecided.into_iter().map(|part| part.label).collect(),
                };
            }
            let before = part.search.steps();
            let verdict = part.search.run(QUANTUM.min(remaining));
            steps += part.search.steps() - before;
            match verdict {
                None => undecided.push(part),
                Some(Verdict::Linearizable) => {} // done with it; free its memory
                Some(Verdict::NotLinearizable(explanation)) => {
                    return Outcome::NotLinearizable(Box::new(failure(
                        model,
                        history,
                        part.label,
                        part.indices,
                        explanation,
                        steps,
                    )));
                }
            }
        }
        parts = undecided;
    }
    Outcome::Linearizable { steps }
}

/// The outcome for a partition the model proved not linearizable: its reason, and the longest
/// linearization prefix a short search finds (none if the search does not finish in time).
fn proven_failure<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    label: String,
    indices: Vec<usize>,
    conflict: Conflict,
    budget: u64,
) -> Outcome {
    let ops = indices.iter().map(|&i| &history[i]).collect();
    let mut search = Search::new(model, ops);
    let explanation = match search.run(EXPLAIN_STEPS.min(budget)) {
        Some(Verdict::NotLinearizable(explanation)) => explanation,
        // Unfinished (or, were the model wrong, linearizable): show no prefix.
        _ => Explanation {
            prefix: Vec::new(),
            final_state: model.init(),
            unplaced: Vec::new(),
        },
    };
    let mut failure = failure(model, history, label, indices, explanation, search.steps());
    failure.conflicting = conflict
        .ops
        .iter()
        .filter(|&&local| local < failure.partition_ops.len())
        .map(|&local| summarize(model, history, &failure.partition_ops, local))
        .collect();
    failure.reason = Some(conflict.reason);
    Outcome::NotLinearizable(Box::new(failure))
}

/// An operation of a partition (by partition-local id) as an [`OpSummary`].
fn summarize<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    indices: &[usize],
    local: usize,
) -> OpSummary {
    let index = indices[local];
    let op = &history[index];
    OpSummary {
        index,
        client: op.client,
        description: model.describe_operation(&op.input, op.output()),
    }
}

/// Renders a partition's explanation (in partition-local ids) as a [`Failure`] (in history
/// indices, with descriptions).
fn failure<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    partition: String,
    indices: Vec<usize>,
    explanation: Explanation<M::State>,
    steps: u64,
) -> Failure {
    let summary = |local: usize| summarize(model, history, &indices, local);
    Failure {
        partition,
        linearized: explanation
            .prefix
            .iter()
            .map(|(local, state)| LinearizedOp {
                op: summary(*local),
                state_after: model.describe_state(state),
            })
            .collect(),
        final_state: model.describe_state(&explanation.final_state),
        unplaced: explanation.unplaced.iter().map(|&l| summary(l)).collect(),
        partition_ops: indices.clone(),
        steps,
        reason: None,
        conflicting: Vec::new(),
    }
}
