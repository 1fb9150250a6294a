//! The vote race: a scripted fault that makes one replica vote twice in one term if, and only
//! if, it forgets its vote when it restarts.
//!
//! Raft allows one vote per replica per term, and a replica must save its vote before it
//! answers, because a replica that forgets it across a crash can vote again in the same term
//! and let two candidates win it. Random kills almost never expose that: the first winner's
//! replication layer appends a no-op entry of the new term at once, and once the voter holds
//! it no candidate still in the old term is up to date enough to get its vote; so the voter
//! would have to die in the sub-millisecond gap between its vote and that entry. This fault
//! arranges the whole sequence instead, from outside the servers, with nothing but kills,
//! pauses, nftables rules and the replicas' Status service (term and leadership):
//!
//! 1. With the clients held and every replica up, one leader `L` and all replicas in one term
//!    `T0`, pick a candidate `C`, a voter `V` and two others `Z`, `B`. Kill `Z` and `B`, and
//!    make `C` deaf to `L`'s calls (so `C`'s election timer runs out while `V` still hears
//!    `L`). 300 ms later pause `L` and restart `V`, `Z` and `B` behind a bridge: `{C, L}` and
//!    `{Z, B}` reach each other only through `V`. The restarts start their election timers
//!    afresh, so `C`'s runs out first.
//! 2. `C` becomes a candidate of term `T0 + 1`: `V` grants its vote at once; `L`, paused, holds
//!    `C`'s request unread, so `C` has two votes of the three it needs and is not yet leader.
//! 3. As soon as `V` is seen in the new term, `V` is killed and restarted, and `C` hears `L`
//!    again. `Z` or `B` times out next, also in term `T0 + 1`, and asks `V`. A correct `V`
//!    remembers its vote for `C` and refuses; a `V` that forgot it grants, and `Z` (or `B`)
//!    leads.
//! 4. `L` resumes, reads `C`'s request and grants it: `C` leads too. With the bug there are two
//!    leaders of one term, each committing through `V`; the clients are released onto both,
//!    and when the network heals the two leaders meet (Raft stops on "two leaders in term")
//!    and the history shows writes that one side never saw.
//!
//! Any step that does not go as planned (a replica down, no single leader, a timer that fires
//! out of turn) abandons the race and heals the network; on correct code every outcome is a
//! legal run. The clients' hold and the process nemesis's respect of it are what keep the
//! replicas' logs equal at the start, which every vote of the script needs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use labrpc::{ClientEnd, TcpOptions};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;

use super::net::Net;
use super::procs::{Health, Replicas};
use super::schedule::Journal;
use crate::status::{status_rpc, State};

/// Held while a scripted fault needs the cluster to itself: clients start no new operation
/// (while the clients' hold is on) and the process nemesis strikes no replica (while the
/// processes' hold is on).
#[derive(Clone, Default)]
pub struct Hold {
    clients: Arc<AtomicBool>,
    processes: Arc<AtomicBool>,
}

impl Hold {
    pub fn processes_held(&self) -> bool {
        self.processes.load(Ordering::SeqCst)
    }

