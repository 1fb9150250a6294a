//! Reading a Get's value as the writes that produced it.
//!
//! The state of a key is always the value of the last Put (or "" initially) followed by the
//! values of the Appends applied since, in order. So a Get's value can be split into a *base*
//! (a Put's value, or nothing) and a sequence of Append values. When every write's value is
//! unique and the split is unique (as with the course's `x <client> <n> y` values), that split
//! names the exact writes the Get saw and their order; this module finds it.
//!
//! Splits are counted by a forward dynamic program over byte positions (capped at two, which is
//! all "unique or not" needs), with one predecessor per position to rebuild the unique split.
//! Only positions some split reaches are expanded, so a value made of `k` delimited pieces
//! costs about `k` lookups per distinct value length.

use super::Base;
use crate::hash::FastHasher;
use crate::history::Operation;
use crate::models::kv::KvInput;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

/// Value -> write lookups; only looked up, never iterated, so the hasher's order never matters.
type Lookup<'a> = HashMap<&'a [u8], usize, BuildHasherDefault<FastHasher>>;

/// The non-empty values written to one key, for splitting Get values.
pub(super) struct Writes<'a> {
    appends: Lookup<'a>,
    puts: Lookup<'a>,
    /// Distinct lengths of Append values, ascending.
    append_lengths: Vec<usize>,
    /// Distinct lengths of Put values, ascending.
    put_lengths: Vec<usize>,
    /// Whether no two writes (Put or Append) have the same non-empty value.
    pub unique: bool,
}

/// How a Get's value splits into writes.
pub(super) enum Split {
    /// Exactly one way: from `base`, the Appends `appends` (operation ids) in this order.
    Unique { base: Base, appends: Vec<usize> },
    /// More than one way; the value does not say which writes the Get saw.
    Ambiguous,
    /// No way at all: no sequence of writes can produce it. The first `parsed` bytes are the
    /// longest start of the value that some sequence can produce.
    Impossible { parsed: usize },
    /// The only split uses this Append twice, but an operation takes effect at most once.
    Repeated { append: usize },
}

/// How a position of the value was first reached: from the start with this base, or by an
/// Append from an earlier position.
#[derive(Clone, Copy)]
enum Pred {
    None,
    Start(Base),
    Append { from: usize, op: usize },
}

impl<'a> Writes<'a> {
    /// Collects the non-empty write values of `ops` (one key's operations).
    pub fn new(ops: &[&'a Operation<KvInput, String>]) -> Self {
        let mut writes = Writes {
            appends: Lookup::default(),
            puts: Lookup::default(),
            append_lengths: Vec::new(),
            put_lengths: Vec::new(),
            unique: true,
        };
        for (i, op) in ops.iter().enumerate() {
            let (map, lengths, value) = match &op.input {
                KvInput::Append { value, .. } => (
                    &mut writes.appends,
                    &mut writes.append_lengths,
                    value.as_bytes(),
                ),
                KvInput::Put { value, .. } => {
                    (&mut writes.puts, &mut writes.put_lengths, value.as_bytes())
                }
                KvInput::Get { .. } => continue,
            };
            if value.is_empty() {
                continue; // "" is the empty base (Put) or no change at all (Append)
            }
            if map.insert(value, i).is_some() {
                writes.unique = false;
            }
            lengths.push(value.len());
        }
        // A value both Put and Appended is not unique either.
        if writes.appends.keys().any(|v| writes.puts.contains_key(v)) {
            writes.unique = false;
        }
        for lengths in [&mut writes.append_lengths, &mut writes.put_lengths] {
            lengths.sort_unstable();
            lengths.dedup();
        }
        writes
    }

    /// Splits a Get's value into a base and Appends.
    pub fn split(&self, value: &str) -> Split {
        let bytes = value.as_bytes();
        let n = bytes.len();
        // ways[p]: how many splits reach position p (capped at 2); pred[p]: how, if just one.
        let mut ways = vec![0u8; n + 1];
        let mut pred = vec![Pred::None; n + 1];
        ways[0] = 1;
        pred[0] = Pred::Start(Base::Empty);
        for &length in &self.put_lengths {
            if let Some(&put) = bytes.get(..length).and_then(|v| self.puts.get(v)) {
                ways[length] = (ways[length] + 1).min(2);
                pred[length] = Pred::Start(Base::Put(put));
            }
        }
        for pos in 0..n {
            if ways[pos] == 0 {
                continue;
            }
            for &length in &self.append_lengths {
                let Some(piece) = bytes.get(pos..pos + length) else {
                    break; // lengths ascend: the rest run past the end too
                };
                if let Some(&op) = self.appends.get(piece) {
                    let next = pos + length;
                    ways[next] = (ways[next] + ways[pos]).min(2);
                    pred[next] = Pred::Append { from: pos, op };
                }
            }
        }
        match ways[n] {
            0 => Split::Impossible {
                parsed: (0..=n).rev().find(|&p| ways[p] > 0).unwrap_or(0),
            },
            1 => self.rebuild(&pred, n),
            _ => Split::Ambiguous,
        }
    }

    /// Follows the predecessors back from the end of a value with exactly one split. (With one
    /// split reaching `n`, every position on it is reached exactly once, so `pred` is that
    /// split's step.)
    fn rebuild(&self, pred: &[Pred], n: usize) -> Split {
        let mut appends = Vec::new();
        let mut pos = n;
        let base = loop {
            match pred[pos] {
                Pred::Append { from, op } => {
                    appends.push(op);
                    pos = from;
                }
                Pred::Start(base) => break base,
                Pred::None => unreachable!("a reached position has a predecessor"),
            }
        };
        appends.reverse();
        let mut seen: Vec<usize> = appends.clone();
        seen.sort_unstable();
        if let Some(pair) = seen.windows(2).find(|pair| pair[0] == pair[1]) {
            return Split::Repeated { append: pair[0] };
        }
        Split::Unique { base, appends }
    }
}
