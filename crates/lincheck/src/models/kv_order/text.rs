//! Wording for conflicts: operations named by what they did, who did it and when, with long
//! values cut to their ends (the part that differs between successive Gets).

use crate::history::Operation;
use crate::models::kv::KvInput;

/// Values longer than this many characters are shown by their last characters only.
const VALUE_LIMIT: usize = 48;

/// A value, quoted, cut to its last [`VALUE_LIMIT`] characters with a leading "…".
pub(super) fn value(text: &str) -> String {
    let length = text.chars().count();
    if length <= VALUE_LIMIT {
        return format!("{text:?}");
    }
    let tail: String = text.chars().skip(length - VALUE_LIMIT).collect();
    format!("\"…{}\"", tail.escape_debug())
}

/// A value, quoted, cut to its first [`VALUE_LIMIT`] characters with a trailing "…".
pub(super) fn head(text: &str) -> String {
    if text.chars().count() <= VALUE_LIMIT {
        return format!("{text:?}");
    }
    let head: String = text.chars().take(VALUE_LIMIT).collect();
    format!("\"{}…\"", head.escape_debug())
}

/// An operation: what it did and who did it, e.g. `get("k") -> "…x 3 7 y" (client 2)`.
pub(super) fn op(op: &Operation<KvInput, String>) -> String {
    let what = match (&op.input, op.output()) {
        (KvInput::Get { key }, Some(read)) => format!("get({key:?}) -> {}", value(read)),
        (KvInput::Get { key }, None) => format!("get({key:?}) -> ?"),
        (KvInput::Put { key, value: v }, _) => format!("put({key:?}, {})", value(v)),
        (KvInput::Append { key, value: v }, _) => format!("append({key:?}, {})", value(v)),
    };
    format!("[client {}: {what}]", op.client)
}

/// `op(...)` followed by its interval, e.g. `... called at t=5, returned at t=9`.
pub(super) fn op_with_times(o: &Operation<KvInput, String>) -> String {
    match o.return_time() {
        Some(ret) => format!("{} (t={}..{})", op(o), o.call, ret),
        None => format!("{} (called at t={}, no reply)", op(o), o.call),
    }
}

/// The value of a write, quoted and cut short.
pub(super) fn written(o: &Operation<KvInput, String>) -> String {
    match &o.input {
        KvInput::Put { value: v, .. } | KvInput::Append { value: v, .. } => value(v),
        KvInput::Get { .. } => String::new(),
    }
}
