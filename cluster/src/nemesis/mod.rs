//! The nemesis: a Jepsen-style test of the key/value services as real processes.
//!
//! Five `kvserver` replicas of Lab 3's service (or, with the sharded layout, Lab 4's shard
//! controllers and shardkv groups: see [`layout`]) run as processes with their data on
//! disk; clients loop over
//! random operations and record a history; meanwhile two nemeses strike, each on its own
//! seeded schedule: one kills replicas (SIGKILL) and restarts them, or pauses them (SIGSTOP)
//! and resumes them, one replica at a time; the other cuts the network between replicas into
//! a majority and a minority, or isolates one replica, or bridges two halves through one,
//! and heals it (network namespaces and nftables, see [`net`]); with five replicas of one
//! Raft group it also plays a scripted vote race ([`vote_race`]), which holds the clients and
//! the process nemesis while it times a restart between two candidates. With the sharded
//! service a third nemesis joins and removes groups through the controllers, so shards move
//! while everything else goes on. At the end
//! everything is healed, resumed and restarted, each key is read once more, and the history
//! is judged ([`check`]): linearizable, and every acknowledged write present exactly once;
//! and no replica may have exited by itself (Raft stops on two leaders of one term).
//!
//! Everything of the run is kept in its directory: `nemesis.log` (the schedule as carried
//! out, with times), `history.txt` (every operation, readable by `lincheck --model kv`),
//! `server-<i>.log` (every incarnation's log) and, when the history is not linearizable,
//! `history.html` (the checker's page).

pub mod check;
pub mod layout;
pub mod net;
pub mod procs;
pub mod schedule;
pub mod vote_race;
pub mod workload;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::client::{within, Client, Target};
use layout::Layout;
use net::Net;
use procs::Replicas;
use schedule::Journal;
use workload::{History, PUT_KEY};

/// What a run does.
#[derive(Clone, Debug)]
pub struct Config {
    pub layout: Layout,
    pub clients: usize,
    /// How long the clients and nemeses run (the healing and final reads come after).
    pub duration: Duration,
    /// Fixes both nemeses' schedules and the clients' choices (not the processes' timing).
    pub seed: u64,
    pub dir: PathBuf,
    pub kvserver: PathBuf,
    pub maxraftstate: i64,
    /// A client gives an operation up after this long.
    pub op_deadline: Duration,
}

/// What a run did, and its verdict.
pub struct Summary {
    pub ok_ops: usize,
    pub timed_out_ops: usize,
    pub kills: usize,
    pub pauses: usize,
    pub partitions: usize,
    /// Kills (each restarted at once) of the bridge replica of a bridge partition.
    pub bridge_kills: usize,
    /// Vote races played until a second candidate asked the restarted voter.
    pub vote_races: usize,
    /// Configuration changes the controllers acknowledged (sharded service only).
    pub moves: usize,
    pub problems: Vec<String>,
}

impl Summary {
    /// One line a test can read: `nemesis-result ops=… ok=… …`.
    pub fn line(&self) -> String {
        format!(
            "nemesis-result ok={} timed_out={} kills={} pauses={} partitions={} bridge_kills={} \
             vote_races={} moves={} verdict={}",
            self.ok_ops,
            self.timed_out_ops,
            self.kills,
            self.pauses,
            self.partitions,
            self.bridge_kills,
            self.vote_races,
            self.moves,
            if self.problems.is_empty() {
                "ok"
            } else {
                "failed"
            }
        )
    }
}

