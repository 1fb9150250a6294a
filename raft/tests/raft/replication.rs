//! Part 2B: log replication.

use std::time::Duration;

use labrpc::sim;
use tokio::time::sleep;

use crate::config::{cmd, cmd_value, random_cmd, run, Config, RAFT_ELECTION_TIMEOUT};
use tester::random_string;

#[test]
fn basic_agree_2b() {
    run(|| async {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("2B", "basic agreement");

        for index in 1..=3 {
            let (nd, _) = cfg.n_committed(index);
            assert!(nd == 0, "some have committed before Start()");

            let xindex = cfg.one(cmd(index * 100), servers, false).await;
            assert_eq!(xindex, index, "got index {xindex} but expected {index}");
        }

        cfg.end();
    });
}

/// Checks, by counting the bytes of RPCs, that each command is sent to each peer just once.
#[test]
fn rpc_bytes_2b() {
    run(|| async {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("2B", "RPC byte count");

        cfg.one(cmd(99), servers, false).await;
        let bytes0 = cfg.bytes_total();

        let mut sent = 0;
        for index in 2..12 {
            let command = random_string(5000).into_bytes();
            sent += command.len() as u64;
            let xindex = cfg.one(command, servers, false).await;
            assert_eq!(xindex, index, "got index {xindex} but expected {index}");
        }

        let got = cfg.bytes_total() - bytes0;
        let expected = servers as u64 * sent;
        assert!(
            got <= expected + 50_000,
            "too many RPC bytes; got {got}, expected {expected}"
        );

        cfg.end();
    });
}

/// Tests just the failure of followers.
#[test]
fn follower_failure_2b() {
    run(|| async {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("2B", "test progressive failure of followers");

        cfg.one(cmd(101), servers, false).await;

        // Disconnect one follower from the network.
        let leader1 = cfg.check_one_leader().await;
        cfg.disconnect((leader1 + 1) % servers);

        // The leader and remaining follower should be able to agree despite the
        // disconnected follower.
        cfg.one(cmd(102), servers - 1, false).await;
        sleep(RAFT_ELECTION_TIMEOUT).await;
        cfg.one(cmd(103), servers - 1, false).await;

        // Disconnect the remaining follower.
        let leader2 = cfg.check_one_leader().await;
        cfg.disconnect((leader2 + 1) % servers);
        cfg.disconnect((leader2 + 2) % servers);

        // Submit a command.
        let (index, _) = cfg
            .start(leader2, cmd(104))
            .unwrap_or_else(|| panic!("leader rejected Start()"));
        assert_eq!(index, 4, "expected index 4, got {index}");

        sleep(2 * RAFT_ELECTION_TIMEOUT).await;

        // Check that command 104 did not commit.
        let (n, _) = cfg.n_committed(index);
        assert!(n == 0, "{n} committed but no majority");

        cfg.end();
    });
}

/// Tests just the failure of leaders.
#[test]
fn leader_failure_2b() {
    run(|| async {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("2B", "test failure of leaders");

        cfg.one(cmd(101), servers, false).await;

        // Disconnect the first leader.
        let leader1 = cfg.check_one_leader().await;
        cfg.disconnect(leader1);

        // The remaining followers should elect a new leader.
        cfg.one(cmd(102), servers - 1, false).await;
        sleep(RAFT_ELECTION_TIMEOUT).await;
        cfg.one(cmd(103), servers - 1, false).await;

        // Disconnect the new leader.
        let leader2 = cfg.check_one_leader().await;
        cfg.disconnect(leader2);

        // Submit a command to each server.
        for i in 0..servers {
            cfg.start(i, cmd(104));
        }

        sleep(2 * RAFT_ELECTION_TIMEOUT).await;

        // Check that command 104 did not commit.
        let (n, _) = cfg.n_committed(4);
        assert!(n == 0, "{n} committed but no majority");

        cfg.end();
    });
}

/// Tests that a follower participates after disconnect and re-connect.
#[test]
fn fail_agree_2b() {
    run(|| async {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("2B", "agreement after follower reconnects");

        cfg.one(cmd(101), servers, false).await;

        // Disconnect one follower from the network.
        let leader = cfg.check_one_leader().await;
        cfg.disconnect((leader + 1) % servers);

        // The leader and remaining follower should be able to agree despite the
        // disconnected follower.
        cfg.one(cmd(102), servers - 1, false).await;
        cfg.one(cmd(103), servers - 1, false).await;
        sleep(RAFT_ELECTION_TIMEOUT).await;
        cfg.one(cmd(104), servers - 1, false).await;
        cfg.one(cmd(105), servers - 1, false).await;

        // Re-connect.
        cfg.connect((leader + 1) % servers);

        // The full set of servers should preserve previous agreements, and be able to agree
        // on new commands.
        cfg.one(cmd(106), servers, true).await;
        sleep(RAFT_ELECTION_TIMEOUT).await;
        cfg.one(cmd(107), servers, true).await;

        cfg.end();
    });
}

