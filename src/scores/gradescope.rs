//! Gradescope's autograder results file (`results.json`): the submission's score, one entry
//! per test with its score, maximum, status and output, and a note for the whole submission.
//!
//! The format is Gradescope's "autograder specifications": a JSON object with `score`,
//! `execution_time`, `output` and `tests`, each test with `name`, `number`, `score`,
//! `max_score`, `status` (`passed`/`failed`), `output` and `visibility`.

use serde::Serialize;

use super::{totals, TestGrade};

#[derive(Serialize)]
struct Results {
    score: f64,
    execution_time: f64,
    output: String,
    visibility: &'static str,
    stdout_visibility: &'static str,
    tests: Vec<Test>,
}

#[derive(Serialize)]
struct Test {
    name: String,
    number: String,
    score: f64,
    max_score: f64,
    status: &'static str,
    output: String,
    visibility: &'static str,
}

/// The file's text for these grades; `note` is the submission's own output (files changed,
/// build failures).
pub fn render(grades: &[TestGrade], note: &str, execution_secs: f64) -> String {
    let (score, _) = totals(grades);
    let results = Results {
        score: round(score),
        execution_time: execution_secs.round(),
        output: note.to_string(),
        visibility: "visible",
        stdout_visibility: "visible",
        tests: grades
            .iter()
            .map(|g| Test {
                name: format!("{} {}", g.package, g.name),
                number: g.part.clone(),
                score: round(g.score()),
                max_score: round(g.max_score),
                status: if g.passed() { "passed" } else { "failed" },
                output: g.output.clone(),
                visibility: "visible",
            })
            .collect(),
    };
    serde_json::to_string_pretty(&results).expect("results serialize")
}

/// Points to two decimals, so that a part's shares add up to what a reader expects.
fn round(points: f64) -> f64 {
    (points * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::super::{grade, tests::run};
    use super::*;

    #[test]
    fn results_json_has_gradescopes_fields() {
        let results = vec![
            run("raft", "election::a_2a", "2A", 1, true),
            run("raft", "election::b_2a", "2A", 1, false),
            run("raft", "election::c_2a", "2A", 1, true),
        ];
        let text = render(&grade(&results), "changed: raft/tests/raft/main.rs", 12.4);
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["score"], 66.67);
        assert_eq!(json["execution_time"], 12.0);
        assert_eq!(json["output"], "changed: raft/tests/raft/main.rs");
        let tests = json["tests"].as_array().unwrap();
        assert_eq!(tests.len(), 3);
        assert_eq!(tests[1]["name"], "raft election::b_2a");
        assert_eq!(tests[1]["number"], "2A");
        assert_eq!(tests[1]["status"], "failed");
        assert_eq!(tests[1]["score"], 0.0);
        assert_eq!(tests[1]["max_score"], 33.33);
        assert!(tests[1]["output"]
            .as_str()
            .unwrap()
            .contains("not yet implemented"));
    }
}
