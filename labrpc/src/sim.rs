//! The simulation runtime: one seed, one tokio runtime, one random generator.
//!
//! A test runs every server, client and the network inside one tokio runtime. By default the
//! runtime is current-thread with a paused clock: time only moves when every task is idle, and
//! then jumps straight to the next timer, so thirty simulated seconds cost milliseconds. The
//! runtime's own random choices (which `select!` branch goes first) are seeded, and every other
//! random choice of the run — the network's drops and delays, Raft's election timeouts, a test's
//! choice of victim — comes from [`Sim`]'s one seeded generator. Same seed, same code: same run.
//!
//! Code running inside a simulation reaches it through [`current`] (or the shortcuts
//! [`random_range`], [`random_bool`], [`now`], [`spawn`]), so labs keep the course's signatures
//! (`Raft::new(peers, me, persister, apply_tx)`) without threading a handle through every call.
//! The handle lives in a thread-local that [`run`] sets on every thread of the runtime.
//!
//! `realtime = true` (the harness sets it from `LAB_REALTIME=1`) runs the same future on a
//! multi-threaded runtime against the wall clock instead, to shake out what one thread hides.
//! [`run_service`] is the entry point for a real, long-running process (a server talking to
//! its peers over [`tcp`](crate::tcp)): the same context on the wall clock, without a test's
//! budget and limits.
//!
//! A run ends in one of five ways (see [`RunError`]): the body finishes, the body or a spawned
//! task fails, the simulated budget runs out (the hang report), the run livelocks at one
//! simulated instant, or it passes its wall-clock limit (both watched by
//! [`livelock`](crate::livelock)).

use std::cell::RefCell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::runtime::{Builder, RngSeed, UnhandledPanic};
use tokio::sync::Notify;

use crate::digest::Digest;
use crate::livelock::{self, Monitor, Trip};

/// A handle on the running simulation. Cheap to clone.
#[derive(Clone)]
pub struct Sim {
    inner: Arc<SimInner>,
}

struct SimInner {
    seed: u64,
    realtime: bool,
    rng: Mutex<SmallRng>,
    digest: Mutex<Digest>,
    /// Simulated time zero; set when the runtime starts, because a paused clock only exists
    /// inside its runtime.
    /// Set once (a lock-free read: every network event reads it).
    start: OnceLock<tokio::time::Instant>,
    /// Simulated time since `start`, in nanoseconds, as of the runtime's last wake-up: a
    /// paused clock moves only while the runtime parks (tokio advances it there, never in a
    /// task), so reading this instead of the clock (a lock) gives the same value. Unused in
    /// realtime mode, where the wall clock moves on its own.
    now_nanos: AtomicU64,
    /// The first failure reported by a spawned task (a panic or an explicit [`Sim::fail`]).
    failure: Mutex<Option<String>>,
    failed: Notify,
    /// What components (the network, a lab's tester) can say about a run that hangs.
    hang_reporters: Mutex<Vec<HangReporter>>,
    /// Counts task polls and network bytes: how the hang report tells a deadlock from a run
    /// that is merely slow, and how a livelock or a run past its wall-clock limit is caught.
    monitor: Monitor,
}

/// Describes what a component is waiting on, for the hang report; None when it has nothing
/// to say (for example, it has been dropped).
pub type HangReporter = Box<dyn Fn() -> Option<String> + Send + Sync>;

/// How often the run checks whether any task is still running, for the hang report.
const ACTIVITY_TICK: Duration = Duration::from_secs(1);

thread_local! {
    static CURRENT: RefCell<Option<Sim>> = const { RefCell::new(None) };
}

/// The simulation this thread is running, if any.
pub fn try_current() -> Option<Sim> {
    CURRENT.with(|c| c.borrow().clone())
}

/// The simulation this thread is running.
///
/// # Panics
/// Outside [`run`]: lab code only runs inside a simulation, so this is a programming error.
pub fn current() -> Sim {
    try_current()
        .expect("labrpc::sim::current() called outside a simulation (use labrpc::sim::run)")
}

