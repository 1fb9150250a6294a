//! The key/value service of the kvraft and shardkv labs: Get, Put and Append on string keys.
//!
//! Matches the course's porcupine model: each key is independent (so the history is partitioned
//! per key, in sorted key order) and starts as the empty string; Get returns the current value
//! ("" if the key was never written), Put replaces it, Append concatenates to it.
//!
//! When every written value is unique, a key is decided from what the values say, without
//! search (`kv_order/`); otherwise, by the search.
//!
//! The state is a [`KvState`] rather than a plain `String` purely for speed and memory (see
//! `kv_state.rs`).

use crate::history::Operation;
use crate::model::{Decision, Model, Partition};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use super::kv_state::KvState;

/// A clerk call. The output of every call is a `String`: the value read for `Get`, ignored
/// (conventionally empty) for `Put` and `Append`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvInput {
    /// Read the value of `key` ("" if never written).
    Get {
        /// The key read.
        key: String,
    },
    /// Set `key` to `value`.
    Put {
        /// The key written.
        key: String,
        /// Its new value.
        value: String,
    },
    /// Append `value` to the value of `key`.
    Append {
        /// The key written.
        key: String,
        /// What is appended.
        value: String,
    },
}

impl KvInput {
    /// `Get(key)`.
    pub fn get(key: impl Into<String>) -> Self {
        KvInput::Get { key: key.into() }
    }

    /// `Put(key, value)`.
    pub fn put(key: impl Into<String>, value: impl Into<String>) -> Self {
        KvInput::Put {
            key: key.into(),
            value: value.into(),
        }
    }

    /// `Append(key, value)`.
    pub fn append(key: impl Into<String>, value: impl Into<String>) -> Self {
        KvInput::Append {
            key: key.into(),
            value: value.into(),
        }
    }

    /// The key the call is about.
    pub fn key(&self) -> &str {
        match self {
            KvInput::Get { key } | KvInput::Put { key, .. } | KvInput::Append { key, .. } => key,
        }
    }
}

/// The sequential specification of one key/value store (state: the value of one key).
#[derive(Clone, Copy, Debug, Default)]
pub struct KvModel;

impl Model for KvModel {
    type Input = KvInput;
    type Output = String;
    type State = KvState;

    fn init(&self) -> KvState {
        KvState::new("")
    }

    fn step(&self, state: &KvState, input: &KvInput, output: Option<&String>) -> Option<KvState> {
        match input {
            KvInput::Get { .. } => match output {
                Some(read) if !state.equals_str(read) => None,
                _ => Some(state.clone()),
            },
            KvInput::Put { value, .. } => Some(KvState::new(value)),
            KvInput::Append { value, .. } => Some(state.appended(value)),
        }
    }

    fn partition(&self, history: &[Operation<KvInput, String>]) -> Vec<Partition> {
        let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, op) in history.iter().enumerate() {
            by_key.entry(op.input.key()).or_default().push(i);
        }
        by_key
            .into_iter()
            .map(|(key, ops)| Partition {
                label: format!("key {key:?}"),
                ops,
            })
            .collect()
    }

    /// Decides a key from what its values say when every write's value is unique (see
    /// `kv_order`), leaving other keys to the search.
    fn decide(&self, ops: &[&Operation<KvInput, String>]) -> Option<Decision> {
        super::kv_order::decide(ops)
    }

    fn describe_operation(&self, input: &KvInput, output: Option<&String>) -> String {
        match (input, output) {
            (KvInput::Get { key }, Some(value)) => format!("get({key:?}) -> {value:?}"),
            (KvInput::Get { key }, None) => format!("get({key:?}) -> ?"),
            (KvInput::Put { key, value }, _) => format!("put({key:?}, {value:?})"),
            (KvInput::Append { key, value }, _) => format!("append({key:?}, {value:?})"),
        }
    }

    fn describe_state(&self, state: &KvState) -> String {
        format!("{state:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_follows_the_specification() {
        let m = KvModel;
        let s = m.init();
        assert!(s.is_empty());
        let s = m.step(&s, &KvInput::append("k", "a"), None).unwrap();
        let s = m
            .step(&s, &KvInput::append("k", "b"), Some(&String::new()))
            .unwrap();
        assert_eq!(s, KvState::new("ab"));
        assert!(m.step(&s, &KvInput::get("k"), Some(&"a".into())).is_none());
        assert_eq!(
            m.step(&s, &KvInput::get("k"), Some(&"ab".into())).unwrap(),
            s
        );
        assert_eq!(m.step(&s, &KvInput::get("k"), None).unwrap(), s);
        let z = m.step(&s, &KvInput::put("k", "z"), None).unwrap();
        assert!(z.equals_str("z"));
        assert_eq!(m.describe_state(&z), "\"z\"");
    }

    #[test]
    fn partitions_by_sorted_key() {
        let history = vec![
            Operation::no_reply(0, KvInput::get("b"), 0),
            Operation::no_reply(1, KvInput::put("a", "1"), 1),
            Operation::no_reply(2, KvInput::append("b", "2"), 2),
        ];
        let parts = KvModel.partition(&history);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].label, "key \"a\"");
        assert_eq!(parts[0].ops, vec![1]);
        assert_eq!(parts[1].ops, vec![0, 2]);
    }
}
