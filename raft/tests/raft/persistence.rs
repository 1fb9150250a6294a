//! Part 2C: persistence. A restart is `start1` (crash, then start from the saved state).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use labrpc::sim;
use tokio::time::sleep;

use crate::config::{cmd, cmd_value, random_cmd, random_int, run, Config, RAFT_ELECTION_TIMEOUT};

#[test]
fn persist1_2c() {
    run(|| async {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("2C", "basic persistence");

        cfg.one(cmd(11), servers, true).await;

        // Crash and re-start all.
        for i in 0..servers {
            cfg.start1(i);
        }
        for i in 0..servers {
            cfg.disconnect(i);
            cfg.connect(i);
        }

        cfg.one(cmd(12), servers, true).await;

        let leader1 = cfg.check_one_leader().await;
        cfg.disconnect(leader1);
        cfg.start1(leader1);
        cfg.connect(leader1);

        cfg.one(cmd(13), servers, true).await;

        let leader2 = cfg.check_one_leader().await;
        cfg.disconnect(leader2);
        cfg.one(cmd(14), servers - 1, true).await;
        cfg.start1(leader2);
        cfg.connect(leader2);

        cfg.wait(4, servers, None).await; // wait for leader2 to join before killing i3

        let i3 = (cfg.check_one_leader().await + 1) % servers;
        cfg.disconnect(i3);
        cfg.one(cmd(15), servers - 1, true).await;
        cfg.start1(i3);
        cfg.connect(i3);

        cfg.one(cmd(16), servers, true).await;

        cfg.end();
    });
}

#[test]
fn persist2_2c() {
    run(|| async {
        let servers = 5;
        let cfg = Config::new(servers, false, false);
        cfg.begin("2C", "more persistence");

        let mut index = 1;
        for _ in 0..5 {
            cfg.one(cmd(10 + index), servers, true).await;
            index += 1;

            let leader1 = cfg.check_one_leader().await;

            cfg.disconnect((leader1 + 1) % servers);
            cfg.disconnect((leader1 + 2) % servers);

            cfg.one(cmd(10 + index), servers - 2, true).await;
            index += 1;

            cfg.disconnect(leader1 % servers);
            cfg.disconnect((leader1 + 3) % servers);
            cfg.disconnect((leader1 + 4) % servers);

            cfg.start1((leader1 + 1) % servers);
            cfg.start1((leader1 + 2) % servers);
            cfg.connect((leader1 + 1) % servers);
            cfg.connect((leader1 + 2) % servers);

            sleep(RAFT_ELECTION_TIMEOUT).await;

            cfg.start1((leader1 + 3) % servers);
            cfg.connect((leader1 + 3) % servers);

            cfg.one(cmd(10 + index), servers - 2, true).await;
            index += 1;

            cfg.connect((leader1 + 4) % servers);
            cfg.connect(leader1 % servers);
        }

        cfg.one(cmd(1000), servers, true).await;

        cfg.end();
    });
}

#[test]
fn persist3_2c() {
    run(|| async {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin(
            "2C",
            "partitioned leader and one follower crash, leader restarts",
        );

        cfg.one(cmd(101), 3, true).await;

        let leader = cfg.check_one_leader().await;
        cfg.disconnect((leader + 2) % servers);

        cfg.one(cmd(102), 2, true).await;

        cfg.crash1(leader % servers);
        cfg.crash1((leader + 1) % servers);
        cfg.connect((leader + 2) % servers);
        cfg.start1(leader % servers);
        cfg.connect(leader % servers);

        cfg.one(cmd(103), 2, true).await;

        cfg.start1((leader + 1) % servers);
        cfg.connect((leader + 1) % servers);

        cfg.one(cmd(104), servers, true).await;

        cfg.end();
    });
}

/// Test the scenarios described in Figure 8 of the extended Raft paper. Each iteration asks
/// a leader, if there is one, to insert a command in the Raft log. If there is a leader,
/// that leader will fail quickly with a high probability (perhaps without committing the
/// command), or crash after a while with low probability (most likely committing the
/// command). If the number of alive servers isn't enough to form a majority, perhaps start a
/// new server. The leader in a new term may try to finish replicating log entries that
/// haven't been committed yet.
#[test]
fn figure_8_2c() {
    run(|| async {
        let servers = 5;
        let cfg = Config::new(servers, false, false);
        cfg.begin("2C", "Figure 8");

        cfg.one(random_cmd(), 1, true).await;

        let mut nup = servers;
        for _ in 0..1000 {
            let mut leader = None;
            for i in 0..servers {
                if cfg.start(i, random_cmd()).is_some() {
                    leader = Some(i);
                }
            }

            sleep(figure_8_pause()).await;

            if let Some(leader) = leader {
                cfg.crash1(leader);
                nup -= 1;
            }

            if nup < 3 {
                let s = sim::random_range(0..servers);
                if cfg.raft(s).is_none() {
                    cfg.start1(s);
                    cfg.connect(s);
                    nup += 1;
                }
            }
        }

        for i in 0..servers {
            if cfg.raft(i).is_none() {
                cfg.start1(i);
                cfg.connect(i);
            }
        }

        cfg.one(random_cmd(), servers, true).await;

        cfg.end();
    });
}

/// The Figure 8 tests' pause between iterations: with probability 1/10 up to half an
/// election timeout, else up to 12 ms.
fn figure_8_pause() -> Duration {
    let ms = if sim::random_range(0..1000) < 100 {
        sim::random_range(0..RAFT_ELECTION_TIMEOUT.as_millis() as u64 / 2)
    } else {
        sim::random_range(0..13)
    };
    Duration::from_millis(ms)
}

