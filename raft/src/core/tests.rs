// BEGIN SOLUTION 2
//! Unit tests of the core, driven directly with events: no network, no runtime, no clock.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::{AppendSent, Core, Message, Response, Role, Rpc};
use crate::apply::ApplyMsg;
use crate::log::Log;
use crate::messages::{
    AppendEntriesArgs, Conflict, Entry, InstallSnapshotArgs, RequestVoteArgs, RequestVoteReply,
};
use crate::persister::Persister;
use crate::storage::{self, DurableState};

fn entry(term: u64, command: u8) -> Entry {
    Entry {
        term,
        command: vec![command],
    }
}

/// Peer `me` of `peers` in `term`, whose log holds entries of the given terms.
fn core_with_log(me: usize, peers: usize, term: u64, terms: &[u64]) -> Core {
    let mut log = Log::new();
    for (i, &t) in terms.iter().enumerate() {
        log.append(entry(t, i as u8 + 1));
    }
    let state = DurableState {
        term,
        voted_for: None,
        log,
    };
    Core::new(me, peers, state, Vec::new())
}

fn vote_request(
    term: u64,
    candidate: usize,
    last_log_index: u64,
    last_log_term: u64,
) -> RequestVoteArgs {
    RequestVoteArgs {
        term,
        candidate,
        last_log_index,
        last_log_term,
    }
}

fn append(term: u64, prev: (u64, u64), entries: Vec<Entry>, commit: u64) -> AppendEntriesArgs {
    AppendEntriesArgs {
        term,
        leader: 0,
        prev_log_index: prev.0,
        prev_log_term: prev.1,
        entries,
        leader_commit: commit,
    }
}

fn terms_of(core: &Core) -> Vec<u64> {
    (1..=core.log.last_index())
        .map(|i| core.log.term_at(i).unwrap())
        .collect()
}

/// Makes peer 0 of `peers` leader of term `term + 1` with the given log (all others vote).
fn leader_with_log(peers: usize, term: u64, terms: &[u64]) -> Core {
    let mut core = core_with_log(0, peers, term, terms);
    core.election_timeout();
    for peer in 1..peers {
        core.handle_response(
            peer,
            Response::RequestVote {
                term: term + 1,
                reply: RequestVoteReply {
                    term: term + 1,
                    vote_granted: true,
                },
            },
        );
    }
    assert!(core.is_leader());
    core.take_ready();
    core
}

#[test]
fn a_vote_is_refused_to_a_stale_log() {
    let mut voter = core_with_log(1, 3, 3, &[1, 2, 3]);
    // Older last term, though longer.
    let reply = voter.handle_request_vote(vote_request(4, 0, 10, 2));
    assert!(!reply.vote_granted);
    // Same last term, shorter log.
    let reply = voter.handle_request_vote(vote_request(4, 2, 2, 3));
    assert!(!reply.vote_granted);
    // The newer term was adopted anyway, and saved.
    assert_eq!(voter.term(), 4);
    assert!(voter.take_ready().save.is_some());
    // An up-to-date candidate gets the vote, and only it in this term.
    assert!(
        voter
            .handle_request_vote(vote_request(4, 0, 3, 3))
            .vote_granted
    );
    let ready = voter.take_ready();
    assert!(ready.reset_election_timer.is_some() && ready.save.is_some());
    assert!(
        !voter
            .handle_request_vote(vote_request(4, 2, 5, 4))
            .vote_granted
    );
    assert!(
        voter
            .handle_request_vote(vote_request(4, 0, 3, 3))
            .vote_granted
    );
}

#[test]
fn a_stale_term_is_refused_everything() {
    let mut follower = core_with_log(1, 3, 5, &[1]);
    assert!(
        !follower
            .handle_request_vote(vote_request(4, 0, 9, 4))
            .vote_granted
    );
    let reply = follower.handle_append_entries(append(4, (1, 1), vec![entry(4, 9)], 1));
    assert!(!reply.success && reply.term == 5 && reply.conflict.is_none());
    assert_eq!(follower.log.last_index(), 1);
}