/// Runs `f` on the simulation this thread is running, without cloning its handle: the
/// helpers below run on every message, and a clone is two atomic operations.
///
/// # Panics
/// Outside [`run`], as [`current`] does.
fn with_current<T>(f: impl FnOnce(&Sim) -> T) -> T {
    CURRENT.with(|c| {
        let current = c.borrow();
        f(current
            .as_ref()
            .expect("labrpc::sim called outside a simulation (use labrpc::sim::run)"))
    })
}

/// Simulated time since the run started (wall time in realtime mode).
pub fn now() -> Duration {
    with_current(Sim::elapsed)
}

/// The runtime's clock now: `tokio::time::Instant::now()`, read without its lock in a
/// simulation (see [`Sim::instant`]). Outside a simulation, the tokio clock.
pub fn instant() -> tokio::time::Instant {
    CURRENT.with(|c| match c.borrow().as_ref() {
        Some(sim) => sim.instant(),
        None => tokio::time::Instant::now(),
    })
}

/// `tokio::time::sleep(duration)`, with the deadline taken from [`instant`].
pub fn sleep(duration: Duration) -> tokio::time::Sleep {
    tokio::time::sleep_until(instant() + duration)
}

/// A uniformly random value in `range`, from the simulation's seeded generator.
pub fn random_range<T, R>(range: R) -> T
where
    T: rand::distr::uniform::SampleUniform,
    R: rand::distr::uniform::SampleRange<T>,
{
    with_current(|sim| sim.with_rng(|rng| rng.random_range(range)))
}

/// `true` with probability `p`, from the simulation's seeded generator.
pub fn random_bool(p: f64) -> bool {
    with_current(|sim| sim.with_rng(|rng| rng.random_bool(p)))
}

/// Spawns a task on the simulation's runtime. A panic in it fails the whole test (as a
/// `log.Fatalf` in a Go tester goroutine kills the test binary) instead of vanishing.
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    with_current(|sim| sim.spawn(future))
}