#[test]
fn fail_no_agree_2b() {
    run(|| async {
        let servers = 5;
        let cfg = Config::new(servers, false, false);
        cfg.begin("2B", "no agreement if too many followers disconnect");

        cfg.one(cmd(10), servers, false).await;

        // 3 of 5 followers disconnect.
        let leader = cfg.check_one_leader().await;
        cfg.disconnect((leader + 1) % servers);
        cfg.disconnect((leader + 2) % servers);
        cfg.disconnect((leader + 3) % servers);

        let (index, _) = cfg
            .start(leader, cmd(20))
            .unwrap_or_else(|| panic!("leader rejected Start()"));
        assert_eq!(index, 2, "expected index 2, got {index}");

        sleep(2 * RAFT_ELECTION_TIMEOUT).await;

        let (n, _) = cfg.n_committed(index);
        assert!(n == 0, "{n} committed but no majority");

        // Repair.
        cfg.connect((leader + 1) % servers);
        cfg.connect((leader + 2) % servers);
        cfg.connect((leader + 3) % servers);

        // The disconnected majority may have chosen a leader from among their own ranks,
        // forgetting index 2.
        let leader2 = cfg.check_one_leader().await;
        let (index2, _) = cfg
            .start(leader2, cmd(30))
            .unwrap_or_else(|| panic!("leader2 rejected Start()"));
        assert!((2..=3).contains(&index2), "unexpected index {index2}");

        cfg.one(cmd(1000), servers, true).await;

        cfg.end();
    });
}

#[test]
fn concurrent_starts_2b() {
    run(|| async {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("2B", "concurrent Start()s");

        let mut success = false;
        'tries: for attempt in 0..5 {
            if attempt > 0 {
                // Give the solution some time to settle.
                sleep(Duration::from_secs(3)).await;
            }

            let leader = cfg.check_one_leader().await;
            let Some((_, term)) = cfg.start(leader, cmd(1)) else {
                // The leader moved on really quickly.
                continue;
            };

            let iters = 5;
            let mut starters = Vec::new();
            for ii in 0..iters {
                let cfg = cfg.clone();
                starters.push(sim::spawn(async move {
                    match cfg.start(leader, cmd(100 + ii)) {
                        Some((index, term1)) if term1 == term => Some(index),
                        _ => None,
                    }
                }));
            }
            let mut indexes = Vec::new();
            for starter in starters {
                if let Some(index) = starter.await.expect("a starter task failed") {
                    indexes.push(index);
                }
            }

            for j in 0..servers {
                if cfg.get_state(j).0 != term {
                    // Term changed: can't expect low RPC counts.
                    continue 'tries;
                }
            }

            let mut cmds = Vec::new();
            for index in indexes {
                match cfg.wait(index, servers, Some(term)).await {
                    Some(command) => cmds.push(
                        cmd_value(&command)
                            .unwrap_or_else(|| panic!("value {command:?} is not an int")),
                    ),
                    // Peers have moved on to later terms, so we can't expect all Start()s to
                    // have succeeded.
                    None => continue 'tries,
                }
            }

            for ii in 0..iters {
                let x = 100 + ii;
                assert!(cmds.contains(&x), "cmd {x} missing in {cmds:?}");
            }

            success = true;
            break;
        }
        assert!(success, "term changed too often");

        cfg.end();
    });
}

#[test]
fn rejoin_2b() {
    run(|| async {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("2B", "rejoin of partitioned leader");

        cfg.one(cmd(101), servers, true).await;

        // Leader network failure.
        let leader1 = cfg.check_one_leader().await;
        cfg.disconnect(leader1);

        // Make the old leader try to agree on some entries.
        cfg.start(leader1, cmd(102));
        cfg.start(leader1, cmd(103));
        cfg.start(leader1, cmd(104));

        // The new leader commits, also for index=2.
        cfg.one(cmd(103), 2, true).await;

        // New leader network failure.
        let leader2 = cfg.check_one_leader().await;
        cfg.disconnect(leader2);

        // Old leader connected again.
        cfg.connect(leader1);

        cfg.one(cmd(104), 2, true).await;

        // All together now.
        cfg.connect(leader2);

        cfg.one(cmd(105), servers, true).await;

        cfg.end();
    });
}

