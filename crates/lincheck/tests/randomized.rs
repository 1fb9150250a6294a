//! Randomized histories with verdicts known by construction (see `common/gen.rs`), checked one
//! by one; and small random histories, mutated at random, on which the value-based decision
//! must agree with the plain search.

mod common;

use common::gen::{broken, linearizable, KvOp, Rng, Shape};
use lincheck::{check, KvInput, KvModel, Model, Operation, Outcome, DEFAULT_BUDGET};

/// Random shapes up to 20 clients x 50 operations on 1-3 keys, half of them with every
/// operation overlapping most others.
fn random_shape(rng: &mut Rng) -> Shape {
    Shape {
        clients: rng.range(1, 20) as usize,
        ops_per_client: rng.range(1, 50) as usize,
        keys: rng.range(1, 3) as usize,
        wide: rng.chance(50),
        put_percent: [0, 5, 20][rng.range(0, 2) as usize],
        no_reply_percent: rng.range(0, 4),
        // A Put of "" concurrent with Gets that read "" leaves their base ambiguous, and such
        // keys go to the search: the small cross-check below covers them.
        empty_puts: false,
    }
}

#[test]
fn generated_histories_and_their_broken_twins_get_the_known_verdicts() {
    let mut twins = std::collections::BTreeMap::<&str, usize>::new();
    for seed in 0..400 {
        let mut rng = Rng::new(seed);
        let shape = random_shape(&mut rng);
        let generated = linearizable(&mut rng, shape);
        let outcome = check(&KvModel, &generated.history, DEFAULT_BUDGET);
        assert!(
            outcome.is_linearizable(),
            "seed {seed} {shape:?}: a real execution was judged {outcome}"
        );
        let Some((twin, mutation)) = broken(&mut rng, &generated) else {
            continue;
        };
        let outcome = check(&KvModel, &twin, DEFAULT_BUDGET);
        let failure = outcome.failure().unwrap_or_else(|| {
            panic!("seed {seed} {shape:?}: {mutation}: the broken twin was judged {outcome}")
        });
        // Every mutation keeps the values unique, so the values alone decide it, with a reason.
        assert!(
            failure.reason.is_some() && !failure.conflicting.is_empty(),
            "seed {seed}: {mutation}: {outcome}"
        );
        *twins.entry(mutation).or_default() += 1;
    }
    // Every kind of mutation was exercised, many times.
    assert_eq!(twins.len(), 5, "{twins:?}");
    assert!(twins.values().all(|&n| n >= 20), "{twins:?}");
}

#[test]
fn heavy_single_key_histories_are_decided_without_search() {
    for seed in 0..20 {
        let mut rng = Rng::new(1_000 + seed);
        let shape = Shape {
            clients: 20,
            ops_per_client: 50,
            keys: 1,
            wide: true,
            put_percent: if seed % 2 == 0 { 0 } else { 10 },
            no_reply_percent: 2,
            empty_puts: false,
        };
        let generated = linearizable(&mut rng, shape);
        let outcome = check(&KvModel, &generated.history, DEFAULT_BUDGET);
        assert_eq!(outcome, Outcome::Linearizable { steps: 0 }, "seed {seed}");
        let (twin, mutation) = broken(&mut rng, &generated).expect("a mutation applies");
        let outcome = check(&KvModel, &twin, DEFAULT_BUDGET);
        assert!(
            outcome.failure().is_some(),
            "seed {seed}: {mutation}: {outcome}"
        );
    }
}

/// The key/value model without its value-based decision: the plain search, as an oracle.
struct SearchOnly;

impl Model for SearchOnly {
    type Input = KvInput;
    type Output = String;
    type State = lincheck::KvState;

    fn init(&self) -> Self::State {
        KvModel.init()
    }

    fn step(
        &self,
        state: &Self::State,
        input: &KvInput,
        out: Option<&String>,
    ) -> Option<Self::State> {
        KvModel.step(state, input, out)
    }

    fn partition(&self, history: &[Operation<KvInput, String>]) -> Vec<lincheck::Partition> {
        KvModel.partition(history)
    }
}

/// One random change that may or may not break linearizability.
fn perturb(rng: &mut Rng, history: &mut [KvOp]) {
    let i = rng.range(0, history.len() as u64 - 1) as usize;
    let values: Vec<String> = history
        .iter()
        .filter_map(|op| match &op.input {
            KvInput::Put { value, .. } | KvInput::Append { value, .. } => Some(value.clone()),
            KvInput::Get { .. } => None,
        })
        .collect();
    let op = &mut history[i];
    match (rng.range(0, 3), &mut op.reply) {
        // Move the call or the return.
        (0, _) => op.call = op.call.saturating_sub(rng.range(0, 400)) + rng.range(0, 400),
        (1, Some(reply)) => {
            reply.time = reply.time.saturating_sub(rng.range(0, 400)) + rng.range(0, 400)
        }
        // Rewrite a Get's value: drop, add or move one write's value.
        (_, Some(reply)) if matches!(op.input, KvInput::Get { .. }) => {
            let mut pieces: Vec<String> = values
                .iter()
                .filter(|v| !v.is_empty() && reply.output.contains(v.as_str()))
                .cloned()
                .collect();
            pieces.sort_by_key(|v| reply.output.find(v.as_str()));
            match rng.range(0, 2) {
                0 if !pieces.is_empty() => {
                    pieces.remove(rng.range(0, pieces.len() as u64 - 1) as usize);
                }
                1 if pieces.len() >= 2 => {
                    let a = rng.range(0, pieces.len() as u64 - 1) as usize;
                    let b = rng.range(0, pieces.len() as u64 - 1) as usize;
                    pieces.swap(a, b);
                }
                _ if !values.is_empty() => {
                    pieces.push(values[rng.range(0, values.len() as u64 - 1) as usize].clone())
                }
                _ => {}
            }
            reply.output = pieces.concat();
        }
        _ => op.reply = None,
    }
}

#[test]
fn value_based_decision_agrees_with_the_search_on_small_random_histories() {
    let (mut decided, mut broken_ones) = (0, 0);
    for seed in 0..4_000 {
        let mut rng = Rng::new(100_000 + seed);
        let shape = Shape {
            clients: rng.range(1, 4) as usize,
            ops_per_client: rng.range(1, 5) as usize,
            keys: rng.range(1, 2) as usize,
            wide: rng.chance(50),
            put_percent: 30,
            no_reply_percent: 10,
            empty_puts: rng.chance(50),
        };
        let mut history = linearizable(&mut rng, shape).history;
        for _ in 0..rng.range(0, 2) {
            perturb(&mut rng, &mut history);
        }
        let expected = check(&SearchOnly, &history, 1_000_000);
        if matches!(expected, Outcome::BudgetExhausted { .. }) {
            continue; // no oracle for this one (rare: it takes a pathological perturbation)
        }
        let outcome = check(&KvModel, &history, 1_000_000);
        assert_eq!(
            outcome.is_linearizable(),
            expected.is_linearizable(),
            "seed {seed}: search says {expected}, but got {outcome}\n{history:#?}"
        );
        // Count how often the values decided it (no search steps, or a reason).
        let by_values = KvModel.partition(&history).iter().all(|p| {
            let ops: Vec<_> = p.ops.iter().map(|&i| &history[i]).collect();
            KvModel.decide(&ops).is_some()
        });
        decided += usize::from(by_values);
        broken_ones += usize::from(!expected.is_linearizable());
    }
    // The comparison is only meaningful if both paths were exercised on both verdicts.
    assert!(decided > 2_000, "decided {decided}");
    assert!(broken_ones > 300, "broken {broken_ones}");
}
