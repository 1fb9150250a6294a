//! Conformance: the checker's verdict on every history of `tests/data` agrees with the verdict
//! porcupine reached (`tests/data/expected.tsv`).

use lincheck::{check, parse, KvModel, Outcome, RegisterModel};
use std::path::Path;

/// Far above what any of these histories needs (the hardest takes well under a million steps),
/// yet finite: a search that runs away fails the test instead of hanging it.
const BUDGET: u64 = 20_000_000;

fn data_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data"))
}

/// Parses and checks one file of the test data, by its path relative to `tests/data`.
fn check_file(file: &str) -> Outcome {
    let path = data_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    if file.starts_with("kv/") {
        let history = parse::kv::parse(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        check(&KvModel, &history, BUDGET)
    } else {
        let history = parse::jepsen::parse(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        check(&RegisterModel, &history, BUDGET)
    }
}

/// `(file, linearizable?)` for every row of `expected.tsv`.
fn expected() -> Vec<(String, bool)> {
    let text = std::fs::read_to_string(data_dir().join("expected.tsv")).unwrap();
    text.lines()
        .skip(1) // header
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let (file, verdict) = line.split_once('\t').expect("file<TAB>verdict");
            (
                file.to_string(),
                verdict.trim().parse().expect("true or false"),
            )
        })
        .collect()
}

fn check_all(prefix: &str, expected_count: usize) {
    let rows: Vec<_> = expected()
        .into_iter()
        .filter(|(file, _)| file.starts_with(prefix))
        .collect();
    assert_eq!(
        rows.len(),
        expected_count,
        "rows for {prefix} in expected.tsv"
    );
    let mut wrong = Vec::new();
    for (file, linearizable) in &rows {
        let outcome = check_file(file);
        println!("{file}: {outcome}");
        match (&outcome, linearizable) {
            (Outcome::Linearizable { .. }, true) | (Outcome::NotLinearizable(_), false) => {}
            _ => wrong.push(format!(
                "{file}: expected linearizable={linearizable}, got {outcome}"
            )),
        }
    }
    assert!(
        wrong.is_empty(),
        "{} verdicts differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn register_histories_match_expected_verdicts() {
    check_all("jepsen/", 102);
}

#[test]
fn kv_histories_match_expected_verdicts() {
    check_all("kv/", 6);
}
