//! The shared test harness: what every lab test wraps itself in.
//!
//! [`run_test`] picks the seed (`LAB_SEED`, or a fresh one), runs the test body as one
//! simulation (or on the wall clock with `LAB_REALTIME=1`) under a time budget, and prints,
//! pass or fail, the line `seed=S digest=D` that identifies the run. On failure it prints the
//! reason and the one command that replays the run, then fails the test.
//!
//! [`report`] prints the course's result lines; [`trace`] sets up `tracing` so that
//! `RUST_LOG` prints events stamped with simulated time, and `LAB_TRACE=FILE` writes them as
//! JSON lines.

pub mod report;
pub mod seed;
pub mod trace;

use std::future::Future;
use std::time::Duration;

pub use labrpc::sim::RunError;

/// The course's per-test limit: every tester fails a test that runs past 120 s.
pub const COURSE_TEST_BUDGET: Duration = Duration::from_secs(120);

/// Runs one test body as a simulation. Panics (failing the test) if the body panics, a spawned
/// task fails, or the budget of simulated time runs out.
pub fn run_test<F, Fut>(budget: Duration, body: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ()>,
{
    if let Err(error) = try_run_test(budget, body) {
        panic!("{error}");
    }
}

/// Like [`run_test`], but returns the failure instead of panicking (for tests of the harness).
pub fn try_run_test<F, Fut>(budget: Duration, body: F) -> Result<(), RunError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ()>,
{
    trace::init();
    let seed = seed::from_env();
    let realtime = seed::realtime_from_env();
    let (sim, outcome) = labrpc::sim::run(seed, realtime, budget, body);
    trace::flush();
    println!("seed={} digest={}", sim.seed(), sim.digest());
    if let Err(error) = &outcome {
        println!("  ... FAILED: {error}");
        println!("replay: {}", seed::replay_command(sim.seed()));
    }
    outcome
}
