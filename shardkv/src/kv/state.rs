// BEGIN SOLUTION 4B
//! A shardkv group's replicated state: its current and previous configuration, and each
//! shard's data with where the shard stands in moving between groups.
//!
//! Every change goes through the group's Raft log, so every replica makes it at the same
//! point: clerks' operations, moving to the next configuration, installing pulled shards,
//! dropping handed-over ones. A shard goes through these states ([`Status`]):
//!
//! ```text
//!                Reconfigure (we gain it)       InsertShards
//!   Absent ─────────────────────────────▶ Pulling ──────────▶ Cleaning ─▶ Serving
//!     ▲                                                  ShardsDeleted      │
//!     │ DeleteShards                Reconfigure (we lose it)                │
//!     └──────────────────── Offering ◀──────────────────────────────────────┘
//! ```
//!
//! A group moves to configuration n+1 only once every shard is settled (`Serving` or
//! `Absent`), so it takes configurations one at a time and a shard's data is final when it is
//! offered: no write can reach it after the Reconfigure entry that took it away. Serving a
//! shard needs only that shard's data (`Serving` or `Cleaning`): shards that are still on
//! their way do not block the others (challenge 2). The previous owner drops a shard once
//! the new owner has it in its log (challenge 1), which is what `Cleaning` waits for.
// HANDOUT
// //! A shardkv group's replicated state: the deterministic state machine that `rsm::Rsm`
// //! replicates within the group. Every change goes through the group's Raft log, so every
// //! replica makes it at the same point.
// //!
// //! Hints:
// //! - Keep the configuration the group is in (and, to know where shards come from, the one
// //!   before), and for each shard its data, its own duplicate table (`rsm::Dedup`) and where
// //!   it stands: served here, on its way here, waiting to be handed over, or not ours.
// //! - A duplicate table per shard can move with the shard, so a write the old owner applied
// //!   is still known as applied when the clerk retries it at the new owner.
// //! - Apply a new configuration only if it is the next one and the group has finished the
// //!   previous change (every shard it gained has arrived; every shard it lost is handed
// //!   over): repeats and stale proposals are then harmless.
// //! - A clerk's operation on a shard the group does not serve now, or whose data has not
// //!   arrived yet, answers `Refusal::WrongGroup` and changes nothing, not even the duplicate
// //!   table.
// //! - A shard that left the group can no longer change: no write reaches it after the entry
// //!   that took it away. That is the moment to offer it to its new owner.
// //! - The snapshot (`rsm::machine::encode_snapshot` of the whole state) must hold everything:
// //!   configurations, shards, duplicate tables, where each shard stands. A group restarted
// //!   from it must carry on any move it was in the middle of.
//
// // Stubs leave their arguments unused: delete this attribute when you start.
// #![allow(unused_variables, dead_code)]
// END SOLUTION

// BEGIN SOLUTION 4B
use std::collections::BTreeMap;

use kvraft::Op;
use rsm::machine::{decode_snapshot, encode_snapshot};
use rsm::SnapshotError;
use serde::{Deserialize, Serialize};

use super::rpc::{Answer, ClientRequest, Command, Refusal, ShardData};
use crate::config::{key2shard, Config, Gid, NSHARDS};

/// Where one shard stands in this group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Not ours, and we hold no data for it.
    Absent,
    /// Ours, with its data: we serve it.
    Serving,
    /// Ours in the current configuration, but its data is still with the previous owner.
    Pulling,
    /// Ours and served, but the previous owner has not yet confirmed it dropped its copy.
    Cleaning,
    /// No longer ours: kept, unchanging, until the new owner has it.
    Offering,
}

/// One shard in this group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub status: Status,
    pub contents: ShardData,
}
// HANDOUT
// use rsm::SnapshotError;
//
// use super::rpc::{Answer, Command};
// END SOLUTION