impl Sim {
    /// [`spawn`], on this simulation's behalf, from code that holds the [`Sim`] already
    /// (it may run where no simulation is current, as a destructor may).
    pub fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(FailOnPanic {
            sim: self.clone(),
            future,
        })
    }

    /// Counts a unit of work the runtime's poll hook does not see: a call's handler that
    /// finished in its caller's task (see `handler.rs`).
    pub(crate) fn count_poll(&self) {
        self.inner
            .monitor
            .on_poll(tokio::task::try_id(), || self.elapsed());
    }

    fn new(seed: u64, realtime: bool, limits: &Limits) -> Sim {
        Sim {
            inner: Arc::new(SimInner {
                seed,
                realtime,
                rng: Mutex::new(SmallRng::seed_from_u64(seed)),
                digest: Mutex::new(Digest::new()),
                start: OnceLock::new(),
                now_nanos: AtomicU64::new(0),
                failure: Mutex::new(None),
                failed: Notify::new(),
                hang_reporters: Mutex::new(Vec::new()),
                monitor: Monitor::new(
                    !realtime,
                    livelock::Budget {
                        polls: limits.polls_per_instant,
                        bytes: limits.bytes_per_instant,
                    },
                    limits.wall,
                ),
            }),
        }
    }

    /// The seed this run was started with.
    pub fn seed(&self) -> u64 {
        self.inner.seed
    }

    /// Whether this run is on the wall clock rather than the simulated one.
    pub fn is_realtime(&self) -> bool {
        self.inner.realtime
    }

    /// Runs `f` with the simulation's random generator.
    pub fn with_rng<T>(&self, f: impl FnOnce(&mut SmallRng) -> T) -> T {
        f(&mut self.inner.rng.lock().unwrap())
    }

    /// Time since the run started.
    pub fn elapsed(&self) -> Duration {
        if self.inner.realtime {
            self.clock_elapsed()
        } else {
            Duration::from_nanos(self.inner.now_nanos.load(Ordering::Relaxed))
        }
    }

    /// The runtime's clock now, as `tokio::time::Instant::now()` reads it. In a simulation
    /// this is the start plus the copy of the clock taken at the last wake-up, which is
    /// the same instant (see `now_nanos`) without the clock's lock and the runtime handle's
    /// reference count, which the tokio call takes each time: a call reads it twice, a
    /// Raft peer's driver once per batch.
    pub fn instant(&self) -> tokio::time::Instant {
        match self.inner.start.get() {
            Some(&start) if !self.inner.realtime => {
                start + Duration::from_nanos(self.inner.now_nanos.load(Ordering::Relaxed))
            }
            _ => tokio::time::Instant::now(),
        }
    }

    /// `tokio::time::sleep(duration)`, with the deadline taken from [`Sim::instant`].
    pub fn sleep(&self, duration: Duration) -> tokio::time::Sleep {
        tokio::time::sleep_until(self.instant() + duration)
    }

    /// Time since the run started, read from the runtime's clock.
    fn clock_elapsed(&self) -> Duration {
        match self.inner.start.get() {
            Some(&start) => tokio::time::Instant::now().saturating_duration_since(start),
            None => Duration::ZERO,
        }
    }

    /// After the runtime woke: the simulated clock may have moved. Returns the time now.
    fn clock_moved(&self) -> Duration {
        let now = self.clock_elapsed();
        let nanos = u64::try_from(now.as_nanos()).unwrap_or(u64::MAX);
        self.inner.now_nanos.store(nanos, Ordering::Relaxed);
        now
    }

    /// Adds one event to the run's digest.
    pub(crate) fn record(&self, event: &[&[u8]]) {
        let elapsed = self.elapsed().as_nanos() as u64;
        let mut digest = self.inner.digest.lock().unwrap();
        digest.add(&elapsed.to_le_bytes());
        for field in event {
            digest.add(field);
        }
    }

    /// The digest of every network event so far, as 16 hex digits.
    pub fn digest(&self) -> String {
        self.inner.digest.lock().unwrap().hex()
    }

    /// Marks the run failed with `message`; [`run`] returns it as the run's failure. Only the
    /// first failure is kept: later ones are usually consequences of it.
    pub fn fail(&self, message: String) {
        tracing::error!(topic = "failure", "{message}");
        self.record_failure(message);
    }

    fn record_failure(&self, message: String) {
        let mut failure = self.inner.failure.lock().unwrap();
        if failure.is_none() {
            *failure = Some(message);
        }
        drop(failure);
        self.inner.failed.notify_one();
    }

    /// Adds a component's report to the hang report printed when the run overruns its budget.
    pub fn on_hang(&self, reporter: HangReporter) {
        self.inner.hang_reporters.lock().unwrap().push(reporter);
    }

    /// The most task polls and the most network bytes this run has had at one simulated
    /// instant so far, each with when: how close a passing run came to the livelock limits.
    pub fn largest_instants(&self) -> ((u64, Duration), (u64, Duration)) {
        self.inner.monitor.largest_instants()
    }

    /// Task polls and runtime wake-ups (unparks) of this run so far: what a run cost the
    /// scheduler.
    pub fn scheduler_work(&self) -> (u64, u64) {
        (self.inner.monitor.polls(), self.inner.monitor.parks())
    }

    /// Whether this run's current instant is suspected of livelock, so that its trace topics
    /// should be counted with [`Sim::note_topic`] (see also [`livelock::tallying_topics`]).
    pub fn is_suspect(&self) -> bool {
        self.inner.monitor.is_suspect()
    }

    /// Counts a trace event's topic for the livelock report (a no-op unless suspect).
    pub fn note_topic(&self, topic: &str) {
        self.inner.monitor.note_topic(topic);
    }

    /// Counts a network event's bytes against the livelock limit, and the event itself for
    /// the livelock report once the instant is suspect.
    pub(crate) fn note_network(
        &self,
        fate: &'static str,
        from: &str,
        to: &str,
        method: &'static str,
        size: usize,
    ) {
        self.inner
            .monitor
            .note_network(fate, from, to, method, size as u64, || self.elapsed());
    }

    fn failure(&self) -> Option<String> {
        self.inner.failure.lock().unwrap().clone()
    }
}

