//! A self-contained HTML page that shows a history and, for a failed check, why it failed.
//!
//! Each partition (e.g. each key) is drawn as a timeline: one row per client, each operation a
//! box from its call to its return, labelled with its description (hover for details; a box
//! running off the right edge never returned). For the failing partition, the operations of the
//! longest linearization prefix are green and numbered in linearization order, the table below
//! lists them with the state after each, and the operations that could not come next are red.
//! When the model proved the failure from the values ([`crate::Model::decide`]), its reason
//! comes first, and the operations it names are red too.
//!
//! The page needs no network access: CSS, SVG and the small hover script are all inline. Time is
//! drawn by *event order* (every distinct call or return time gets one column), which keeps
//! short operations readable next to long ones; tooltips give the real times.

mod assets;
mod timeline;

use crate::history::Operation;
use crate::model::Model;
use crate::outcome::Outcome;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use assets::{HEAD, LEGEND, TAIL};
use timeline::timeline;

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
pub(crate) struct Marks {
    /// Operation index -> (1-based position in the linearization, state after it).
    pub linearized: BTreeMap<usize, (usize, String)>,
    /// Operations that could not come next.
    pub unplaced: Vec<usize>,
    /// Operations the failure's reason names.
    pub conflicting: Vec<usize>,
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
            conflicting: failure.conflicting.iter().map(|op| op.index).collect(),
        }
    }
}
/// The tables under the failing partition's timeline.
fn explanation(failure: &crate::Failure) -> String {
    let mut html = String::new();
    if let Some(reason) = &failure.reason {
        let _ = writeln!(
            html,
            "<h3>Why</h3>\n<p class=\"reason\">{}</p>\n\
             <table><tr><th>client</th><th>operation named</th><th>history index</th></tr>",
            escape(reason)
        );
        for op in &failure.conflicting {
            let _ = writeln!(
                html,
                "<tr class=\"stuck\" data-op=\"{}\"><td>{}</td><td>{}</td><td>{}</td></tr>",
                op.index,
                op.client,
                escape(&op.description),
                op.index
            );
        }
        html.push_str("</table>\n");
        if failure.linearized.is_empty() && failure.unplaced.is_empty() {
            return html;
        }
    }
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
pub(crate) fn escape(text: &str) -> String {
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
