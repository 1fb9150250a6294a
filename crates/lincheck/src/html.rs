//! A self-contained HTML page that shows a history and, for a failed check, why it failed.
//!
//! Each partition (e.g. each key) is drawn as a timeline: one row per client, each operation a
//! box from its call to its return, labelled with its description (hover for details; a box
//! running off the right edge never returned). For the failing partition, the operations of the
//! longest linearization prefix are green and numbered in linearization order, the table below
//! lists them with the state after each, and the operations that could not come next are red.
//!
//! The page needs no network access: CSS, SVG and the small hover script are all inline. Time is
//! drawn by *event order* (every distinct call or return time gets one column), which keeps
//! short operations readable next to long ones; tooltips give the real times.

use crate::history::Operation;
use crate::model::{Model, Partition};
use crate::outcome::Outcome;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// Horizontal pixels per column (one distinct event time).
const COLUMN: usize = 26;
/// Vertical pixels per row.
const ROW: usize = 28;
/// Width of the client-label gutter.
const GUTTER: usize = 80;
/// Approximate width of a character of box label, to decide how much of a label fits.
const CHAR: usize = 7;

/// Renders the page for `history` checked against `model` with result `outcome`.
pub fn render_html<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    outcome: &Outcome,
) -> String {
    let mut partitions = model.partition(history);
    for partition in &mut partitions {
        partition.ops.retain(|&i| i < history.len());
        partition.ops.sort_unstable();
        partition.ops.dedup();
    }
    let failure = outcome.failure();
    // The failing partition first, then the others in the model's order.
    let failing = failure.and_then(|f| {
        partitions
            .iter()
            .position(|p| p.ops == f.partition_ops)
            .or_else(|| partitions.iter().position(|p| p.label == f.partition))
    });
    if let Some(index) = failing {
        let failing = partitions.remove(index);
        partitions.insert(0, failing);
    }

    let mut page = String::new();
    page.push_str(HEAD);
    let _ = writeln!(
        page,
        "<h1>Linearizability check</h1>\n<p class=\"summary {}\">{}</p>",
        if outcome.is_linearizable() {
            "pass"
        } else {
            "fail"
        },
        escape(&outcome.to_string())
    );
    page.push_str(LEGEND);

    for (i, partition) in partitions.iter().enumerate() {
        let explained = i == 0 && failing.is_some();
        let marks = if explained {
            failure.map(Marks::from_failure).unwrap_or_default()
        } else {
            Marks::default()
        };
        let status = match outcome {
            Outcome::Linearizable { .. } => "linearizable",
            Outcome::NotLinearizable(_) if explained => "not linearizable",
            Outcome::BudgetExhausted { undecided, .. } if undecided.contains(&partition.label) => {
                "undecided"
            }
            _ => "",
        };
        let _ = writeln!(
            page,
            "<details{}><summary><b>{}</b> &middot; {} operations{}</summary>",
            if explained || partitions.len() == 1 {
                " open"
            } else {
                ""
            },
            escape(&partition.label),
            partition.ops.len(),
            if status.is_empty() {
                String::new()
            } else {
                format!(" &middot; {status}")
            }
        );
        page.push_str(&timeline(model, history, partition, &marks));
        if explained {
            if let Some(failure) = failure {
                page.push_str(&explanation(failure));
            }
        }
        page.push_str("</details>\n");
    }
    page.push_str(TAIL);
    page
}

/// Writes [`render_html`]'s page to `path`.
pub fn write_html<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    outcome: &Outcome,
    path: impl AsRef<Path>,
) -> std::io::Result<()> {
    std::fs::write(path, render_html(model, history, outcome))
}

/// How each operation of the explained partition is drawn.
#[derive(Default)]
struct Marks {
    /// Operation index -> (1-based position in the linearization, state after it).
    linearized: BTreeMap<usize, (usize, String)>,
    /// Operations that could not come next.
    unplaced: Vec<usize>,
}

impl Marks {
    fn from_failure(failure: &crate::Failure) -> Marks {
        Marks {
            linearized: failure
                .linearized
                .iter()
                .enumerate()
                .map(|(i, step)| (step.op.index, (i + 1, step.state_after.clone())))
                .collect(),
            unplaced: failure.unplaced.iter().map(|op| op.index).collect(),
        }
    }
}

/// An operation's box on a timeline: (first column, column after the last, operation index).
type Bar = (usize, usize, usize);

