//! The search itself: Wing & Gong's depth-first search for a linearization of one partition,
//! with Lowe's memoization, as in porcupine.
//!
//! The search walks the time-sorted event list (see [`crate::entries`]). At a *call* event it
//! tries to linearize that operation next: if the model accepts the step and the resulting
//! (linearized set, state) configuration is new, the operation is lifted out of the list and the
//! walk restarts from the head. At a *return* event of an operation not yet linearized, every
//! operation that could still go before it has been tried without success, so the search
//! backtracks: it undoes the most recent linearization and tries the next event after it. The
//! history is linearizable when the list empties, and not linearizable when a dead end is
//! reached with nothing left to undo.
//!
//! Each visit to an event counts as one step against the budget, which makes the cost limit
//! deterministic: the same history and budget always give the same answer. The search is a
//! struct that can be paused after any number of steps and resumed, so that [`crate::check`] can
//! take turns between partitions.

use crate::bitset::Bitset;
use crate::cache::{Cache, StateId};
use crate::entries::{EventList, NodeId, NIL};
use crate::history::Operation;
use crate::model::Model;

/// What the search concluded about one partition.
pub enum Verdict<S> {
    /// The partition has a linearization.
    Linearizable,
    /// It has none; here is the best attempt.
    NotLinearizable(Explanation<S>),
}

/// Why a partition is not linearizable, in partition-local operation ids.
pub struct Explanation<S> {
    /// The longest linearization prefix the search found: each operation with the state after it.
    pub prefix: Vec<(usize, S)>,
    /// The state at the end of the prefix.
    pub final_state: S,
    /// Operations that would have to come next (their calls precede the earliest pending return)
    /// but whose outputs are impossible in `final_state`.
    pub unplaced: Vec<usize>,
}

/// The search over one partition, resumable: [`Search::run`] advances it by a bounded number
/// of steps, so that several partitions can share a budget fairly and deterministically.
pub struct Search<'a, M: Model> {
    model: &'a M,
    ops: Vec<&'a Operation<M::Input, M::Output>>,
    list: EventList,
    /// The operations linearized so far.
    linearized: Bitset,
    cache: Cache<M::State>,
    /// The current state (after the operations linearized so far).
    state: StateId,
    /// The linearization so far: each operation's call node and the state *before* it.
    calls: Vec<(NodeId, StateId)>,
    /// The deepest linearization seen: each operation with the state *after* it.
    longest: Vec<(usize, StateId)>,
    /// The event the search is at.
    node: NodeId,
    steps: u64,
}

impl<'a, M: Model> Search<'a, M> {
    /// Prepares the search over `ops` (one partition of a history).
    pub fn new(model: &'a M, ops: Vec<&'a Operation<M::Input, M::Output>>) -> Self {
        let intervals: Vec<_> = ops.iter().map(|op| (op.call, op.return_time())).collect();
        let list = EventList::new(&intervals);
        let linearized = Bitset::new(ops.len());
        let mut cache = Cache::new(linearized.words().len());
        // The cache is empty, so the root configuration is always new; its id is 0.
        let state = cache.insert(&linearized, model.init()).unwrap_or(0);
        Search {
            model,
            node: list.first(),
            ops,
            list,
            linearized,
            cache,
            state,
            calls: Vec::new(),
            longest: Vec::new(),
            steps: 0,
        }
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Advances the search by at most `max_steps` steps; returns the verdict if it is reached.
    pub fn run(&mut self, max_steps: u64) -> Option<Verdict<M::State>> {
        let limit = self.steps.saturating_add(max_steps);
        while self.node != NIL {
            if self.steps >= limit {
                return None;
            }
            self.steps += 1;
            let node = self.node;

            if self.list.is_call(node) {
                let op = self.list.op(node);
                let (input, output) = (&self.ops[op].input, self.ops[op].output());
                if let Some(next) = self.model.step(self.cache.state(self.state), input, output) {
                    self.linearized.insert(op);
                    if let Some(id) = self.cache.insert(&self.linearized, next) {
                        self.calls.push((node, self.state));
                        self.state = id;
                        self.list.lift(node);
                        self.node = self.list.first();
                        continue;
                    }
                    // Already explored this configuration via another order: nothing new here.
                    self.linearized.remove(op);
                }
                self.node = self.list.next(node);
            } else {
                // The return of an operation not yet linearized: it must precede every later
                // event, yet nothing before it could be linearized from here. Dead end.
                self.remember_if_longest();
                let Some((call, previous)) = self.calls.pop() else {
                    return Some(Verdict::NotLinearizable(self.explain()));
                };
                self.list.unlift(call);
                self.linearized.remove(self.list.op(call));
                self.state = previous;
                self.node = self.list.next(call);
            }
        }
        Some(Verdict::Linearizable)
    }

    fn remember_if_longest(&mut self) {
        if self.calls.len() <= self.longest.len() {
            return;
        }
        let (calls, list, state) = (&self.calls, &self.list, self.state);
        self.longest = calls
            .iter()
            .enumerate()
            .map(|(i, &(call, _))| {
                let after = calls.get(i + 1).map_or(state, |&(_, before)| before);
                (list.op(call), after)
            })
            .collect();
    }

    /// Turns the deepest prefix into an explanation: its states, and which operations were
    /// stuck after it.
    fn explain(&self) -> Explanation<M::State> {
        let (model, ops, list, cache, longest) = (
            self.model,
            &self.ops,
            &self.list,
            &self.cache,
            &self.longest,
        );
        let final_state = longest
            .last()
            .map_or_else(|| model.init(), |&(_, id)| cache.state(id).clone());

        let mut in_prefix = vec![false; ops.len()];
        for &(op, _) in longest {
            in_prefix[op] = true;
        }
        // After the prefix, the next operation must be one called before the earliest return among
        // the operations left (in event order, which puts calls first at equal times).
        let remaining = || (0..ops.len()).filter(|&op| !in_prefix[op]);
        let deadline = remaining()
            .map(|op| list.positions(op).1)
            .min()
            .unwrap_or(0);
        let unplaced = remaining()
            .filter(|&op| list.positions(op).0 < deadline)
            .filter(|&op| {
                model
                    .step(&final_state, &ops[op].input, ops[op].output())
                    .is_none()
            })
            .collect();

        Explanation {
            prefix: longest
                .iter()
                .map(|&(op, id)| (op, cache.state(id).clone()))
                .collect(),
            final_state,
            unplaced,
        }
    }
}