/// The replicated state of one shardkv group.
// BEGIN SOLUTION 4B
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
// END SOLUTION
pub struct ShardState {
    // BEGIN SOLUTION 4B
    gid: Gid,
    /// This replica's `node` in traces; not replicated (every replica has its own).
    #[serde(skip)]
    node: i64,
    /// The configuration the group is in.
    config: Config,
    /// The one before it: where shards we are pulling come from.
    prev: Config,
    shards: Vec<Shard>,
    // HANDOUT
    // // Your state: see the module documentation.
    // END SOLUTION
}

impl ShardState {
    // BEGIN SOLUTION 4B
    /// Group `gid`'s state before it has seen any configuration.
    pub fn new(gid: Gid, node: i64) -> ShardState {
        let absent = Shard {
            status: Status::Absent,
            contents: ShardData::default(),
        };
        ShardState {
            gid,
            node,
            config: Config::default(),
            prev: Config::default(),
            shards: vec![absent; NSHARDS],
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn prev(&self) -> &Config {
        &self.prev
    }

    pub fn status(&self, shard: usize) -> Status {
        self.shards[shard].status
    }

    /// Whether every shard is settled, so the group may take the next configuration.
    pub fn settled(&self) -> bool {
        self.shards
            .iter()
            .all(|s| matches!(s.status, Status::Serving | Status::Absent))
    }

    /// The shards in `status`, grouped by the group that owned them in the previous
    /// configuration (who we pull from, or who must drop its copy).
    pub fn by_previous_owner(&self, status: Status) -> BTreeMap<Gid, Vec<usize>> {
        let mut out: BTreeMap<Gid, Vec<usize>> = BTreeMap::new();
        for (shard, s) in self.shards.iter().enumerate() {
            if s.status == status {
                out.entry(self.prev.shards[shard]).or_default().push(shard);
            }
        }
        out
    }

    /// The shards of configuration `config_num` we are offering, if we are in it and offer
    /// every one of them; `None` otherwise (not there yet, or already dropped).
    pub fn offer(&self, config_num: u64, shards: &[usize]) -> Option<BTreeMap<usize, ShardData>> {
        if self.config.num != config_num {
            return None;
        }
        shards
            .iter()
            .map(|&s| {
                let shard = self.shards.get(s)?;
                (shard.status == Status::Offering).then(|| (s, shard.contents.clone()))
            })
            .collect()
    }

    /// One line for reports: `c31 [S S S S S P P P P P]` (Serving, Pulling, Cleaning,
    /// Offering, `-` absent).
    // HANDOUT
    // /// One line about this server's state for the tester's hang report, which prints it for
    // /// every server of every group: say which configuration it is in and where each shard
    // /// stands.
    // END SOLUTION
    pub fn summary(&self) -> String {
        // BEGIN SOLUTION 4B
        let letters: Vec<&str> = self
            .shards
            .iter()
            .map(|s| match s.status {
                Status::Absent => "-",
                Status::Serving => "S",
                Status::Pulling => "P",
                Status::Cleaning => "C",
                Status::Offering => "O",
            })
            .collect();
        format!("c{} [{}]", self.config.num, letters.join(" "))
        // HANDOUT
        // // Not a todo!: a panic here would replace the hang report it is part of.
        // String::from("(ShardState::summary is not written yet)")
        // END SOLUTION
    }
    // BEGIN SOLUTION 4B

    /// Bytes of keys and values held, over every shard.
    pub fn data_size(&self) -> usize {
        self.shards.iter().map(|s| s.contents.size()).sum()
    }

    fn client(&mut self, request: &ClientRequest) -> Answer {
        let shard = key2shard(request.op.key());
        let s = &mut self.shards[shard];
        if self.config.shards[shard] != self.gid
            || !matches!(s.status, Status::Serving | Status::Cleaning)
        {
            return Err(Refusal::WrongGroup);
        }
        let contents = &mut s.contents;
        match &request.op {
            Op::Get { key } => return Ok(contents.data.get(key).cloned().unwrap_or_default()),
            _ if contents.dedup.is_duplicate(request.client, request.seq) => {}
            Op::Put { key, value } => {
                contents.data.insert(key.clone(), value.clone());
                contents.dedup.record(request.client, request.seq);
            }
            Op::Append { key, value } => {
                contents
                    .data
                    .entry(key.clone())
                    .or_default()
                    .push_str(value);
                contents.dedup.record(request.client, request.seq);
            }
        }
        Ok(String::new())
    }

    fn reconfigure(&mut self, next: &Config) {
        if next.num != self.config.num + 1 || !self.settled() {
            return; // a repeat, or proposed from a stale view: the log decides once
        }
        for (shard, s) in self.shards.iter_mut().enumerate() {
            let had = self.config.shards[shard] == self.gid;
            let has = next.shards[shard] == self.gid;
            match (had, has) {
                (true, true) | (false, false) => {}
                // From no group at all (the first configuration): there is nothing to pull.
                (false, true) if self.config.shards[shard] == 0 => s.status = Status::Serving,
                (false, true) => s.status = Status::Pulling,
                // To no group at all (every group left): nobody will pull it. The course's
                // design has nowhere to keep it either; the data is dropped.
                (true, false) if next.shards[shard] == 0 => {
                    *s = Shard {
                        status: Status::Absent,
                        contents: ShardData::default(),
                    }
                }
                (true, false) => s.status = Status::Offering,
            }
        }
        self.prev = std::mem::replace(&mut self.config, next.clone());
        tracing::debug!(
            node = self.node,
            topic = "config",
            config = next.num,
            "now in {next}"
        );
    }

    fn insert(&mut self, config_num: u64, shards: &BTreeMap<usize, ShardData>) {
        if config_num != self.config.num {
            return;
        }
        for (&shard, contents) in shards {
            if let Some(s) = self.shards.get_mut(shard) {
                if s.status == Status::Pulling {
                    s.contents = contents.clone();
                    s.status = Status::Cleaning;
                    tracing::debug!(
                        node = self.node,
                        topic = "shard",
                        shard,
                        bytes = contents.size(),
                        "installed shard {shard} of c{config_num}"
                    );
                }
            }
        }
    }

    /// Drops offered shards; whether the request is settled (done now, or done before).
    fn delete(&mut self, config_num: u64, shards: &[usize]) -> bool {
        if config_num > self.config.num {
            return false; // not there yet: the new owner cannot be asking this
        }
        if config_num == self.config.num {
            for &shard in shards {
                if let Some(s) = self.shards.get_mut(shard) {
                    if s.status == Status::Offering {
                        *s = Shard {
                            status: Status::Absent,
                            contents: ShardData::default(),
                        };
                        tracing::debug!(
                            node = self.node,
                            topic = "shard",
                            shard,
                            "dropped shard {shard} of c{config_num}: its new owner has it"
                        );
                    }
                }
            }
        }
        true
    }

    fn deleted(&mut self, config_num: u64, shards: &[usize]) {
        if config_num != self.config.num {
            return;
        }
        for &shard in shards {
            if let Some(s) = self.shards.get_mut(shard) {
                if s.status == Status::Cleaning {
                    s.status = Status::Serving;
                }
            }
        }
    }
    // END SOLUTION
}

impl rsm::StateMachine for ShardState {
    type Command = Command;
    type Output = Answer;

    fn apply(&mut self, command: &Command) -> Answer {
        // BEGIN SOLUTION 4B
        match command {
            Command::Client(request) => return self.client(request),
            Command::Reconfigure(next) => self.reconfigure(next),
            Command::InsertShards { config_num, shards } => self.insert(*config_num, shards),
            Command::DeleteShards { config_num, shards } => {
                if !self.delete(*config_num, shards) {
                    return Err(Refusal::WrongGroup);
                }
            }
            Command::ShardsDeleted { config_num, shards } => self.deleted(*config_num, shards),
        }
        Ok(String::new())
        // HANDOUT
        // todo!("Lab 4B: ShardState::apply: apply one command of the group's log")
        // END SOLUTION
    }
    // BEGIN SOLUTION 4B

    fn apply_unanswered(&mut self, command: &Command) {
        // A read changes nothing; only the server answering it copies the value out.
        if let Command::Client(ClientRequest {
            op: Op::Get { .. }, ..
        }) = command
        {
            return;
        }
        let _ = self.apply(command);
    }

    fn answer_at_once(&self, command: &Command) -> Option<Answer> {
        // A write this group has applied to a shard it still holds: a retry.
        let Command::Client(request) = command else {
            return None;
        };
        let s = &self.shards[key2shard(request.op.key())];
        let applied = request.op.is_write()
            && s.status != Status::Absent
            && s.contents.dedup.is_duplicate(request.client, request.seq);
        applied.then(|| Ok(String::new()))
    }
    // END SOLUTION

    fn snapshot(&self) -> Vec<u8> {
        // BEGIN SOLUTION 4B
        encode_snapshot(self)
        // HANDOUT
        // todo!("Lab 4B: ShardState::snapshot: the group's whole state as bytes")
        // END SOLUTION
    }

    fn restore(&mut self, bytes: &[u8]) -> Result<(), SnapshotError> {
        // BEGIN SOLUTION 4B
        let state: ShardState = decode_snapshot(bytes)?;
        if state.shards.len() != NSHARDS {
            return Err(SnapshotError::Undecodable(format!(
                "{} shards in a snapshot, expected {NSHARDS}",
                state.shards.len()
            )));
        }
        if state.gid != self.gid {
            return Err(SnapshotError::Undecodable(format!(
                "a snapshot of group {} given to group {}",
                state.gid, self.gid
            )));
        }
        *self = ShardState {
            node: self.node,
            ..state
        };
        Ok(())
        // HANDOUT
        // todo!("Lab 4B: ShardState::restore: the state `snapshot` wrote, or an error")
        // END SOLUTION
    }
}
// BEGIN SOLUTION 4B

#[cfg(test)]
mod tests {
    use super::*;
    use rsm::StateMachine;

    fn config(num: u64, shards: [Gid; NSHARDS]) -> Config {
        let mut groups = BTreeMap::new();
        for &gid in shards.iter().filter(|&&g| g != 0) {
            groups.insert(gid, vec![format!("server-{gid}-0")]);
        }
        Config {
            num,
            shards,
            groups,
        }
    }

    fn client(seq: u64, op: Op) -> Command {
        Command::Client(ClientRequest { client: 7, seq, op })
    }

    fn append(key: &str, value: &str) -> Op {
        Op::Append {
            key: key.into(),
            value: value.into(),
        }
    }

    fn get(key: &str) -> Op {
        Op::Get { key: key.into() }
    }

    #[test]
    fn a_shard_moves_with_its_data_and_duplicate_table_then_is_dropped() {
        let (mut a, mut b) = (ShardState::new(1, 10), ShardState::new(2, 20));
        let c1 = config(1, [1; NSHARDS]);
        let _ = a.apply(&Command::Reconfigure(c1.clone()));
        let _ = b.apply(&Command::Reconfigure(c1));
        assert!(a.settled() && a.status(0) == Status::Serving);
        // Key "0" is in shard 8.
        assert_eq!(a.apply(&client(1, append("0", "x"))), Ok(String::new()));
        assert_eq!(b.apply(&client(2, get("0"))), Err(Refusal::WrongGroup));

        // Shard 8 moves from group 1 to group 2.
        let mut shards = [1; NSHARDS];
        shards[8] = 2;
        let c2 = config(2, shards);
        let _ = a.apply(&Command::Reconfigure(c2.clone()));
        let _ = b.apply(&Command::Reconfigure(c2));
        assert_eq!(a.status(8), Status::Offering);
        assert_eq!(b.status(8), Status::Pulling);
        assert!(!a.settled() && !b.settled());
        assert_eq!(a.apply(&client(2, get("0"))), Err(Refusal::WrongGroup));
        assert_eq!(
            b.apply(&client(2, get("0"))),
            Err(Refusal::WrongGroup),
            "no data yet"
        );
        assert_eq!(b.by_previous_owner(Status::Pulling), [(1, vec![8])].into());

        assert!(
            a.offer(3, &[8]).is_none(),
            "a configuration from the future"
        );
        assert!(a.offer(2, &[7]).is_none(), "a shard it does not offer");
        let pulled = a.offer(2, &[8]).expect("offered");
        let _ = b.apply(&Command::InsertShards {
            config_num: 2,
            shards: pulled,
        });
        assert_eq!(b.status(8), Status::Cleaning);
        assert_eq!(b.apply(&client(3, get("0"))), Ok("x".into()));
        // The write applied by group 1 is still a duplicate in group 2.
        let _ = b.apply(&client(1, append("0", "x")));
        assert_eq!(b.apply(&client(4, get("0"))), Ok("x".into()));

        // Group 1 drops its copy; group 2 learns it and the shard settles.
        let delete = Command::DeleteShards {
            config_num: 2,
            shards: vec![8],
        };
        assert_eq!(a.apply(&delete), Ok(String::new()));
        assert_eq!(a.status(8), Status::Absent);
        assert_eq!(a.data_size(), 0);
        assert_eq!(a.apply(&delete), Ok(String::new()), "a repeat is fine");
        let _ = b.apply(&Command::ShardsDeleted {
            config_num: 2,
            shards: vec![8],
        });
        assert!(a.settled() && b.settled());
    }

    #[test]
    fn configurations_apply_in_order_only_when_settled() {
        let mut a = ShardState::new(1, 10);
        let _ = a.apply(&Command::Reconfigure(config(2, [1; NSHARDS])));
        assert_eq!(a.config().num, 0, "configuration 1 comes first");
        let _ = a.apply(&Command::Reconfigure(config(1, [1; NSHARDS])));
        let _ = a.apply(&Command::Reconfigure(config(2, [2; NSHARDS])));
        assert_eq!(a.config().num, 2);
        assert!(!a.settled(), "every shard is offered to group 2");
        let _ = a.apply(&Command::Reconfigure(config(3, [1; NSHARDS])));
        assert_eq!(a.config().num, 2, "not before group 2 has its shards");
        // A deletion for a configuration the group has not reached is refused.
        let early = Command::DeleteShards {
            config_num: 5,
            shards: vec![0],
        };
        assert_eq!(a.apply(&early), Err(Refusal::WrongGroup));
    }

    #[test]
    fn a_configuration_naming_an_unknown_group_leaves_the_shard_waiting() {
        let mut a = ShardState::new(1, 10);
        let mut c1 = config(1, [3; NSHARDS]);
        c1.groups.remove(&3); // shards on a group the configuration does not list
        let _ = a.apply(&Command::Reconfigure(c1));
        let _ = a.apply(&Command::Reconfigure(config(2, [1; NSHARDS])));
        // Nobody to pull from: the shards wait (and are refused), nothing panics.
        assert_eq!(
            a.by_previous_owner(Status::Pulling),
            [(3, (0..NSHARDS).collect())].into()
        );
        assert!(a.prev().servers_of(3).is_empty());
        assert_eq!(a.apply(&client(1, get("0"))), Err(Refusal::WrongGroup));
    }

    #[test]
    fn snapshots_round_trip_and_garbage_or_another_group_is_an_error() {
        let mut a = ShardState::new(1, 10);
        let _ = a.apply(&Command::Reconfigure(config(1, [1; NSHARDS])));
        let _ = a.apply(&client(1, append("k", "v")));
        let bytes = a.snapshot();
        let mut restored = ShardState::new(1, 11);
        restored.restore(&bytes).unwrap();
        assert_eq!(restored.apply(&client(2, get("k"))), Ok("v".into()));
        assert_eq!(restored.node, 11, "the trace node is the replica's own");
        for cut in 0..bytes.len() {
            assert!(ShardState::new(1, 10).restore(&bytes[..cut]).is_err());
        }
        assert!(
            ShardState::new(2, 20).restore(&bytes).is_err(),
            "group 1's snapshot"
        );
    }
}
// END SOLUTION
