//! The hang report: what a run was waiting on when it ran out of time.
//!
//! A bare "timed out" says nothing about why. When a run overruns its budget the report says
//! whether tasks were still running (too slow, or live-locked) or had all been parked since
//! some moment with no timer left to wake them (a deadlock: on the paused clock, time then
//! jumps straight to the budget); then what each component registered with
//! [`Sim::on_hang`](crate::sim::Sim::on_hang) has to say (the network lists its pending calls);
//! then, where tokio supports it, a dump of every task's stack of awaits, identical stacks
//! counted together.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use crate::sim::{HangReporter, Sim};

/// A run whose tasks have not been polled for this long before the budget ran out is stuck.
const IDLE_MEANS_DEADLOCK: Duration = Duration::from_secs(2);

pub(crate) async fn report(
    sim: &Sim,
    last_active: Duration,
    reporters: &Mutex<Vec<HangReporter>>,
) -> String {
    let now = sim.elapsed();
    let mut out = String::new();
    let _ = writeln!(out, "hang report at t={:.3} s:", now.as_secs_f64());
    if now.saturating_sub(last_active) >= IDLE_MEANS_DEADLOCK {
        let _ = writeln!(
            out,
            "  no task has run since before t={:.0} s: every task is parked and no timer is left to wake one (a deadlock)",
            last_active.as_secs_f64()
        );
    } else {
        let _ = writeln!(
            out,
            "  tasks were still running: the test is too slow for its budget, or live-locked"
        );
    }
    for reporter in reporters.lock().unwrap().iter() {
        if let Some(text) = reporter() {
            out.push_str(&text);
        }
    }
    out.push_str(&task_dump().await);
    out
}

/// Every task's stack of awaits, identical stacks counted together.
async fn task_dump() -> String {
    let Some(tasks) = task_stacks().await else {
        return "  (task dumps need Linux on x86_64 or aarch64, and must complete within 1 s)\n"
            .into();
    };
    let mut stacks: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, stack) in &tasks {
        *stacks.entry(stack).or_default() += 1;
    }
    let total: usize = stacks.values().sum();
    let mut out = format!("  {total} tasks alive; what they are waiting on:\n");
    let mut by_count: Vec<(&str, usize)> = stacks.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (stack, count) in by_count {
        let _ = writeln!(out, "  {count} task(s):");
        for frame in stack.lines() {
            let _ = writeln!(out, "      {frame}");
        }
    }
    out
}

/// Every task with its stack of awaits (plumbing frames dropped, paths shortened, one frame a
/// line), from tokio's task dump; None where tokio cannot dump tasks. Shared with the livelock
/// report.
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
pub(crate) async fn task_stacks() -> Option<Vec<(tokio::task::Id, String)>> {
    let handle = tokio::runtime::Handle::current();
    let dump = tokio::time::timeout(Duration::from_secs(1), handle.dump())
        .await
        .ok()?;
    let stacks = dump
        .tasks()
        .iter()
        .map(|task| (task.id(), canonical(&task.trace().to_string())))
        .collect();
    Some(stacks)
}

#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
pub(crate) async fn task_stacks() -> Option<Vec<(tokio::task::Id, String)>> {
    None
}

/// A task's tree of awaits in a form that depends only on the tree: tokio draws siblings in
/// hash-set order, which differs from run to run, so same seed would not mean same report.
/// Here siblings are sorted, plumbing frames are dropped (their children move up), paths are
/// shortened, and each level is indented by three spaces.
#[allow(dead_code)]
fn canonical(tree: &str) -> String {
    struct Node {
        frame: String,
        children: Vec<usize>,
    }
    // Node 0 is a root above the real roots.
    let mut nodes = vec![Node {
        frame: String::new(),
        children: vec![],
    }];
    // (depth, node) of the current path from the root.
    let mut path: Vec<(usize, usize)> = vec![(0, 0)];
    for line in tree.lines() {
        let Some(mark) = line.chars().position(|c| c == '╼') else {
            continue;
        };
        let depth = mark + 1;
        let frame: String = line.chars().skip(mark + 1).collect();
        let frame = frame.trim_matches(|c: char| c.is_whitespace()).to_string();
        while path.last().is_some_and(|&(d, _)| d >= depth) && path.len() > 1 {
            path.pop();
        }
        let parent = path.last().map_or(0, |&(_, n)| n);
        nodes.push(Node {
            frame,
            children: vec![],
        });
        let id = nodes.len() - 1;
        nodes[parent].children.push(id);
        path.push((depth, id));
    }
    fn render(nodes: &[Node], id: usize, level: usize) -> Vec<String> {
        let node = &nodes[id];
        let keep = id != 0 && !is_plumbing(&node.frame);
        let child_level = if keep { level + 1 } else { level };
        let mut children: Vec<String> = node
            .children
            .iter()
            .map(|&c| render(nodes, c, child_level).join("\n"))
            .filter(|c| !c.is_empty())
            .collect();
        children.sort();
        children.dedup();
        let mut lines = Vec::new();
        if keep {
            lines.push(format!("{}{}", "   ".repeat(level), shorten(&node.frame)));
        }
        lines.extend(children);
        lines
    }
    render(&nodes, 0, 0).join("\n")
}

/// Frames of the standard library's and of the panic-catching wrapper, which every task has.
#[allow(dead_code)]
fn is_plumbing(frame: &str) -> bool {
    let name = frame.trim_start_matches(|c: char| c.is_whitespace() || "└├│╼─".contains(c));
    [
        "std::",
        "core::",
        "<core::",
        "<labrpc::sim::FailOnPanic",
        "<core::pin::Pin",
        "<&mut F as core::future",
    ]
    .iter()
    .any(|prefix| name.starts_with(prefix))
}

/// A frame with its registry path cut to the crate's own: `…/tokio-1.54.1/src/sync/…`.
#[allow(dead_code)]
fn shorten(frame: &str) -> String {
    match frame.find("/registry/src/") {
        Some(at) => {
            let rest = &frame[at + "/registry/src/".len()..];
            let rest = rest.split_once('/').map_or(rest, |(_, r)| r);
            format!(
                "{}…/{rest}",
                &frame[..frame[..at].rfind(" at ").map_or(at, |i| i + 4)]
            )
        }
        None => frame.to_string(),
    }
}
