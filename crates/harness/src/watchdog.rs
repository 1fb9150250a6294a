//! The last line of defence against a hung `cargo test`: a thread that aborts the process when
//! a run outlives twice its wall-clock limit.
//!
//! The simulation checks the wall-clock limit between task polls and parks, which covers every
//! way a run can go on working. It cannot cover a task that never returns from one poll (a
//! synchronous infinite loop): no hook runs again, and the run's own thread is the one that is
//! stuck. Only another thread can notice that, and only ending the process can stop it.
//!
//! One thread serves every run of the process (libtest runs tests on several threads): runs
//! register their deadline and remove it when they end, which costs a lock, not a thread.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How often the thread looks at the runs when it knows of none due.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// A run being watched.
struct Entry {
    fire_at: Instant,
    limit: Duration,
    seed: u64,
    replay: String,
}

#[derive(Default)]
struct Runs {
    by_id: BTreeMap<u64, Entry>,
    next_id: u64,
    /// When the thread will next look, if it is waiting.
    wakes_at: Option<Instant>,
}

struct Shared {
    runs: Mutex<Runs>,
    changed: Condvar,
}

/// Stops watching the run when dropped (the run has ended).
pub struct Watchdog {
    id: u64,
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // The thread may wake at this run's deadline and find nothing due: that is harmless.
        shared().runs.lock().unwrap().by_id.remove(&self.id);
    }
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<&'static Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let shared: &'static Shared = Box::leak(Box::new(Shared {
            runs: Mutex::new(Runs::default()),
            changed: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("lab-watchdog".into())
            .spawn(move || watch(shared))
            .expect("cannot start the watchdog thread");
        shared
    })
}

/// Watches a run with this wall-clock limit; fires at twice the limit, leaving the run's own
/// check (and its report) every chance to act first.
pub fn start(limit: Duration, seed: u64, replay: String) -> Watchdog {
    let shared = shared();
    let mut runs = shared.runs.lock().unwrap();
    let id = runs.next_id;
    runs.next_id += 1;
    let fire_at = Instant::now() + limit * 2;
    // The thread wakes by itself when it planned to: only a run due before then needs to wake
    // it (waking it for every run would cost a context switch per test).
    let wake = runs.wakes_at.is_none_or(|planned| fire_at < planned);
    runs.by_id.insert(
        id,
        Entry {
            fire_at,
            limit,
            seed,
            replay,
        },
    );
    drop(runs);
    if wake {
        shared.changed.notify_one();
    }
    Watchdog { id }
}

fn watch(shared: &Shared) {
    let mut runs = shared.runs.lock().unwrap();
    loop {
        let now = Instant::now();
        let earliest = runs.by_id.values().min_by_key(|e| e.fire_at);
        if let Some(entry) = earliest.filter(|e| e.fire_at <= now) {
            // stderr is unbuffered: these lines survive the abort.
            eprintln!(
                "  ... FAILED: the test ran {} s of wall time, past twice its wall-clock limit of {} s (LAB_WALL_LIMIT), and the simulation could not stop it: a task has not returned from one poll (a loop that never awaits?); aborting the process",
                (entry.limit * 2).as_secs(),
                entry.limit.as_secs()
            );
            eprintln!("seed={}", entry.seed);
            eprintln!("replay: {}", entry.replay);
            std::process::abort();
        }
        let wake_at = earliest.map_or(now + IDLE_CHECK, |e| e.fire_at);
        runs.wakes_at = Some(wake_at);
        runs = shared.changed.wait_timeout(runs, wake_at - now).unwrap().0;
        runs.wakes_at = None;
    }
}
