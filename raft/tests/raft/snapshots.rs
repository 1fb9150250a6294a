//! Part 2D: log compaction. Every config here runs the snapshotting applier, which
//! snapshots after each index i with (i+1) % 10 == 0.

use labrpc::sim;

use crate::config::{random_cmd, random_int, run, Config, MAX_LOG_SIZE, SNAPSHOT_INTERVAL};

/// The scenario the install-snapshot tests share: 30 iterations of sending 5–14 commands
/// while a victim (usually a follower, every third time the leader) is optionally
/// disconnected or crashed, then brought back, perhaps needing a snapshot to catch up.
async fn snap_common(part_title: &str, disconnect: bool, reliable: bool, crash: bool) {
    let iters = 30;
    let servers = 3;
    let cfg = Config::new(servers, !reliable, true);
    cfg.begin("2D", part_title);

    cfg.one(random_cmd(), servers, true).await;
    let mut leader1 = cfg.check_one_leader().await;

    for i in 0..iters {
        let mut victim = (leader1 + 1) % servers;
        let mut sender = leader1;
        if i % 3 == 1 {
            sender = (leader1 + 1) % servers;
            victim = leader1;
        }

        if disconnect {
            cfg.disconnect(victim);
            cfg.one(random_cmd(), servers - 1, true).await;
        }
        if crash {
            cfg.crash1(victim);
            cfg.one(random_cmd(), servers - 1, true).await;
        }

        // Perhaps send enough to get a snapshot.
        let nn = SNAPSHOT_INTERVAL / 2 + random_int() % SNAPSHOT_INTERVAL;
        for _ in 0..nn {
            cfg.start(sender, random_cmd());
        }

        // Let the applier tasks catch up with the Start()s.
        if !disconnect && !crash {
            // Make sure all followers have caught up, so that an InstallSnapshot RPC isn't
            // required for snapshot_basic_2d.
            cfg.one(random_cmd(), servers, true).await;
        } else {
            cfg.one(random_cmd(), servers - 1, true).await;
        }

        if cfg.log_size() >= MAX_LOG_SIZE {
            panic!("Log size too large");
        }
        if disconnect {
            // Reconnect a follower, who may be behind and need a snapshot to catch up.
            cfg.connect(victim);
            cfg.one(random_cmd(), servers, true).await;
            leader1 = cfg.check_one_leader().await;
        }
        if crash {
            cfg.start1(victim);
            cfg.connect(victim);
            cfg.one(random_cmd(), servers, true).await;
            leader1 = cfg.check_one_leader().await;
        }
    }
    cfg.end();
}

#[test]
fn snapshot_basic_2d() {
    run(|| snap_common("snapshots basic", false, true, false));
}

#[test]
fn snapshot_install_2d() {
    run(|| snap_common("install snapshots (disconnect)", true, true, false));
}

#[test]
fn snapshot_install_unreliable_2d() {
    run(|| {
        snap_common(
            "install snapshots (disconnect+unreliable)",
            true,
            false,
            false,
        )
    });
}

#[test]
fn snapshot_install_crash_2d() {
    run(|| snap_common("install snapshots (crash)", false, true, true));
}

#[test]
fn snapshot_install_uncrash_2d() {
    run(|| snap_common("install snapshots (unreliable+crash)", false, false, true));
}

/// Crashes and restarts all servers, checking that the log index never goes backwards.
#[test]
fn snapshot_all_crash_2d() {
    run(|| async {
        let servers = 3;
        let iters = 5;
        let cfg = Config::new(servers, false, true);
        cfg.begin("2D", "crash and restart all servers");

        cfg.one(random_cmd(), servers, true).await;

        for _ in 0..iters {
            // Perhaps enough to get a snapshot.
            let nn = SNAPSHOT_INTERVAL / 2 + sim::random_range(0..SNAPSHOT_INTERVAL);
            for _ in 0..nn {
                cfg.one(random_cmd(), servers, true).await;
            }

            let index1 = cfg.one(random_cmd(), servers, true).await;

            // Crash all, then revive all.
            for i in 0..servers {
                cfg.crash1(i);
            }
            for i in 0..servers {
                cfg.start1(i);
                cfg.connect(i);
            }

            let index2 = cfg.one(random_cmd(), servers, true).await;
            assert!(index2 > index1, "index decreased from {index1} to {index2}");
        }

        cfg.end();
    });
}

/// Do servers correctly initialize their in-memory copy of the snapshot, making sure that
/// future writes to persistent state don't lose it?
#[test]
fn snapshot_init_2d() {
    run(|| async {
        let servers = 3;
        let cfg = Config::new(servers, false, true);
        cfg.begin("2D", "snapshot initialization after crash");

        cfg.one(random_cmd(), servers, true).await;

        // Enough ops to make a snapshot.
        for _ in 0..SNAPSHOT_INTERVAL + 1 {
            cfg.one(random_cmd(), servers, true).await;
        }

        // Crash all, then revive all.
        for i in 0..servers {
            cfg.crash1(i);
        }
        for i in 0..servers {
            cfg.start1(i);
            cfg.connect(i);
        }

        // A single op, to get something written back to persistent storage.
        cfg.one(random_cmd(), servers, true).await;

        // Crash all, then revive all.
        for i in 0..servers {
            cfg.crash1(i);
        }
        for i in 0..servers {
            cfg.start1(i);
            cfg.connect(i);
        }

        // Another op, to trigger a potential bug.
        cfg.one(random_cmd(), servers, true).await;

        cfg.end();
    });
}
