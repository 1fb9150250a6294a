//! The shard controller's replicated state: every configuration so far, and the duplicate
//! table. Applying Join, Leave and Move appends a new configuration, rebalanced by
//! [`rebalance::rebalance`](super::rebalance::rebalance); Query reads one.
// BEGIN SOLUTION 4A
// HANDOUT
// //!
// //! This is the deterministic state machine [`rsm::Rsm`] replicates (Lab 3's layer, as
// //! kvraft's is): every controller applies the same requests in the same order and must end
// //! in the same state. The tests also drive it directly, without Raft
// //! (`tests/shardkv/rebalance.rs`): `Configs::default()`, then `apply` and `latest`.
// //!
// //! Hints:
// //! - Configuration 0 has no groups and every shard on group 0. Each Join, Leave or Move
// //!   that takes effect appends configuration `latest + 1`; a Query of -1, or of a number
// //!   past the latest, answers the latest.
// //! - Build the next configuration from a clone of the latest one, never by changing an old
// //!   one: clerks may ask for any past configuration.
// //! - Join and Leave rebalance; Move assigns one shard and does not rebalance.
// //! - Detect duplicates (`rsm::Dedup`, by clerk id and request number): the controller tests
// //!   do not check it, but shardkv's servers and the tester retry their requests. A Query
// //!   need not be recorded.
// //! - Refuse what cannot be done (joining a group that is there, gid 0, leaving a group that
// //!   is not there, a move to an unknown group or shard) with an `Err` saying why, changing
// //!   nothing. Never panic on a request.
// //! - `snapshot`/`restore`: `rsm::machine::encode_snapshot`/`decode_snapshot` do it for any
// //!   `Serialize` state. The controller never snapshots (its `maxraftstate` is -1), but
// //!   write both anyway: `restore` must reject bytes that do not decode with an error, never
// //!   a panic.
//
// // Stubs leave their arguments unused: delete this attribute when you start.
// #![allow(unused_variables, dead_code)]
// END SOLUTION

// BEGIN SOLUTION 4A
use rsm::machine::{decode_snapshot, encode_snapshot};
use rsm::{Dedup, SnapshotError};
use serde::{Deserialize, Serialize};

use super::rebalance::rebalance;
use super::rpc::{Answer, CtrlerOp, Request};
use crate::config::{Config, Gid, NSHARDS};
// HANDOUT
// use rsm::SnapshotError;
//
// use super::rpc::{Answer, Request};
// use crate::config::Config;
// END SOLUTION

/// Every configuration so far (index = number) and the duplicate table.
// BEGIN SOLUTION 4A
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
// END SOLUTION
pub struct Configs {
    // BEGIN SOLUTION 4A
    configs: Vec<Config>,
    dedup: Dedup,
    // HANDOUT
    // // Your state: every configuration so far (its number is its index), and the
    // // duplicate table of Joins, Leaves and Moves already applied.
    // END SOLUTION
}

impl Default for Configs {
    /// The state before any request: configuration 0 alone.
    fn default() -> Self {
        // BEGIN SOLUTION 4A
        Configs {
            configs: vec![Config::default()],
            dedup: Dedup::default(),
        }
        // HANDOUT
        // todo!("Lab 4A: Configs::default: the controller's state holding configuration 0 alone")
        // END SOLUTION
    }
}

impl Configs {
    /// The latest configuration.
    pub fn latest(&self) -> &Config {
        // BEGIN SOLUTION 4A
        self.configs.last().expect("configuration 0 always exists")
        // HANDOUT
        // todo!("Lab 4A: Configs::latest: the configuration with the highest number")
        // END SOLUTION
    }
    // BEGIN SOLUTION 4A

    /// Configuration `num`, or the latest for -1 or a number past it.
    pub fn query(&self, num: i64) -> &Config {
        usize::try_from(num)
            .ok()
            .and_then(|n| self.configs.get(n))
            .unwrap_or_else(|| self.latest())
    }

    /// Carries out a write, returning the next configuration, or why it is refused.
    fn next(&self, op: &CtrlerOp) -> Result<Config, String> {
        let mut next = self.latest().clone();
        next.num += 1;
        match op {
            CtrlerOp::Join { groups } => {
                for (&gid, servers) in groups {
                    if gid == 0 {
                        return Err("join: group id 0 is reserved for no group".into());
                    }
                    if servers.is_empty() {
                        return Err(format!("join: group {gid} has no servers"));
                    }
                    if next.groups.insert(gid, servers.clone()).is_some() {
                        return Err(format!("join: group {gid} is already in the configuration"));
                    }
                }
            }
            CtrlerOp::Leave { gids } => {
                for gid in gids {
                    if next.groups.remove(gid).is_none() {
                        return Err(format!("leave: group {gid} is not in the configuration"));
                    }
                }
            }
            CtrlerOp::Move { shard, gid } => {
                if *shard >= NSHARDS {
                    return Err(format!("move: no shard {shard} (there are {NSHARDS})"));
                }
                if !next.groups.contains_key(gid) {
                    return Err(format!("move: group {gid} is not in the configuration"));
                }
                next.shards[*shard] = *gid;
                return Ok(next);
            }
            CtrlerOp::Query { .. } => unreachable!("a query is not a write"),
        }
        let gids: Vec<Gid> = next.groups.keys().copied().collect();
        next.shards = rebalance(&next.shards, &gids);
        Ok(next)
    }
    // END SOLUTION
}

