//! Part 2A: leader election.

use std::time::Duration;

use tokio::time::sleep;

use crate::config::{run, Config, RAFT_ELECTION_TIMEOUT};

#[test]
fn initial_election_2a() {
    run(|| async {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("2A", "initial election");

        // Is a leader elected?
        cfg.check_one_leader().await;

        // Sleep a bit to avoid racing with followers learning of the election, then check
        // that all peers agree on the term.
        sleep(Duration::from_millis(50)).await;
        let term1 = cfg.check_terms();
        assert!(term1 >= 1, "term is {term1}, but should be at least 1");

        // Does the leader+term stay the same if there is no network failure?
        sleep(2 * RAFT_ELECTION_TIMEOUT).await;
        let term2 = cfg.check_terms();
        if term1 != term2 {
            println!("warning: term changed even though there were no failures");
        }

        // There should still be a leader.
        cfg.check_one_leader().await;

        cfg.end();
    });
}

#[test]
fn re_election_2a() {
    run(|| async {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("2A", "election after network failure");

        let leader1 = cfg.check_one_leader().await;

        // If the leader disconnects, a new one should be elected.
        cfg.disconnect(leader1);
        cfg.check_one_leader().await;

        // If the old leader rejoins, that shouldn't disturb the new leader, and the old
        // leader should switch to follower.
        cfg.connect(leader1);
        let leader2 = cfg.check_one_leader().await;

        // If there's no quorum, no new leader should be elected.
        cfg.disconnect(leader2);
        cfg.disconnect((leader2 + 1) % servers);
        sleep(2 * RAFT_ELECTION_TIMEOUT).await;

        // Check that the one connected server does not think it is the leader.
        cfg.check_no_leader();

        // If a quorum arises, it should elect a leader.
        cfg.connect((leader2 + 1) % servers);
        cfg.check_one_leader().await;

        // Re-join of last node shouldn't prevent leader from existing.
        cfg.connect(leader2);
        cfg.check_one_leader().await;

        cfg.end();
    });
}

#[test]
fn many_elections_2a() {
    run(|| async {
        let servers = 7;
        let cfg = Config::new(servers, false, false);
        cfg.begin("2A", "multiple elections");

        cfg.check_one_leader().await;

        for _ in 1..10 {
            // Disconnect three nodes (perhaps the same one more than once).
            let i1 = labrpc::sim::random_range(0..servers);
            let i2 = labrpc::sim::random_range(0..servers);
            let i3 = labrpc::sim::random_range(0..servers);
            cfg.disconnect(i1);
            cfg.disconnect(i2);
            cfg.disconnect(i3);

            // Either the current leader should still be alive, or the remaining four should
            // elect a new one.
            cfg.check_one_leader().await;

            cfg.connect(i1);
            cfg.connect(i2);
            cfg.connect(i3);
        }

        cfg.check_one_leader().await;

        cfg.end();
    });
}
