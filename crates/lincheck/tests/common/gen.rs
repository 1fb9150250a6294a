//! Random key/value histories with verdicts known by construction, shared by the randomized
//! tests and the benchmark.
//!
//! A *linearizable* history comes from a real sequential execution: every operation gets an
//! interval and a linearization point inside it, the points are executed in order on a
//! key/value map, and each Get's output is what it read then. A *broken twin* changes one Get's
//! output by a mutation that provably breaks linearizability (each mutation says why). Values
//! are the course's `x <client> <n> y`, unique per operation. Everything is driven by a seeded
//! SplitMix64, so a seed always gives the same history.

#![allow(dead_code)] // each user of this module uses part of it

use lincheck::{KvInput, Operation};
use std::collections::BTreeMap;

pub type KvOp = Operation<KvInput, String>;

/// What a Get saw: the last Put before it (None: the initial value) and the Appends since.
pub type Seen = (Option<usize>, Vec<usize>);

/// A small deterministic random generator (SplitMix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5851_f42d_4c95_7f2d)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub clients: usize,
    pub ops_per_client: usize,
    pub keys: usize,
    /// Intervals drawn independently of the client (each spanning half to all of the history,
    /// so every operation overlaps most others) rather than one client after another.
    pub wide: bool,
    /// Percentage of writes that are Puts (the rest of the writes are Appends).
    pub put_percent: u64,
    /// Percentage of operations that never get a reply.
    pub no_reply_percent: u64,
    /// Whether each key starts with a Put of "" by client 0 (as the course's tests do).
    pub empty_puts: bool,
}

/// A generated history and, for each Get that took effect, what it saw.
pub struct Generated {
    pub history: Vec<KvOp>,
    /// For each Get (by index) that took effect: the last Put before it (None: the initial
    /// value) and the Appends it saw, in order.
    pub seen: BTreeMap<usize, (Option<usize>, Vec<usize>)>,
}

/// Time span of a client's sequential operations, and of the wide intervals.
const SPAN: u64 = 1_000_000;

/// A linearizable history of the given shape.
pub fn linearizable(rng: &mut Rng, shape: Shape) -> Generated {
    let mut history: Vec<KvOp> = Vec::new();
    // (linearization point, index) of every operation that takes effect.
    let mut points: Vec<(u64, usize)> = Vec::new();
    let total = (shape.clients * shape.ops_per_client) as u64;
    if shape.empty_puts {
        for key in 0..shape.keys {
            let (call, ret) = (rng.range(0, 50), rng.range(100, 2_000));
            points.push((rng.range(call, ret), history.len()));
            history.push(returned(0, KvInput::put(key.to_string(), ""), call, ret));
        }
    }
    for client in 0..shape.clients {
        let mut t = rng.range(0, 1_000);
        for n in 0..shape.ops_per_client {
            let (call, ret) = if shape.wide {
                let call = rng.range(0, SPAN / 2);
                (call, call + rng.range(SPAN / 2, SPAN))
            } else {
                let call = t + rng.range(0, 200);
                (
                    call,
                    call + rng.range(1, 2 * SPAN / (total.max(1) / 4).max(1)),
                )
            };
            t = ret;
            let key = (rng.next() % shape.keys as u64).to_string();
            let value = format!("x {client} {n} y");
            let roll = rng.range(0, 99);
            let input = if roll < 45 {
                KvInput::get(key)
            } else if rng.chance(shape.put_percent) {
                KvInput::put(key, value)
            } else {
                KvInput::append(key, value)
            };
            if rng.chance(shape.no_reply_percent) {
                // Never returned: took effect at some point after its call, or never.
                if rng.chance(50) {
                    points.push((rng.range(call, call + SPAN), history.len()));
                }
                history.push(Operation::no_reply(client, input, call));
            } else {
                points.push((rng.range(call, ret), history.len()));
                history.push(returned(client, input, call, ret));
            }
        }
    }
    // Ties in points are broken by index: still inside both intervals, so still valid.
    points.sort_unstable();
    let mut state: BTreeMap<String, (Option<usize>, Vec<usize>)> = BTreeMap::new();
    let mut seen = BTreeMap::new();
    for &(_, i) in &points {
        let key = history[i].input.key().to_string();
        let entry = state.entry(key).or_default();
        match history[i].input.clone() {
            KvInput::Get { .. } => {
                seen.insert(i, entry.clone());
                let value = render(&history, entry);
                if let Some(reply) = &mut history[i].reply {
                    reply.output = value;
                }
            }
            KvInput::Put { .. } => *entry = (Some(i), Vec::new()),
            KvInput::Append { .. } => entry.1.push(i),
        }
    }
    Generated { history, seen }
}

fn returned(client: usize, input: KvInput, call: u64, ret: u64) -> KvOp {
    Operation::returned(client, input, call, String::new(), ret)
}

fn written(op: &KvOp) -> &str {
    match &op.input {
        KvInput::Put { value, .. } | KvInput::Append { value, .. } => value,
        KvInput::Get { .. } => "",
    }
}

