//! The course's shardkv tests without concurrent clients: static shards, join then leave,
//! snapshots, and servers that miss configuration changes.

use labrpc::sim;
use tokio::sync::mpsc;

use crate::common::{check_all, check_and_append, put_keys, sleep_ms};
use crate::config::{run, Config};

/// TestStaticShards: two groups, no movement. With one group down, exactly the Gets of its
/// five shards block.
#[test]
fn static_shards_4b() {
    run(|| async {
        let cfg = Config::new(false, -1);
        cfg.begin("static shards");
        let mut ck = cfg.make_client();
        cfg.join(0).await;
        cfg.join(1).await;
        let (ka, va) = put_keys(&mut ck, 10, 20).await;
        check_all(&mut ck, &ka, &va).await;

        // Make sure the data really is sharded: with one group down, some Gets cannot finish.
        cfg.shutdown_group(1);
        cfg.check_logs(); // forbid snapshots

        let (tx, mut rx) = mpsc::unbounded_channel();
        for i in 0..ka.len() {
            let mut ck1 = cfg.make_client(); // only one call allowed per client
            let (key, value, tx) = (ka[i].clone(), va[i].clone(), tx.clone());
            sim::spawn(async move {
                let v = ck1.get(&key).await;
                let outcome = if v == value {
                    String::new()
                } else {
                    format!("Get({key}): expected:\n{value}\nreceived:\n{v}")
                };
                let _ = tx.send(outcome);
            });
        }
        // Wait until no Get has finished for two seconds: about half should have.
        let mut ndone = 0;
        loop {
            tokio::select! {
                outcome = rx.recv() => {
                    let outcome = outcome.expect("the sender is held above");
                    assert!(outcome.is_empty(), "{outcome}");
                    ndone += 1;
                }
                _ = sleep_ms(2000) => break,
            }
        }
        assert_eq!(
            ndone, 5,
            "expected 5 completions with one shard dead; got {ndone}"
        );

        // Bring the crashed group back to life.
        cfg.start_group(1);
        check_all(&mut ck, &ka, &va).await;
        cfg.end();
        cfg.cleanup();
    });
}

/// TestJoinLeave: data moves to a joining group and away from a leaving one.
#[test]
fn join_leave_4b() {
    run(|| async {
        let cfg = Config::new(false, -1);
        cfg.begin("join then leave");
        let mut ck = cfg.make_client();
        cfg.join(0).await;
        let (ka, mut va) = put_keys(&mut ck, 10, 5).await;
        check_all(&mut ck, &ka, &va).await;
        cfg.join(1).await;
        check_and_append(&mut ck, &ka, &mut va, 5).await;
        cfg.leave(0).await;
        check_and_append(&mut ck, &ka, &mut va, 5).await;

        // Allow time for shards to transfer.
        sleep_ms(1000).await;
        cfg.check_logs();
        cfg.shutdown_group(0);
        check_all(&mut ck, &ka, &va).await;
        cfg.end();
        cfg.cleanup();
    });
}

/// TestSnapshot: joins and leaves with snapshots, then every group restarted from them.
#[test]
fn snapshot_4b() {
    run(|| async {
        let cfg = Config::new(false, 1000);
        cfg.begin("snapshots, join, and leave");
        let mut ck = cfg.make_client();
        cfg.join(0).await;
        let (ka, mut va) = put_keys(&mut ck, 30, 20).await;
        check_all(&mut ck, &ka, &va).await;
        cfg.join(1).await;
        cfg.join(2).await;
        cfg.leave(0).await;
        check_and_append(&mut ck, &ka, &mut va, 20).await;
        cfg.leave(1).await;
        cfg.join(0).await;
        check_and_append(&mut ck, &ka, &mut va, 20).await;
        sleep_ms(1000).await;
        check_all(&mut ck, &ka, &va).await;
        sleep_ms(1000).await;
        cfg.check_logs();

        for gi in 0..3 {
            cfg.shutdown_group(gi);
        }
        for gi in 0..3 {
            cfg.start_group(gi);
        }
        check_all(&mut ck, &ka, &va).await;
        cfg.end();
        cfg.cleanup();
    });
}

/// TestMissChange: servers that were down through configuration changes catch up.
#[test]
fn miss_change_4b() {
    run(|| async {
        let cfg = Config::new(false, 1000);
        cfg.begin("servers miss configuration changes");
        let mut ck = cfg.make_client();
        cfg.join(0).await;
        let (ka, mut va) = put_keys(&mut ck, 10, 20).await;
        check_all(&mut ck, &ka, &va).await;
        cfg.join(1).await;

        for gi in 0..3 {
            cfg.shutdown_server(gi, 0);
        }
        cfg.join(2).await;
        cfg.leave(1).await;
        cfg.leave(0).await;
        check_and_append(&mut ck, &ka, &mut va, 20).await;
        cfg.join(1).await;
        check_and_append(&mut ck, &ka, &mut va, 20).await;
        for gi in 0..3 {
            cfg.start_server(gi, 0);
        }
        check_and_append(&mut ck, &ka, &mut va, 20).await;
        sleep_ms(2000).await;

        for gi in 0..3 {
            cfg.shutdown_server(gi, 1);
        }
        cfg.join(0).await;
        cfg.leave(2).await;
        check_and_append(&mut ck, &ka, &mut va, 20).await;
        for gi in 0..3 {
            cfg.start_server(gi, 1);
        }
        check_all(&mut ck, &ka, &va).await;
        cfg.end();
        cfg.cleanup();
    });
}
