//! The nemeses' schedules, and the journal that records what they did and when.
//!
//! Each nemesis draws its faults from its own generator seeded by the run's seed, one fault
//! at a time: strike, hold for a while, undo, pause, again. The process nemesis and the
//! network nemesis run at once, so a replica may be killed while the network is cut; with
//! the sharded service a third one moves shards by joining and removing groups.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use labrpc::ClientEnd;
use shardkv::{CtrlerClerk, Gid};

use super::net::Net;
use super::procs::{Health, Replicas};
use super::vote_race::{self, Hold};
use crate::client::within;

/// The nemesis log: one line per event, with seconds since the journal was created.
#[derive(Clone)]
pub struct Journal {
    file: Arc<Mutex<File>>,
    start: Instant,
}

impl Journal {
    pub fn create(path: &Path) -> Result<Journal, String> {
        let file =
            File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(Journal {
            file: Arc::new(Mutex::new(file)),
            start: Instant::now(),
        })
    }

    pub fn note(&self, what: &str) {
        let line = format!("{:9.3} {what}\n", self.start.elapsed().as_secs_f64());
        let _ = self.file.lock().unwrap().write_all(line.as_bytes());
    }
}

fn secs(rng: &mut SmallRng, range: std::ops::Range<f64>) -> Duration {
    Duration::from_secs_f64(rng.random_range(range))
}

/// Sleeps `d`, or until `until` if that comes first; false once `until` has passed.
async fn hold(d: Duration, until: Instant) -> bool {
    let now = Instant::now();
    if now >= until {
        return false;
    }
    tokio::time::sleep(d.min(until - now)).await;
    Instant::now() < until
}

/// Kills or pauses one replica at a time until `until`. Returns (kills, pauses).
pub async fn process_nemesis(
    replicas: Arc<Mutex<Replicas>>,
    net: Arc<Net>,
    hold_on: Hold,
    journal: Journal,
    seed: u64,
    until: Instant,
) -> Result<(usize, usize), String> {
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x70_72_6f_63);
    let n = replicas.lock().unwrap().len();
    let (mut kills, mut pauses) = (0, 0);
    // Kills and pauses take turns, so every run has both.
    let mut kill = true;
    loop {
        if !hold(secs(&mut rng, 0.3..1.0), until).await {
            break;
        }
        let i = rng.random_range(0..n);
        let down_for = secs(&mut rng, 0.3..2.0);
        // A scripted fault that has the cluster to itself is waited for; the hold is
        // checked under the replicas' lock, where it is set.
        hold_on.processes_wait().await;
        {
            let mut r = replicas.lock().unwrap();
            if hold_on.processes_held() {
                continue;
            }
            if kill {
                r.kill(i);
                journal.note(&format!("kill -9 replica {i}"));
                kills += 1;
            } else {
                r.pause(i)?;
                journal.note(&format!("pause (SIGSTOP) replica {i}"));
                pauses += 1;
            }
        }
        hold(down_for, until).await;
        let mut r = replicas.lock().unwrap();
        if kill {
            r.start(&net, i)?;
            journal.note(&format!("restart replica {i}"));
        } else {
            r.resume(i)?;
            journal.note(&format!("resume (SIGCONT) replica {i}"));
        }
        kill = !kill;
    }
    Ok((kills, pauses))
}

/// What the network nemesis did: partitions made, kills of a bridge replica, and vote races
/// played to the point where a second candidate asked the restarted voter.
pub struct NetworkFaults {
    pub partitions: usize,
    pub bridge_kills: usize,
    pub vote_races: usize,
}

/// The network nemesis's kinds of fault, in the order they take turns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NetworkFault {
    Isolate,
    Split,
    Bridge,
    VoteRace,
}

