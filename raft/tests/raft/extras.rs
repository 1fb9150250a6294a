//! Part 2X: tests beyond the course's, for bugs its tests rarely catch.
//!
//! Planting classic Raft bugs one at a time found two that pass every course test on seed
//! after seed. Each test here scripts, with the tester's crashes, restarts and connections,
//! the one situation in which its bug breaks safety, so that it fails on every seed:
//! - [`figure_8_commit_2x`]: a leader that commits an entry of an earlier term by counting
//!   replicas (the extended paper's Figure 8);
//! - [`vote_persisted_2x`]: a vote that is not saved before it is granted, so that a peer
//!   that crashes and restarts votes twice in one term;
//! - [`vote_saved_before_reply_2x`]: the same, with the crash striking the moment the vote
//!   leaves the voter (an event-triggered fault), so that a vote saved only after it was
//!   answered, in a task of its own, is caught too;
//! - [`entries_saved_before_ack_2x`]: a follower that acknowledges entries before it has
//!   saved them (it saves afterwards, or not at all until some later change), crashed the
//!   moment its acknowledgement leaves it;
//! - [`stale_snapshot_ignored_2x`]: a follower that installs an InstallSnapshot older than
//!   what it has already applied, so that its service moves backwards; the stale request is
//!   one the network holds back (an event-triggered fault) until the follower is past it.
//!
//! Elections are steered, not waited out: a peer that must not win is crashed (a crashed
//! peer neither times out nor votes) or has a log that the voters' up-to-date check refuses,
//! and every step checks that the intended peer leads, so the scenario is the same on every
//! seed.

use std::time::Duration;

use labrpc::codec::decode;
use raft::messages::{
    raft_rpc, AppendEntriesArgs, AppendEntriesReply, InstallSnapshotArgs, RequestVoteArgs,
    RequestVoteReply,
};
use tokio::time::{sleep, Instant};

use crate::config::{cmd, run, Config};

/// Waits until exactly one connected peer leads (polling every 50 ms, for up to 30 s) and
/// returns it. Fails if two connected peers lead in one term.
async fn leader(cfg: &Config) -> usize {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(30) {
        let mut found: Option<(u64, usize)> = None;
        for i in 0..cfg.n() {
            if !cfg.is_connected(i) {
                continue;
            }
            if let (term, true) = cfg.get_state(i) {
                match found {
                    Some((t, other)) if t == term => {
                        panic!("term {term} has two leaders, {other} and {i}")
                    }
                    Some((t, _)) if t > term => {}
                    _ => found = Some((term, i)),
                }
            }
        }
        if let Some((_, i)) = found {
            return i;
        }
        sleep(Duration::from_millis(50)).await;
    }
    panic!("no leader among the connected peers in 30 s");
}

