//! The course's shardkv tests with concurrent clients and configuration changes, with and
//! without restarts.
//!
//! Beyond the course, every client operation goes into a history that must be
//! linearizable; the course checks only the final values (which these tests check too).

use std::time::Duration;

use labrpc::sim;

use crate::common::{check_all, put_keys, sleep_ms, Appenders};
use crate::config::{run, Config, History};

/// TestConcurrent1: appends every 10 ms while groups join, leave, and all restart.
#[test]
fn concurrent1_4b() {
    run(|| async {
        let cfg = Config::new(false, 100);
        cfg.begin("concurrent puts and configuration changes");
        let history = History::new();
        let mut ck = cfg.make_client();
        ck.record_in(&history, 0);
        cfg.join(0).await;
        let (ka, va) = put_keys(&mut ck, 10, 5).await;
        let appenders = Appenders::start(&cfg, &ka, &va, 5, Duration::from_millis(10), &history);

        sleep_ms(150).await;
        cfg.join(1).await;
        sleep_ms(500).await;
        cfg.join(2).await;
        sleep_ms(500).await;
        cfg.leave(0).await;
        cfg.shutdown_group(0);
        sleep_ms(100).await;
        cfg.shutdown_group(1);
        sleep_ms(100).await;
        cfg.shutdown_group(2);
        cfg.leave(2).await;
        sleep_ms(100).await;
        cfg.start_group(0);
        cfg.start_group(1);
        cfg.start_group(2);
        sleep_ms(100).await;
        cfg.join(0).await;
        cfg.leave(1).await;
        sleep_ms(500).await;
        cfg.join(1).await;
        sleep_ms(1000).await;

        let va = appenders.stop().await;
        check_all(&mut ck, &ka, &va).await;
        history.check("concurrent1_4b");
        cfg.end();
        cfg.cleanup();
    });
}

/// TestConcurrent2: the various sources from which a restarting group might need to fetch
/// shard contents.
#[test]
fn concurrent2_4b() {
    run(|| async {
        let cfg = Config::new(false, -1);
        cfg.begin("more concurrent puts and configuration changes");
        let history = History::new();
        let mut ck = cfg.make_client();
        ck.record_in(&history, 0);
        cfg.join(1).await;
        cfg.join(0).await;
        cfg.join(2).await;
        let (ka, va) = put_keys(&mut ck, 10, 1).await;
        let appenders = Appenders::start(&cfg, &ka, &va, 1, Duration::from_millis(50), &history);

        cfg.leave(0).await;
        cfg.leave(2).await;
        sleep_ms(3000).await;
        cfg.join(0).await;
        cfg.join(2).await;
        cfg.leave(1).await;
        sleep_ms(3000).await;
        cfg.join(1).await;
        cfg.leave(0).await;
        cfg.leave(2).await;
        sleep_ms(3000).await;
        cfg.shutdown_group(1);
        cfg.shutdown_group(2);
        sleep_ms(1000).await;
        cfg.start_group(1);
        cfg.start_group(2);
        sleep_ms(2000).await;

        let va = appenders.stop().await;
        check_all(&mut ck, &ka, &va).await;
        history.check("concurrent2_4b");
        cfg.end();
        cfg.cleanup();
    });
}

/// TestConcurrent3: for 12 s, groups join, every group restarts, groups leave, at random
/// moments, while clients append back to back.
#[test]
fn concurrent3_4b() {
    run(|| async {
        let cfg = Config::new(false, 300);
        cfg.begin("concurrent configuration change and restart");
        let history = History::new();
        let mut ck = cfg.make_client();
        ck.record_in(&history, 0);
        cfg.join(0).await;
        let (ka, va) = put_keys(&mut ck, 10, 1).await;
        let appenders = Appenders::start(&cfg, &ka, &va, 1, Duration::ZERO, &history);

        let t0 = tokio::time::Instant::now();
        while t0.elapsed() < Duration::from_secs(12) {
            cfg.join(2).await;
            cfg.join(1).await;
            sleep_ms(sim::random_range(0..900)).await;
            for gi in 0..3 {
                cfg.shutdown_group(gi);
            }
            for gi in 0..3 {
                cfg.start_group(gi);
            }
            sleep_ms(sim::random_range(0..900)).await;
            cfg.leave(1).await;
            cfg.leave(2).await;
            sleep_ms(sim::random_range(0..900)).await;
        }
        sleep_ms(2000).await;

        let va = appenders.stop().await;
        check_all(&mut ck, &ka, &va).await;
        history.check("concurrent3_4b");
        cfg.end();
        cfg.cleanup();
    });
}
