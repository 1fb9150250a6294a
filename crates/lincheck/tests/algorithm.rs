//! The search on small hand-made histories whose verdicts are easy to see.

use lincheck::{
    check, KvInput, KvModel, Operation, Outcome, RegisterInput, RegisterModel, RegisterOutput,
};

const BUDGET: u64 = 1_000_000;

type KvOp = Operation<KvInput, String>;

fn put(client: usize, key: &str, value: &str, call: u64, ret: u64) -> KvOp {
    Operation::returned(client, KvInput::put(key, value), call, String::new(), ret)
}

fn append(client: usize, key: &str, value: &str, call: u64, ret: u64) -> KvOp {
    Operation::returned(
        client,
        KvInput::append(key, value),
        call,
        String::new(),
        ret,
    )
}

fn get(client: usize, key: &str, read: &str, call: u64, ret: u64) -> KvOp {
    Operation::returned(client, KvInput::get(key), call, read.to_string(), ret)
}

fn kv(history: &[KvOp]) -> Outcome {
    check(&KvModel, history, BUDGET)
}

#[test]
fn empty_history_is_linearizable() {
    assert!(kv(&[]).is_linearizable());
}

#[test]
fn sequential_history_is_linearizable() {
    let history = [
        put(0, "x", "1", 0, 10),
        get(1, "x", "1", 20, 30),
        append(0, "x", "2", 40, 50),
        get(1, "x", "12", 60, 70),
    ];
    assert!(kv(&history).is_linearizable());
}

#[test]
fn stale_read_is_not_linearizable() {
    // The put finished before the get started, yet the get missed it.
    let history = [put(0, "x", "1", 0, 10), get(1, "x", "", 20, 30)];
    let outcome = kv(&history);
    let failure = outcome.failure().expect("not linearizable");
    assert_eq!(failure.partition, "key \"x\"");
    // The best the search can do is the put alone; the stale get cannot follow it.
    assert_eq!(failure.linearized.len(), 1);
    assert_eq!(failure.linearized[0].op.index, 0);
    assert_eq!(failure.linearized[0].state_after, "\"1\"");
    assert_eq!(failure.final_state, "\"1\"");
    assert_eq!(failure.unplaced.len(), 1);
    assert_eq!(failure.unplaced[0].index, 1);
    assert_eq!(failure.unplaced[0].client, 1);
    assert_eq!(failure.unplaced[0].description, "get(\"x\") -> \"\"");
}

#[test]
fn concurrent_operations_may_be_reordered() {
    // The get overlaps the put, so it may take effect before or after it.
    let before = [put(0, "x", "1", 0, 100), get(1, "x", "", 10, 20)];
    let after = [put(0, "x", "1", 0, 100), get(1, "x", "1", 10, 20)];
    assert!(kv(&before).is_linearizable());
    assert!(kv(&after).is_linearizable());

    // Two overlapping appends may land in either order, whatever order they were called in.
    let swapped = [
        append(0, "x", "a", 0, 50),
        append(1, "x", "b", 10, 60),
        get(2, "x", "ba", 70, 80),
    ];
    assert!(kv(&swapped).is_linearizable());
}

#[test]
fn real_time_order_is_respected() {
    // Appends that do not overlap must apply in call order.
    let history = [
        append(0, "x", "a", 0, 10),
        append(1, "x", "b", 20, 30),
        get(2, "x", "ba", 40, 50),
    ];
    assert!(!kv(&history).is_linearizable());
}

#[test]
fn touching_intervals_count_as_concurrent() {
    // Porcupine's rule: at equal times calls sort before returns, so an operation called at the
    // very time another returns may still be ordered before it.
    let history = [put(0, "x", "1", 0, 10), get(1, "x", "", 10, 20)];
    assert!(kv(&history).is_linearizable());
}

#[test]
fn unknown_outcome_may_or_may_not_have_taken_effect() {
    let lost = || Operation::no_reply(0, KvInput::append("x", "a"), 0);
    // Never took effect (as far as anyone saw) ...
    assert!(kv(&[lost(), get(1, "x", "", 10, 20)]).is_linearizable());
    // ... or took effect ...
    assert!(kv(&[lost(), get(1, "x", "a", 10, 20)]).is_linearizable());
    // ... even long after everything else happened.
    let late = [
        lost(),
        get(1, "x", "", 10, 20),
        get(2, "x", "a", 1_000, 1_010),
    ];
    assert!(kv(&late).is_linearizable());
    // But once seen, its effect cannot be undone.
    let undone = [lost(), get(1, "x", "a", 10, 20), get(2, "x", "", 30, 40)];
    assert!(!kv(&undone).is_linearizable());
    // A get without a reply constrains nothing.
    let silent = [
        put(0, "x", "1", 0, 10),
        Operation::no_reply(1, KvInput::get("x"), 20),
    ];
    assert!(kv(&silent).is_linearizable());
}

#[test]
fn failure_is_reported_for_the_failing_key_with_history_indices() {
    let history = [
        put(0, "a", "1", 0, 10),
        put(1, "b", "2", 0, 10),
        get(0, "a", "1", 20, 30),
        get(1, "b", "3", 20, 30), // wrong
    ];
    let outcome = kv(&history);
    let failure = outcome.failure().expect("not linearizable");
    assert_eq!(failure.partition, "key \"b\"");
    assert_eq!(failure.partition_ops, vec![1, 3]);
    assert_eq!(failure.unplaced[0].index, 3);
}