#[test]
fn an_election_makes_a_leader_that_announces_itself() {
    let mut core = core_with_log(0, 5, 1, &[1]);
    core.election_timeout();
    let ready = core.take_ready();
    assert_eq!(core.term(), 2);
    assert!(ready.reset_election_timer.is_some() && ready.save.is_some());
    let asked: Vec<usize> = ready.messages.iter().map(|m| m.to).collect();
    assert_eq!(asked, vec![1, 2, 3, 4]);
    let granted = RequestVoteReply {
        term: 2,
        vote_granted: true,
    };
    core.handle_response(
        1,
        Response::RequestVote {
            term: 2,
            reply: granted.clone(),
        },
    );
    assert!(!core.is_leader());
    core.handle_response(
        3,
        Response::RequestVote {
            term: 2,
            reply: granted,
        },
    );
    assert!(core.is_leader());
    // Heartbeats go at once to the peers that did not vote.
    let told: Vec<usize> = core.take_ready().messages.iter().map(|m| m.to).collect();
    assert_eq!(told, vec![2, 4]);
}

/// Seed 3489735316242864383 of `snapshot_install_uncrash_2d`: with one of three peers down,
/// the network lost a vote request or its granting reply in election after election, and no
/// leader emerged in ten seconds. A candidate now asks again those that have not granted.
#[test]
fn a_candidate_asks_again_the_peers_whose_votes_were_lost() {
    let mut candidate = core_with_log(0, 3, 1, &[1]);
    let mut voter = core_with_log(1, 3, 1, &[1]);
    candidate.election_timeout();
    let first = candidate.take_ready().messages;
    let Rpc::RequestVote(args) = &first[0].rpc else {
        panic!("a vote request, not {:?}", first[0].rpc);
    };
    // The voter grants, but its reply is lost: the candidate asks again, both peers.
    assert!(voter.handle_request_vote(args.clone()).vote_granted);
    candidate.resend_vote_requests();
    let again = candidate.take_ready().messages;
    let asked: Vec<usize> = again.iter().map(|m| m.to).collect();
    assert_eq!(asked, vec![1, 2]);
    // The voter grants the same candidate again in the same term, and that makes a leader.
    let Rpc::RequestVote(args) = &again[0].rpc else {
        panic!("a vote request, not {:?}", again[0].rpc);
    };
    let reply = voter.handle_request_vote(args.clone());
    assert!(reply.vote_granted, "a repeated request is granted again");
    candidate.handle_response(1, Response::RequestVote { term: 2, reply });
    assert!(candidate.is_leader());
    // A leader asks no one for votes.
    candidate.take_ready();
    candidate.resend_vote_requests();
    assert!(candidate.take_ready().messages.is_empty());
}

#[test]
fn a_higher_term_in_a_reply_deposes_a_leader() {
    let mut leader = leader_with_log(3, 1, &[1]);
    leader.handle_response(
        1,
        Response::RequestVote {
            term: 1,
            reply: RequestVoteReply {
                term: 7,
                vote_granted: false,
            },
        },
    );
    assert!(!leader.is_leader());
    assert_eq!(leader.term(), 7);
    assert!(leader.take_ready().reset_election_timer.is_some());
}

#[test]
fn a_conflicting_suffix_is_truncated() {
    let mut follower = core_with_log(1, 3, 3, &[1, 1, 2, 2]);
    // The leader of term 3 has entry 3 from term 3: entries 3 and 4 conflict.
    let reply = follower.handle_append_entries(append(3, (2, 1), vec![entry(3, 7)], 0));
    assert!(reply.success);
    assert_eq!(terms_of(&follower), vec![1, 1, 3]);
    assert!(follower.take_ready().save.is_some());
}

#[test]
fn a_stale_request_never_truncates() {
    let mut follower = core_with_log(1, 3, 2, &[1, 2, 2, 2]);
    // A delayed request carrying only entry 2 matches: entries 3 and 4 stay.
    let reply = follower.handle_append_entries(append(2, (1, 1), vec![entry(2, 2)], 0));
    assert!(reply.success);
    assert_eq!(terms_of(&follower), vec![1, 2, 2, 2]);
    assert!(follower.take_ready().save.is_none(), "nothing changed");
}

#[test]
fn rejections_say_where_the_logs_diverge() {
    let mut follower = core_with_log(1, 3, 5, &[1, 4, 4, 4]);
    // Too short.
    let reply = follower.handle_append_entries(append(5, (9, 5), vec![], 0));
    assert_eq!(
        reply.conflict,
        Some(Conflict {
            term: None,
            index: 5
        })
    );
    // Mismatch at 4: the follower's term there is 4, which starts at index 2.
    let reply = follower.handle_append_entries(append(5, (4, 5), vec![], 0));
    assert_eq!(
        reply.conflict,
        Some(Conflict {
            term: Some(4),
            index: 2
        })
    );
}

