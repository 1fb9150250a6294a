//! The HTML visualization: produced for a failed check, self-contained, showing the failure.

use lincheck::{check, parse, render_html, write_html, KvModel, RegisterModel, DEFAULT_BUDGET};
use std::path::Path;

fn data(file: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(file),
    )
    .unwrap()
}

/// No reference to anything outside the page: no URLs, no external scripts, styles or images.
fn assert_self_contained(page: &str) {
    for needle in ["http://", "https://", "src=", "<link", "@import", "url("] {
        assert!(!page.contains(needle), "page contains {needle:?}");
    }
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.trim_end().ends_with("</html>"));
}

#[test]
fn kv_failure_page_is_written_and_self_contained() {
    let history = parse::kv::parse(&data("kv/c01-bad.txt")).unwrap();
    let outcome = check(&KvModel, &history, DEFAULT_BUDGET);
    let failure = outcome
        .failure()
        .expect("c01-bad is not linearizable")
        .clone();

    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c01-bad.html");
    let _ = std::fs::remove_file(&path);
    write_html(&KvModel, &history, &outcome, &path).unwrap();
    let page = std::fs::read_to_string(&path).unwrap();
    assert_self_contained(&page);

    // The failing key comes first, open, with the linearization numbered and the stuck
    // operation marked.
    let first = page.find("<details").unwrap();
    assert!(page[first..].starts_with("<details open>"));
    assert!(page.contains(&failure.partition.replace('"', "&quot;")));
    assert!(page.contains("class=\"op lin\""));
    assert!(page.contains("class=\"op stuck\""));
    assert!(page.contains("linearized #1;"));
    for step in &failure.linearized {
        assert!(page.contains(&step.state_after.replace('"', "&quot;")));
    }
    // Every operation of every key is drawn.
    assert_eq!(page.matches("<g class=\"op").count(), history.len());
}

#[test]
fn register_pages_are_self_contained_whatever_the_outcome() {
    for file in ["jepsen/etcd_000.log", "jepsen/etcd_002.log"] {
        let history = parse::jepsen::parse(&data(file)).unwrap();
        for budget in [DEFAULT_BUDGET, 10] {
            let outcome = check(&RegisterModel, &history, budget);
            let page = render_html(&RegisterModel, &history, &outcome);
            assert_self_contained(&page);
            assert_eq!(page.matches("<g class=\"op").count(), history.len());
        }
    }
}

#[test]
fn a_conflict_found_from_the_values_is_explained_on_the_page() {
    // An append that returned before the get was called, missing from the get's value.
    let history = vec![
        lincheck::Operation::returned(
            0,
            lincheck::KvInput::append("k", "x 0 0 y"),
            0,
            String::new(),
            10,
        ),
        lincheck::Operation::returned(
            1,
            lincheck::KvInput::append("k", "x 1 0 y"),
            20,
            String::new(),
            30,
        ),
        lincheck::Operation::returned(
            2,
            lincheck::KvInput::get("k"),
            40,
            "x 0 0 y".to_string(),
            50,
        ),
    ];
    let outcome = check(&KvModel, &history, DEFAULT_BUDGET);
    let failure = outcome.failure().expect("not linearizable");
    let reason = failure.reason.as_deref().expect("decided from the values");
    // The summary names both operations and the times that conflict.
    let line = outcome.to_string();
    assert!(line.contains(reason), "{line}");
    assert!(reason.contains("append(\"k\", \"x 1 0 y\")"), "{reason}");
    assert!(reason.contains("get(\"k\") -> \"x 0 0 y\""), "{reason}");
    assert!(
        reason.contains("t=30") && reason.contains("t=40"),
        "{reason}"
    );
    let conflicting: Vec<usize> = failure.conflicting.iter().map(|op| op.index).collect();
    assert!(
        conflicting.contains(&1) && conflicting.contains(&2),
        "{conflicting:?}"
    );

    let page = render_html(&KvModel, &history, &outcome);
    assert_self_contained(&page);
    assert!(page.contains("<h3>Why</h3>"));
    let escaped = reason
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    assert!(page.contains(&escaped));
    for named in [1, 2] {
        let tag = format!("data-op=\"{named}\"><title>");
        let at = page.find(&tag).expect("drawn");
        let start = page[..at].rfind("<g class=\"").expect("a box");
        assert!(page[start..at].contains("stuck"), "{}", &page[start..at]);
    }
}
