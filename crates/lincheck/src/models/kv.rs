//! The key/value service of the kvraft and shardkv labs: Get, Put and Append on string keys.
//!
//! Matches the course's porcupine model: each key is independent (so the history is partitioned
//! per key, in sorted key order) and starts as the empty string; Get returns the current value
//! ("" if the key was never written), Put replaces it, Append concatenates to it.
//!
//! The state is a [`KvState`] rather than a plain `String` purely for speed: the search clones,
//! hashes and compares states at every step, and values grow long under many appends.

use crate::history::Operation;
use crate::model::{Model, Partition};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

/// A clerk call. The output of every call is a `String`: the value read for `Get`, ignored
/// (conventionally empty) for `Put` and `Append`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvInput {
    Get { key: String },
    Put { key: String, value: String },
    Append { key: String, value: String },
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

/// The value of one key: a string that is cheap to clone (the text is shared), hash (the hash is
/// kept up to date as the value is built, so appending hashes only the appended bytes) and
/// compare (unequal hashes or lengths settle most comparisons without reading the text).
#[derive(Clone, Debug)]
pub struct KvState {
    value: Rc<str>,
    hash: u64,
}

impl KvState {
    /// A state holding `value`.
    pub fn new(value: &str) -> Self {
        KvState {
            value: Rc::from(value),
            hash: fnv1a(FNV_OFFSET, value),
        }
    }

    /// The value.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// This value with `suffix` appended.
    fn appended(&self, suffix: &str) -> Self {
        let mut value = String::with_capacity(self.value.len() + suffix.len());
        value.push_str(&self.value);
        value.push_str(suffix);
        KvState {
            value: Rc::from(value),
            hash: fnv1a(self.hash, suffix),
        }
    }
}

impl PartialEq for KvState {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash
            && (Rc::ptr_eq(&self.value, &other.value) || self.value == other.value)
    }
}

impl Eq for KvState {}

impl Hash for KvState {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a, a byte-at-a-time hash: the hash of `a + b` is `fnv1a(fnv1a(FNV_OFFSET, a), b)`.
fn fnv1a(mut hash: u64, text: &str) -> u64 {
    for &byte in text.as_bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
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
                Some(read) if read.as_str() != state.as_str() => None,
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

    fn describe_operation(&self, input: &KvInput, output: Option<&String>) -> String {
        match (input, output) {
            (KvInput::Get { key }, Some(value)) => format!("get({key:?}) -> {value:?}"),
            (KvInput::Get { key }, None) => format!("get({key:?}) -> ?"),
            (KvInput::Put { key, value }, _) => format!("put({key:?}, {value:?})"),
            (KvInput::Append { key, value }, _) => format!("append({key:?}, {value:?})"),
        }
    }

    fn describe_state(&self, state: &KvState) -> String {
        format!("{:?}", state.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_follows_the_specification() {
        let m = KvModel;
        let s = m.init();
        assert_eq!(s.as_str(), "");
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
        assert_eq!(z.as_str(), "z");
        assert_eq!(m.describe_state(&z), "\"z\"");
    }

    #[test]
    fn states_built_differently_compare_and_hash_alike() {
        let built = KvState::new("ab").appended("cd");
        let direct = KvState::new("abcd");
        assert_eq!(built, direct);
        assert_eq!(
            crate::hash::hash_one(&built),
            crate::hash::hash_one(&direct)
        );
        assert_ne!(built, KvState::new("abce"));
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
