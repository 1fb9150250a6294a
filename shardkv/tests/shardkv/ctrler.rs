//! The course's shardctrler tests (`src/shardctrler/test_test.go`, Spring 2023): both test
//! functions, with all 11 printed sub-tests, same constants and criteria.
//!
//! One departure, in intent's favour: the course's four "minimal transfers" checks look at
//! groups 1..10, which do not exist at that point, so they can never fail. Here they check
//! what they were meant to: the shards of the groups that stay (100..190, or 1000..1009) do
//! not move when other groups join or leave, and no more shards move than must.

use std::collections::{BTreeMap, BTreeSet};

use harness::report;
use labrpc::sim;
use shardkv::{Config, CtrlerClerk, Gid, NSHARDS};
use tokio::time::Instant;

use crate::ctrler_config::CtrlerConfig;

const NSERVERS: usize = 3;

fn run<F, Fut>(body: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    harness::run_test(harness::COURSE_TEST_BUDGET, body);
}

/// The latest configuration has exactly `groups`, every shard on one of them, and is
/// balanced (max − min shards per group ≤ 1).
async fn check(groups: &[Gid], ck: &mut CtrlerClerk) {
    let c = ck.query(-1).await;
    let have: BTreeSet<Gid> = c.groups.keys().copied().collect();
    let want: BTreeSet<Gid> = groups.iter().copied().collect();
    assert_eq!(have, want, "wrong groups in {c}");
    if !groups.is_empty() {
        for (shard, gid) in c.shards.iter().enumerate() {
            assert!(
                want.contains(gid),
                "shard {shard} -> invalid group {gid} in {c}"
            );
        }
    }
    let counts: Vec<usize> = groups.iter().map(|g| c.shards_of(*g).len()).collect();
    if let (Some(max), Some(min)) = (counts.iter().max(), counts.iter().min()) {
        assert!(
            max - min <= 1,
            "max {max} too much larger than min {min} in {c}"
        );
    }
}

/// The course's minimal-transfer check, as meant: every shard a staying group holds after
/// the change it held before, and exactly the unavoidable number of shards moved.
fn check_minimal(before: &Config, after: &Config, staying: &[Gid], what: &str) {
    for (shard, gid) in after.shards.iter().enumerate() {
        if staying.contains(gid) {
            assert_eq!(
                before.shards[shard], *gid,
                "non-minimal transfer after {what}: shard {shard} moved to staying group {gid}"
            );
        }
    }
    let moved = (0..NSHARDS)
        .filter(|&s| before.shards[s] != after.shards[s])
        .count();
    let gids: Vec<Gid> = after.groups.keys().copied().collect();
    let least = least_moves(&before.shards, &gids);
    assert_eq!(
        moved, least,
        "{what} moved {moved} shards; {least} had to move"
    );
}

/// The fewest shards any balanced assignment of `shards` to `gids` must move: a shard stays
/// only if its group is present and within its share, so this maximises the shards that stay
/// over every choice of which groups get the larger share, by dynamic programming over the
/// groups (independent of the rebalancer's greedy choice).
pub fn least_moves(shards: &[Gid; NSHARDS], gids: &[Gid]) -> usize {
    if gids.is_empty() {
        return shards.iter().filter(|&&g| g != 0).count();
    }
    let n = gids.len();
    let (base, extra) = (NSHARDS / n, NSHARDS % n);
    // stay[k]: the most shards that can stay among the groups so far, k of them larger.
    let mut stay: Vec<Option<usize>> = vec![None; extra + 1];
    stay[0] = Some(0);
    for gid in gids {
        let held = shards.iter().filter(|&&s| s == *gid).count();
        let mut next = vec![None; extra + 1];
        for k in 0..=extra {
            let Some(sofar) = stay[k] else { continue };
            let small = sofar + held.min(base);
            next[k] = next[k].max(Some(small));
            if k < extra {
                let large = sofar + held.min(base + 1);
                next[k + 1] = next[k + 1].max(Some(large));
            }
        }
        stay = next;
    }
    NSHARDS - stay[extra].expect("extra < n, so some choice exists")
}