#[test]
fn a_leader_backs_up_a_whole_term_at_a_time() {
    // Leader log terms [1, 1, 3, 3, 5]; it leads term 6.
    let mut leader = leader_with_log(3, 5, &[1, 1, 3, 3, 5]);
    let sent = AppendSent {
        term: 6,
        prev_log_index: 5,
        entries: 0,
    };
    let reject = |conflict| {
        Some(crate::messages::AppendEntriesReply {
            term: 6,
            success: false,
            conflict: Some(conflict),
        })
    };
    // The follower has term 3 at 5 (which the leader also has): skip to after the leader's
    // last entry of term 3.
    leader.handle_response(
        1,
        Response::AppendEntries {
            seq: 0,
            sent,
            reply: reject(Conflict {
                term: Some(3),
                index: 3,
            }),
        },
    );
    assert_eq!(progress(&leader, 1).next_index, 5);
    // The follower has term 2 at 5, which the leader lacks: go to where term 2 starts there.
    leader.handle_response(
        2,
        Response::AppendEntries {
            seq: 0,
            sent,
            reply: reject(Conflict {
                term: Some(2),
                index: 2,
            }),
        },
    );
    assert_eq!(progress(&leader, 2).next_index, 2);
    // And it sends the entries from there at once.
    let ready = leader.take_ready();
    let to_2 = ready.messages.iter().find(|m| m.to == 2).expect("a retry");
    let Rpc::AppendEntries { args, .. } = &to_2.rpc else {
        panic!("expected AppendEntries, got {to_2:?}");
    };
    assert_eq!(args.prev_log_index, 1);
    assert_eq!(args.entries.len(), 4);
}

fn progress(core: &Core, peer: usize) -> &super::Progress {
    match &core.role {
        Role::Leader { followers, .. } => &followers[peer],
        _ => panic!("not a leader"),
    }
}

fn ack(leader: &mut Core, from: usize, prev: u64, entries: u64) {
    let term = leader.term();
    leader.handle_response(
        from,
        Response::AppendEntries {
            seq: 0,
            sent: AppendSent {
                term,
                prev_log_index: prev,
                entries,
            },
            reply: Some(crate::messages::AppendEntriesReply {
                term,
                success: true,
                conflict: None,
            }),
        },
    );
}

