//! The shared test harness: what every lab test wraps itself in.
//!
//! [`run_test`] picks the seed (`LAB_SEED`, or a fresh one), runs the test body as one
//! simulation (or on the wall clock with `LAB_REALTIME=1`) under a time budget, and prints,
//! pass or fail, the line `seed=S digest=D` that identifies the run. On failure it prints the
//! reason and the one command that replays the run, then fails the test.
//!
//! Besides the simulated budget, every run has a wall-clock limit (`LAB_WALL_LIMIT=SECS`,
//! default [`DEFAULT_WALL_LIMIT`]) so that nothing can hang `cargo test`: the simulation
//! checks it between task polls and fails the run with a report; a watchdog thread aborts the
//! process if the run is still going at twice the limit (a task stuck inside one poll, where
//! no check can run). The simulation also fails a run that livelocks at one simulated instant
//! (see `labrpc::livelock`). `LAB_LIVELOCK_STATS=1` prints, per run, the most task polls done
//! at one simulated instant, to see how far a passing run is from the livelock limit.
//!
//! `LAB_SEEDS=S1,S2,…` runs the test once per seed in this one process, each a fresh
//! simulation between marker lines ([`batch`]): how the grader spares itself a process start
//! per run.
//!
//! [`report`] prints the course's result lines; [`trace`] sets up `tracing` so that
//! `RUST_LOG` prints events stamped with simulated time, and `LAB_TRACE=FILE` writes them as
//! JSON lines.

mod alloc;
pub mod batch;
pub mod report;
pub mod seed;
pub mod trace;
mod watchdog;

use std::future::Future;
use std::time::Duration;

pub use labrpc::sim::RunError;

/// The wall-clock limit of one run unless `LAB_WALL_LIMIT` says otherwise: generous, since a
/// simulated test takes well under a second of wall time in release builds and a realtime one
/// (`LAB_REALTIME=1`) at most its 120 s budget; debug builds are some ten times slower.
pub const DEFAULT_WALL_LIMIT: Duration = Duration::from_secs(300);

/// The course's per-test limit: every tester fails a test that runs past 120 s.
pub const COURSE_TEST_BUDGET: Duration = Duration::from_secs(120);

/// Runs one test body as a simulation (once per seed of `LAB_SEEDS`, if set). Panics (failing
/// the test) if the body panics, a spawned task fails, or the budget of simulated time runs
/// out.
pub fn run_test<F, Fut>(budget: Duration, body: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    let outcome = match batch::seeds_from_env() {
        Ok(Some(seeds)) => batch::run_each(&seeds, |seed| run_seeded(seed, budget, &body)),
        Ok(None) => try_run_test(budget, body),
        Err(message) => {
            println!("  ... FAILED: {message}");
            Err(RunError::Failed(message))
        }
    };
    if let Err(error) = outcome {
        panic!("{error}");
    }
}

/// Runs a test that is not a simulation but takes a seed (a randomized check of a pure
/// function, say): `body(seed)` once with `LAB_SEED` (or a fresh seed), or once per seed of
/// `LAB_SEEDS`, with the same marker lines as [`run_test`]. The body prints what it likes and
/// panics to fail.
pub fn run_seeded_test(body: impl Fn(u64)) {
    match batch::seeds_from_env() {
        Ok(Some(seeds)) => {
            let _ = batch::run_each(&seeds, |seed| {
                body(seed);
                Ok::<(), ()>(())
            });
        }
        Ok(None) => body(seed::from_env()),
        Err(message) => panic!("{message}"),
    }
}

/// Like [`run_test`], but returns the failure instead of panicking (for tests of the harness).
/// Always one run, with `LAB_SEED`'s seed (or a fresh one).
pub fn try_run_test<F, Fut>(budget: Duration, body: F) -> Result<(), RunError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ()>,
{
    run_seeded(seed::from_env(), budget, body)
}

/// One run with this seed: the simulation, its `seed=… digest=…` line, and on failure the
/// reason and the replay command.
fn run_seeded<F, Fut>(seed: u64, budget: Duration, body: F) -> Result<(), RunError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ()>,
{
    if let Err(message) = trace::init() {
        println!("  ... FAILED: {message}");
        return Err(RunError::Failed(message));
    }
    let realtime = seed::realtime_from_env();
    let replay = seed::replay_command(seed);
    let wall = match wall_limit_from_env() {
        Ok(wall) => wall,
        Err(message) => {
            println!("  ... FAILED: {message}");
            return Err(RunError::Failed(message));
        }
    };
    let limits = labrpc::sim::Limits {
        wall: Some(wall),
        ..labrpc::sim::Limits::new(budget)
    };
    let watchdog = watchdog::start(wall, seed, replay.clone());
    let (sim, outcome) = labrpc::sim::run_with(seed, realtime, limits, body);
    drop(watchdog);
    trace::flush();
    println!("seed={} digest={}", sim.seed(), sim.digest());
    if std::env::var_os("LAB_LIVELOCK_STATS").is_some() {
        let ((polls, at), (bytes, bytes_at)) = sim.largest_instants();
        println!(
            "livelock stats: most task polls at one simulated instant: {polls} at t={:.6} s (the limit is {}); most network bytes: {bytes} at t={:.6} s (the limit is {})",
            at.as_secs_f64(),
            limits.polls_per_instant,
            bytes_at.as_secs_f64(),
            limits.bytes_per_instant
        );
        let (polls, parks) = sim.scheduler_work();
        println!("livelock stats: in all {polls} task polls and {parks} runtime wake-ups");
    }
    if let Err(error) = &outcome {
        println!("  ... FAILED: {error}");
        println!("replay: {replay}");
    }
    outcome
}

/// `LAB_WALL_LIMIT=SECS` (a positive whole number of seconds), else the default.
pub fn wall_limit_from_env() -> Result<Duration, String> {
    match std::env::var("LAB_WALL_LIMIT") {
        Ok(text) => parse_wall_limit(&text).ok_or_else(|| {
            format!(
                "LAB_WALL_LIMIT={text:?} is not a wall-clock limit: give a positive whole number of seconds, such as LAB_WALL_LIMIT=300"
            )
        }),
        Err(_) => Ok(DEFAULT_WALL_LIMIT),
    }
}

fn parse_wall_limit(text: &str) -> Option<Duration> {
    match text.trim().parse::<u64>() {
        Ok(secs) if secs > 0 => Some(Duration::from_secs(secs)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_wall_limits() {
        use std::time::Duration;
        assert_eq!(
            super::parse_wall_limit("300"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(super::parse_wall_limit(" 5 "), Some(Duration::from_secs(5)));
        assert_eq!(super::parse_wall_limit("0"), None);
        assert_eq!(super::parse_wall_limit("5m"), None);
        assert_eq!(super::parse_wall_limit("-1"), None);
    }
}
