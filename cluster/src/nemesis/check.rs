//! Judging a run: is the history linearizable, and is every acknowledged write there, once?
//!
//! `lincheck` decides linearizability (a definite verdict within its step budget). The
//! second check says the commonest failures in plain words: after the run, one final Get per
//! key (by a fresh client, once the nemesis has healed everything) must contain every Append
//! that was acknowledged, and no Append twice (a retried write applied twice is a broken
//! duplicate table; a missing one, a lost write).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use lincheck::{check, write_html, KvInput, KvModel, Operation, DEFAULT_BUDGET};

/// The verdict on a run's history.
pub struct Verdict {
    pub problems: Vec<String>,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// How many lost (and how many duplicated) writes a verdict names one by one.
const WRITES_NAMED: usize = 10;

/// Checks `history`, whose final Gets of each append key are in `finals`; writes the
/// checker's page to `html` if the history is not linearizable.
pub fn judge(
    history: &[Operation<KvInput, String>],
    finals: &BTreeMap<String, String>,
    html: &Path,
) -> Verdict {
    let mut problems = Vec::new();
    let outcome = check(&KvModel, history, DEFAULT_BUDGET);
    if !outcome.is_linearizable() {
        let page = match write_html(&KvModel, history, &outcome, html) {
            Ok(()) => format!(" (the checker's page: {})", html.display()),
            Err(e) => format!(" (could not write {}: {e})", html.display()),
        };
        problems.push(format!("{outcome}{page}"));
    }
    // Two leaders of one term can lose thousands of writes: the first few say what happened.
    let (mut lost, mut duplicated) = (0, 0);
    for (key, value) in finals {
        for op in history {
            let KvInput::Append { key: k, value: v } = &op.input else {
                continue;
            };
            if k != key {
                continue;
            }
            let times = value.matches(v.as_str()).count();
            if op.output().is_some() && times == 0 {
                lost += 1;
                if lost <= WRITES_NAMED {
                    problems.push(format!(
                        "lost write: append({key:?}, {v:?}) was acknowledged but the final value of {key:?} lacks it"
                    ));
                }
            }
            if times > 1 {
                duplicated += 1;
                if duplicated <= WRITES_NAMED {
                    problems.push(format!(
                        "duplicated write: append({key:?}, {v:?}) appears {times} times in the final value of {key:?}"
                    ));
                }
            }
        }
    }
    for (count, what) in [(lost, "lost"), (duplicated, "duplicated")] {
        if count > WRITES_NAMED {
            problems.push(format!(
                "{} more {what} writes ({count} in all)",
                count - WRITES_NAMED
            ));
        }
    }
    Verdict { problems }
}

/// The history in the course's text format (one event per line, in time order), which
/// `lincheck --model kv FILE` reads back.
pub fn history_text(history: &[Operation<KvInput, String>]) -> String {
    // (time, is-return, line): calls before returns at one instant, as the checker orders them.
    let mut events: Vec<(u64, bool, String)> = Vec::new();
    for op in history {
        let (f, key, arg) = match &op.input {
            KvInput::Get { key } => ("get", key, None),
            KvInput::Put { key, value } => ("put", key, Some(value)),
            KvInput::Append { key, value } => ("append", key, Some(value)),
        };
        let value = |v: Option<&String>| match v {
            Some(v) => format!("{v:?}"),
            None => "nil".into(),
        };
        events.push((
            op.call,
            false,
            format!(
                "{{:process {}, :type :invoke, :f :{f}, :key {key:?}, :value {}}}",
                op.client,
                value(arg)
            ),
        ));
        if let (Some(ret), Some(output)) = (op.return_time(), op.output()) {
            let shown = if f == "get" { Some(output) } else { arg };
            events.push((
                ret,
                true,
                format!(
                    "{{:process {}, :type :ok, :f :{f}, :key {key:?}, :value {}}}",
                    op.client,
                    value(shown)
                ),
            ));
        }
    }
    events.sort_by_key(|&(time, is_return, _)| (time, is_return));
    let mut text = String::new();
    for (_, _, line) in events {
        let _ = writeln!(text, "{line}");
    }
    text
}
