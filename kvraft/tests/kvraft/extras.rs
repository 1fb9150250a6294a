//! Part 3X: tests beyond the course's, for bugs its tests rarely catch.
//!
//! - [`retry_after_snapshot_restart_3x`]: a write that was applied and covered by every
//!   server's snapshot, but whose reply was lost, is retried after a whole-cluster restart.
//!   It must take effect once, which it does only if the duplicate table travels in the
//!   snapshot. The course's restart tests reach this path only when a crash happens to
//!   strike between a snapshot covering an unanswered write and that write's reply (a few
//!   restarts in ten with 20 clients, rarer with one), so a server whose snapshot omits the
//!   duplicate table passes them on most seeds; here the path is scripted and the same on
//!   every seed.
//!
//! The scenario is steered by what the tester can see, not by waiting: the lost reply is a
//! fault armed for the leader's next successful answer (see [`Config::lose_next_reply`]),
//! and the restart waits until every server's saved snapshot holds the write.

use std::sync::atomic::Ordering;
use std::time::Duration;

use labrpc::sim;
use tokio::time::{sleep, Instant};

use crate::config::generic::check;
use crate::config::{run, Config, ELECTION_TIMEOUT};

/// The course's 3B snapshot threshold.
const MAXRAFTSTATE: i64 = 1000;

/// A write applied and snapshotted everywhere, whose reply was lost, retried after every
/// server restarts: it takes effect once.
///
/// 1. Five servers; a clerk Puts k = "" (a leader is elected and serving).
/// 2. A second clerk, X, Appends "x" to k, with a fault armed on the leader: as its
///    successful reply leaves (the Append is applied there), X is cut off from every server,
///    so the reply is lost and X keeps retrying, unanswered.
/// 3. A third clerk writes another key until every server's saved snapshot holds k = "x":
///    the write is covered by every snapshot, and so is no longer in any server's log.
/// 4. Every server is shut down and restarted from what it saved; X is reconnected, retries
///    the same request, and returns.
/// 5. k must read "x". A server that restored its data but not its duplicate table from the
///    snapshot applies the retry a second time: "xx".
#[test]
fn retry_after_snapshot_restart_3x() {
    run(|| async {
        const NSERVERS: usize = 5;
        let cfg = Config::new(NSERVERS, false, MAXRAFTSTATE);
        let mut ck = cfg.make_client(&cfg.all());
        cfg.begin(
            "3X",
            "a write applied and snapshotted, its reply lost, retried after a restart",
        );
        ck.put("k", "").await;
        let leader = cfg.leader().expect("a server answered, so one leads");

        // 2. X's Append, whose reply the leader's fault loses.
        let mut x = cfg.make_client(&cfg.all());
        let x_id = x.tester_id();
        let struck = cfg.lose_next_reply(leader, &x);
        let outstanding = x.outstanding();
        let writer = sim::spawn(async move { x.append("k", "x").await });
        let t0 = Instant::now();
        while !struck.load(Ordering::Acquire) {
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "the leader ({leader}) did not answer the Append within 5 s"
            );
            sleep(Duration::from_millis(10)).await;
        }

        // 3. Other writes, until every server would restart from a snapshot holding "x".
        let mut other = cfg.make_client(&cfg.all());
        let mut writes = 0;
        while !(0..NSERVERS).all(|i| cfg.saved_store(i).is_some_and(|s| s.get("k") == "x")) {
            assert!(
                writes < 1000,
                "after {writes} more writes, some server's saved snapshot still lacks the Append"
            );
            other.append("other", ".").await;
            writes += 1;
        }
        assert!(
            outstanding.load(Ordering::Acquire),
            "X's Append returned, though its reply was lost and X is cut off"
        );
        println!(
            "  info: the Append is in every server's snapshot after {writes} more writes; \
             restarting with it unanswered"
        );

        // 4. Every server restarts; X retries the same request.
        for i in 0..NSERVERS {
            cfg.shutdown_server(i);
        }
        sleep(ELECTION_TIMEOUT).await;
        for i in 0..NSERVERS {
            cfg.start_server(i);
        }
        cfg.connect_all();
        cfg.connect_client_id(x_id, &cfg.all());
        writer.await.expect("X's Append failed");

        // 5. Once.
        check(&mut ck, "k", "x").await;
        cfg.end();
        cfg.cleanup();
    });
}