/// The value of a base and Appends.
fn render(history: &[KvOp], (base, appends): &(Option<usize>, Vec<usize>)) -> String {
    let mut value: String = base.map_or("", |p| written(&history[p])).to_string();
    for &a in appends {
        value.push_str(written(&history[a]));
    }
    value
}

fn ret(op: &KvOp) -> u64 {
    op.return_time().unwrap_or(u64::MAX)
}

/// A broken twin of `generated`: one Get's output changed so that no linearization exists, and
/// the name of the mutation. `None` if no mutation applies (e.g. no Get with a reply).
pub fn broken(rng: &mut Rng, generated: &Generated) -> Option<(Vec<KvOp>, &'static str)> {
    let history = &generated.history;
    let gets: Vec<(usize, &Seen)> = generated
        .seen
        .iter()
        .filter(|(&g, _)| history[g].reply.is_some())
        .map(|(&g, s)| (g, s))
        .collect();
    if gets.is_empty() {
        return None;
    }
    let start = rng.next() as usize;
    for attempt in 0..5 * 4 {
        let which = (start + attempt) % 5;
        let (g, seen) = gets[(rng.next() as usize) % gets.len()];
        let (base, appends) = seen;
        let get = &history[g];
        let mutated: Option<Seen>;
        let mut extra = None;
        let name = match which {
            // An Append in the value that returned before the Get was called, after the base
            // had returned, is dropped: it must lie between the base and the Get.
            0 => {
                // The base certainly precedes the Append: a Put with a value of its own that
                // returned before the Append was called; or, when the Get's value has no Put
                // prefix, every Put of "" (and so whichever was the base) returned before.
                let nonempty = base.filter(|&p| !written(&history[p]).is_empty());
                let base_before = |a: &KvOp| match nonempty {
                    Some(p) => ret(&history[p]) < a.call,
                    None => history.iter().all(|e| {
                        !(e.input.key() == get.input.key()
                            && matches!(&e.input, KvInput::Put { value, .. } if value.is_empty()))
                            || ret(e) < a.call
                    }),
                };
                let candidates: Vec<usize> = (0..appends.len())
                    .filter(|&j| {
                        let a = &history[appends[j]];
                        ret(a) < get.call && base_before(a)
                    })
                    .collect();
                let Some(&j) = candidates.get(rng.next() as usize % candidates.len().max(1)) else {
                    continue;
                };
                let mut without = appends.clone();
                without.remove(j);
                mutated = Some((*base, without));
                "missing append that completed before the get"
            }
            // Two Appends in the value swapped although the first returned before the
            // second was called.
            1 => {
                let mut pairs = Vec::new();
                for i in 0..appends.len() {
                    for j in i + 1..appends.len() {
                        if ret(&history[appends[i]]) < history[appends[j]].call {
                            pairs.push((i, j));
                        }
                    }
                }
                let Some(&(i, j)) = pairs.get(rng.next() as usize % pairs.len().max(1)) else {
                    continue;
                };
                let mut swapped = appends.clone();
                swapped.swap(i, j);
                mutated = Some((*base, swapped));
                "appends swapped against real time"
            }
            // A value no operation wrote.
            2 => {
                extra = Some("x 999 999 y".to_string());
                mutated = Some(seen.clone());
                "value no write produced"
            }
            // An Append called only after the Get returned shows up in its value.
            3 => {
                let same_key = |i: &usize| history[*i].input.key() == get.input.key();
                let late: Vec<usize> = (0..history.len())
                    .filter(same_key)
                    .filter(|&i| matches!(history[i].input, KvInput::Append { .. }))
                    .filter(|&i| history[i].call > ret(get) && !written(&history[i]).is_empty())
                    .collect();
                let Some(&a) = late.get(rng.next() as usize % late.len().max(1)) else {
                    continue;
                };
                let mut more = appends.clone();
                more.push(a);
                mutated = Some((*base, more));
                "append from the future"
            }
            // Stale read: a Get called after another Get of the same base returned reads one
            // Append less than that Get saw. (The shorter value must still name the base: by a
            // Put's own value, or by a first Append; a bare "" could come from a later Put "".)
            _ => {
                let named = base.is_some_and(|p| !written(&history[p]).is_empty());
                if appends.is_empty() || (appends.len() < 2 && !named) {
                    continue;
                }
                let later: Vec<usize> = gets
                    .iter()
                    .filter(|(h, s)| {
                        history[*h].input.key() == get.input.key()
                            && history[*h].call > ret(get)
                            && s.0 == *base
                    })
                    .map(|(h, _)| *h)
                    .collect();
                let Some(&h) = later.get(rng.next() as usize % later.len().max(1)) else {
                    continue;
                };
                let mut twin = history.clone();
                let stale = render(history, &(*base, appends[..appends.len() - 1].to_vec()));
                if let Some(reply) = &mut twin[h].reply {
                    reply.output = stale;
                }
                return Some((twin, "stale read after a later-starting get"));
            }
        };
        let mut twin = history.clone();
        let mut value = render(history, &mutated.expect("set with name"));
        if let Some(extra) = extra {
            value.push_str(&extra);
        }
        if let Some(reply) = &mut twin[g].reply {
            reply.output = value;
        }
        return Some((twin, name));
    }
    None
}
