//! Deciding a key's history from its values, without search, when the values allow it.
//!
//! In the course's tests every Put and Append writes a value no other operation writes. Then a
//! Get's value names exactly what it saw: the last Put before it (or none: the initial "" or a
//! Put of "") and the Appends since, in order (`values.rs`). That turns the search problem into
//! an ordering problem that is decided exactly:
//!
//! * Every Put that some Get read from starts a *block*: the Put, the Gets that read from it,
//!   and the Appends they saw. In any linearization a block is contiguous: between the Put and
//!   the last Get reading from it there can be no other Put (the Get would not read from this
//!   one), no Append the Gets did not see (the last Get would have seen it) and no Get reading
//!   another base. The Gets of one block must have seen nested sequences (one Append order),
//!   which gives the block a *chain* of Appends (`blocks.rs`).
//! * Inside a block the order is fixed up to ties: the Put, then Gets that saw nothing, then the
//!   chain's first Append, then Gets that saw one Append, and so on. A block is consistent with
//!   real time exactly when no operation returned before an operation of an earlier level was
//!   called (`order.rs`).
//! * Blocks and the *free* writes (those no Get saw) must then be put in one order in which no
//!   two interleave. A unit U must precede V exactly when some operation of U returned before
//!   some operation of V was called; such an order exists exactly when this relation has no
//!   cycle (`order.rs`), and the block reading the initial value must come first.
//!
//! Any linearization has this structure, so a violated condition proves the history is not
//! linearizable; conversely, a unit order followed by each block's level order is a
//! linearization (every Get then sees exactly its base and its Appends, in order). Operations
//! that change nothing observable are left out, because each can be slotted into any
//! linearization of the rest: Gets without a reply, Appends of "", and writes without a reply
//! that no Get saw (they may take effect after everything else).
//!
//! Whenever this reasoning does not apply (values that repeat, a value that splits into writes
//! in two ways, a Get of a value with no Put that could be its base unambiguously), [`decide`]
//! returns `None` and the exact search decides. A value that no sequence of writes can produce
//! is reported whatever the values, since that needs no uniqueness.

mod blocks;
mod order;
mod text;
mod values;

use crate::history::Operation;
use crate::model::{Conflict, Decision};
use crate::models::kv::KvInput;
use values::{Split, Writes};

/// One key's operation, as handed to [`decide`].
type KvOp<'a> = &'a Operation<KvInput, String>;

/// Where the value a Get read starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Base {
    /// The initial "" or a Put of "": the value is just Appends.
    Empty,
    /// This Put (operation id).
    Put(usize),
}

/// A Get (with a reply) and what its value says it saw.
pub(super) struct Reading {
    pub get: usize,
    pub base: Base,
    /// The Appends after the base, in order.
    pub appends: Vec<usize>,
}

/// An operation's interval as the checker orders events: `ret` is `u64::MAX` when no reply
/// came (infinitely late). `a` must precede `b` exactly when `a.ret < b.call`.
#[derive(Clone, Copy)]
pub(super) struct Span {
    pub call: u64,
    pub ret: u64,
}

/// Decides one key's operations if their values allow it (see the module documentation).
pub fn decide(ops: &[KvOp]) -> Option<Decision> {
    let spans: Vec<Span> = ops
        .iter()
        .map(|op| Span {
            call: op.call,
            ret: op.return_time().unwrap_or(u64::MAX),
        })
        .collect();
    let writes = Writes::new(ops);
    if !writes.unique {
        // The search decides these. Splitting every Get's value here would only look for a
        // value no write could produce, at a cost that grows with the values' length times
        // the number of Gets (a fifth of a long kvraft test's time), for an explanation the
        // search's failure report gives too.
        return None;
    }

    let mut readings = Vec::new();
    let mut ambiguous = false;
    for (get, op) in ops.iter().enumerate() {
        let (KvInput::Get { .. }, Some(read)) = (&op.input, op.output()) else {
            continue;
        };
        match writes.split(read) {
            Split::Impossible { parsed } => {
                return Some(Decision::NotLinearizable(impossible(
                    ops, get, read, parsed,
                )));
            }
            Split::Repeated { append } => {
                return Some(Decision::NotLinearizable(Conflict {
                    ops: vec![get, append],
                    reason: format!(
                        "{} returned a value containing {} twice, but an operation takes \
                         effect at most once",
                        text::op_with_times(ops[get]),
                        text::op(ops[append])
                    ),
                }));
            }
            Split::Unique { base, appends } => readings.push(Reading { get, base, appends }),
            Split::Ambiguous => ambiguous = true,
        }
    }
    if ambiguous {
        return None;
    }
    let blocks = match blocks::form(ops, &spans, readings) {
        Ok(Some(blocks)) => blocks,
        Ok(None) => return None,
        Err(conflict) => return Some(Decision::NotLinearizable(conflict)),
    };
    Some(match order::check(ops, &spans, &blocks) {
        Ok(()) => Decision::Linearizable,
        Err(conflict) => Decision::NotLinearizable(conflict),
    })
}

/// The conflict for a Get whose value no sequence of writes produces.
fn impossible(ops: &[KvOp], get: usize, read: &str, parsed: usize) -> Conflict {
    let rest = String::from_utf8_lossy(&read.as_bytes()[parsed..]);
    Conflict {
        ops: vec![get],
        reason: format!(
            "{} returned a value no sequence of writes to this key can produce: no Put or \
             Append wrote what follows its first {parsed} bytes ({})",
            text::op_with_times(ops[get]),
            text::head(&rest)
        ),
    }
}
