//! The SVG timeline of one partition: one row per client, one box per operation from its call
//! to its return, columns in event-time order (see the parent module).

use super::{escape, Marks};
use crate::history::Operation;
use crate::model::{Model, Partition};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Horizontal pixels per column (one distinct event time).
const COLUMN: usize = 26;
/// Vertical pixels per row.
const ROW: usize = 28;
/// Width of the client-label gutter.
const GUTTER: usize = 80;
/// Approximate width of a character of box label, to decide how much of a label fits.
const CHAR: usize = 7;

/// An operation's box on a timeline: (first column, column after the last, operation index).
type Bar = (usize, usize, usize);

/// The SVG timeline of one partition.
pub(crate) fn timeline<M: Model>(
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
            let (class, label, order, extra) = match marks.linearized.get(&index) {
                Some((order, state)) => (
                    "op lin",
                    format!("#{order} {description}"),
                    Some(format!("#{order}")),
                    format!("\nlinearized #{order}; state after: {state}"),
                ),
                None if marks.unplaced.contains(&index) => (
                    "op stuck",
                    description.clone(),
                    None,
                    "\ncould not be linearized next".to_string(),
                ),
                None => ("op", description.clone(), None, String::new()),
            };
            let mut class = class.to_string();
            let mut extra = extra;
            // Operations named by the reason are red whatever else they are.
            if marks.conflicting.contains(&index) {
                if !class.contains("stuck") {
                    class.push_str(" stuck");
                }
                extra.push_str("\nnamed in the conflict (see Why)");
            }
            if op.reply.is_none() {
                class.push_str(" open");
            }
            let x = GUTTER + start * COLUMN;
            let w = (end - start) * COLUMN - 4;
            let returned = op
                .return_time()
                .map_or("never (outcome unknown)".to_string(), |t| t.to_string());
            let tooltip = format!(
                "client {}: {description}\ncalled at {}, returned at {returned}{extra}",
                op.client, op.call
            );
            let shown = fit(&label, order.as_deref(), w.saturating_sub(6) / CHAR);
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

/// What to write in a box with room for `room` characters: `label` if it fits, else as much of
/// it as fits with an ellipsis. A linearized operation's order number ("#n") is always shown in
/// full, even if it spills over the box: it matters more than the rest of the label.
fn fit(label: &str, order: Option<&str>, room: usize) -> String {
    let length = label.chars().count();
    let order_length = order.map_or(0, |o| o.chars().count());
    match order {
        _ if length <= room => label.to_string(),
        Some(order) if room < order_length + 4 => order.to_string(),
        _ => {
            let kept = room.saturating_sub(1).max(1);
            label.chars().take(kept).chain(['…']).collect()
        }
    }
}
