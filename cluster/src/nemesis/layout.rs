//! Which service a nemesis run tests, and how its replica processes are laid out.
//!
//! Every replica of a run has one index, `0..total()`: it names the replica's network
//! namespace (and so its address), its log file and its data directory, and it is what the
//! process and network nemeses draw. The layout says which replicas form one Raft group and
//! with which arguments each `kvserver` starts:
//!
//! - **Kv**: Lab 3's service, `replicas` replicas in one group.
//! - **Sharded**: Lab 4's service: replicas 0–2 are the shard controller's group, then
//!   `groups` shardkv groups of three (gids 100, 101, ...), which the run joins to the
//!   controller before the clients start and then joins and removes while they run.

use std::collections::BTreeMap;

use shardkv::Gid;

use crate::client::Target;

/// Servers in the controller's group and in each shardkv group.
pub const SHARDED_GROUP_SIZE: usize = 3;
/// The first shardkv group's gid.
const FIRST_GID: Gid = 100;

/// The service under test.
#[derive(Clone, Copy, Debug)]
pub enum Layout {
    Kv { replicas: usize },
    Sharded { groups: usize },
}

/// One replica: its index, and the `kvserver` arguments that say what it serves.
#[derive(Clone, Debug)]
pub struct Member {
    /// Its global index (namespace, log file, data directory).
    pub index: usize,
    /// `--id`, `--peers` and the service's own arguments (everything but the data directory
    /// and `--maxraftstate`, which the nemesis adds).
    pub args: Vec<String>,
}

impl Layout {
    /// How many replica processes the run has.
    pub fn total(&self) -> usize {
        match *self {
            Layout::Kv { replicas } => replicas,
            Layout::Sharded { groups } => SHARDED_GROUP_SIZE * (1 + groups),
        }
    }

    pub fn describe(&self) -> String {
        match *self {
            Layout::Kv { replicas } => format!("{replicas} replicas of the key/value service"),
            Layout::Sharded { groups } => format!(
                "the sharded service: {SHARDED_GROUP_SIZE} controllers and {groups} groups of \
                 {SHARDED_GROUP_SIZE}"
            ),
        }
    }

    /// Every replica, given each index's address.
    pub fn members(&self, addr: impl Fn(usize) -> String) -> Vec<Member> {
        // (first index, size, service arguments) of each Raft group.
        let sets: Vec<(usize, usize, Vec<String>)> = match *self {
            Layout::Kv { replicas } => vec![(0, replicas, Vec::new())],
            Layout::Sharded { .. } => {
                let ctrlers = self.ctrlers(&addr).join(",");
                let mut sets = vec![(0, SHARDED_GROUP_SIZE, args(&["--service", "ctrler"]))];
                for (g, (gid, _)) in self.groups(&addr).into_iter().enumerate() {
                    let gid = gid.to_string();
                    sets.push((
                        SHARDED_GROUP_SIZE * (1 + g),
                        SHARDED_GROUP_SIZE,
                        args(&["--service", "shard", "--gid", &gid, "--ctrlers", &ctrlers]),
                    ));
                }
                sets
            }
        };
        let mut members = Vec::new();
        for (first, size, service) in sets {
            let peers: Vec<String> = (first..first + size).map(&addr).collect();
            for id in 0..size {
                let mut member_args = args(&["--id", &id.to_string(), "--peers", &peers.join(",")]);
                member_args.extend(service.iter().cloned());
                members.push(Member {
                    index: first + id,
                    args: member_args,
                });
            }
        }
        members
    }

    /// The controllers' addresses (none for Kv).
    pub fn ctrlers(&self, addr: impl Fn(usize) -> String) -> Vec<String> {
        match self {
            Layout::Kv { .. } => Vec::new(),
            Layout::Sharded { .. } => (0..SHARDED_GROUP_SIZE).map(addr).collect(),
        }
    }

    /// Each shardkv group's gid and servers (none for Kv).
    pub fn groups(&self, addr: impl Fn(usize) -> String) -> BTreeMap<Gid, Vec<String>> {
        match *self {
            Layout::Kv { .. } => BTreeMap::new(),
            Layout::Sharded { groups } => (0..groups)
                .map(|g| {
                    let first = SHARDED_GROUP_SIZE * (1 + g);
                    let servers = (first..first + SHARDED_GROUP_SIZE).map(&addr).collect();
                    (FIRST_GID + g as Gid, servers)
                })
                .collect(),
        }
    }

    /// What the clients talk to.
    pub fn target(&self, addr: impl Fn(usize) -> String) -> Target {
        match *self {
            Layout::Kv { replicas } => Target::Kv((0..replicas).map(addr).collect()),
            Layout::Sharded { .. } => Target::Sharded(self.ctrlers(addr)),
        }
    }
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(i: usize) -> String {
        format!("h{i}:1")
    }

    #[test]
    fn a_kv_layout_is_one_group() {
        let layout = Layout::Kv { replicas: 5 };
        let members = layout.members(addr);
        assert_eq!(members.len(), 5);
        assert_eq!(
            members[4].args,
            ["--id", "4", "--peers", "h0:1,h1:1,h2:1,h3:1,h4:1"]
        );
    }

    #[test]
    fn a_sharded_layout_has_controllers_then_groups() {
        let layout = Layout::Sharded { groups: 2 };
        assert_eq!(layout.total(), 9);
        let members = layout.members(addr);
        assert_eq!(members.len(), 9);
        assert_eq!(
            members[1].args,
            [
                "--id",
                "1",
                "--peers",
                "h0:1,h1:1,h2:1",
                "--service",
                "ctrler"
            ]
        );
        assert_eq!(
            members[8].args,
            [
                "--id",
                "2",
                "--peers",
                "h6:1,h7:1,h8:1",
                "--service",
                "shard",
                "--gid",
                "101",
                "--ctrlers",
                "h0:1,h1:1,h2:1"
            ]
        );
        let groups = layout.groups(addr);
        assert_eq!(groups.keys().copied().collect::<Vec<_>>(), [100, 101]);
        assert_eq!(groups[&100], ["h3:1", "h4:1", "h5:1"]);
    }
}
