//! Part 3B: snapshots. InstallSnapshot to a lagging server, bounded log and snapshot sizes,
//! speed with snapshots, then GenericTests with restarts, unreliable networks and
//! partitions, all with `maxraftstate` = 1000.

use tokio::time::sleep;

use crate::config::generic::{check, generic_test, generic_test_speed, Generic};
use crate::config::{run, Config, ELECTION_TIMEOUT};

const MAXRAFTSTATE: i64 = 1000;

fn snapshots(nclients: usize, unreliable: bool, crash: bool, partitions: bool) -> Generic {
    Generic {
        part: "3B",
        nclients,
        nservers: 5,
        unreliable,
        crash,
        partitions,
        maxraftstate: MAXRAFTSTATE,
        randomkeys: false,
    }
}

/// Fails unless every server's saved Raft state is at most 8 × maxraftstate.
fn check_log_size(cfg: &Config) {
    let size = cfg.log_size();
    let limit = 8 * MAXRAFTSTATE as usize;
    assert!(
        size <= limit,
        "logs were not trimmed ({size} > 8*{MAXRAFTSTATE})"
    );
}

#[test]
fn snapshot_rpc_3b() {
    run(|| async {
        const NSERVERS: usize = 3;
        let cfg = Config::new(NSERVERS, false, MAXRAFTSTATE);
        let mut ck = cfg.make_client(&cfg.all());
        cfg.begin("3B", "InstallSnapshot RPC");
        ck.put("a", "A").await;
        check(&mut ck, "a", "A").await;

        // A bunch of puts into the majority partition.
        cfg.partition(&[0, 1], &[2]);
        {
            let mut ck1 = cfg.make_client(&[0, 1]);
            for i in 0..50 {
                ck1.put(&i.to_string(), &i.to_string()).await;
            }
            sleep(ELECTION_TIMEOUT).await;
            ck1.put("b", "B").await;
        }
        // The majority has thrown away most of its log.
        check_log_size(&cfg);

        // A majority that needs the lagging server, which must catch up.
        cfg.partition(&[0, 2], &[1]);
        {
            let mut ck1 = cfg.make_client(&[0, 2]);
            ck1.put("c", "C").await;
            ck1.put("d", "D").await;
            check(&mut ck1, "a", "A").await;
            check(&mut ck1, "b", "B").await;
            check(&mut ck1, "1", "1").await;
            check(&mut ck1, "49", "49").await;
        }

        // Now everybody.
        cfg.partition(&[0, 1, 2], &[]);
        ck.put("e", "E").await;
        check(&mut ck, "c", "C").await;
        check(&mut ck, "e", "E").await;
        check(&mut ck, "1", "1").await;
        cfg.end();
        cfg.cleanup();
    });
}

#[test]
fn snapshot_size_3b() {
    run(|| async {
        const NSERVERS: usize = 3;
        const MAX_SNAPSHOT_STATE: usize = 500;
        let cfg = Config::new(NSERVERS, false, MAXRAFTSTATE);
        let mut ck = cfg.make_client(&cfg.all());
        cfg.begin("3B", "snapshot size is reasonable");
        for _ in 0..200 {
            ck.put("x", "0").await;
            check(&mut ck, "x", "0").await;
            ck.put("x", "1").await;
            check(&mut ck, "x", "1").await;
        }
        // The servers have thrown away most of their logs...
        check_log_size(&cfg);
        // ...and their snapshots are not unreasonably large.
        let size = cfg.snapshot_size();
        assert!(
            size <= MAX_SNAPSHOT_STATE,
            "snapshot too large ({size} > {MAX_SNAPSHOT_STATE})"
        );
        cfg.end();
        cfg.cleanup();
    });
}

#[test]
fn speed_3b() {
    run(|| generic_test_speed("3B", MAXRAFTSTATE));
}

#[test]
fn snapshot_recover_3b() {
    run(|| generic_test(snapshots(1, false, true, false)));
}

#[test]
fn snapshot_recover_many_clients_3b() {
    run(|| generic_test(snapshots(20, false, true, false)));
}

#[test]
fn snapshot_unreliable_3b() {
    run(|| generic_test(snapshots(5, true, false, false)));
}

#[test]
fn snapshot_unreliable_recover_3b() {
    run(|| generic_test(snapshots(5, true, true, false)));
}

#[test]
fn snapshot_unreliable_recover_concurrent_partition_3b() {
    run(|| generic_test(snapshots(5, true, true, true)));
}

#[test]
fn snapshot_unreliable_recover_concurrent_partition_linearizable_3b() {
    run(|| {
        generic_test(Generic {
            nservers: 7,
            randomkeys: true,
            ..snapshots(15, true, true, true)
        })
    });
}