/// Waits until peer i has saved more Raft state than `before` bytes (polling every 10 ms,
/// for up to 5 s): it has appended an entry.
async fn saved_more(cfg: &Config, i: usize, before: usize, what: &str) {
    let t0 = Instant::now();
    while cfg.raft_state_size(i) <= before {
        if t0.elapsed() > Duration::from_secs(5) {
            panic!("peer {i} did not save {what} within 5 s");
        }
        sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until `done` holds (polling every 10 ms, for up to 5 s); fails saying `what` did
/// not happen otherwise.
async fn until(what: &str, done: impl Fn() -> bool) {
    let t0 = Instant::now();
    while !done() {
        if t0.elapsed() > Duration::from_secs(5) {
            panic!("{what} did not happen within 5 s");
        }
        sleep(Duration::from_millis(10)).await;
    }
}

/// The extended paper's Figure 8, scripted with 5 peers (S1…S5 in the paper; here the peers
/// that take those roles, chosen as the run goes, since peers with equal logs are
/// interchangeable):
/// - (a) S1 leads, and replicates index 2 only to S2 (the others are crashed);
/// - (b) S1 and S2 crash; S5 wins a newer term with the votes of S3 and S4 and appends its
///   own index 2, locally only (S3 and S4 crash first);
/// - (c) S1, S2 and S3 restart: S1 (or S2: the only peers whose logs S3 accepts as up to
///   date) wins a newer term still and replicates its old-term index 2 to S3. Index 2 is now
///   on a majority (S1, S2, S3), but its term is not the leader's: a correct leader does not
///   commit it; a leader that commits by counting replicas does, and applies it;
/// - (d) S1 crashes before any entry of its own term commits, and every peer restarts; S5
///   (which only it can, with the votes of S3 and S4) wins, overwrites index 2 with its own
///   entry and commits it with a new one.
///
/// A leader with the bug applied S1's command at index 2 in (c), and S5 applies a different
/// one there in (d): the tester's apply checker fails the run. A correct Raft commits S5's
/// entry at index 2 everywhere.
#[test]
fn figure_8_commit_2x() {
    run(|| async {
        let servers = 5;
        let cfg = Config::new(servers, false, false);
        cfg.begin(
            "2X",
            "Figure 8: no entry of an earlier term commits by counting replicas",
        );

        // Every peer holds index 1.
        cfg.one(cmd(1), servers, true).await;

        // (a) S1 leads; only S2 gets index 2.
        let s1 = leader(&cfg).await;
        let s2 = (s1 + 1) % servers;
        let rest: Vec<usize> = (0..servers).filter(|&i| i != s1 && i != s2).collect();
        for &i in &rest {
            cfg.crash1(i);
        }
        let before = cfg.raft_state_size(s2);
        let (index, _) = cfg
            .start(s1, cmd(2))
            .unwrap_or_else(|| panic!("peer {s1} stopped leading"));
        assert_eq!(index, 2, "S1's entry should be at index 2");
        saved_more(&cfg, s2, before, "S1's index 2").await;
        cfg.crash1(s1);
        cfg.crash1(s2);

        // (b) S5 wins with the votes of S3 and S4, and appends index 2 only locally.
        for &i in &rest {
            cfg.start1(i);
            cfg.connect(i);
        }
        let s5 = leader(&cfg).await;
        assert!(rest.contains(&s5), "a crashed peer leads");
        let others: Vec<usize> = rest.iter().copied().filter(|&i| i != s5).collect();
        let (s3, s4) = (others[0], others[1]);
        cfg.crash1(s3);
        cfg.crash1(s4);
        let before = cfg.raft_state_size(s5);
        let (index, _) = cfg
            .start(s5, cmd(3))
            .unwrap_or_else(|| panic!("peer {s5} stopped leading"));
        assert_eq!(index, 2, "S5's entry should be at index 2");
        saved_more(&cfg, s5, before, "its own index 2").await;
        cfg.crash1(s5);

        // (c) S1 (or S2, its equal) wins a newer term and replicates index 2 to S3.
        for i in [s1, s2, s3] {
            cfg.start1(i);
            cfg.connect(i);
        }
        let before = cfg.raft_state_size(s3);
        let s1 = leader(&cfg).await;
        assert!(
            s1 != s3,
            "S3 leads, though S1 and S2 hold an entry it lacks"
        );
        saved_more(&cfg, s3, before, "S1's index 2").await;
        // Time for S3's answer to reach the leader, and for a leader with the bug to commit
        // index 2 and tell S2 and S3.
        sleep(Duration::from_millis(500)).await;
        assert_eq!(leader(&cfg).await, s1, "S1 should still lead");

        // (d) S1 crashes before an entry of its term commits; every peer restarts (S3 with
        // index 2 of S1's old term); only S5 can win, and it overwrites index 2.
        for i in 0..servers {
            cfg.crash1(i);
        }
        for i in [s3, s4, s5] {
            cfg.start1(i);
            cfg.connect(i);
        }
        let s5_now = leader(&cfg).await;
        assert_eq!(
            s5_now, s5,
            "S5 should win: the others' logs are not as up to date as its"
        );
        let index = cfg.one(cmd(4), 3, false).await;
        assert_eq!(index, 3, "S5's new entry should be at index 3");
        let (count, command) = cfg.n_committed(2);
        assert_eq!(
            (count, command),
            (3, Some(cmd(3))),
            "index 2 should hold S5's entry on S3, S4 and S5"
        );

        // Everyone back: the whole cluster agrees.
        for i in (0..servers).filter(|&i| !cfg.is_connected(i)) {
            cfg.start1(i);
            cfg.connect(i);
        }
        cfg.one(cmd(5), servers, true).await;
        let (count, command) = cfg.n_committed(2);
        assert_eq!((count, command), (servers, Some(cmd(3))));

        cfg.end();
    });
}

/// Asks peer i for its vote as the tester, over the network, as a candidate would.
async fn ask_vote(cfg: &Config, i: usize, args: RequestVoteArgs) -> RequestVoteReply {
    let client = raft_rpc::Client::new(cfg.tester_end(i));
    client
        .request_vote(&args)
        .await
        .unwrap_or_else(|err| panic!("RequestVote to peer {i} failed: {err:?}"))
}

/// A peer's vote survives a crash: one vote per term, whatever happens to the voter.
///
/// The tester plays the candidates itself (RequestVote over the network, as a peer would
/// call it), so each one asks exactly when the scenario needs it: in a term T that voter P
/// already knows (it learnt it from a candidate it refused), P grants its vote to one
/// candidate; P crashes at once and restarts from what it saved; a second candidate asks in
/// the same term T. P must refuse: granting would let two candidates each count P's vote in
/// T, and two leaders in one term break Raft's safety. The whole exchange takes no simulated
/// time, so no election timer of P's can fire in between. P is cut off from its peers
/// meanwhile, so only the tester's candidates reach it; afterwards it rejoins and the cluster
/// must carry on.
#[test]
fn vote_persisted_2x() {
    run(|| one_vote_per_term("a vote survives a crash: one vote per term", false));
}

/// [`vote_persisted_2x`], with the crash striking the moment P has produced its granted
/// vote, before P takes another step (labrpc's `Network::after_reply`): a vote saved only
/// *after* it was answered (in a task of its own) is lost, though it would survive a crash
/// that came any later. The crash loses the reply, as a real one can.
#[test]
fn vote_saved_before_reply_2x() {
    run(|| one_vote_per_term("a vote is saved before it is granted", true));
}

/// The scenario of both vote tests; `at_reply`: crash P as its granted vote leaves it,
/// rather than after the vote has reached the candidate.
async fn one_vote_per_term(title: &str, at_reply: bool) {
    {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("2X", title);

        cfg.one(cmd(101), servers, true).await;
        let leader1 = leader(&cfg).await;
        let p = (leader1 + 1) % servers;
        let (first, second) = (leader1, (leader1 + 2) % servers);
        cfg.disconnect(p);

        let (known, _) = cfg.get_state(p);
        let term = known + 1;
        let t0 = Instant::now();

        // A candidate of term T with an empty log: P moves to T and refuses it.
        let reply = ask_vote(
            &cfg,
            p,
            RequestVoteArgs {
                term,
                candidate: second,
                last_log_index: 0,
                last_log_term: 0,
            },
        )
        .await;
        assert!(
            !reply.vote_granted && reply.term == term,
            "peer {p} should move to term {term} and refuse a candidate with an empty log"
        );

        // An up-to-date candidate in T: P grants its vote.
        let up_to_date = |candidate| RequestVoteArgs {
            term,
            candidate,
            last_log_index: 1,
            last_log_term: term - 1,
        };
        if at_reply {
            cfg.crash_after_reply(p, "Raft.request_vote", |_request, reply| {
                decode::<RequestVoteReply>(reply).is_ok_and(|r| r.vote_granted)
            });
            let client = raft_rpc::Client::new(cfg.tester_end(p));
            let lost = client.request_vote(&up_to_date(first)).await;
            assert!(
                lost.is_err(),
                "the crash should lose the vote's reply: {lost:?}"
            );
        } else {
            let reply = ask_vote(&cfg, p, up_to_date(first)).await;
            assert!(
                reply.vote_granted && reply.term == term,
                "peer {p} should grant its vote in term {term} to {first} (reply {reply:?})"
            );
        }

        // P crashes right after voting (if it has not already), and restarts from what it
        // saved.
        cfg.start1(p);
        assert_eq!(cfg.get_state(p).0, term, "peer {p} forgot its term");

        // A second candidate in the same term: P must refuse.
        let reply = ask_vote(&cfg, p, up_to_date(second)).await;
        assert!(
            !reply.vote_granted,
            "peer {p} voted twice in term {term} ({first}, then {second} after a restart): \
             its vote was not saved before it was granted"
        );
        // The candidate it voted for may ask again (a retry) and still has it.
        let reply = ask_vote(&cfg, p, up_to_date(first)).await;
        assert!(
            reply.vote_granted,
            "peer {p} forgot that it voted for {first} in term {term}"
        );
        // No time at all in the simulation; on the wall clock (`LAB_REALTIME=1`), far less
        // than an election timeout.
        assert!(
            t0.elapsed() < Duration::from_millis(100),
            "the exchange took {:?}: a timer of P's may have fired in it",
            t0.elapsed()
        );

        // P rejoins; the cluster carries on.
        cfg.connect(p);
        cfg.one(cmd(102), servers, true).await;

        cfg.end();
    }
}

/// A follower's acknowledgement of entries means they are saved: a follower crashed the moment
/// its successful AppendEntries reply leaves it still holds the entries when it restarts.
///
/// Three peers. Leader L and followers A and B hold index 1; B crashes, so that L cannot
/// commit without A. L appends index 2 and A acknowledges it; A crashes the instant its
/// reply leaves it, before it takes another step (labrpc's `Network::after_reply`: a save
/// A left for later is lost, as a crash at that instant would lose it). L crashes before it
/// can send the entry again. A and B restart: A's log holds index 2 and B's does not, so only
/// A can win (B's log is not as up to date), and A commits index 2 with an entry of its own
/// term. A follower that acknowledges before saving restarts without index 2: then B may win
/// (the test fails on its leading), or A wins and a new entry takes index 2 (the test fails
/// on what index 2 holds). That acknowledgement never reached L here (the crash loses it),
/// but had it, L could have committed index 2 with A, and the new leader overwritten it.
#[test]
fn entries_saved_before_ack_2x() {
    run(|| async {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("2X", "entries are saved before they are acknowledged");

        cfg.one(cmd(1), servers, true).await;
        let l = leader(&cfg).await;
        let (a, b) = ((l + 1) % servers, (l + 2) % servers);
        cfg.crash1(b);

        // A crashes as its acknowledgement of index 2 leaves it.
        cfg.crash_after_reply(a, "Raft.append_entries", |request, reply| {
            let covers_2 = decode::<AppendEntriesArgs>(request)
                .is_ok_and(|args| args.prev_log_index + args.entries.len() as u64 >= 2);
            covers_2 && decode::<AppendEntriesReply>(reply).is_ok_and(|r| r.success)
        });
        let (index, term) = cfg
            .start(l, cmd(2))
            .unwrap_or_else(|| panic!("peer {l} stopped leading"));
        assert_eq!(index, 2, "the leader's entry should be at index 2");
        until(
            &format!("peer {a}'s crash as it acknowledged index 2"),
            || cfg.raft(a).is_none(),
        )
        .await;
        assert_eq!(cfg.armed_faults(), 0);
        assert_eq!(
            cfg.get_state(l),
            (term, true),
            "peer {l} should still lead in term {term}"
        );
        assert_eq!(
            cfg.n_committed(2).0,
            0,
            "index 2 committed without A's acknowledgement"
        );
        cfg.crash1(l);

        // A and B restart; only A holds index 2, so only A can win.
        for i in [a, b] {
            cfg.start1(i);
            cfg.connect(i);
        }
        let now = leader(&cfg).await;
        assert_eq!(
            now, a,
            "peer {b} leads, though peer {a} acknowledged index 2, which {b} lacks: \
             {a} restarted without an entry it acknowledged (it was not saved first)"
        );
        let index = cfg.one(cmd(3), 2, true).await;
        assert_eq!(
            index, 3,
            "the new leader's entry went to index {index}, not after index 2: peer {a} \
             restarted without the entry it acknowledged there (it was not saved first)"
        );
        assert_eq!(
            cfg.n_committed(2),
            (2, Some(cmd(2))),
            "index 2 should hold the entry peer {a} acknowledged"
        );

        // Everyone back: the whole cluster agrees.
        cfg.start1(l);
        cfg.connect(l);
        cfg.one(cmd(4), servers, true).await;
        assert_eq!(cfg.n_committed(2), (servers, Some(cmd(2))));

        cfg.end();
    });
}

/// A stale InstallSnapshot never moves a follower's service backwards.
///
/// Three peers with the snapshotting service (a snapshot every 10 entries). Follower F
/// crashes (a crashed peer does not run up its term, so F does not unseat the leader when
/// it comes back); leader L and the third peer commit enough that L's log no longer holds
/// what F lacks. F restarts: L sends it L's snapshot, and the network holds that request back
/// for 4 s (labrpc's `Network::delay_request`). L presumes it lost, sends the snapshot again,
/// and F catches up and applies past it. Then the held-back snapshot arrives, from the same
/// leader in the same term, older than what F has applied. A correct follower ignores it; one
/// that installs it hands its service an older state, and the tester's snapshotting checker
/// fails the run (`server F moved backwards: a snapshot through 19 after applying 30`).
/// Every step checks that it happened as scripted: the same leader and term throughout, and
/// F past the stale snapshot before it arrives.
#[test]
fn stale_snapshot_ignored_2x() {
    run(|| async {
        let servers = 3;
        let delay = Duration::from_secs(4);
        let cfg = Config::new(servers, false, true);
        cfg.begin(
            "2X",
            "a delayed, stale InstallSnapshot does not move a service back",
        );

        cfg.one(cmd(1), servers, true).await;
        let l = leader(&cfg).await;
        let f = (l + 1) % servers;
        cfg.crash1(f);
        // L and the third peer snapshot at index 9 and 19 (after applying 10 and 20).
        for c in 2..=25 {
            cfg.one(cmd(c), servers - 1, true).await;
        }
        let (term, leads) = cfg.get_state(l);
        assert!(leads, "peer {l} should still lead");

        // F restarts; the first snapshot L sends it is held back.
        cfg.delay_request(
            f,
            "Raft.install_snapshot",
            |request| decode::<InstallSnapshotArgs>(request).is_ok(),
            delay,
        );
        cfg.start1(f);
        cfg.connect(f);
        until("the first InstallSnapshot to F", || cfg.armed_faults() == 0).await;
        let held = Instant::now();

        // L sends the snapshot again; F installs it and applies past it.
        for c in 26..=30 {
            cfg.one(cmd(c), servers, true).await;
        }
        assert!(
            held.elapsed() < delay,
            "F caught up only after {:?}: the held-back snapshot may have arrived first",
            held.elapsed()
        );

        // The stale snapshot arrives, from L in the same term; F must ignore it.
        sleep(delay - held.elapsed() + Duration::from_millis(100)).await;
        assert_eq!(
            cfg.get_state(l),
            (term, true),
            "peer {l} should still lead in term {term}, so the held-back snapshot is current"
        );
        assert_eq!(
            cfg.get_state(f),
            (term, false),
            "F should follow L in term {term}"
        );
        cfg.one(cmd(31), servers, true).await;

        cfg.end();
    });
}