    /// Waits while the clients' hold is on.
    pub async fn clients_wait(&self) {
        while self.clients.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits while the processes' hold is on.
    pub async fn processes_wait(&self) {
        while self.processes_held() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn set(&self, clients: bool, processes: bool) {
        self.clients.store(clients, Ordering::SeqCst);
        self.processes.store(processes, Ordering::SeqCst);
    }
}

/// The longest the race waits for the process nemesis to bring its replica back (it holds
/// one down for at most 2 s).
const WAIT_FOR_ALL_UP: Duration = Duration::from_millis(2500);
/// How many quiet moments the race waits for one leader and one term before giving up.
const SETTLE_TRIES: usize = 5;
/// How long the clients are held before the race, so every log catches up with the leader's.
const QUIET: Duration = Duration::from_millis(300);
/// From making `C` deaf to `L` to pausing `L` and restarting `V`: long enough that `C` has
/// missed `L`'s last heartbeat, short enough that `C`'s timer (500-800 ms) has not run out.
const DEAF_BEFORE_PAUSE: Duration = Duration::from_millis(300);
/// How often the replicas' Status is polled while waiting for a step.
const POLL: Duration = Duration::from_millis(3);
/// A Status call gives up after this long (a paused or cut-off replica does not answer).
const STATUS_TIMEOUT: Duration = Duration::from_millis(100);
/// How long the two leaders (or, on correct code, the one) serve the released clients
/// before the network heals.
const AFTER_RACE: Duration = Duration::from_millis(1500);

/// Asks replicas for their Status.
struct Observer {
    clients: Vec<status_rpc::Client>,
}

impl Observer {
    fn new(net: &Net, n: usize) -> Observer {
        let options = TcpOptions {
            timeout: STATUS_TIMEOUT,
        };
        let clients = (0..n)
            .map(|i| status_rpc::Client::new(ClientEnd::tcp_with(net.addr(i), options)))
            .collect();
        Observer { clients }
    }

    async fn state(&self, i: usize) -> Option<State> {
        self.clients[i].state(&()).await.ok()
    }

    /// Polls until `pick` accepts one of `among`'s states (returning the replica), or
    /// `within` has passed.
    async fn wait_for(
        &self,
        among: &[usize],
        within: Duration,
        pick: impl Fn(&State) -> bool,
    ) -> Option<usize> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            for &i in among {
                if self.state(i).await.is_some_and(|s| pick(&s)) {
                    return Some(i);
                }
            }
            tokio::time::sleep(POLL).await;
        }
        None
    }
}

/// How far a vote race got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Played {
    /// It cut the network (so it counts as a partition).
    pub cut: bool,
    /// A second candidate of the voter's term asked the restarted voter.
    pub raced: bool,
}

/// Plays one vote race (see the module documentation); `Err` only for a nemesis failure
/// (a command that could not run).
pub async fn vote_race(
    net: &Net,
    replicas: &Arc<Mutex<Replicas>>,
    hold: &Hold,
    journal: &Journal,
    rng: &mut SmallRng,
) -> Result<Played, String> {
    let n = replicas.lock().unwrap().len();
    if n != 5 {
        return Ok(Played::default());
    }
    // Set under the replicas' lock, where the process nemesis checks it before it strikes;
    // a replica it already holds down comes back on its own schedule.
    {
        let _held = replicas.lock().unwrap();
        hold.set(true, true);
    }
    let all_up = || {
        let r = replicas.lock().unwrap();
        (0..n).all(|i| r.health(i) == Health::Up)
    };
    let deadline = Instant::now() + WAIT_FOR_ALL_UP;
    while !all_up() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let outcome = if all_up() {
        race(net, replicas, journal, rng, n).await
    } else {
        abandon(journal, "a replica stayed down");
        Ok(Played::default())
    };
    // Whatever happened, every replica is running again and the clients go on, still on
    // the bridge (where two leaders of one term, if there are two, both commit through the
    // voter) and with no other fault, until the network heals and the leaders meet.
    {
        let mut r = replicas.lock().unwrap();
        for i in 0..n {
            match r.health(i) {
                Health::Paused => r.resume(i)?,
                Health::Killed => r.start(net, i)?,
                Health::Up => {}
            }
        }
    }
    hold.set(false, true);
    tokio::time::sleep(AFTER_RACE).await;
    net.heal()?;
    journal.note("heal the network");
    hold.set(false, false);
    outcome
}