/// Cuts the network, one partition at a time, until `until`. Three kinds take turns:
/// one replica isolated; a majority cut from the largest minority; and a bridge (two halves
/// that reach each other's side only through one replica) whose bridge replica is killed
/// and restarted at once, again and again, while it holds. With five replicas of one Raft
/// group a fourth kind, the vote race ([`vote_race`]), follows each bridge: a bridge
/// replica that restarts between two candidates of one term is where a replica that forgets
/// its vote lets both win, and the race times that restart instead of leaving it to chance.
pub async fn network_nemesis(
    net: Arc<Net>,
    replicas: Arc<Mutex<Replicas>>,
    hold_on: Hold,
    journal: Journal,
    seed: u64,
    until: Instant,
) -> Result<NetworkFaults, String> {
    let mut faults = NetworkFaults {
        partitions: 0,
        bridge_kills: 0,
        vote_races: 0,
    };
    if !net.can_partition() {
        journal.note("no network nemesis: partitions need network namespaces");
        return Ok(faults);
    }
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x6e_65_74);
    let n = replicas.lock().unwrap().len();
    use NetworkFault::*;
    // The vote race comes first, so that even a short run plays it.
    let kinds: &[NetworkFault] = if n == 5 {
        &[VoteRace, Isolate, Split, Bridge]
    } else {
        &[Isolate, Split, Bridge]
    };
    for &kind in kinds.iter().cycle() {
        if !hold(secs(&mut rng, 0.5..1.5), until).await {
            break;
        }
        if kind == VoteRace {
            let played =
                vote_race::vote_race(&net, &replicas, &hold_on, &journal, &mut rng).await?;
            faults.partitions += usize::from(played.cut);
            faults.vote_races += usize::from(played.raced);
            continue;
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        faults.partitions += 1;
        if kind != Bridge {
            // Isolate one replica, or split into a majority and the largest minority.
            let cut = if kind == Isolate { 1 } else { n / 2 };
            let mut minority = order[..cut].to_vec();
            let mut majority = order[cut..].to_vec();
            minority.sort_unstable();
            majority.sort_unstable();
            net.partition(&[minority.clone(), majority.clone()])?;
            journal.note(&format!("partition {minority:?} | {majority:?}"));
            hold(secs(&mut rng, 0.5..3.0), until).await;
        } else {
            let bridge = order[0];
            let (mut one, mut two) = (
                order[1..1 + (n - 1) / 2].to_vec(),
                order[1 + (n - 1) / 2..].to_vec(),
            );
            one.sort_unstable();
            two.sort_unstable();
            net.bridge([&one, &two], bridge)?;
            journal.note(&format!("bridge {one:?} <{bridge}> {two:?}"));
            let heal_at = Instant::now() + secs(&mut rng, 2.0..4.0);
            while hold(secs(&mut rng, 0.2..0.6), heal_at.min(until)).await {
                let mut r = replicas.lock().unwrap();
                // Only a replica the process nemesis is not holding down or paused.
                if r.health(bridge) == Health::Up {
                    r.kill(bridge);
                    r.start(&net, bridge)?;
                    journal.note(&format!("kill -9 and restart bridge replica {bridge}"));
                    faults.bridge_kills += 1;
                }
            }
        }
        net.heal()?;
        journal.note("heal the network");
    }
    Ok(faults)
}

/// How long the configuration nemesis waits for the controllers to answer.
const CTRLER_DEADLINE: Duration = Duration::from_secs(3);

/// Joins and removes shardkv groups through the controllers until `until`, one change at a
/// time, so shards move between groups while the clients use them and the other nemeses
/// strike. Every group of `groups` is joined when it starts; at least one stays joined.
/// Returns how many changes the controllers acknowledged. Must run inside
/// [`crate::process::run`].
pub async fn config_nemesis(
    ctrlers: Vec<String>,
    groups: BTreeMap<Gid, Vec<String>>,
    journal: Journal,
    seed: u64,
    until: Instant,
) -> Result<usize, String> {
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x63_66_67);
    let new_clerk = || CtrlerClerk::new(ctrlers.iter().map(ClientEnd::tcp).collect());
    let mut clerk = new_clerk();
    let mut changes = 0;
    loop {
        if !hold(secs(&mut rng, 0.5..1.5), until).await {
            break;
        }
        // Decide from the controllers' latest configuration, not from what was asked before:
        // a change given up on may still have taken effect.
        let Some(latest) = within(CTRLER_DEADLINE, clerk.query(-1)).await else {
            journal.note("configuration: the controllers did not answer a query; skipped");
            clerk = new_clerk();
            continue;
        };
        let joined: Vec<Gid> = latest.groups.keys().copied().collect();
        let absent: Vec<Gid> = groups
            .keys()
            .copied()
            .filter(|g| !joined.contains(g))
            .collect();
        // Keep one group joined, so the service always has someone to serve its shards.
        let leave = match (joined.len(), absent.len()) {
            (0 | 1, _) => false,
            (_, 0) => true,
            _ => rng.random_bool(0.5),
        };
        let (what, outcome) = if leave {
            let gid = joined[rng.random_range(0..joined.len())];
            (
                format!("leave {gid}"),
                within(CTRLER_DEADLINE, clerk.leave(vec![gid])).await,
            )
        } else {
            let Some(&gid) = absent.get(rng.random_range(0..absent.len().max(1))) else {
                continue;
            };
            let join = BTreeMap::from([(gid, groups[&gid].clone())]);
            (
                format!("join {gid}"),
                within(CTRLER_DEADLINE, clerk.join(join)).await,
            )
        };
        match outcome {
            Some(Ok(())) => {
                changes += 1;
                journal.note(&format!("configuration: {what} (after c{})", latest.num));
            }
            Some(Err(e)) => return Err(format!("the controllers refused {what}: {e}")),
            None => {
                journal.note(&format!(
                    "configuration: {what} not acknowledged within {:.0} s (may yet happen)",
                    CTRLER_DEADLINE.as_secs_f64()
                ));
                clerk = new_clerk();
            }
        }
    }
    Ok(changes)
}
