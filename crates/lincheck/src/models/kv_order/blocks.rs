//! Grouping Gets into blocks: each Put that some Get read from, with those Gets and the Appends
//! they saw, checked for one consistent Append order.
//!
//! A Get whose value has no Put prefix read from an *empty* base: the initial value or a Put of
//! "". When there are Puts of "", which one is decided from real time where that is certain
//! (a Put of "" that returned before the Get was called rules out the initial value; one called
//! after the Get returned cannot be its base); if more than one candidate remains, the caller
//! falls back to the search.

use super::text;
use super::{Base, KvOp, Reading, Span};
use crate::model::Conflict;
use crate::models::kv::KvInput;
use std::collections::BTreeMap;

/// A Put and everything that read from it.
pub(super) struct Block {
    /// The Put that starts it, or `None` for the initial value.
    pub put: Option<usize>,
    /// The Appends the Gets saw after the Put, in the one order they all agree on.
    pub chain: Vec<usize>,
    /// Each Get, with how many of the chain's Appends it saw (a prefix of the chain).
    pub gets: Vec<(usize, usize)>,
    /// A Get that saw the whole chain, for explanations.
    pub longest: usize,
}

/// What a block is keyed by: its base write. The initial value sorts first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Initial,
    Put(usize),
}

/// Forms the blocks; `Ok(None)` if some Get's base cannot be told for certain.
pub(super) fn form(
    ops: &[KvOp],
    spans: &[Span],
    readings: Vec<Reading>,
) -> Result<Option<Vec<Block>>, Conflict> {
    let empty_puts: Vec<usize> = (0..ops.len())
        .filter(|&i| matches!(&ops[i].input, KvInput::Put { value, .. } if value.is_empty()))
        .collect();
    let Some(keys) = resolve(spans, &empty_puts, &readings) else {
        return Ok(None);
    };
    let mut by_key: BTreeMap<Key, Vec<Reading>> = BTreeMap::new();
    for (reading, key) in readings.into_iter().zip(keys) {
        by_key.entry(key).or_default().push(reading);
    }

    let mut blocks = Vec::with_capacity(by_key.len());
    // Which block each seen Append belongs to, to catch one seen after two different bases.
    let mut owner: BTreeMap<usize, usize> = BTreeMap::new();
    for (key, mut readings) in by_key {
        readings.sort_by_key(|r| (r.appends.len(), r.get));
        let longest = readings.last().expect("a block has a reading");
        let put = match key {
            Key::Initial => None,
            Key::Put(put) => Some(put),
        };
        for reading in &readings {
            if let Some(j) =
                (0..reading.appends.len()).find(|&j| reading.appends[j] != longest.appends[j])
            {
                return Err(diverging(ops, put, reading, longest, j));
            }
        }
        for &append in &longest.appends {
            if let Some(&other) = owner.get(&append) {
                let other: &Block = &blocks[other];
                return Err(two_bases(ops, append, other, put, longest.get));
            }
            owner.insert(append, blocks.len());
        }
        blocks.push(Block {
            put,
            chain: longest.appends.clone(),
            longest: longest.get,
            gets: readings.iter().map(|r| (r.get, r.appends.len())).collect(),
        });
    }
    Ok(Some(blocks))
}

/// The block key of each reading, or `None` if an empty base is ambiguous.
fn resolve(spans: &[Span], empty_puts: &[usize], readings: &[Reading]) -> Option<Vec<Key>> {
    // Readings with an empty base that share a first Append share a base (that Append took
    // effect once, after exactly one base); those that saw no Append are judged alone.
    let mut groups: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    for (i, reading) in readings.iter().enumerate() {
        if reading.base == Base::Empty {
            let group = match reading.appends.first() {
                Some(&first) => (0, first),
                None => (1, i),
            };
            groups.entry(group).or_default().push(i);
        }
    }
    let mut keys: Vec<Option<Key>> = readings
        .iter()
        .map(|r| match r.base {
            Base::Put(put) => Some(Key::Put(put)),
            Base::Empty => None,
        })
        .collect();
    for members in groups.values() {
        // The operations that must lie after the base and before the next write to the key.
        let mut after_base: Vec<usize> = members.iter().map(|&i| readings[i].get).collect();
        after_base.extend(readings[members[0]].appends.first());
        // The initial value is ruled out once a Put of "" returned before one of them started.
        let initial = !empty_puts
            .iter()
            .any(|&e| after_base.iter().any(|&x| spans[e].ret < spans[x].call));
        // A Put of "" is ruled out if one of them returned before it was called.
        let mut candidates = empty_puts
            .iter()
            .filter(|&&e| after_base.iter().all(|&x| spans[x].ret >= spans[e].call))
            .map(|&e| Key::Put(e));
        let key = match (initial, candidates.next(), candidates.next()) {
            (true, None, _) => Key::Initial,
            (false, Some(key), None) => key,
            _ => return None,
        };
        for &i in members {
            keys[i] = Some(key);
        }
    }
    keys.into_iter().collect()
}

/// What a block's Gets read from, in words.
fn base_words(ops: &[KvOp], put: Option<usize>) -> String {
    match put {
        Some(put) => text::op(ops[put]),
        None => "the initial value".to_string(),
    }
}

/// Two Gets of one block that disagree on the order of the Appends after the base.
fn diverging(
    ops: &[KvOp],
    put: Option<usize>,
    reading: &Reading,
    longest: &Reading,
    j: usize,
) -> Conflict {
    let (mine, theirs) = (reading.appends[j], longest.appends[j]);
    Conflict {
        ops: vec![reading.get, longest.get, mine, theirs],
        reason: format!(
            "{} and {} both read from {}, and after the same {j} append(s) one saw {} next and \
             the other {}: no single order of the appends gives both values",
            text::op_with_times(ops[reading.get]),
            text::op_with_times(ops[longest.get]),
            base_words(ops, put),
            text::written(ops[mine]),
            text::written(ops[theirs]),
        ),
    }
}

/// An Append seen after two different bases.
fn two_bases(
    ops: &[KvOp],
    append: usize,
    first: &Block,
    put: Option<usize>,
    get: usize,
) -> Conflict {
    Conflict {
        ops: vec![append, first.longest, get],
        reason: format!(
            "{} saw {} after {}, but {} saw it after {}: an append takes effect once, after one \
             base",
            text::op_with_times(ops[first.longest]),
            text::op(ops[append]),
            base_words(ops, first.put),
            text::op_with_times(ops[get]),
            base_words(ops, put),
        ),
    }
}