fn servers(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn one(gid: Gid, names: &[&str]) -> BTreeMap<Gid, Vec<String>> {
    [(gid, servers(names))].into()
}

fn random_server() -> Vec<String> {
    vec![tester::random_string(20)]
}

/// The sub-test's lines: `Test (4A): TITLE ...` then `  ... Passed --  T`.
async fn part<F: std::future::Future<Output = ()>>(title: &str, body: F) {
    report::begin("4A", title);
    let t0 = Instant::now();
    body.await;
    report::passed(t0.elapsed());
}

/// TestBasic: leave/join, historical queries, move, concurrent leave/join, minimal transfers.
#[test]
fn basic_4a() {
    run(|| async {
        let cfg = CtrlerConfig::new(NSERVERS);
        let mut ck = cfg.make_client();
        let mut cfa = vec![Config::default(); 6];

        part("Basic leave/join", async {
            cfa[0] = ck.query(-1).await;
            check(&[], &mut ck).await;
            ck.join(one(1, &["x", "y", "z"])).await.unwrap();
            check(&[1], &mut ck).await;
            cfa[1] = ck.query(-1).await;
            ck.join(one(2, &["a", "b", "c"])).await.unwrap();
            check(&[1, 2], &mut ck).await;
            cfa[2] = ck.query(-1).await;
            let cfx = ck.query(-1).await;
            assert_eq!(
                cfx.groups[&1],
                servers(&["x", "y", "z"]),
                "wrong servers for gid 1"
            );
            assert_eq!(
                cfx.groups[&2],
                servers(&["a", "b", "c"]),
                "wrong servers for gid 2"
            );
            ck.leave(vec![1]).await.unwrap();
            check(&[2], &mut ck).await;
            cfa[4] = ck.query(-1).await;
            ck.leave(vec![2]).await.unwrap();
            cfa[5] = ck.query(-1).await;
        })
        .await;

        part("Historical queries", async {
            for s in 0..NSERVERS {
                cfg.shutdown_server(s);
                for cf in &cfa {
                    let c = ck.query(cf.num as i64).await;
                    assert_eq!(&c, cf, "historical query {} differs", cf.num);
                }
                cfg.start_server(s);
                cfg.connect_all();
            }
        })
        .await;

        part("Move", async {
            ck.join(one(503, &["3a", "3b", "3c"])).await.unwrap();
            ck.join(one(504, &["4a", "4b", "4c"])).await.unwrap();
            for i in 0..NSHARDS {
                let cf = ck.query(-1).await;
                let gid = if i < NSHARDS / 2 { 503 } else { 504 };
                ck.move_shard(i, gid).await.unwrap();
                if cf.shards[i] != gid {
                    let cf1 = ck.query(-1).await;
                    assert!(cf1.num > cf.num, "Move should increase Config.Num");
                }
            }
            let cf2 = ck.query(-1).await;
            for i in 0..NSHARDS {
                let gid = if i < NSHARDS / 2 { 503 } else { 504 };
                assert_eq!(
                    cf2.shards[i], gid,
                    "expected shard {i} on gid {gid}, got {cf2}"
                );
            }
            ck.leave(vec![503]).await.unwrap();
            ck.leave(vec![504]).await.unwrap();
        })
        .await;

        let npara = 10;
        let gids: Vec<Gid> = (0..npara).map(|i| i * 10 + 100).collect();
        part("Concurrent leave/join", async {
            let tasks: Vec<_> = gids
                .iter()
                .map(|&gid| {
                    let mut cka = cfg.make_client();
                    sim::spawn(async move {
                        cka.join([(gid + 1000, random_server())].into())
                            .await
                            .unwrap();
                        cka.join([(gid, random_server())].into()).await.unwrap();
                        cka.leave(vec![gid + 1000]).await.unwrap();
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("a clerk failed");
            }
            check(&gids, &mut ck).await;
        })
        .await;

        let joining: Vec<Gid> = (0..5).map(|i| npara + 1 + i).collect();
        let c1 = ck.query(-1).await;
        let mut c2 = Config::default();
        part("Minimal transfers after joins", async {
            for &gid in &joining {
                ck.join([(gid, random_server())].into()).await.unwrap();
            }
            c2 = ck.query(-1).await;
            check_minimal(&c1, &c2, &gids, "Join()s");
        })
        .await;

        part("Minimal transfers after leaves", async {
            for &gid in &joining {
                ck.leave(vec![gid]).await.unwrap();
            }
            let c3 = ck.query(-1).await;
            check_minimal(&c2, &c3, &gids, "Leave()s");
        })
        .await;

        cfg.cleanup();
    });
}

/// TestMulti: multi-group join/leave, concurrency, minimal transfers, and the same
/// configuration from a new leader.
#[test]
fn multi_4a() {
    run(|| async {
        let cfg = CtrlerConfig::new(NSERVERS);
        let mut ck = cfg.make_client();

        part("Multi-group join/leave", async {
            let mut cfa = vec![Config::default(); 6];
            cfa[0] = ck.query(-1).await;
            check(&[], &mut ck).await;
            let mut both = one(1, &["x", "y", "z"]);
            both.extend(one(2, &["a", "b", "c"]));
            ck.join(both).await.unwrap();
            check(&[1, 2], &mut ck).await;
            cfa[1] = ck.query(-1).await;
            ck.join(one(3, &["j", "k", "l"])).await.unwrap();
            check(&[1, 2, 3], &mut ck).await;
            cfa[2] = ck.query(-1).await;
            let cfx = ck.query(-1).await;
            assert_eq!(
                cfx.groups[&1],
                servers(&["x", "y", "z"]),
                "wrong servers for gid 1"
            );
            assert_eq!(
                cfx.groups[&2],
                servers(&["a", "b", "c"]),
                "wrong servers for gid 2"
            );
            assert_eq!(
                cfx.groups[&3],
                servers(&["j", "k", "l"]),
                "wrong servers for gid 3"
            );
            ck.leave(vec![1, 3]).await.unwrap();
            check(&[2], &mut ck).await;
            cfa[3] = ck.query(-1).await;
            let cfx = ck.query(-1).await;
            assert_eq!(
                cfx.groups[&2],
                servers(&["a", "b", "c"]),
                "wrong servers for gid 2"
            );
            ck.leave(vec![2]).await.unwrap();
        })
        .await;

        let npara = 10;
        let gids: Vec<Gid> = (0..npara).map(|i| i + 1000).collect();
        part("Concurrent multi leave/join", async {
            let tasks: Vec<_> = gids
                .iter()
                .map(|&gid| {
                    let mut cka = cfg.make_client();
                    sim::spawn(async move {
                        let groups = [
                            (gid, servers(&["a", "b", "c"])),
                            (gid + 1000, random_server()),
                            (gid + 2000, random_server()),
                        ];
                        cka.join(groups.into()).await.unwrap();
                        cka.leave(vec![gid + 1000, gid + 2000]).await.unwrap();
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("a clerk failed");
            }
            check(&gids, &mut ck).await;
        })
        .await;

        let joining: Vec<Gid> = (0..5).map(|i| npara + 1 + i).collect();
        let c1 = ck.query(-1).await;
        let mut c2 = Config::default();
        part("Minimal transfers after multijoins", async {
            let m = joining.iter().map(|&g| (g, random_server())).collect();
            ck.join(m).await.unwrap();
            c2 = ck.query(-1).await;
            check_minimal(&c1, &c2, &gids, "multijoin");
        })
        .await;

        part("Minimal transfers after multileaves", async {
            ck.leave(joining.clone()).await.unwrap();
            let c3 = ck.query(-1).await;
            check_minimal(&c2, &c3, &gids, "multileave");
        })
        .await;

        part("Check Same config on servers", async {
            let leader = cfg.leader().expect("Leader not found");
            let c = ck.query(-1).await; // the configuration the leader claims
            cfg.shutdown_server(leader);
            // The course's wait for a new leader exits at once in practice (see the spec):
            // ask straight away, so the clerk's retries find the new leader.
            let c1 = ck.query(-1).await;
            assert_eq!(c, c1, "the new leader's configuration differs");
        })
        .await;

        cfg.cleanup();
    });
}