async fn race(
    net: &Net,
    replicas: &Arc<Mutex<Replicas>>,
    journal: &Journal,
    rng: &mut SmallRng,
    n: usize,
) -> Result<Played, String> {
    let observer = Observer::new(net, n);
    // A replica that was cut off may be a term ahead, and takes an election to be caught up
    // with: give the cluster a few quiet moments to settle.
    let mut settled = None;
    for _ in 0..SETTLE_TRIES {
        tokio::time::sleep(QUIET).await;
        let mut states = Vec::new();
        for i in 0..n {
            if let Some(state) = observer.state(i).await {
                states.push(state);
            }
        }
        let leaders: Vec<usize> = (0..states.len()).filter(|&i| states[i].leader).collect();
        if states.len() == n
            && leaders.len() == 1
            && states.iter().all(|s| s.term == states[0].term)
        {
            settled = Some((leaders[0], states[0].term));
            break;
        }
    }
    let Some((l, t0)) = settled else {
        abandon(journal, "no single leader in one term");
        return Ok(Played::default());
    };
    let mut others: Vec<usize> = (0..n).filter(|&i| i != l).collect();
    others.shuffle(rng);
    let [c, v, z, b] = [others[0], others[1], others[2], others[3]];
    journal.note(&format!(
        "vote race in term {t0}: leader {l}, candidate {c}, voter {v}, second side [{z}, {b}]"
    ));

    // Step 1: Z and B down, C deaf to L; then L paused, the bridge [C, L] <V> [Z, B] up (C
    // still deaf to L), and V, Z and B restarted, which starts their election timers afresh.
    {
        let mut r = replicas.lock().unwrap();
        r.kill(z);
        r.kill(b);
    }
    net.cut_calls(c, &[], &[l])?;
    tokio::time::sleep(DEAF_BEFORE_PAUSE).await;
    // In this order: C's timer may run out from 50 ms on, and its request must find V up
    // and must not reach Z or B.
    {
        let mut r = replicas.lock().unwrap();
        r.pause(l)?;
        r.kill(v);
        r.start(net, v)?;
    }
    net.cut_calls(c, &[z, b], &[l])?;
    {
        let mut r = replicas.lock().unwrap();
        r.start(net, z)?;
        r.start(net, b)?;
    }
    net.cut(&[(l, vec![z, b]), (z, vec![c, l]), (b, vec![c, l])])?;
    journal.note(&format!(
        "vote race: {c} deaf to {l}; {l} paused; bridge [{c}, {l}] <{v}> [{z}, {b}]; {v}, {z}, {b} restarted"
    ));

    // Step 2: C's candidacy reaches V.
    let next = t0 + 1;
    if observer
        .wait_for(&[v], Duration::from_millis(1000), |s| s.term == next)
        .await
        .is_none()
    {
        abandon(journal, "the voter never saw the candidate's term");
        return Ok(Played {
            cut: true,
            raced: false,
        });
    }

    // Step 3: V restarts after its vote, before Z's or B's timer runs out; C, now a
    // candidate (so L's late heartbeats of the old term no longer count), hears L again.
    {
        let mut r = replicas.lock().unwrap();
        r.kill(v);
        r.start(net, v)?;
    }
    net.cut_calls(c, &[z, b], &[])?;
    journal.note(&format!(
        "vote race: {v} voted in term {next}; killed and restarted"
    ));
    let raced = observer
        .wait_for(&[z, b], Duration::from_millis(900), |s| s.term >= next)
        .await
        .is_some();

    // Step 4: L reads C's request, at once: the restarted V's own timer is running too.
    replicas.lock().unwrap().resume(l)?;
    let first_leader = observer
        .wait_for(&[c], Duration::from_millis(300), |s| {
            s.term == next && s.leader
        })
        .await;
    let second_leader = observer
        .wait_for(&[z, b], Duration::from_millis(50), |s| {
            s.term == next && s.leader
        })
        .await;
    let leaders: Vec<String> = first_leader
        .into_iter()
        .chain(second_leader)
        .map(|i| i.to_string())
        .collect();
    journal.note(&format!(
        "vote race: {l} resumed; leaders of term {next}: [{}]",
        leaders.join(", ")
    ));
    Ok(Played { cut: true, raced })
}

fn abandon(journal: &Journal, why: &str) {
    journal.note(&format!("vote race abandoned: {why}"));
}
