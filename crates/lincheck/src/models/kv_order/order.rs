//! Checking that blocks and free writes can be ordered consistently with real time.
//!
//! Two checks, both exact (see the parent module for why):
//!
//! * **Inside a block** every operation has a *level*: the Put 0, a Get that saw `k` of the
//!   chain's Appends `2k + 1`, the chain's `j`-th Append `2j + 2`. The values force every lower
//!   level before every higher one, and leave operations of one level (Gets that saw the same
//!   thing) free. So the block fits real time exactly when no operation returned before an
//!   operation of a lower level was called; one sweep from the top level down, keeping the
//!   earliest return seen, finds such a pair.
//! * **Between units** (blocks, and writes no Get saw), each contiguous in the linearization,
//!   unit U must precede V exactly when some operation of U returned before some operation of V
//!   was called, that is when U's earliest return precedes V's latest call. The units can be
//!   ordered exactly when this relation has no cycle. Sources are removed one at a time; when
//!   none is left, the two units with the earliest returns each precede the other (whoever is
//!   not the earliest-returning unit has an edge from it, and it has one from the second), which
//!   is the cycle reported.

use super::blocks::Block;
use super::text;
use super::{KvOp, Span};
use crate::model::Conflict;
use crate::models::kv::KvInput;

/// Checks every block, then the order of the units.
pub(super) fn check(ops: &[KvOp], spans: &[Span], blocks: &[Block]) -> Result<(), Conflict> {
    for block in blocks {
        check_block(ops, spans, block)?;
    }
    order_units(ops, spans, blocks)
}

/// What an operation is within its block.
#[derive(Clone, Copy)]
enum Role {
    Put,
    /// A Get that saw this many of the chain's Appends.
    Get(usize),
    /// The chain's Append at this position.
    Append(usize),
}

impl Role {
    fn level(self) -> usize {
        match self {
            Role::Put => 0,
            Role::Get(k) => 2 * k + 1,
            Role::Append(j) => 2 * j + 2,
        }
    }
}

fn check_block(ops: &[KvOp], spans: &[Span], block: &Block) -> Result<(), Conflict> {
    let mut members: Vec<(usize, Role)> =
        Vec::with_capacity(block.gets.len() + block.chain.len() + 1);
    members.extend(block.put.map(|put| (put, Role::Put)));
    members.extend(block.gets.iter().map(|&(get, k)| (get, Role::Get(k))));
    members.extend(
        block
            .chain
            .iter()
            .enumerate()
            .map(|(j, &a)| (a, Role::Append(j))),
    );
    members.sort_by_key(|&(op, role)| (std::cmp::Reverse(role.level()), op));

    // The operation with the earliest return among the levels above the current one.
    let mut earliest: Option<(usize, Role)> = None;
    let mut start = 0;
    while start < members.len() {
        let level = members[start].1.level();
        let end = start
            + members[start..]
                .iter()
                .take_while(|m| m.1.level() == level)
                .count();
        if let Some((x, x_role)) = earliest {
            let late = members[start..end]
                .iter()
                .filter(|&&(y, _)| spans[x].ret < spans[y].call)
                .min_by_key(|&&(y, _)| (spans[y].call, y));
            if let Some(&(y, y_role)) = late {
                return Err(inverted(ops, spans, block, (x, x_role), (y, y_role)));
            }
        }
        for &(op, role) in &members[start..end] {
            if earliest.is_none_or(|(e, _)| (spans[op].ret, op) < (spans[e].ret, e)) {
                earliest = Some((op, role));
            }
        }
        start = end;
    }
    Ok(())
}

/// The conflict when `x`, which the values put after `y`, returned before `y` was called.
fn inverted(
    ops: &[KvOp],
    spans: &[Span],
    block: &Block,
    (x, x_role): (usize, Role),
    (y, y_role): (usize, Role),
) -> Conflict {
    let read_by = |get: usize| format!("the value read by {}", text::op(ops[get]));
    let because = match (x_role, y_role) {
        (Role::Get(_), Role::Put) => format!("{} starts with the value put", read_by(x)),
        (Role::Get(_), Role::Append(_)) => {
            format!("{} includes {}", read_by(x), text::written(ops[y]))
        }
        (Role::Get(_), Role::Get(k)) => format!(
            "{} includes {}, which the value read by the other lacks",
            read_by(x),
            text::written(ops[block.chain[k]])
        ),
        (Role::Append(_), Role::Put) => {
            format!(
                "{} has the append after the value put",
                read_by(block.longest)
            )
        }
        (Role::Append(_), Role::Append(_)) => format!(
            "{} has {} before {}",
            read_by(block.longest),
            text::written(ops[y]),
            text::written(ops[x])
        ),
        (Role::Append(_), Role::Get(_)) => format!(
            "{} lacks {}, which {} has after everything the former includes",
            read_by(y),
            text::written(ops[x]),
            read_by(block.longest)
        ),
        (Role::Put, _) => unreachable!("a Put has the lowest level"),
    };
    let (kind_x, kind_y) = (kind(ops[x]), kind(ops[y]));
    let (x_name, y_name) = if kind_x == kind_y {
        ("the latter".to_string(), "the former".to_string())
    } else {
        (format!("the {kind_x}"), format!("the {kind_y}"))
    };
    Conflict {
        ops: vec![y, x, block.longest],
        reason: format!(
            "{because}, so {} must take effect before {}; yet {x_name} returned at t={}, \
             before {y_name} was called at t={}",
            text::op(ops[y]),
            text::op(ops[x]),
            spans[x].ret,
            spans[y].call,
        ),
    }
}