#[test]
fn commit_counts_only_current_term_entries() {
    // Entries 1–2 are from term 1; the leader leads term 3.
    let mut leader = leader_with_log(3, 2, &[1, 1]);
    ack(&mut leader, 1, 0, 2);
    assert_eq!(
        leader.commit_index(),
        0,
        "term-1 entries commit only indirectly"
    );
    let (index, term) = leader.propose(b"x".to_vec()).unwrap();
    assert_eq!((index, term), (3, 3));
    ack(&mut leader, 1, 2, 1);
    assert_eq!(leader.commit_index(), 3);
    let applied: Vec<u64> = leader
        .take_ready()
        .apply
        .iter()
        .map(|m| match m {
            ApplyMsg::Command { index, .. } => *index,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(applied, vec![1, 2, 3]);
}

#[test]
fn followers_commit_no_further_than_what_they_verified() {
    let mut follower = core_with_log(1, 3, 2, &[1, 1, 1]);
    // A heartbeat that matches at 1 says the leader committed 5: only 1 is verified.
    assert!(
        follower
            .handle_append_entries(append(2, (1, 1), vec![], 5))
            .success
    );
    assert_eq!(follower.commit_index(), 1);
}

#[test]
fn a_snapshot_trims_the_log_and_is_saved_with_it() {
    let mut follower = core_with_log(1, 3, 2, &[1, 1, 2, 2]);
    assert!(
        follower
            .handle_append_entries(append(2, (4, 2), vec![], 3))
            .success
    );
    // The follower's log was never saved (it was built, not restored): its next save holds
    // all of it.
    assert!(follower.take_ready().save.is_none(), "nothing changed");
    let persister = Persister::new();
    follower.snapshot(3, b"state@3".to_vec());
    assert_eq!(follower.log.snapshot_index(), 3);
    assert_eq!(follower.log.term_at(3), Some(2));
    assert_eq!(follower.log.last_index(), 4);
    let save = follower.take_ready().save.expect("saved");
    assert_eq!(save.snapshot.as_deref(), Some(&b"state@3"[..]));
    assert_eq!(save.state.records.len(), 1, "the entry after the snapshot");
    persister.save_update(save.state, save.snapshot);
    // Compacting past what was applied, or behind the snapshot, is ignored.
    follower.snapshot(4, b"x".to_vec());
    follower.snapshot(2, b"x".to_vec());
    assert_eq!(follower.log.snapshot_index(), 3);
    // Restarting from what was saved keeps the snapshot's boundary.
    let state = storage::decode_state(&persister.read_raft_state()).unwrap();
    let restarted = Core::new(1, 3, state, persister.read_snapshot());
    assert_eq!(restarted.commit_index(), 3);
    assert_eq!(restarted.log.last_index(), 4);
}

#[test]
fn an_installed_snapshot_replaces_what_it_covers() {
    let install = |index: u64, term: u64| InstallSnapshotArgs {
        term: 3,
        leader: 0,
        last_included_index: index,
        last_included_term: term,
        data: vec![index as u8],
    };
    // The follower's log extends the snapshot: it keeps the suffix.
    let mut follower = core_with_log(1, 3, 3, &[1, 1, 2, 2, 3]);
    follower.handle_install_snapshot(install(3, 2));
    assert_eq!(follower.log.snapshot_index(), 3);
    assert_eq!(terms_of_suffix(&follower), vec![2, 3]);
    assert_eq!(follower.commit_index(), 3);
    let ready = follower.take_ready();
    assert_eq!(
        ready.apply,
        vec![ApplyMsg::Snapshot {
            index: 3,
            term: 2,
            data: vec![3]
        }]
    );
    assert!(ready.save.unwrap().snapshot.is_some());
    // A snapshot that does not match the log replaces all of it.
    let mut follower = core_with_log(2, 3, 3, &[1, 1]);
    follower.handle_install_snapshot(install(4, 2));
    assert_eq!(follower.log.last_index(), 4);
    assert_eq!(follower.log.snapshot_term(), 2);
    // An old snapshot changes nothing.
    follower.take_ready();
    follower.handle_install_snapshot(install(2, 1));
    let ready = follower.take_ready();
    assert!(ready.apply.is_empty() && ready.save.is_none());
}

fn terms_of_suffix(core: &Core) -> Vec<u64> {
    (core.log.snapshot_index() + 1..=core.log.last_index())
        .map(|i| core.log.term_at(i).unwrap())
        .collect()
}

#[test]
fn a_follower_behind_the_snapshot_is_sent_it() {
    let mut leader = leader_with_log(3, 1, &[1, 1, 1]);
    let term = leader.term();
    let index = leader.propose(b"x".to_vec()).unwrap().0;
    ack(&mut leader, 1, 3, 1);
    assert_eq!(leader.commit_index(), index);
    leader.snapshot(index, b"all".to_vec());
    leader.take_ready();
    // Follower 2 turns out to have nothing.
    leader.handle_response(
        2,
        Response::AppendEntries {
            seq: 0,
            sent: AppendSent {
                term,
                prev_log_index: 3,
                entries: 0,
            },
            reply: Some(crate::messages::AppendEntriesReply {
                term,
                success: false,
                conflict: Some(Conflict {
                    term: None,
                    index: 1,
                }),
            }),
        },
    );
    let ready = leader.take_ready();
    assert!(ready
        .messages
        .iter()
        .any(|m| m.to == 2 && matches!(m.rpc, Rpc::InstallSnapshot { .. })));
}

/// A small cluster of cores exchanging messages synchronously, with losses, reordering and
/// random timeouts, checked for Raft's safety properties after every step: one leader per
/// term, and every committed index holds the same entry on every peer forever. Each core's
/// saves go to a persister, which must then hold exactly the whole state's encoding; now and
/// then the persister is replaced by a copy (as the tester does at a crash), and the old one
/// must keep what it held.
#[test]
fn random_clusters_stay_safe() {
    for seed in 0..40 {
        run_random_cluster(seed, 5, 3000);
    }
    for seed in 100..120 {
        run_random_cluster(seed, 3, 3000);
    }
}

fn run_random_cluster(seed: u64, n: usize, steps: usize) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut cores: Vec<Core> = (0..n).map(|me| core_with_log(me, n, 0, &[])).collect();
    let mut in_flight: Vec<(usize, Message)> = Vec::new();
    let mut leaders_by_term: std::collections::BTreeMap<u64, usize> = Default::default();
    let mut committed: Vec<Option<(u64, Vec<u8>)>> = vec![None];
    let mut next_command = 0u32;
    let mut persisters: Vec<Persister> = (0..n).map(|_| Persister::new()).collect();
    let mut left_behind: Vec<(Persister, Vec<u8>)> = Vec::new();

    for _ in 0..steps {
        let pick = rng.random_range(0..100);
        let peer = rng.random_range(0..n);
        if pick < 3 {
            cores[peer].election_timeout();
        } else if pick < 10 {
            if cores[peer].is_leader() {
                cores[peer].heartbeat();
            }
        } else if pick < 20 {
            next_command += 1;
            cores[peer].propose(next_command.to_le_bytes().to_vec());
            cores[peer].replicate();
        } else if pick < 25 {
            cores[peer].announce_commit();
        } else if pick < 27 {
            let applied = cores[peer].commit_index();
            if applied > cores[peer].log.snapshot_index() && rng.random_bool(0.5) {
                cores[peer].snapshot(applied, applied.to_le_bytes().to_vec());
            }
        } else if pick < 28 {
            let copy = persisters[peer].copy();
            let old = std::mem::replace(&mut persisters[peer], copy);
            let held = old.read_raft_state();
            left_behind.push((old, held));
        } else if !in_flight.is_empty() {
            // Deliver (or lose) a random message, then its reply (or lose that).
            let (from, message) = in_flight.swap_remove(rng.random_range(0..in_flight.len()));
            if rng.random_bool(0.1) {
                lose(&mut cores[from], message.to, message.rpc);
            } else {
                deliver(&mut cores, from, message, &mut rng);
            }
        }
        for (me, core) in cores.iter_mut().enumerate() {
            let ready = core.take_ready();
            if let Some(save) = ready.save {
                persisters[me].save_update(save.state, save.snapshot);
                assert_eq!(
                    persisters[me].read_raft_state(),
                    storage::encode_state(core.term, core.voted_for, &core.log),
                    "seed {seed}: peer {me}'s saves do not add up to its state"
                );
                assert_eq!(persisters[me].read_snapshot(), core.snapshot);
            }
            in_flight.extend(ready.messages.into_iter().map(|m| (me, m)));
            if core.is_leader() {
                let leader = *leaders_by_term.entry(core.term()).or_insert(me);
                assert_eq!(
                    leader,
                    me,
                    "seed {seed}: two leaders in term {}",
                    core.term()
                );
            }
        }
        // State machine safety: what any peer committed, every peer's log agrees with.
        for core in &cores {
            for index in core.log.snapshot_index() + 1..=core.commit_index() {
                let entry = core.log.get(index).unwrap();
                let record = (entry.term, entry.command.clone());
                let i = index as usize;
                if committed.len() <= i {
                    committed.resize(i + 1, None);
                }
                match &committed[i] {
                    Some(seen) => assert_eq!(seen, &record, "seed {seed}: index {index} differs"),
                    None => committed[i] = Some(record),
                }
            }
        }
    }
    for (old, held) in &left_behind {
        assert_eq!(
            &old.read_raft_state(),
            held,
            "seed {seed}: a copy changed the original"
        );
    }
    assert!(
        leaders_by_term.len() > 1 && committed.len() > 10,
        "seed {seed}: the run made too little progress to mean anything"
    );
}

fn deliver(cores: &mut [Core], from: usize, message: Message, rng: &mut SmallRng) {
    let to = message.to;
    let reply_lost = rng.random_bool(0.1);
    let response = match message.rpc {
        Rpc::RequestVote(args) => {
            let term = args.term;
            let reply = cores[to].handle_request_vote(args);
            if reply_lost {
                return;
            }
            Response::RequestVote { term, reply }
        }
        Rpc::AppendEntries { seq, args } => {
            let sent = AppendSent::of(&args);
            let reply = cores[to].handle_append_entries(args);
            Response::AppendEntries {
                seq,
                sent,
                reply: (!reply_lost).then_some(reply),
            }
        }
        Rpc::InstallSnapshot { seq, args } => {
            let (term, last_included_index) = (args.term, args.last_included_index);
            let reply = cores[to].handle_install_snapshot(args);
            Response::InstallSnapshot {
                seq,
                term,
                last_included_index,
                reply: (!reply_lost).then_some(reply),
            }
        }
    };
    cores[from].handle_response(to, response);
}

fn lose(core: &mut Core, to: usize, rpc: Rpc) {
    let response = match rpc {
        Rpc::RequestVote(_) => return,
        Rpc::AppendEntries { seq, args } => Response::AppendEntries {
            seq,
            sent: AppendSent::of(&args),
            reply: None,
        },
        Rpc::InstallSnapshot { seq, args } => Response::InstallSnapshot {
            seq,
            term: args.term,
            last_included_index: args.last_included_index,
            reply: None,
        },
    };
    core.handle_response(to, response);
}
// END SOLUTION
