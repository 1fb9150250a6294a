//! The log viewer: `cargo run --release -- logs FILE` lays a run's trace out as a space-time
//! diagram, one column per peer, coloured by topic, so an interleaving of five servers reads
//! across the page instead of down it.
//!
//! Events with no peer (the tester, the network, the harness) get a column of their own on the
//! right. Long lines wrap inside their column. Colour only when writing to a terminal.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use clap::Args;
use console::Style;

use crate::trace_file::{self, TraceEvent};

#[derive(Args)]
pub struct LogsArgs {
    /// A trace written with LAB_TRACE=FILE (the grader keeps one beside each failing run).
    file: PathBuf,
    /// Show only these topics (comma-separated, e.g. vote,leader).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Hide these topics (comma-separated, e.g. send,deliver).
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// Start at this simulated second.
    #[arg(long)]
    from: Option<f64>,
    /// Stop at this simulated second.
    #[arg(long)]
    to: Option<f64>,
    /// Show only these peers (comma-separated numbers).
    #[arg(long, value_delimiter = ',')]
    peers: Vec<i64>,
    /// Total width in characters (default: the terminal's, or 160 in a pipe).
    #[arg(long)]
    width: Option<usize>,
}

/// Width of the time column: `1234.567890 `.
const TIME_WIDTH: usize = 12;

pub fn run(args: &LogsArgs) -> Result<(), String> {
    let trace = trace_file::read(&args.file)?;
    for warning in &trace.warnings {
        eprintln!("logs: {}: {warning} (skipped)", args.file.display());
    }
    // Lab 4: the replica group of each node, named by `group` events (`g100 1000`).
    let groups: BTreeMap<i64, String> = trace
        .events
        .iter()
        .filter(|e| e.topic == "group")
        .filter_map(|e| Some((e.node?, e.field("group")?)))
        .collect();
    let events: Vec<&TraceEvent> = trace.events.iter().filter(|e| selected(args, e)).collect();
    let peers: BTreeSet<i64> = events.iter().filter_map(|e| e.node).collect();
    let has_other = events.iter().any(|e| e.node.is_none());
    let mut columns: Vec<Option<i64>> = peers.iter().copied().map(Some).collect();
    if has_other {
        columns.push(None);
    }
    if columns.is_empty() {
        eprintln!("logs: no event matches the filters");
        return Ok(());
    }
    let term = console::Term::stdout();
    let colour = term.is_term();
    let width = args
        .width
        .or_else(|| term.size_checked().map(|(_, cols)| cols as usize))
        .unwrap_or(160);
    let column_width = (width.saturating_sub(TIME_WIDTH) / columns.len()).max(12);

    let mut out = BufWriter::new(io::stdout().lock());
    let result = (|| -> io::Result<()> {
        let mut header = format!("{:>w$}", "time ", w = TIME_WIDTH);
        for column in &columns {
            let name = match column.map(|p| (p, groups.get(&p))) {
                None => "tester/net".to_string(),
                Some((p, Some(g))) if g.parse::<u64>().is_ok() => format!("g{g} {p}"),
                Some((p, Some(g))) => format!("{g} {p}"),
                Some((p, None)) => format!("peer {p}"),
            };
            header.push_str(&pad(&name, column_width));
        }
        writeln!(out, "{}", header.trim_end())?;
        writeln!(
            out,
            "{}",
            "-".repeat(TIME_WIDTH + column_width * columns.len())
        )?;
        for event in events {
            let index = columns
                .iter()
                .position(|c| *c == event.node)
                .expect("every event has a column");
            let text = describe(event);
            let style = topic_style(&event.topic);
            for (i, chunk) in wrap(&text, column_width - 1).iter().enumerate() {
                let time = if i == 0 {
                    format!("{:>11.6} ", event.t)
                } else {
                    " ".repeat(TIME_WIDTH)
                };
                let indent = " ".repeat(column_width * index);
                let chunk = if colour {
                    style.apply_to(chunk).to_string()
                } else {
                    chunk.clone()
                };
                writeln!(out, "{time}{indent}{chunk}")?;
            }
        }
        out.flush()
    })();
    match result {
        // A closed pipe (`| head`) is the reader's choice, not an error.
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(format!("cannot write: {e}")),
        _ => Ok(()),
    }
}

fn selected(args: &LogsArgs, event: &TraceEvent) -> bool {
    (args.only.is_empty() || args.only.contains(&event.topic))
        && !args.ignore.contains(&event.topic)
        && args.from.is_none_or(|from| event.t >= from)
        && args.to.is_none_or(|to| event.t <= to)
        && (args.peers.is_empty() || event.node.is_some_and(|n| args.peers.contains(&n)))
}

/// `TOPIC message k=v …`
fn describe(event: &TraceEvent) -> String {
    let mut text = event.topic.to_uppercase();
    if matches!(event.level.as_str(), "ERROR" | "WARN") {
        text = format!("{} {text}", event.level);
    }
    if !event.msg.is_empty() {
        text.push(' ');
        text.push_str(&event.msg);
    }
    let fields = event.fields_text();
    if !fields.is_empty() {
        text.push_str(" [");
        text.push_str(&fields);
        text.push(']');
    }
    text
}

/// Splits text into pieces of at most `width` characters, at spaces where possible.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        loop {
            let needed =
                current.chars().count() + usize::from(!current.is_empty()) + word.chars().count();
            if needed <= width {
                if !current.is_empty() {
                    current.push(' ');
                }
                current.push_str(&word);
                break;
            }
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
                continue;
            }
            // A single word longer than the column: cut it.
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
            if word.is_empty() {
                break;
            }
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

fn pad(text: &str, width: usize) -> String {
    let text: String = text.chars().take(width.saturating_sub(1)).collect();
    format!("{text:width$}")
}

/// A colour per topic, so a kind of event is recognisable at a glance.
pub fn topic_style(topic: &str) -> Style {
    let style = Style::new();
    match topic {
        "timer" => style.dim(),
        "vote" => style.yellow(),
        "leader" => style.green().bold(),
        "append" => style.cyan(),
        "commit" => style.blue().bold(),
        "apply" => style.blue(),
        "persist" => style.magenta().dim(),
        "snapshot" => style.magenta(),
        "send" | "deliver" => style.dim(),
        "drop-request" | "drop-reply" | "unreachable" | "server-gone" => style.red().dim(),
        "crash" | "restart" | "disconnect" | "connect" => style.red().bold(),
        "client" | "request" | "reply" => style.white().bold(),
        "config" | "group" => style.green(),
        "shard" | "poll" => style.yellow().dim(),
        "failure" => style.red().bold().reverse(),
        _ => style,
    }
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("a bb ccc", 4), vec!["a bb", "ccc"]);
        assert_eq!(wrap("abcdefgh", 3), vec!["abc", "def", "gh"]);
        assert_eq!(wrap("", 5), vec![""]);
    }
}
