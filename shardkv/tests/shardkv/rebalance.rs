//! Beyond the course: the rebalancer alone, under random sequences of joins, leaves and
//! moves applied to the controller's state machine. Every configuration a join or leave
//! makes must be balanced, put every shard on a present group, move exactly the unavoidable
//! number of shards, and not depend on the order groups are listed in.
//!
//! The sequences come from the run's seed (`LAB_SEED`, or a fresh one, printed; or each seed
//! of a grader's batch, `LAB_SEEDS`), so every grader run tries new ones and a failure replays.

use std::collections::BTreeMap;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rsm::StateMachine;
use shardkv::ctrler::rebalance::rebalance;
use shardkv::ctrler::rpc::{CtrlerOp, Request};
use shardkv::ctrler::state::Configs;
use shardkv::{Gid, NSHARDS};

use crate::ctrler::least_moves;

/// Sequences tried, and operations in each.
const SEQUENCES: u64 = 200;
const OPS: usize = 40;

#[test]
fn rebalancer_is_balanced_minimal_and_deterministic_4a() {
    harness::run_seeded_test(check_sequences);
}

/// The sequences of one run, from its seed.
fn check_sequences(base: u64) {
    println!("seed={base}");
    let mut checked = 0;
    for seed in (0..SEQUENCES).map(|k| base.wrapping_add(k)) {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut configs = Configs::default();
        let mut next_gid: Gid = 1;
        for seq in 1..=OPS as u64 {
            let before = configs.latest().clone();
            let present: Vec<Gid> = before.groups.keys().copied().collect();
            let op = match rng.random_range(0..10) {
                0..=4 => {
                    let k = rng.random_range(1..=3);
                    let groups: BTreeMap<Gid, Vec<String>> = (0..k)
                        .map(|i| (next_gid + i, vec![format!("s{}", next_gid + i)]))
                        .collect();
                    next_gid += k;
                    CtrlerOp::Join { groups }
                }
                5..=7 if !present.is_empty() => {
                    let k = rng.random_range(1..=present.len().min(3));
                    let mut gids = present.clone();
                    let mut leaving = Vec::new();
                    for _ in 0..k {
                        leaving.push(gids.swap_remove(rng.random_range(0..gids.len())));
                    }
                    CtrlerOp::Leave { gids: leaving }
                }
                _ if !present.is_empty() => CtrlerOp::Move {
                    shard: rng.random_range(0..NSHARDS),
                    gid: present[rng.random_range(0..present.len())],
                },
                _ => continue,
            };
            let request = Request {
                client: 1,
                seq,
                op: op.clone(),
            };
            configs
                .apply(&request)
                .unwrap_or_else(|e| panic!("seed {seed}: {op:?} refused: {e}"));
            let after = configs.latest();
            assert_eq!(after.num, before.num + 1, "seed {seed}: {op:?}");
            if let CtrlerOp::Move { shard, gid } = op {
                let mut expected = before.shards;
                expected[shard] = gid;
                assert_eq!(
                    after.shards, expected,
                    "seed {seed}: a move moves one shard"
                );
                continue;
            }
            let gids: Vec<Gid> = after.groups.keys().copied().collect();
            let counts: Vec<usize> = gids.iter().map(|&g| after.shards_of(g).len()).collect();
            if gids.is_empty() {
                assert_eq!(after.shards, [0; NSHARDS], "seed {seed}: no groups, gid 0");
            } else {
                assert!(
                    after.shards.iter().all(|g| gids.contains(g)),
                    "seed {seed}: {after} has a shard on an absent group"
                );
                let (max, min) = (counts.iter().max().unwrap(), counts.iter().min().unwrap());
                assert!(max - min <= 1, "seed {seed}: {after} is unbalanced");
            }
            let moved = (0..NSHARDS)
                .filter(|&s| before.shards[s] != after.shards[s])
                .count();
            let mut least = least_moves(&before.shards, &gids);
            if gids.is_empty() {
                least = moved; // everything goes to gid 0: nothing to minimise
            }
            assert_eq!(moved, least, "seed {seed}: {op:?} on {before} gave {after}");
            // The same groups listed in another order give the same assignment.
            let mut reversed = gids.clone();
            reversed.reverse();
            assert_eq!(rebalance(&before.shards, &reversed), after.shards);
            checked += 1;
        }
    }
    println!("  info: {checked} rebalanced configurations checked over {SEQUENCES} sequences");
    println!("  ... Passed");
}
