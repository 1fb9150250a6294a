//! Opens a generated timeline page in a real headless browser (Chromium) and checks that it
//! draws its lanes with no script errors.
//!
//! Chromium comes from the distribution's packages (`.ci/run` installs it). Where it is not
//! installed the test says so and skips, unless `LAB_REQUIRE_BROWSER=1` (CI sets it), where a
//! missing browser is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use wait_timeout::ChildExt;

const TRACE: &str = concat!(
    r#"{"t":0.1,"node":0,"topic":"vote","role":"candidate","term":1,"msg":"starting election"}"#,
    "\n",
    r#"{"t":0.2,"node":1,"topic":"vote","role":"follower","term":1,"msg":"granted vote to 0"}"#,
    "\n",
    r#"{"t":0.25,"node":0,"topic":"leader","role":"leader","term":1,"msg":"won"}"#,
    "\n",
    r#"{"t":0.5,"node":0,"topic":"apply","index":1,"command":"101"}"#,
    "\n",
    r#"{"t":0.6,"node":1,"topic":"apply","index":1,"command":"102"}"#,
    "\n",
    r#"{"t":0.65,"node":1,"topic":"fault","server":"1","msg":"a fault holds back Raft.install_snapshot from 0>1#0 to 1 by 4.000 s"}"#,
    "\n",
    r#"{"t":0.66,"node":0,"topic":"fault","server":"0","msg":"a fault armed for this reply strikes"}"#,
    "\n",
    r#"{"t":0.7,"node":1,"topic":"disconnect"}"#,
    "\n",
    r#"{"t":0.8,"topic":"client","client":"0","id":"1","phase":"call","op":"get(x)"}"#,
    "\n",
    r#"{"t":0.85,"topic":"client","client":"0","id":"1","phase":"return","op":"\"\""}"#,
    "\n",
    r#"{"t":0.9,"topic":"failure","level":"ERROR","msg":"apply error: index 1 differs </script>"}"#,
    "\n"
);

fn chromium() -> Option<PathBuf> {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labs-timeline-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn dump_dom(browser: &Path, page: &Path, profile: &Path) -> String {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("cannot start chromium");
    let status = child.wait_timeout(Duration::from_secs(60)).unwrap();
    if status.is_none() {
        let _ = child.kill();
        panic!("chromium did not finish within 60 s");
    }
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
    out
}

#[test]
fn timeline_page_renders_its_lanes_in_a_browser() {
    let Some(browser) = chromium() else {
        if std::env::var("LAB_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!(
                "LAB_REQUIRE_BROWSER=1 but Chromium is not installed (apt-get install chromium)"
            );
        }
        println!("skipped: Chromium is not installed (apt-get install chromium to run this test)");
        return;
    };
    let dir = scratch_dir();
    let trace = dir.join("run.trace.jsonl");
    let page = dir.join("run.html");
    std::fs::write(&trace, TRACE).unwrap();
    let made = Command::new(env!("CARGO_BIN_EXE_grade"))
        .args([
            "timeline",
            trace.to_str().unwrap(),
            "-o",
            page.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );

    let dom = dump_dom(&browser, &page, &dir.join("profile"));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        !dom.contains("data-errors"),
        "the page had script errors: {dom}"
    );
    assert!(
        dom.contains(r#"data-rendered="lanes:2 clients:1""#),
        "the page did not render its lanes: {dom}"
    );
    assert_eq!(
        dom.matches(r#"class="lane""#).count(),
        2,
        "one lane per peer"
    );
    assert!(
        dom.contains("Logs diverge at index 1"),
        "the divergence is not shown"
    );
    assert!(
        dom.contains(r#"class="failure""#),
        "the failing check is not marked"
    );
    // One mark per fault, each on the lane of the server it struck, with its description.
    let lane = |node: &str| {
        let start = dom
            .find(&format!(r#"class="lane" data-node="{node}""#))
            .unwrap_or_else(|| panic!("no lane for peer {node}: {dom}"));
        let end = dom[start..].find("</g>").map_or(dom.len(), |e| start + e);
        &dom[start..end]
    };
    assert_eq!(
        dom.matches(r#"class="fault""#).count(),
        2,
        "one mark per fault"
    );
    assert_eq!(lane("0").matches(r#"class="fault""#).count(), 1);
    assert_eq!(lane("1").matches(r#"class="fault""#).count(), 1);
    assert!(
        lane("1").contains("holds back Raft.install_snapshot"),
        "the fault's description is missing: {}",
        lane("1")
    );
}