/// The SVG timeline of one partition.
fn timeline<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    partition: &Partition,
    marks: &Marks,
) -> String {
    let ops = partition.ops.iter().map(|&i| (i, &history[i]));

    // Columns: every distinct finite event time, in order.
    let mut times: Vec<u64> = ops
        .clone()
        .flat_map(|(_, op)| std::iter::once(op.call).chain(op.return_time()))
        .collect();
    times.sort_unstable();
    times.dedup();
    let column = |t: u64| times.partition_point(|&x| x < t);
    let open_end = times.len() + 1; // where boxes without a return end

    // Rows: one per client, more if a client's operations overlap (it shouldn't, but draw it).
    let mut by_client: BTreeMap<usize, Vec<Bar>> = BTreeMap::new();
    for (index, op) in ops {
        let start = column(op.call);
        let end = op.return_time().map_or(open_end, column).max(start + 1);
        by_client
            .entry(op.client)
            .or_default()
            .push((start, end, index));
    }
    let mut rows: Vec<(usize, Vec<Bar>)> = Vec::new();
    for (client, mut boxes) in by_client {
        boxes.sort_unstable();
        let first_row = rows.len();
        for b in boxes {
            let free = rows[first_row..]
                .iter()
                .position(|(_, row)| row.last().is_none_or(|last| last.1 <= b.0));
            match free {
                Some(r) => rows[first_row + r].1.push(b),
                None => rows.push((client, vec![b])),
            }
        }
    }

    let width = GUTTER + (open_end + 1) * COLUMN;
    let height = rows.len() * ROW + 30;
    let mut svg = String::new();
    // Inline SVG in HTML needs no xmlns (and the page must not mention any URL).
    let _ = writeln!(
        svg,
        "<div class=\"scroll\"><svg width=\"{width}\" height=\"{height}\">"
    );
    // Time axis with the real time at a few columns.
    let axis_y = rows.len() * ROW + 8;
    let _ = writeln!(
        svg,
        "<line class=\"axis\" x1=\"{GUTTER}\" y1=\"{axis_y}\" x2=\"{width}\" y2=\"{axis_y}\"/>"
    );
    let every = (times.len() / 12).max(1);
    for (c, t) in times.iter().enumerate().step_by(every) {
        let x = GUTTER + c * COLUMN;
        let _ = writeln!(
            svg,
            "<text class=\"tick\" x=\"{x}\" y=\"{}\">t={t}</text>",
            axis_y + 16
        );
    }

    for (r, (client, boxes)) in rows.iter().enumerate() {
        let y = r * ROW;
        if r == 0 || rows[r - 1].0 != *client {
            let _ = writeln!(
                svg,
                "<text class=\"client\" x=\"4\" y=\"{}\">client {client}</text>",
                y + 18
            );
        }
        for &(start, end, index) in boxes {
            let op = &history[index];
            let description = model.describe_operation(&op.input, op.output());
            let (class, label, short, extra) = match marks.linearized.get(&index) {
                Some((order, state)) => (
                    "op lin",
                    format!("#{order} {description}"),
                    format!("#{order}"),
                    format!("\nlinearized #{order}; state after: {state}"),
                ),
                None if marks.unplaced.contains(&index) => (
                    "op stuck",
                    description.clone(),
                    description.clone(),
                    "\ncould not be linearized next".to_string(),
                ),
                None => (
                    "op",
                    description.clone(),
                    description.clone(),
                    String::new(),
                ),
            };
            let class = if op.reply.is_none() {
                format!("{class} open")
            } else {
                class.to_string()
            };
            let x = GUTTER + start * COLUMN;
            let w = (end - start) * COLUMN - 4;
            let returned = op
                .return_time()
                .map_or("never (outcome unknown)".to_string(), |t| t.to_string());
            let tooltip = format!(
                "client {}: {description}\ncalled at {}, returned at {returned}{extra}",
                op.client, op.call
            );
            let shown = fit(&label, &short, w.saturating_sub(6) / CHAR);
            let _ = writeln!(
                svg,
                "<g class=\"{class}\" data-op=\"{index}\"><title>{}</title>\
                 <rect x=\"{x}\" y=\"{}\" width=\"{w}\" height=\"{}\" rx=\"3\"/>\
                 <text x=\"{}\" y=\"{}\">{}</text></g>",
                escape(&tooltip),
                y + 3,
                ROW - 6,
                x + 4,
                y + 18,
                escape(&shown)
            );
        }
    }
    svg.push_str("</svg></div>\n");
    svg
}