#[test]
fn summary_is_one_line() {
    let outcome = kv(&[put(0, "x", "1", 0, 10), get(1, "x", "", 20, 30)]);
    let line = outcome.to_string();
    assert!(!line.contains('\n'));
    assert!(line.starts_with("not linearizable: key \"x\""), "{line}");
    assert!(line.contains("get(\"x\") -> \"\""), "{line}");
    assert!(kv(&[]).to_string().starts_with("linearizable"));
}

/// `n` clients append concurrently, then a read sees all appends in an order the search must
/// discover: it needs many steps.
///
/// With unique values the key/value model would decide this from the read's value without any
/// search, so one more client appends a value already written, late and without a reply: the
/// values are no longer unique and the search has to do the work these tests are about.
fn hard_history(n: usize) -> Vec<KvOp> {
    let mut history: Vec<KvOp> = (0..n)
        .map(|i| append(i, "x", &format!("<{i}>"), 0, 100))
        .collect();
    let all: String = (0..n).rev().map(|i| format!("<{i}>")).collect();
    history.push(get(n, "x", &all, 200, 300));
    history.push(Operation::no_reply(
        n + 1,
        KvInput::append("x", "<0>"),
        1_000,
    ));
    history
}

#[test]
fn budget_exhaustion_is_reported_and_deterministic() {
    let history = hard_history(8);
    let outcome = kv(&history);
    assert!(outcome.is_linearizable(), "{outcome}");
    let needed = outcome.steps();
    assert!(needed > 100, "needed only {needed} steps");

    // Exactly enough budget: the same verdict with the same step count.
    assert_eq!(check(&KvModel, &history, needed), outcome);
    // One step short: no verdict, and it says so.
    let short = check(&KvModel, &history, needed - 1);
    match &short {
        Outcome::BudgetExhausted { budget, undecided } => {
            assert_eq!(*budget, needed - 1);
            assert_eq!(undecided, &vec!["key \"x\"".to_string()]);
        }
        other => panic!("expected BudgetExhausted, got {other}"),
    }
    assert!(!short.is_linearizable());
    assert!(short.to_string().contains("budget"), "{short}");
    assert_eq!(check(&KvModel, &history, 0).steps(), 0);
}

#[test]
fn a_cheap_failure_is_found_despite_a_hard_partition() {
    // Key "x" needs many steps; key "y" fails at once. Partitions take turns, so the failure
    // is found within a small budget.
    let mut history = hard_history(12);
    let alone = check(&KvModel, &history, 50_000);
    assert!(matches!(alone, Outcome::BudgetExhausted { .. }), "{alone}");
    history.push(put(0, "y", "1", 0, 10));
    history.push(get(1, "y", "2", 20, 30));
    let outcome = check(&KvModel, &history, 50_000);
    let failure = outcome.failure().expect("not linearizable");
    assert_eq!(failure.partition, "key \"y\"");
}

#[test]
fn a_return_before_its_call_is_treated_as_at_the_call() {
    let history = [put(0, "x", "1", 50, 10), get(1, "x", "1", 60, 70)];
    assert!(kv(&history).is_linearizable());
}

#[test]
fn register_follows_the_etcd_semantics() {
    let read = |client, value, call, ret| {
        Operation::returned(
            client,
            RegisterInput::Read,
            call,
            RegisterOutput::Read(value),
            ret,
        )
    };
    let write = |client, value, call, ret| {
        Operation::returned(
            client,
            RegisterInput::Write(value),
            call,
            RegisterOutput::Written,
            ret,
        )
    };
    let cas = |client, from, to, succeeded, call, ret| {
        Operation::returned(
            client,
            RegisterInput::Cas { from, to },
            call,
            RegisterOutput::Cas { succeeded },
            ret,
        )
    };
    let register = |history: &[_]| check(&RegisterModel, history, BUDGET).is_linearizable();

    assert!(register(&[read(0, None, 0, 1)]));
    assert!(!register(&[read(0, Some(1), 0, 1)]));
    assert!(register(&[
        write(0, 1, 0, 1),
        cas(1, 1, 2, true, 2, 3),
        read(0, Some(2), 4, 5)
    ]));
    // A failed cas means the register did not hold `from`.
    assert!(!register(&[write(0, 1, 0, 1), cas(1, 1, 2, false, 2, 3)]));
    assert!(register(&[
        write(0, 1, 0, 1),
        cas(1, 5, 2, false, 2, 3),
        read(0, Some(1), 4, 5)
    ]));
    // A cas with unknown outcome may have happened.
    let unknown = Operation::no_reply(1, RegisterInput::Cas { from: 1, to: 2 }, 2);
    assert!(register(&[
        write(0, 1, 0, 1),
        unknown.clone(),
        read(0, Some(2), 4, 5)
    ]));
    assert!(register(&[
        write(0, 1, 0, 1),
        unknown,
        read(0, Some(1), 4, 5)
    ]));
}
