//! The last line of defence against a hung `cargo test`: a thread that aborts the process when
//! a run outlives twice its wall-clock limit.
//!
//! The simulation checks the wall-clock limit between task polls, which covers every way a run
//! can go on working. It cannot cover a task that never returns from one poll (a synchronous
//! infinite loop): no poll hook runs again, and the run's own thread is the one that is stuck.
//! Only another thread can notice that, and only ending the process can stop it.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Stops the watchdog when dropped (the run has ended).
pub struct Watchdog {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // Closing the channel wakes the thread, which then exits.
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts a watchdog for a run with this wall-clock limit; it fires at twice the limit, leaving
/// the run's own check (and its report) every chance to act first.
pub fn start(limit: Duration, seed: u64, replay: String) -> Watchdog {
    let (stop, stopped) = mpsc::channel::<()>();
    let fire_after = limit * 2;
    let thread = std::thread::Builder::new()
        .name("lab-watchdog".into())
        .spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(fire_after) {
                // stderr is unbuffered: these lines survive the abort.
                eprintln!(
                    "  ... FAILED: the test ran {} s of wall time, past twice its wall-clock limit of {} s (LAB_WALL_LIMIT), and the simulation could not stop it: a task has not returned from one poll (a loop that never awaits?); aborting the process",
                    fire_after.as_secs(),
                    limit.as_secs()
                );
                eprintln!("seed={seed}");
                eprintln!("replay: {replay}");
                std::process::abort();
            }
        })
        .expect("cannot start the watchdog thread");
    Watchdog {
        stop: Some(stop),
        thread: Some(thread),
    }
}