impl rsm::StateMachine for Configs {
    type Command = Request;
    type Output = Answer;

    fn apply(&mut self, request: &Request) -> Answer {
        // BEGIN SOLUTION 4A
        if let CtrlerOp::Query { num } = request.op {
            return Ok(Some(self.query(num).clone()));
        }
        if self.dedup.is_duplicate(request.client, request.seq) {
            return Ok(None);
        }
        // A refused request is not recorded: a retry is judged again, and refused again.
        let next = self.next(&request.op)?;
        self.configs.push(next);
        self.dedup.record(request.client, request.seq);
        Ok(None)
        // HANDOUT
        // todo!("Lab 4A: Configs::apply: carry out a Join, Leave, Move or Query")
        // END SOLUTION
    }
    // BEGIN SOLUTION 4A

    fn answer_at_once(&self, request: &Request) -> Option<Answer> {
        let write = !matches!(request.op, CtrlerOp::Query { .. });
        (write && self.dedup.is_duplicate(request.client, request.seq)).then_some(Ok(None))
    }
    // END SOLUTION

    fn snapshot(&self) -> Vec<u8> {
        // BEGIN SOLUTION 4A
        encode_snapshot(self)
        // HANDOUT
        // todo!("Lab 4A: Configs::snapshot: the whole state as bytes")
        // END SOLUTION
    }

    fn restore(&mut self, bytes: &[u8]) -> Result<(), SnapshotError> {
        // BEGIN SOLUTION 4A
        let configs: Configs = decode_snapshot(bytes)?;
        if configs.configs.is_empty() {
            return Err(SnapshotError::Undecodable("no configuration 0".into()));
        }
        *self = configs;
        Ok(())
        // HANDOUT
        // todo!("Lab 4A: Configs::restore: the state `snapshot` wrote, or an error")
        // END SOLUTION
    }
}
// BEGIN SOLUTION 4A

#[cfg(test)]
mod tests {
    use super::*;
    use rsm::StateMachine;

    fn req(seq: u64, op: CtrlerOp) -> Request {
        Request { client: 1, seq, op }
    }

    fn join(gid: Gid) -> CtrlerOp {
        CtrlerOp::Join {
            groups: [(gid, vec![format!("s{gid}")])].into(),
        }
    }

    #[test]
    fn joins_leaves_moves_and_queries() {
        let mut c = Configs::default();
        assert_eq!(c.apply(&req(1, join(1))), Ok(None));
        assert_eq!(c.latest().shards, [1; NSHARDS]);
        c.apply(&req(2, join(2))).unwrap();
        c.apply(&req(3, CtrlerOp::Move { shard: 0, gid: 2 }))
            .unwrap();
        assert_eq!(c.latest().shards[0], 2);
        c.apply(&req(4, CtrlerOp::Leave { gids: vec![1] })).unwrap();
        assert_eq!(c.latest().shards, [2; NSHARDS]);
        let q = |num| c.clone().apply(&req(99, CtrlerOp::Query { num }));
        assert_eq!(q(-1).unwrap().unwrap().num, 4);
        assert_eq!(q(1).unwrap().unwrap().shards, [1; NSHARDS]);
        assert_eq!(q(1000).unwrap().unwrap().num, 4, "the future is the latest");
        assert_eq!(q(0).unwrap().unwrap(), Config::default());
    }

    #[test]
    fn duplicates_apply_once_and_bad_requests_are_refused() {
        let mut c = Configs::default();
        c.apply(&req(1, join(1))).unwrap();
        assert_eq!(c.apply(&req(1, join(1))), Ok(None));
        assert_eq!(c.latest().num, 1, "a retried join is applied once");
        assert!(c.apply(&req(2, join(1))).is_err(), "group 1 already joined");
        assert!(c.apply(&req(3, join(0))).is_err());
        assert!(c
            .apply(&req(4, CtrlerOp::Move { shard: 10, gid: 1 }))
            .is_err());
        assert!(c
            .apply(&req(5, CtrlerOp::Move { shard: 1, gid: 9 }))
            .is_err());
        assert!(c.apply(&req(6, CtrlerOp::Leave { gids: vec![9] })).is_err());
        assert_eq!(c.latest().num, 1, "refused requests change nothing");
    }

    #[test]
    fn garbage_snapshots_are_errors() {
        let mut c = Configs::default();
        c.apply(&req(1, join(1))).unwrap();
        let bytes = c.snapshot();
        let mut restored = Configs::default();
        restored.restore(&bytes).unwrap();
        assert_eq!(restored, c);
        assert!(restored.restore(&bytes[..bytes.len() - 1]).is_err());
        assert!(restored.restore(&[0]).is_err(), "no configuration 0");
    }
}
// END SOLUTION
