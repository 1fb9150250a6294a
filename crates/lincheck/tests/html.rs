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