#[test]
fn unreliable_agree_2c() {
    run(|| async {
        let servers = 5;
        let cfg = Config::new(servers, true, false);
        cfg.begin("2C", "unreliable agreement");

        let mut clients = Vec::new();
        for iters in 1..50 {
            for j in 0..4 {
                let cfg = cfg.clone();
                clients.push(sim::spawn(async move {
                    cfg.one(cmd(100 * iters + j), 1, true).await;
                }));
            }
            cfg.one(cmd(iters), 1, true).await;
        }

        cfg.set_unreliable(false);

        for client in clients {
            client.await.expect("a client task failed");
        }

        cfg.one(cmd(100), servers, true).await;

        cfg.end();
    });
}

#[test]
fn figure_8_unreliable_2c() {
    run(|| async {
        let servers = 5;
        let cfg = Config::new(servers, true, false);
        cfg.begin("2C", "Figure 8 (unreliable)");

        cfg.one(cmd(random_int() % 10000), 1, true).await;

        let mut nup = servers;
        for iters in 0..1000 {
            if iters == 200 {
                cfg.set_long_reordering(true);
            }
            let mut leader = None;
            for i in 0..servers {
                if cfg.start(i, cmd(random_int() % 10000)).is_some() && cfg.is_connected(i) {
                    leader = Some(i);
                }
            }

            sleep(figure_8_pause()).await;

            if let Some(leader) = leader {
                if sim::random_range(0..1000) < RAFT_ELECTION_TIMEOUT.as_millis() as u64 / 2 {
                    cfg.disconnect(leader);
                    nup -= 1;
                }
            }

            if nup < 3 {
                let s = sim::random_range(0..servers);
                if !cfg.is_connected(s) {
                    cfg.connect(s);
                    nup += 1;
                }
            }
        }

        for i in 0..servers {
            if !cfg.is_connected(i) {
                cfg.connect(i);
            }
        }

        cfg.one(cmd(random_int() % 10000), servers, true).await;

        cfg.end();
    });
}

/// The churn tests: clients propose while peers are disconnected, crashed and restarted at
/// random; every value a client saw committed must be in the final log.
pub(crate) async fn internal_churn(unreliable: bool) {
    let servers = 5;
    let cfg = Config::new(servers, unreliable, false);
    if unreliable {
        cfg.begin("2C", "unreliable churn");
    } else {
        cfg.begin("2C", "churn");
    }

    let stop = Arc::new(AtomicBool::new(false));

    // Concurrent clients.
    let client = |me: u64, cfg: Config, stop: Arc<AtomicBool>| async move {
        let mut values = Vec::new();
        while !stop.load(Ordering::Acquire) {
            let x = random_int();
            let mut index = None;
            for i in 0..servers {
                // Try them all: maybe one of them is a leader.
                if let Some((index1, _)) = cfg.start(i, cmd(x)) {
                    index = Some(index1);
                }
            }
            if let Some(index) = index {
                // Maybe the leader will commit our value, maybe not, but don't wait forever.
                for pause in [10, 20, 50, 100, 200] {
                    let (nd, command) = cfg.n_committed(index);
                    if nd > 0 {
                        let xx = command
                            .as_deref()
                            .and_then(cmd_value)
                            .unwrap_or_else(|| panic!("wrong command type"));
                        if xx == x {
                            values.push(x);
                        }
                        break;
                    }
                    sleep(Duration::from_millis(pause)).await;
                }
            } else {
                sleep(Duration::from_millis(79 + me * 17)).await;
            }
        }
        values
    };

    let ncli = 3;
    let clients: Vec<_> = (0..ncli)
        .map(|me| sim::spawn(client(me, cfg.clone(), stop.clone())))
        .collect();

    for _ in 0..20 {
        if sim::random_range(0..1000) < 200 {
            let i = sim::random_range(0..servers);
            cfg.disconnect(i);
        }

        if sim::random_range(0..1000) < 500 {
            let i = sim::random_range(0..servers);
            if cfg.raft(i).is_none() {
                cfg.start1(i);
            }
            cfg.connect(i);
        }

        if sim::random_range(0..1000) < 200 {
            let i = sim::random_range(0..servers);
            if cfg.raft(i).is_some() {
                cfg.crash1(i);
            }
        }

        // Make crash/restart infrequent enough that the peers can often keep up, but not so
        // infrequent that everything has settled down from one change to the next. Pick a
        // value smaller than the election timeout, but not hugely smaller.
        sleep(RAFT_ELECTION_TIMEOUT * 7 / 10).await;
    }

    sleep(RAFT_ELECTION_TIMEOUT).await;
    cfg.set_unreliable(false);
    for i in 0..servers {
        if cfg.raft(i).is_none() {
            cfg.start1(i);
        }
        cfg.connect(i);
    }

    stop.store(true, Ordering::Release);

    let mut values = Vec::new();
    for client in clients {
        let seen = client.await.unwrap_or_else(|_| panic!("client failed"));
        values.extend(seen);
    }

    sleep(RAFT_ELECTION_TIMEOUT).await;

    let last_index = cfg.one(random_cmd(), servers, true).await;

    let mut really = Vec::new();
    for index in 1..=last_index {
        let v = cfg.wait(index, servers, None).await;
        really.push(v.as_deref().and_then(cmd_value).expect("not an int"));
    }

    for v1 in values {
        assert!(really.contains(&v1), "didn't find a value");
    }

    cfg.end();
}

#[test]
fn reliable_churn_2c() {
    run(|| internal_churn(false));
}

#[test]
fn unreliable_churn_2c() {
    run(|| internal_churn(true));
}
