//! The timeline page: one self-contained HTML file per failing run.
//!
//! From a run's trace it draws one lane per peer over simulated time: its role and term
//! (follower, candidate, leader), when it was crashed, when its links were cut; the client
//! operations as intervals (key/value tests); where the failing check fired; and, when peers
//! applied different commands at the same index, where their logs diverged. Clicking the
//! picture shows the trace lines of that moment. Everything (data, style, script) is inline,
//! so the file opens anywhere without a network.
//!
//! What it reads (see the harness's `trace` module): events with `role` and `term` fields
//! (a peer's role from then on); topics `crash`, `restart`, `disconnect`, `connect` (with
//! `node`); `fault` (an event-triggered fault of labrpc's striking the server traced as
//! `node`: a crash right after a reply, a request held back or delivered twice, marked on
//! that lane with its description); `client` events with `client`, `id`, `phase` = call or return, and `op`; `apply`
//! events with `index` and `command`; and `failure`. For Lab 4: `group` events name the
//! replica group a node belongs to (its lane is labelled with it, lanes sort by group, and
//! logs are compared within a group only), and `config` events with `config` mark the
//! configuration number a server moved to.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::trace_file::TraceEvent;

/// The page's template; `/*DATA*/` is replaced by the timeline as JSON.
const TEMPLATE: &str = include_str!("timeline.html");

#[derive(Serialize, Default)]
struct Timeline {
    title: String,
    end: f64,
    lanes: Vec<Lane>,
    clients: Vec<ClientLane>,
    failure: Option<Mark>,
    divergence: Option<Divergence>,
    /// Every trace line: [line number, t, node or -1, topic, text].
    lines: Vec<(usize, f64, i64, String, String)>,
}

#[derive(Serialize, Default)]
struct Lane {
    node: i64,
    /// The replica group, for Lab 4's servers ("" elsewhere).
    group: String,
    /// (t, configuration number, line) each time the server moved to a configuration.
    configs: Vec<(f64, String, usize)>,
    roles: Vec<RoleSpan>,
    down: Vec<Span>,
    cut: Vec<Span>,
    /// Faults that struck this server, with what they did.
    faults: Vec<Mark>,
}

#[derive(Serialize)]
struct RoleSpan {
    from: f64,
    to: f64,
    role: String,
    term: String,
    line: usize,
}

#[derive(Serialize)]
struct Span {
    from: f64,
    to: f64,
    line: usize,
}

#[derive(Serialize)]
struct ClientLane {
    client: String,
    ops: Vec<ClientOp>,
}

#[derive(Serialize)]
struct ClientOp {
    from: f64,
    /// None: the operation never returned.
    to: Option<f64>,
    text: String,
    line: usize,
}

#[derive(Serialize)]
struct Mark {
    t: f64,
    text: String,
    line: usize,
}

#[derive(Serialize)]
struct Divergence {
    index: String,
    t: f64,
    /// (node, command, line) for each peer that applied that index.
    applied: Vec<(i64, String, usize)>,
}

/// What each peer applied, by (group, index): (node, command, line, t).
type Applied = BTreeMap<(String, String), Vec<(i64, String, usize, f64)>>;

/// Builds the page for a trace.
pub fn render(title: &str, events: &[TraceEvent]) -> String {
    let timeline = build(title, events);
    let json = serde_json::to_string(&timeline).expect("timeline serializes");
    // Inside <script>, "</" could close the element early.
    TEMPLATE.replace("/*DATA*/", &json.replace("</", "<\\/"))
}