#[test]
fn backup_2b() {
    run(|| async {
        let servers = 5;
        let cfg = Config::new(servers, false, false);
        cfg.begin("2B", "leader backs up quickly over incorrect follower logs");

        cfg.one(random_cmd(), servers, true).await;

        // Put the leader and one follower in a partition.
        let leader1 = cfg.check_one_leader().await;
        cfg.disconnect((leader1 + 2) % servers);
        cfg.disconnect((leader1 + 3) % servers);
        cfg.disconnect((leader1 + 4) % servers);

        // Submit lots of commands that won't commit.
        for _ in 0..50 {
            cfg.start(leader1, random_cmd());
        }

        sleep(RAFT_ELECTION_TIMEOUT / 2).await;

        cfg.disconnect(leader1 % servers);
        cfg.disconnect((leader1 + 1) % servers);

        // Allow the other partition to recover.
        cfg.connect((leader1 + 2) % servers);
        cfg.connect((leader1 + 3) % servers);
        cfg.connect((leader1 + 4) % servers);

        // Lots of successful commands to the new group.
        for _ in 0..50 {
            cfg.one(random_cmd(), 3, true).await;
        }

        // Now another partitioned leader and one follower.
        let leader2 = cfg.check_one_leader().await;
        let mut other = (leader1 + 2) % servers;
        if leader2 == other {
            other = (leader2 + 1) % servers;
        }
        cfg.disconnect(other);

        // Lots more commands that won't commit.
        for _ in 0..50 {
            cfg.start(leader2, random_cmd());
        }

        sleep(RAFT_ELECTION_TIMEOUT / 2).await;

        // Bring the original leader back to life.
        for i in 0..servers {
            cfg.disconnect(i);
        }
        cfg.connect(leader1 % servers);
        cfg.connect((leader1 + 1) % servers);
        cfg.connect(other);

        // Lots of successful commands to the new group.
        for _ in 0..50 {
            cfg.one(random_cmd(), 3, true).await;
        }

        // Now everyone.
        for i in 0..servers {
            cfg.connect(i);
        }
        cfg.one(random_cmd(), servers, true).await;

        cfg.end();
    });
}

#[test]
fn count_2b() {
    run(|| async {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("2B", "RPC counts aren't too high");

        let rpcs = || (0..servers).map(|j| cfg.rpc_count(j)).sum::<u64>();

        cfg.check_one_leader().await;

        let mut total1 = rpcs();
        assert!(
            (1..=30).contains(&total1),
            "too many or few RPCs ({total1}) to elect initial leader"
        );

        let mut total2 = 0;
        let mut success = false;
        'tries: for attempt in 0..5 {
            if attempt > 0 {
                // Give the solution some time to settle.
                sleep(Duration::from_secs(3)).await;
            }

            let leader = cfg.check_one_leader().await;
            total1 = rpcs();

            let iters = 10;
            let Some((starti, term)) = cfg.start(leader, cmd(1)) else {
                // The leader moved on really quickly.
                continue;
            };
            let mut cmds = Vec::new();
            for i in 1..iters + 2 {
                let x = sim::random_range(0..1u64 << 31);
                cmds.push(x);
                match cfg.start(leader, cmd(x)) {
                    Some((index1, term1)) if term1 == term => {
                        assert_eq!(starti + i, index1, "Start() failed");
                    }
                    // Term changed while starting, or no longer the leader.
                    _ => continue 'tries,
                }
            }

            for i in 1..iters + 1 {
                match cfg.wait(starti + i, servers, Some(term)).await {
                    Some(command) => {
                        let expected = cmds[i as usize - 1];
                        assert!(
                            cmd_value(&command) == Some(expected),
                            "wrong value {command:?} committed for index {}; expected {cmds:?}",
                            starti + i
                        );
                    }
                    // Term changed: try again.
                    None => continue 'tries,
                }
            }

            let mut failed = false;
            total2 = 0;
            for j in 0..servers {
                if cfg.get_state(j).0 != term {
                    // Term changed: can't expect low RPC counts. Keep going to update total2.
                    failed = true;
                }
                total2 += cfg.rpc_count(j);
            }
            if failed {
                continue;
            }

            assert!(
                total2 - total1 <= (iters + 1 + 3) * 3,
                "too many RPCs ({}) for {iters} entries",
                total2 - total1
            );

            success = true;
            break;
        }
        assert!(success, "term changed too often");

        sleep(RAFT_ELECTION_TIMEOUT).await;

        let total3 = rpcs();
        assert!(
            total3 - total2 <= 3 * 20,
            "too many RPCs ({}) for 1 second of idleness",
            total3 - total2
        );

        cfg.end();
    });
}
