//! A configuration: which replica group serves each shard, and which servers each group has.
//!
//! The shard controller keeps a numbered sequence of them; configuration 0 has no groups and
//! every shard on the invalid group 0. Keys map to shards by their first byte
//! ([`key2shard`]), as in the course, so the tests' keys "0".."9" land on known shards.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How many shards the key space is split into.
pub const NSHARDS: usize = 10;

/// A replica group's id; 0 is no group.
pub type Gid = u64;

/// One configuration of the sharded service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Its number; configuration 0 is the initial, empty one.
    pub num: u64,
    /// The group serving each shard (0: none).
    pub shards: [Gid; NSHARDS],
    /// Each group's servers, by name, in the order they were given. A BTreeMap, so nothing
    /// derived from it depends on hashing.
    pub groups: BTreeMap<Gid, Vec<String>>,
}

impl Config {
    /// The shards `gid` serves.
    pub fn shards_of(&self, gid: Gid) -> Vec<usize> {
        (0..NSHARDS).filter(|&s| self.shards[s] == gid).collect()
    }

    /// The servers of `gid`, or none if it is not in this configuration.
    pub fn servers_of(&self, gid: Gid) -> &[String] {
        self.groups.get(&gid).map_or(&[], Vec::as_slice)
    }
}

/// `c3 [100 100 101 …] {100, 101}`: how traces show a configuration.
impl std::fmt::Display for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shards: Vec<String> = self.shards.iter().map(Gid::to_string).collect();
        let groups: Vec<String> = self.groups.keys().map(Gid::to_string).collect();
        write!(
            f,
            "c{} [{}] {{{}}}",
            self.num,
            shards.join(" "),
            groups.join(", ")
        )
    }
}

/// Server `me` of group `gid`'s `node` in traces: 1000, 1001, 1002 for group 100, so every
/// server of every group (of fewer than ten servers) has a lane of its own in the log view
/// and on the timeline page, and lanes sort by group.
pub fn trace_node(gid: Gid, me: usize) -> i64 {
    (gid as i64).saturating_mul(10).saturating_add(me as i64)
}

/// The shard a key belongs to: its first byte modulo [`NSHARDS`] (the empty key: shard 0).
pub fn key2shard(key: &str) -> usize {
    key.as_bytes()
        .first()
        .map_or(0, |&b| usize::from(b) % NSHARDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_shards_as_in_the_course() {
        assert_eq!(key2shard(""), 0);
        assert_eq!(key2shard("0"), 48 % 10);
        assert_eq!(key2shard("9"), 57 % 10);
        assert_eq!(key2shard("abc"), 97 % 10);
    }
}