/// `label` if it fits in `room` characters; else as much of it as fits, with an ellipsis, if
/// that shows more than `short` (a linearized operation's order number, "#n"); else `short`,
/// itself cut if need be.
fn fit(label: &str, short: &str, room: usize) -> String {
    let cut = |text: &str| -> String {
        let kept = room.saturating_sub(1).max(1);
        text.chars().take(kept).chain(['…']).collect()
    };
    let short_len = short.chars().count();
    if label.chars().count() <= room {
        label.to_string()
    } else if room >= short_len + 4 {
        cut(label)
    } else if short_len <= room {
        short.to_string()
    } else {
        cut(short)
    }
}

/// The tables under the failing partition's timeline.
fn explanation(failure: &crate::Failure) -> String {
    let mut html = String::new();
    let _ = writeln!(
        html,
        "<h3>Longest linearization found: {} of {} operations</h3>\n\
         <table><tr><th>#</th><th>client</th><th>operation</th><th>state after</th></tr>",
        failure.linearized.len(),
        failure.partition_ops.len()
    );
    for (i, step) in failure.linearized.iter().enumerate() {
        let _ = writeln!(
            html,
            "<tr data-op=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            step.op.index,
            i + 1,
            step.op.client,
            escape(&step.op.description),
            escape(&step.state_after)
        );
    }
    html.push_str("</table>\n");
    let _ = writeln!(
        html,
        "<h3>Could not be linearized next (state {})</h3>\n\
         <table><tr><th>client</th><th>operation</th></tr>",
        escape(&failure.final_state)
    );
    for op in &failure.unplaced {
        let _ = writeln!(
            html,
            "<tr class=\"stuck\" data-op=\"{}\"><td>{}</td><td>{}</td></tr>",
            op.index,
            op.client,
            escape(&op.description)
        );
    }
    html.push_str(
        "</table>\n<p class=\"note\">Every other operation of this partition must come after \
         one of these, so none can be linearized either.</p>\n",
    );
    html
}

/// Escapes text for HTML content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const HEAD: &str = r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>lincheck</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
.summary { font-family: monospace; padding: .6em; border-radius: 4px; }
.summary.fail { background: #fdecea; } .summary.pass { background: #e8f5e9; }
details { margin: 1em 0; } summary { cursor: pointer; font-size: 15px; }
.scroll { overflow-x: auto; border: 1px solid #ddd; padding: 6px 0; }
svg text { font: 11px monospace; }
.client { fill: #555; } .tick { fill: #888; font-size: 10px; } .axis { stroke: #bbb; }
.op rect { fill: #e3e8f0; stroke: #8a94a6; }
.op.lin rect { fill: #c8e6c9; stroke: #2e7d32; }
.op.lin text { font-weight: bold; }
.op.stuck rect { fill: #ffcdd2; stroke: #c62828; stroke-width: 2; }
.op.open rect { stroke-dasharray: 4 3; }
.op.hl rect, .op:hover rect { stroke: #ff9800; stroke-width: 3; }
table { border-collapse: collapse; margin: .5em 0; font-family: monospace; }
td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
tr.stuck td { background: #ffebee; } tr.hl td { background: #fff3e0; }
.legend span { display: inline-block; padding: 1px 8px; margin-right: 8px; border: 1px solid; }
.note { color: #666; }
</style></head><body>
"#;

const LEGEND: &str = r#"<p class="legend">
<span style="background:#c8e6c9;border-color:#2e7d32">#n: linearized n-th</span>
<span style="background:#ffcdd2;border-color:#c62828">could not be linearized next</span>
<span style="background:#e3e8f0;border-color:#8a94a6">other</span>
<span style="border-style:dashed">never returned</span>
Hover over an operation for details; columns are event times in order.</p>
"#;

const TAIL: &str = r#"<script>
// Highlight every element (box or table row) that shows the operation under the mouse.
document.querySelectorAll('[data-op]').forEach(function (el) {
  var all = document.querySelectorAll('[data-op="' + el.dataset.op + '"]');
  el.addEventListener('mouseenter', function () { all.forEach(function (e) { e.classList.add('hl'); }); });
  el.addEventListener('mouseleave', function () { all.forEach(function (e) { e.classList.remove('hl'); }); });
});
</script>
</body></html>
"#;