/// An operation's kind in words.
fn kind(op: KvOp) -> &'static str {
    match op.input {
        KvInput::Get { .. } => "get",
        KvInput::Put { .. } => "put",
        KvInput::Append { .. } => "append",
    }
}

/// A block, or a write no Get saw, as one contiguous stretch of the linearization.
struct Unit {
    /// The block (index into the blocks), or `None` for a free write.
    block: Option<usize>,
    /// The free write, or the block's first operation (for naming it).
    op: usize,
    /// The latest call among its operations, and whose.
    call: (u64, usize),
    /// The earliest return among its operations, and whose.
    ret: (u64, usize),
}

fn order_units(ops: &[KvOp], spans: &[Span], blocks: &[Block]) -> Result<(), Conflict> {
    let mut in_block = vec![false; ops.len()];
    let mut units = Vec::new();
    for (b, block) in blocks.iter().enumerate() {
        let members: Vec<usize> = block
            .put
            .into_iter()
            .chain(block.gets.iter().map(|&(get, _)| get))
            .chain(block.chain.iter().copied())
            .collect();
        for &op in &members {
            in_block[op] = true;
        }
        units.push(Unit {
            block: Some(b),
            op: members[0],
            call: members
                .iter()
                .map(|&o| (spans[o].call, o))
                .max()
                .expect("not empty"),
            ret: members
                .iter()
                .map(|&o| (spans[o].ret, o))
                .min()
                .expect("not empty"),
        });
    }
    for (op, &span) in spans.iter().enumerate() {
        // Writes no Get saw. Without a reply they may take effect after everything else, and an
        // Append of "" changes nothing: both are left out.
        let free = match &ops[op].input {
            KvInput::Get { .. } => false,
            KvInput::Put { .. } => span.ret != u64::MAX,
            KvInput::Append { value, .. } => span.ret != u64::MAX && !value.is_empty(),
        };
        if free && !in_block[op] {
            units.push(Unit {
                block: None,
                op,
                call: (span.call, op),
                ret: (span.ret, op),
            });
        }
    }

    // The block reading the initial value comes before every Put, hence before every unit.
    let mut remaining: Vec<usize> = (0..units.len()).collect();
    if let Some(first) = blocks.iter().position(|b| b.put.is_none()) {
        let initial = &units[first];
        if let Some(u) = remaining
            .iter()
            .copied()
            .filter(|&u| u != first && units[u].ret.0 < initial.call.0)
            .min_by_key(|&u| units[u].ret)
        {
            return Err(before_initial(ops, blocks, &units[u], initial));
        }
        remaining.retain(|&u| u != first);
    }

    // Remove sources until none are left or none exist.
    while !remaining.is_empty() {
        let by_ret = |u: &usize| units[*u].ret;
        let u1 = *remaining
            .iter()
            .min_by_key(|u| by_ret(u))
            .expect("not empty");
        let second = remaining
            .iter()
            .filter(|&&u| u != u1)
            .min_by_key(|u| by_ret(u))
            .copied();
        let source = match second {
            None => Some(u1),
            Some(u2) if units[u1].call.0 <= units[u2].ret.0 => Some(u1),
            Some(_) => remaining
                .iter()
                .copied()
                .find(|&v| v != u1 && units[v].call.0 <= units[u1].ret.0),
        };
        match (source, second) {
            (Some(v), _) => remaining.retain(|&u| u != v),
            (None, Some(u2)) => return Err(cycle(ops, blocks, &units[u1], &units[u2])),
            (None, None) => unreachable!("a lone unit is a source"),
        }
    }
    Ok(())
}

/// A unit in words.
fn unit_words(ops: &[KvOp], blocks: &[Block], unit: &Unit) -> String {
    match unit.block {
        Some(b) => {
            let block = &blocks[b];
            let base = match block.put {
                Some(put) => text::op(ops[put]),
                None => "the initial value".to_string(),
            };
            format!(
                "the {} operation(s) reading from {base} (the Gets reading it and the appends \
                 they saw)",
                block.gets.len() + block.chain.len() + usize::from(block.put.is_some())
            )
        }
        None => format!("{} (which no Get saw)", text::op(ops[unit.op])),
    }
}

/// Why unit `u` must precede unit `v`: an operation of `u` returned before one of `v` started.
fn edge_words(ops: &[KvOp], u: &Unit, v: &Unit) -> String {
    format!(
        "{} returned at t={} before {} was called at t={}",
        text::op(ops[u.ret.1]),
        u.ret.0,
        text::op(ops[v.call.1]),
        v.call.0
    )
}

fn before_initial(ops: &[KvOp], blocks: &[Block], unit: &Unit, initial: &Unit) -> Conflict {
    Conflict {
        ops: vec![initial.call.1, unit.ret.1],
        reason: format!(
            "{} all come before any Put, so before {}; but {}",
            unit_words(ops, blocks, initial),
            unit_words(ops, blocks, unit),
            edge_words(ops, unit, initial)
        ),
    }
}

fn cycle(ops: &[KvOp], blocks: &[Block], u: &Unit, v: &Unit) -> Conflict {
    Conflict {
        ops: vec![u.ret.1, v.call.1, v.ret.1, u.call.1],
        reason: format!(
            "{} and {} cannot both be contiguous (no write can fall inside such a run): the \
             first must come before the second because {}, and the second before the first \
             because {}",
            unit_words(ops, blocks, u),
            unit_words(ops, blocks, v),
            edge_words(ops, u, v),
            edge_words(ops, v, u)
        ),
    }
}