/// Runs the test on `net`. Must run inside [`crate::process::run`].
pub async fn run(config: Config, net: Net) -> Result<Summary, String> {
    std::fs::create_dir_all(&config.dir)
        .map_err(|e| format!("cannot create {}: {e}", config.dir.display()))?;
    let journal = Journal::create(&config.dir.join("nemesis.log"))?;
    journal.note(&format!(
        "seed {}, {}, clients {} duration {:.0} s on {}",
        config.seed,
        config.layout.describe(),
        config.clients,
        config.duration.as_secs_f64(),
        net.describe()
    ));
    let net = Arc::new(net);
    let addr = |i| net.addr(i);
    let layout = config.layout;
    let replicas = Arc::new(Mutex::new(Replicas::new(
        &config.kvserver,
        &config.dir,
        config.maxraftstate,
        layout.members(addr),
    )));
    let total = layout.total();
    {
        let mut r = replicas.lock().unwrap();
        for i in 0..total {
            r.start(&net, i)?;
        }
    }
    let target = layout.target(addr);
    if let Layout::Sharded { .. } = layout {
        join_every_group(&layout.ctrlers(addr), layout.groups(addr), &replicas).await?;
    }
    wait_for_service(&target, &replicas).await?;
    journal.note("cluster up; clients and nemeses start");

    let start = Instant::now();
    let history = History::default();
    let stop = Arc::new(AtomicBool::new(false));
    let hold = vote_race::Hold::default();
    let shared = workload::Clients {
        count: config.clients,
        target: target.clone(),
        deadline: config.op_deadline,
        seed: config.seed,
        history: history.clone(),
        start,
        stop: stop.clone(),
        hold: hold.clone(),
    };
    let clients: Vec<_> = (0..config.clients)
        .map(|i| tokio::spawn(workload::client_loop(i, shared.clone())))
        .collect();
    let until = start + config.duration;
    let processes = tokio::spawn(schedule::process_nemesis(
        replicas.clone(),
        net.clone(),
        hold.clone(),
        journal.clone(),
        config.seed,
        until,
    ));
    let partitions = tokio::spawn(schedule::network_nemesis(
        net.clone(),
        replicas.clone(),
        hold.clone(),
        journal.clone(),
        config.seed,
        until,
    ));
    let reconfigurations = match layout {
        Layout::Sharded { .. } => Some(tokio::spawn(schedule::config_nemesis(
            layout.ctrlers(addr),
            layout.groups(addr),
            journal.clone(),
            config.seed,
            until,
        ))),
        Layout::Kv { .. } => None,
    };
    let (kills, pauses) = processes.await.map_err(|e| e.to_string())??;
    let moves = match reconfigurations {
        Some(task) => task.await.map_err(|e| e.to_string())??,
        None => 0,
    };
    let network = partitions.await.map_err(|e| e.to_string())??;

    // Heal everything, then let the clients run a little on a whole cluster before stopping.
    net.heal()?;
    {
        let mut r = replicas.lock().unwrap();
        for i in 0..total {
            match r.health(i) {
                procs::Health::Paused => r.resume(i)?,
                procs::Health::Killed => r.start(&net, i)?,
                procs::Health::Up => {}
            }
        }
    }
    journal.note("healed: every replica up and connected");
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    let (mut ok_ops, mut timed_out_ops) = (0, 0);
    for client in clients {
        let (ok, timed_out) = client.await.map_err(|e| e.to_string())?;
        ok_ops += ok;
        timed_out_ops += timed_out;
    }

    // One final read of every key, by a fresh client with a generous deadline.
    let mut finals = BTreeMap::new();
    let mut reader = Client::new(&target, Duration::from_secs(15));
    let final_process = 1_000_000;
    let keys = workload::append_keys_until(start.elapsed());
    for key in keys.iter().map(String::as_str).chain([PUT_KEY]) {
        let input = lincheck::KvInput::get(key);
        let value = workload::perform(&mut reader, &history, start, final_process, input)
            .await
            .map_err(|e| format!("the final read of {key:?} failed: {e}"))?;
        if key != PUT_KEY {
            finals.insert(key.to_string(), value);
        }
    }
    journal.note(&format!(
        "clients stopped: {ok_ops} operations completed, {timed_out_ops} gave up"
    ));
    // Stopping every replica notes each that had already exited by itself (see
    // `Replicas::kill`), as every earlier kill did.
    let crashed = {
        let mut r = replicas.lock().unwrap();
        r.stop_all();
        r.take_crashes()
    };

    let operations = history.operations();
    let history_path = config.dir.join("history.txt");
    File::create(&history_path)
        .and_then(|mut f| f.write_all(check::history_text(&operations).as_bytes()))
        .map_err(|e| format!("cannot write {}: {e}", history_path.display()))?;
    let verdict = check::judge(&operations, &finals, &config.dir.join("history.html"));
    let mut problems = crashed;
    problems.extend(verdict.problems);
    for problem in &problems {
        journal.note(&format!("FAILED: {problem}"));
    }
    Ok(Summary {
        ok_ops,
        timed_out_ops,
        kills,
        pauses,
        partitions: network.partitions,
        bridge_kills: network.bridge_kills,
        vote_races: network.vote_races,
        moves,
        problems,
    })
}

/// Joins every shardkv group to the controllers (20 s at most), before the clients start.
async fn join_every_group(
    ctrlers: &[String],
    groups: std::collections::BTreeMap<shardkv::Gid, Vec<String>>,
    replicas: &Arc<Mutex<Replicas>>,
) -> Result<(), String> {
    let mut clerk = shardkv::CtrlerClerk::new(ctrlers.iter().map(labrpc::ClientEnd::tcp).collect());
    match within(Duration::from_secs(20), clerk.join(groups)).await {
        Some(Ok(())) => Ok(()),
        Some(Err(e)) => Err(format!("the controllers refused the groups: {e}")),
        None => Err(format!(
            "the controllers never took the groups' join; {}",
            exits(replicas)
        )),
    }
}

/// Waits until the service answers a write (20 s at most), so the clock starts on a working
/// cluster.
async fn wait_for_service(target: &Target, replicas: &Arc<Mutex<Replicas>>) -> Result<(), String> {
    let mut client = Client::new(target, Duration::from_secs(20));
    match client.put("nemesis-ready", "yes").await {
        Ok(()) => Ok(()),
        Err(error) => Err(format!(
            "the cluster never came up: {error}; {}",
            exits(replicas)
        )),
    }
}

/// Which replicas have exited, and where their logs are: why a cluster did not come up.
fn exits(replicas: &Arc<Mutex<Replicas>>) -> String {
    let mut r = replicas.lock().unwrap();
    let exits: Vec<String> = (0..r.len())
        .filter_map(|i| {
            r.exited(i)
                .map(|s| format!("replica {i} exited: {s} (see {})", r.log_path(i).display()))
        })
        .collect();
    if exits.is_empty() {
        "every replica is still running".into()
    } else {
        exits.join("; ")
    }
}