/// Why a run did not complete.
#[derive(Debug, Clone)]
pub enum RunError {
    /// The test's own future panicked (an assertion failed); the payload's message.
    Panicked(String),
    /// A spawned task panicked or called [`Sim::fail`].
    Failed(String),
    /// The run went past its time budget; the hang report says what every task was waiting on.
    TimedOut { budget: Duration, report: String },
    /// The run passed the limit of task polls or network bytes at one simulated instant:
    /// tasks kept waking each other without time ever advancing. The livelock report says
    /// what they did.
    Livelock {
        at: Duration,
        polls: u64,
        bytes: u64,
        report: String,
    },
    /// The run went past its wall-clock limit (the harness's `LAB_WALL_LIMIT`); the hang
    /// report says what every task was waiting on.
    WallClock { limit: Duration, report: String },
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Panicked(m) | RunError::Failed(m) => f.write_str(m),
            RunError::TimedOut { budget, report } => write!(
                f,
                "the test ran past its time budget of {:.0} s without finishing\n{report}",
                budget.as_secs_f64()
            ),
            RunError::Livelock {
                at,
                polls,
                bytes,
                report,
            } => write!(
                f,
                "livelock: {} task polls and {} network bytes at t={:.6} s without simulated time advancing\n{report}",
                livelock::group(*polls),
                livelock::group(*bytes),
                at.as_secs_f64()
            ),
            RunError::WallClock { limit, report } => write!(
                f,
                "the test ran past its wall-clock limit of {} s without finishing (LAB_WALL_LIMIT=SECS changes it)\n{report}",
                limit.as_secs()
            ),
        }
    }
}

/// What stops a run besides its own end.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Simulated time the run may take (wall time in realtime mode).
    pub budget: Duration,
    /// Task polls at one simulated instant that mean a livelock (not checked in realtime
    /// mode, where time is the wall clock's).
    pub polls_per_instant: u64,
    /// Network bytes (requests sent, replies delivered) at one simulated instant that mean a
    /// livelock; like `polls_per_instant`, but quick to trip when every turn of the loop
    /// moves a lot of data.
    pub bytes_per_instant: u64,
    /// Wall time the run may take, if limited.
    pub wall: Option<Duration>,
}

impl Limits {
    /// The given budget, the default livelock limit, no wall-clock limit.
    pub fn new(budget: Duration) -> Limits {
        Limits {
            budget,
            polls_per_instant: livelock::DEFAULT_POLLS_PER_INSTANT,
            bytes_per_instant: livelock::DEFAULT_BYTES_PER_INSTANT,
            wall: None,
        }
    }
}

/// Runs `body` as one simulation with the given seed, stopping it when `budget` (simulated
/// time) runs out or it livelocks. Returns the handle (for the seed and digest) and the
/// outcome.
pub fn run<F, Fut>(
    seed: u64,
    realtime: bool,
    budget: Duration,
    body: F,
) -> (Sim, Result<Fut::Output, RunError>)
where
    F: FnOnce() -> Fut,
    Fut: Future,
{
    run_with(seed, realtime, Limits::new(budget), body)
}