/// Writes the page for a trace to `path`.
pub fn write(path: &Path, title: &str, events: &[TraceEvent]) -> Result<(), String> {
    std::fs::write(path, render(title, events))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn build(title: &str, events: &[TraceEvent]) -> Timeline {
    let end = events.iter().map(|e| e.t).fold(0.0, f64::max);
    let mut lanes: BTreeMap<i64, Lane> = BTreeMap::new();
    let mut open_down: BTreeMap<i64, (f64, usize)> = BTreeMap::new();
    let mut open_cut: BTreeMap<i64, (f64, usize)> = BTreeMap::new();
    let mut clients: BTreeMap<String, ClientLane> = BTreeMap::new();
    let mut open_ops: BTreeMap<(String, String), (f64, String, usize)> = BTreeMap::new();
    // By (group, index): different groups' logs have nothing to agree on.
    let mut applied: Applied = BTreeMap::new();
    let groups: BTreeMap<i64, String> = events
        .iter()
        .filter(|e| e.topic == "group")
        .filter_map(|e| Some((e.node?, e.field("group")?)))
        .collect();
    let mut timeline = Timeline {
        title: title.to_string(),
        end,
        ..Timeline::default()
    };

    for event in events {
        timeline.lines.push((
            event.line,
            event.t,
            event.node.unwrap_or(-1),
            event.topic.clone(),
            format!("{} {}", event.msg, event.fields_text())
                .trim()
                .to_string(),
        ));
        if event.topic == "failure" && timeline.failure.is_none() {
            timeline.failure = Some(Mark {
                t: event.t,
                text: event.msg.clone(),
                line: event.line,
            });
        }
        if event.topic == "client" {
            let (Some(client), Some(id)) = (event.field("client"), event.field("id")) else {
                continue;
            };
            let op = event.field("op").unwrap_or_default();
            match event.field("phase").as_deref() {
                Some("call") => {
                    open_ops.insert((client, id), (event.t, op, event.line));
                }
                Some("return") => {
                    if let Some((from, call_op, line)) = open_ops.remove(&(client.clone(), id)) {
                        let text = if op.is_empty() {
                            call_op
                        } else {
                            format!("{call_op} → {op}")
                        };
                        let lane = clients.entry(client.clone()).or_insert_with(|| ClientLane {
                            client,
                            ops: vec![],
                        });
                        lane.ops.push(ClientOp {
                            from,
                            to: Some(event.t),
                            text,
                            line,
                        });
                    }
                }
                _ => {}
            }
            continue;
        }
        let Some(node) = event.node else { continue };
        let lane = lanes.entry(node).or_insert_with(|| Lane {
            node,
            group: groups.get(&node).cloned().unwrap_or_default(),
            ..Lane::default()
        });
        if let Some(role) = event.field("role") {
            let term = event.field("term").unwrap_or_default();
            let same = lane
                .roles
                .last()
                .is_some_and(|r| r.role == role && r.term == term && r.to >= end);
            if !same {
                close_role(lane, event.t);
                lane.roles.push(RoleSpan {
                    from: event.t,
                    to: end,
                    role,
                    term,
                    line: event.line,
                });
            }
        }
        match event.topic.as_str() {
            "crash" => {
                close_role(lane, event.t);
                open_down.insert(node, (event.t, event.line));
            }
            "restart" => {
                if let Some((from, line)) = open_down.remove(&node) {
                    lane.down.push(Span {
                        from,
                        to: event.t,
                        line,
                    });
                }
            }
            "disconnect" => {
                open_cut.entry(node).or_insert((event.t, event.line));
            }
            "connect" => {
                if let Some((from, line)) = open_cut.remove(&node) {
                    lane.cut.push(Span {
                        from,
                        to: event.t,
                        line,
                    });
                }
            }
            "apply" => {
                if let (Some(index), Some(command)) = (event.field("index"), event.field("command"))
                {
                    applied
                        .entry((lane.group.clone(), index))
                        .or_default()
                        .push((node, command, event.line, event.t));
                }
            }
            "fault" => {
                lane.faults.push(Mark {
                    t: event.t,
                    text: event.msg.clone(),
                    line: event.line,
                });
            }
            "config" => {
                if let Some(num) = event.field("config") {
                    lane.configs.push((event.t, num, event.line));
                }
            }
            _ => {}
        }
    }
    for (node, (from, line)) in open_down {
        lanes.entry(node).or_default().down.push(Span {
            from,
            to: end,
            line,
        });
    }
    for (node, (from, line)) in open_cut {
        lanes.entry(node).or_default().cut.push(Span {
            from,
            to: end,
            line,
        });
    }
    for ((client, _), (from, text, line)) in open_ops {
        let lane = clients.entry(client.clone()).or_insert_with(|| ClientLane {
            client,
            ops: vec![],
        });
        lane.ops.push(ClientOp {
            from,
            to: None,
            text,
            line,
        });
    }
    timeline.divergence = first_divergence(applied);
    timeline.lanes = lanes.into_values().collect();
    // Lanes of one group together (nodes already sort within a group).
    timeline.lanes.sort_by(|a, b| {
        let key = |l: &Lane| (l.group.parse::<u64>().ok(), l.group.clone(), l.node);
        key(a).cmp(&key(b))
    });
    timeline.clients = clients.into_values().collect();
    timeline
}

/// Ends a lane's current role span at `t` (a crash, or a new role).
fn close_role(lane: &mut Lane, t: f64) {
    if let Some(last) = lane.roles.last_mut() {
        if last.to > t {
            last.to = t;
        }
    }
}

/// The earliest moment two peers of one group applied different commands at the same index.
fn first_divergence(applied: Applied) -> Option<Divergence> {
    applied
        .into_iter()
        .map(|((_, index), by_node)| (index, by_node))
        .filter(|(_, by_node)| by_node.iter().any(|(_, c, _, _)| *c != by_node[0].1))
        .map(|(index, by_node)| {
            // The moment the disagreement existed: the second distinct command's apply.
            let first = by_node[0].1.clone();
            let t = by_node
                .iter()
                .find(|(_, c, _, _)| *c != first)
                .map_or(0.0, |x| x.3);
            let applied = by_node.into_iter().map(|(n, c, l, _)| (n, c, l)).collect();
            Divergence { index, t, applied }
        })
        .min_by(|a, b| a.t.total_cmp(&b.t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace_file::parse;

    fn sample() -> Vec<TraceEvent> {
        parse(concat!(
            r#"{"t":0.1,"node":0,"topic":"vote","role":"candidate","term":1,"msg":"election"}"#,
            "\n",
            r#"{"t":0.2,"node":0,"topic":"leader","role":"leader","term":1,"msg":"won"}"#,
            "\n",
            r#"{"t":0.2,"node":1,"topic":"vote","role":"follower","term":1,"msg":"voted"}"#,
            "\n",
            r#"{"t":0.5,"node":1,"topic":"apply","index":1,"command":"101"}"#,
            "\n",
            r#"{"t":0.6,"node":0,"topic":"apply","index":1,"command":"101"}"#,
            "\n",
            r#"{"t":1.0,"node":1,"topic":"disconnect"}"#,
            "\n",
            r#"{"t":1.5,"node":0,"topic":"crash"}"#,
            "\n",
            r#"{"t":2.0,"node":1,"topic":"apply","index":2,"command":"102"}"#,
            "\n",
            r#"{"t":2.4,"node":1,"topic":"fault","server":"1","msg":"a fault holds back Raft.install_snapshot"}"#,
            "\n",
            r#"{"t":2.5,"node":0,"topic":"restart"}"#,
            "\n",
            r#"{"t":2.6,"node":0,"topic":"apply","index":2,"command":"999"}"#,
            "\n",
            r#"{"t":2.7,"topic":"client","client":"c1","id":"1","phase":"call","op":"get(k)"}"#,
            "\n",
            r#"{"t":2.9,"topic":"client","client":"c1","id":"1","phase":"return","op":"v"}"#,
            "\n",
            r#"{"t":3.0,"topic":"failure","msg":"commit index=2 server=0 999 != server=1 102"}"#,
            "\n"
        ))
        .events
    }

    #[test]
    fn builds_lanes_roles_outages_and_divergence() {
        let timeline = build("t", &sample());
        assert_eq!(timeline.lanes.len(), 2);
        let lane0 = &timeline.lanes[0];
        assert_eq!(lane0.roles.len(), 2);
        assert_eq!(lane0.roles[1].role, "leader");
        assert_eq!(lane0.roles[1].to, 1.5, "the crash ends the leader's span");
        assert_eq!((lane0.down[0].from, lane0.down[0].to), (1.5, 2.5));
        let lane1 = &timeline.lanes[1];
        assert_eq!(
            (lane1.cut[0].from, lane1.cut[0].to),
            (1.0, 3.0),
            "an open cut lasts to the end"
        );
        assert!(lane0.faults.is_empty());
        assert_eq!(
            lane1.faults.len(),
            1,
            "the fault is marked on the lane it struck"
        );
        assert_eq!(lane1.faults[0].t, 2.4);
        assert!(lane1.faults[0]
            .text
            .contains("holds back Raft.install_snapshot"));
        let divergence = timeline.divergence.expect("the logs diverged at index 2");
        assert_eq!(divergence.index, "2");
        assert_eq!(divergence.t, 2.6);
        assert_eq!(timeline.clients[0].ops[0].text, "get(k) → v");
        assert!(timeline
            .failure
            .unwrap()
            .text
            .contains("999 != server=1 102"));
    }

    #[test]
    fn groups_sort_lanes_separate_logs_and_carry_configurations() {
        let events = parse(concat!(
            r#"{"t":0.0,"node":1010,"topic":"group","group":"101"}"#,
            "\n",
            r#"{"t":0.0,"node":1000,"topic":"group","group":"100"}"#,
            "\n",
            r#"{"t":0.0,"node":0,"topic":"group","group":"ctrler"}"#,
            "\n",
            r#"{"t":0.5,"node":1010,"topic":"apply","index":1,"command":"put(a,1)"}"#,
            "\n",
            r#"{"t":0.6,"node":1000,"topic":"apply","index":1,"command":"put(b,2)"}"#,
            "\n",
            r#"{"t":0.7,"node":1000,"topic":"config","config":3}"#,
            "\n",
            r#"{"t":0.8,"node":0,"topic":"apply","index":1,"command":"join(100)"}"#,
            "\n"
        ))
        .events;
        let timeline = build("t", &events);
        let order: Vec<(i64, &str)> = timeline
            .lanes
            .iter()
            .map(|l| (l.node, l.group.as_str()))
            .collect();
        assert_eq!(order, vec![(0, "ctrler"), (1000, "100"), (1010, "101")]);
        assert!(
            timeline.divergence.is_none(),
            "index 1 of two different groups is not a divergence"
        );
        assert_eq!(timeline.lanes[1].configs[0].1, "3");
    }

    #[test]
    fn page_is_self_contained() {
        let page = render("a </script> title", &sample());
        assert!(!page.contains("/*DATA*/"));
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "the page fetches something"
        );
        assert_eq!(
            page.matches("</script>").count(),
            2,
            "the data closed its script early"
        );
    }
}