/// [`run`] with every limit given.
pub fn run_with<F, Fut>(
    seed: u64,
    realtime: bool,
    limits: Limits,
    body: F,
) -> (Sim, Result<Fut::Output, RunError>)
where
    F: FnOnce() -> Fut,
    Fut: Future,
{
    let budget = limits.budget;
    let sim = Sim::new(seed, realtime, &limits);
    let counter = sim.clone();
    let count_poll = move |meta: &tokio::runtime::TaskMeta<'_>| {
        counter
            .inner
            .monitor
            .on_poll(Some(meta.id()), || counter.elapsed());
    };
    let runtime = if realtime {
        let on_start = sim.clone();
        Builder::new_multi_thread()
            .enable_all()
            .on_before_task_poll(count_poll)
            .on_thread_start(move || set_current(Some(on_start.clone())))
            .on_thread_stop(|| set_current(None))
            .build()
    } else {
        Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .on_before_task_poll(count_poll)
            // The paused clock moves only while the runtime parks: each unpark may begin a
            // new instant.
            .on_thread_unpark({
                let sim = sim.clone();
                move || {
                    let now = sim.clock_moved();
                    sim.inner.monitor.on_unpark(now);
                }
            })
            .rng_seed(RngSeed::from_bytes(&seed.to_le_bytes()))
            // A tokio::spawn'ed task that panics (one not started through `spawn` above)
            // still fails the run rather than vanishing.
            .unhandled_panic(UnhandledPanic::ShutdownRuntime)
            .build()
    }
    .expect("cannot build the tokio runtime");

    set_current(Some(sim.clone()));
    let caught = drive(&sim, &runtime, Some(budget), body);
    // Dropping the runtime drops every task still alive; keep the handle reachable for their
    // destructors until then.
    drop(runtime);
    sim.inner.monitor.finish();
    set_current(None);
    let outcome = outcome_of(&sim, caught);
    (sim, outcome)
}

/// How long [`run_service`] waits, once its body has returned, for the runtime's threads to
/// stop (a blocking task, such as a name lookup, may still be running).
const SERVICE_SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Runs `body` as a long-running real process: a server, a client or a launcher whose peers
/// are other processes (over [`tcp`](crate::tcp)), in the lab code's usual context.
///
/// Lab code reaches its runtime through this module ([`spawn`], [`random_range`], [`now`]), so
/// a real process must run inside a simulation context too; this is that context without the
/// test machinery: a multi-threaded tokio runtime on the wall clock, random choices from
/// `seed`'s generator, no time budget, no livelock detection, no wall-clock limit. Returns
/// the body's output once it finishes, or [`RunError::Failed`] as soon as a task started with
/// [`spawn`] panics or calls [`Sim::fail`]: a bug in a server ends the process with an error,
/// as an uncaught panic ends a Go program. (The simulated network works here too, but its
/// digest is not reproducible on a multi-threaded runtime.)
pub fn run_service<F, Fut>(seed: u64, body: F) -> Result<Fut::Output, RunError>
where
    F: FnOnce() -> Fut,
    Fut: Future,
{
    let limits = Limits {
        wall: None,
        ..Limits::new(Duration::MAX)
    };
    let sim = Sim::new(seed, true, &limits);
    let on_start = sim.clone();
    let runtime = Builder::new_multi_thread()
        .enable_all()
        .on_thread_start(move || set_current(Some(on_start.clone())))
        .on_thread_stop(|| set_current(None))
        .build()
        .expect("cannot build the tokio runtime");
    set_current(Some(sim.clone()));
    let caught = drive(&sim, &runtime, None, body);
    runtime.shutdown_timeout(SERVICE_SHUTDOWN_GRACE);
    set_current(None);
    outcome_of(&sim, caught)
}

/// Runs `body` on `runtime` under [`watch`], catching a panic of the body itself. What a
/// simulated test and a real process share.
fn drive<F, Fut>(
    sim: &Sim,
    runtime: &tokio::runtime::Runtime,
    budget: Option<Duration>,
    body: F,
) -> std::thread::Result<Result<Fut::Output, RunError>>
where
    F: FnOnce() -> Fut,
    Fut: Future,
{
    catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(async {
            let _ = sim.inner.start.set(tokio::time::Instant::now());
            let failed = sim.inner.failed.notified();
            tokio::pin!(failed);
            failed.as_mut().enable();
            if let Some(message) = sim.failure() {
                return Err(RunError::Failed(message));
            }
            watch(sim, budget, failed, body()).await
        })
    }))
}

/// The run's outcome: the body's, or, if it panicked, the first failure a task reported
/// (usually the cause) or else the panic's message.
fn outcome_of<T>(
    sim: &Sim,
    caught: std::thread::Result<Result<T, RunError>>,
) -> Result<T, RunError> {
    match caught {
        Ok(result) => result,
        Err(payload) => Err(sim
            .failure()
            .map(RunError::Failed)
            .unwrap_or_else(|| RunError::Panicked(panic_message(&*payload)))),
    }
}

/// Runs the body until it finishes, a task fails, the monitor stops it, or the budget (a
/// test's; a real process has none) runs out; ticks once a second meanwhile to note when
/// tasks last ran, for the hang report.
async fn watch<Fut: Future>(
    sim: &Sim,
    budget: Option<Duration>,
    failed: Pin<&mut tokio::sync::futures::Notified<'_>>,
    body: Fut,
) -> Result<Fut::Output, RunError> {
    let deadline = budget.map(|budget| (tokio::time::Instant::now() + budget, budget));
    tokio::pin!(body);
    let mut failed = failed;
    let mut polls_seen = 0;
    let mut last_active = Duration::ZERO;
    loop {
        let mut tick = tokio::time::Instant::now() + ACTIVITY_TICK;
        if let Some((deadline, _)) = deadline {
            tick = tick.min(deadline);
        }
        tokio::select! {
            biased;
            _ = failed.as_mut() => return Err(RunError::Failed(sim.failure().unwrap_or_default())),
            _ = sim.inner.monitor.wake.notified() => return Err(stopped(sim).await),
            output = &mut body => return Ok(output),
            _ = tokio::time::sleep_until(tick) => {
                let polls = sim.inner.monitor.polls();
                if polls != polls_seen {
                    polls_seen = polls;
                    last_active = sim.elapsed();
                }
                if let Some((_, budget)) = deadline.filter(|(d, _)| tokio::time::Instant::now() >= *d) {
                    tracing::error!(topic = "failure", "the test ran past its time budget");
                    let report = crate::hang::report(sim, last_active, &sim.inner.hang_reporters).await;
                    return Err(RunError::TimedOut { budget, report });
                }
            }
        }
    }
}

/// The failure of a run its monitor stopped: a livelock, or the wall-clock limit.
async fn stopped(sim: &Sim) -> RunError {
    let monitor = &sim.inner.monitor;
    let verdict = monitor
        .take_verdict()
        .expect("the monitor wakes the run only once it has a verdict");
    match verdict.trip {
        Trip::Polls | Trip::Bytes => {
            tracing::error!(
                topic = "failure",
                "livelock: simulated time stopped advancing"
            );
            let report = livelock::report(&verdict, monitor.limit()).await;
            RunError::Livelock {
                at: verdict.at,
                polls: verdict.polls,
                bytes: verdict.bytes,
                report,
            }
        }
        Trip::WallClock => {
            tracing::error!(topic = "failure", "the test ran past its wall-clock limit");
            let ((polls, since), _) = sim.largest_instants();
            let now = sim.elapsed();
            // Tasks were running when the limit hit (the check runs in the poll hook).
            let mut report = crate::hang::report(sim, now, &sim.inner.hang_reporters).await;
            report.push_str(&format!(
                "  {} task polls in all; the most at one simulated instant: {} at t={:.6} s\n",
                livelock::group(monitor.polls()),
                livelock::group(polls),
                since.as_secs_f64()
            ));
            RunError::WallClock {
                limit: monitor.wall_limit().unwrap_or_default(),
                report,
            }
        }
    }
}

fn set_current(sim: Option<Sim>) {
    CURRENT.with(|c| *c.borrow_mut() = sim);
}

/// The text of a panic payload (`panic!` with a literal or with format arguments).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a task panicked with a non-string payload".to_string()
    }
}

pin_project_lite::pin_project! {
    /// Wraps a spawned future: a panic while polling it is reported to the simulation.
    struct FailOnPanic<F> {
        sim: Sim,
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for FailOnPanic<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let future = this.future;
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(poll) => poll,
            Err(payload) => {
                // The panic hook has already reported it; just fail the run.
                this.sim.record_failure(panic_message(&*payload));
                // The task is dead; it never completes, and the run is ending.
                Poll::Pending
            }
        }
    }
}
