//! Livelock detection and the wall-clock backstop: a run that keeps working without getting
//! anywhere fails with a report instead of spinning forever.
//!
//! On the paused clock, simulated time moves only when the runtime parks with no task ready to
//! run, and then jumps to the next timer. Tasks that keep waking each other with zero-delay
//! work (a leader that resends at once on every rejection, over the zero-delay reliable
//! network, to a follower that keeps rejecting) never let it park, so time never advances, the
//! simulated budget never fires, and the run spins at 100 % CPU forever. The [`Monitor`]
//! measures the work done at the current simulated instant in two ways, task polls and bytes
//! on the network, and trips when either passes a limit that no correct run comes near (see
//! [`DEFAULT_POLLS_PER_INSTANT`] and [`DEFAULT_BYTES_PER_INSTANT`]). Polls catch every loop;
//! bytes catch quickly a loop whose every turn is expensive (a leader resending a large batch
//! of entries costs a hundred times what an empty call does).
//!
//! Why polls and park hooks: the runtime already calls a hook before every task poll (one
//! relaxed increment), and on the current-thread runtime the clock can only move between the
//! runtime's `on_thread_park` and `on_thread_unpark` hooks, which run once per park. So the
//! unpark hook notes whether the instant changed and, if so, the counts at its start; the poll
//! hook and the network compare. The counts are deterministic on the current-thread runtime
//! (one thread, seeded scheduler), so the same seed trips at the same poll with the same
//! report.
//!
//! Once an instant has used three quarters of either limit it is *suspect*: from then on the
//! monitor tallies the instant's network events, trace topics and polls per task, for the
//! report. Passing runs never get there, so they pay a comparison per poll and per network
//! event and nothing else.
//!
//! The wall-clock backstop is the same hooks reading the wall clock every
//! [`WALL_CHECK_EVERY`] polls and every 256 parks (the runtime's infrastructure may read the
//! wall clock; lab code may not). It catches what the simulation cannot judge: a run that is
//! merely far too slow, a livelock under `LAB_REALTIME=1` (where simulated time is the wall
//! clock and this detector is off), a limit set too high.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

/// Task polls at one simulated instant beyond which a run is livelocked. The largest figure
/// seen in passing runs is in the README ("Debugging a failure"); `LAB_LIVELOCK_STATS=1` makes
/// the harness print it per run.
pub const DEFAULT_POLLS_PER_INSTANT: u64 = 2_000_000;

/// Bytes sent and delivered on the network at one simulated instant beyond which a run is
/// livelocked (see [`DEFAULT_POLLS_PER_INSTANT`] for the figures).
pub const DEFAULT_BYTES_PER_INSTANT: u64 = 64_000_000;

/// The byte limit counts only at an instant with at least this many network events: it is
/// there for loops that resend large messages, and one large message (a 100 MB shard moving
/// between shardkv groups) is not a loop.
pub const MIN_EVENTS_FOR_BYTES: u64 = 1_000;

/// The wall clock is read once every this many polls (a power of two: the check is a mask).
pub const WALL_CHECK_EVERY: u64 = 4096;

/// The wall clock is also read once every this many parks (a power of two).
const WALL_CHECK_EVERY_PARKS: u64 = 256;

/// Runs in this process whose current instant is suspect. The harness's trace subscriber
/// only asks to see events while this is non-zero, so passing runs pay nothing for topics.
static SUSPECT_RUNS: AtomicUsize = AtomicUsize::new(0);

/// Whether some run in this process is tallying an instant's trace topics right now.
pub fn tallying_topics() -> bool {
    SUSPECT_RUNS.load(Ordering::Relaxed) > 0
}

/// Why the monitor stopped a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Trip {
    /// Too many task polls at one instant.
    Polls,
    /// Too many network bytes at one instant.
    Bytes,
    WallClock,
}

/// Distinct network events (fate, sender, receiver, method) a tally keeps apart; the rest are
/// counted together. A livelock repeats a few; the cap bounds the search below.
const NETWORK_KINDS: usize = 64;

/// One kind of network event and how often it happened: (fate, sender, receiver, method,
/// events).
type NetworkKind = (&'static str, Arc<str>, Arc<str>, &'static str, u64);

/// Counts of what happened at a suspect instant.
#[derive(Default)]
struct Tally {
    /// (fate, sender, receiver, method, events), in order of first appearance. A list, not a
    /// map: a lookup by borrowed strings allocates nothing, and a livelock repeats a few kinds.
    network: Vec<NetworkKind>,
    /// Events of kinds beyond the first [`NETWORK_KINDS`].
    network_other: u64,
    network_events: u64,
    topics: BTreeMap<String, u64>,
    tasks: BTreeMap<tokio::task::Id, u64>,
    /// The run's poll count when the tally began.
    from_poll: u64,
}

/// What the monitor knew when it tripped, for the report.
pub(crate) struct Verdict {
    pub trip: Trip,
    /// Simulated time of the instant.
    pub at: Duration,
    /// Work at this instant when it tripped.
    pub polls: u64,
    pub bytes: u64,
    /// Polls since tallying began.
    pub window: u64,
    tally: Tally,
}

/// How much work one instant may take.
#[derive(Clone, Copy)]
pub(crate) struct Budget {
    pub polls: u64,
    pub bytes: u64,
}

/// Work done at one instant, and when the instant was.
#[derive(Clone, Copy, Default)]
struct Work {
    polls: u64,
    bytes: u64,
    at: Duration,
}

/// Watches one run's work; lives in the run's [`Sim`](crate::sim::Sim).
pub(crate) struct Monitor {
    /// Off under `LAB_REALTIME=1`: there the wall clock governs time.
    detect: bool,
    limit: Budget,
    /// Three quarters of the limit: where an instant becomes suspect.
    suspect_at: Budget,
    /// Every task poll of the run.
    polls: AtomicU64,
    /// Every network byte of the run (requests sent, replies delivered).
    bytes: AtomicU64,
    /// Every network event of the run.
    events: AtomicU64,
    /// Every park of the runtime.
    parks: AtomicU64,
    /// `polls` and `bytes` when the current simulated instant began.
    instant_polls: AtomicU64,
    instant_bytes: AtomicU64,
    /// `events` when the current simulated instant began.
    instant_events: AtomicU64,
    /// The current instant (as tokio sees it), updated once per park.
    instant: Mutex<Instants>,
    suspect: AtomicBool,
    tally: Mutex<Tally>,
    tripped: AtomicBool,
    verdict: Mutex<Option<Verdict>>,
    /// Wakes the run's watch future when the monitor trips.
    pub wake: Notify,
    wall: Option<(std::time::Instant, Duration)>,
}

#[derive(Default)]
struct Instants {
    /// The current instant's simulated time.
    current: Option<Duration>,
    /// The run's simulated time when the current instant began.
    started_at: Duration,
    /// The most polls and the most bytes seen at one instant (each with its instant).
    most_polls: Work,
    most_bytes: Work,
}

impl Monitor {
    pub(crate) fn new(detect: bool, limit: Budget, wall_limit: Option<Duration>) -> Monitor {
        let limit = Budget {
            polls: limit.polls.max(4),
            bytes: limit.bytes.max(4),
        };
        Monitor {
            detect,
            limit,
            suspect_at: Budget {
                polls: limit.polls / 4 * 3,
                bytes: limit.bytes / 4 * 3,
            },
            polls: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            events: AtomicU64::new(0),
            parks: AtomicU64::new(0),
            instant_polls: AtomicU64::new(0),
            instant_bytes: AtomicU64::new(0),
            instant_events: AtomicU64::new(0),
            instant: Mutex::new(Instants::default()),
            suspect: AtomicBool::new(false),
            tally: Mutex::new(Tally::default()),
            tripped: AtomicBool::new(false),
            verdict: Mutex::new(None),
            wake: Notify::new(),
            wall: wall_limit.map(|limit| (std::time::Instant::now() + limit, limit)),
        }
    }

    /// Task polls so far.
    pub(crate) fn polls(&self) -> u64 {
        self.polls.load(Ordering::Relaxed)
    }

    /// Times the runtime woke from parking so far (each simulated instant with work is at
    /// least one).
    pub(crate) fn parks(&self) -> u64 {
        self.parks.load(Ordering::Relaxed)
    }

    /// Work at the current instant.
    fn here(&self) -> (u64, u64) {
        (
            self.polls()
                .saturating_sub(self.instant_polls.load(Ordering::Relaxed)),
            self.bytes
                .load(Ordering::Relaxed)
                .saturating_sub(self.instant_bytes.load(Ordering::Relaxed)),
        )
    }

    /// The hot path: called before every task poll, and when a call's handler finishes in
    /// its caller's task (`handler.rs`: what was a poll of the handler's own task), with
    /// the task doing the work if it is one (the test body is not).
    #[inline]
    pub(crate) fn on_poll(
        &self,
        task: Option<tokio::task::Id>,
        elapsed: impl FnOnce() -> Duration,
    ) {
        let n = self.polls.fetch_add(1, Ordering::Relaxed) + 1;
        if self.detect {
            let here = n.saturating_sub(self.instant_polls.load(Ordering::Relaxed));
            if here >= self.suspect_at.polls || self.suspect.load(Ordering::Relaxed) {
                self.suspicious_poll(here, task, elapsed);
            }
        }
        if n & (WALL_CHECK_EVERY - 1) == 0 {
            self.check_wall();
        }
    }

    fn check_wall(&self) {
        if let Some((deadline, _)) = self.wall {
            if std::time::Instant::now() >= deadline {
                self.trip(Trip::WallClock, Duration::ZERO);
            }
        }
    }

    #[cold]
    fn suspicious_poll(
        &self,
        here: u64,
        task: Option<tokio::task::Id>,
        elapsed: impl FnOnce() -> Duration,
    ) {
        if self.tripped.load(Ordering::Relaxed) {
            return;
        }
        self.suspect();
        if let Some(task) = task {
            *self.tally.lock().unwrap().tasks.entry(task).or_default() += 1;
        }
        if here >= self.limit.polls {
            self.trip(Trip::Polls, elapsed());
        }
    }

    /// Marks the instant suspect, if it is not yet.
    fn suspect(&self) {
        if !self.suspect.swap(true, Ordering::Relaxed) {
            self.tally.lock().unwrap().from_poll = self.polls();
            // Topics are counted by the harness's subscriber, which only asks to see events
            // while some run is suspect: make it ask again now.
            if SUSPECT_RUNS.fetch_add(1, Ordering::Relaxed) == 0 {
                tracing::callsite::rebuild_interest_cache();
            }
        }
    }

    /// Records the verdict (the first trip wins) and wakes the run's watch.
    fn trip(&self, trip: Trip, at: Duration) {
        if self.tripped.swap(true, Ordering::Relaxed) {
            return;
        }
        let tally = std::mem::take(&mut *self.tally.lock().unwrap());
        let (polls, bytes) = self.here();
        *self.verdict.lock().unwrap() = Some(Verdict {
            trip,
            at,
            polls,
            bytes,
            window: if tally.from_poll == 0 {
                0
            } else {
                self.polls() - tally.from_poll
            },
            tally,
        });
        self.end_suspicion();
        self.wake.notify_one();
    }

    fn end_suspicion(&self) {
        if self.suspect.swap(false, Ordering::Relaxed)
            && SUSPECT_RUNS.fetch_sub(1, Ordering::Relaxed) == 1
        {
            tracing::callsite::rebuild_interest_cache();
        }
    }

    /// Called after every park, with the run's simulated time: if it moved, a new instant
    /// begins.
    pub(crate) fn on_unpark(&self, now: Duration) {
        // Also here, not only between polls: a test body that loops on timers is no task, and
        // is polled without the poll hook.
        if self.parks.fetch_add(1, Ordering::Relaxed) & (WALL_CHECK_EVERY_PARKS - 1) == 0 {
            self.check_wall();
        }
        if !self.detect {
            return;
        }
        let mut instants = self.instant.lock().unwrap();
        if instants.current == Some(now) {
            return;
        }
        let (polls, bytes) = self.here();
        let ended = Work {
            polls,
            bytes,
            at: instants.started_at,
        };
        if polls > instants.most_polls.polls {
            instants.most_polls = ended;
        }
        if bytes > instants.most_bytes.bytes {
            instants.most_bytes = ended;
        }
        instants.current = Some(now);
        instants.started_at = now;
        drop(instants);
        self.instant_polls.store(self.polls(), Ordering::Relaxed);
        self.instant_bytes
            .store(self.bytes.load(Ordering::Relaxed), Ordering::Relaxed);
        self.instant_events
            .store(self.events.load(Ordering::Relaxed), Ordering::Relaxed);
        if !self.tripped.load(Ordering::Relaxed) && self.suspect.load(Ordering::Relaxed) {
            *self.tally.lock().unwrap() = Tally::default();
            self.end_suspicion();
        }
    }

    /// The most polls and the most network bytes seen at one simulated instant so far, each
    /// with its instant's simulated time.
    pub(crate) fn largest_instants(&self) -> ((u64, Duration), (u64, Duration)) {
        let instants = self.instant.lock().unwrap();
        let (polls, bytes) = self.here();
        let (mut most_polls, mut most_bytes) = (instants.most_polls, instants.most_bytes);
        if polls > most_polls.polls {
            most_polls = Work {
                polls,
                bytes,
                at: instants.started_at,
            };
        }
        if bytes > most_bytes.bytes {
            most_bytes = Work {
                polls,
                bytes,
                at: instants.started_at,
            };
        }
        (
            (most_polls.polls, most_polls.at),
            (most_bytes.bytes, most_bytes.at),
        )
    }

    /// Counts a network event: its bytes always (the byte limit), the event itself if the
    /// current instant is suspect.
    #[inline]
    pub(crate) fn note_network(
        &self,
        fate: &'static str,
        from: &str,
        to: &str,
        method: &'static str,
        size: u64,
        elapsed: impl FnOnce() -> Duration,
    ) {
        let total = self.bytes.fetch_add(size, Ordering::Relaxed) + size;
        let events = self.events.fetch_add(1, Ordering::Relaxed) + 1;
        if self.detect {
            let here = total.saturating_sub(self.instant_bytes.load(Ordering::Relaxed));
            let events_here = events.saturating_sub(self.instant_events.load(Ordering::Relaxed));
            if here >= self.suspect_at.bytes
                && events_here >= MIN_EVENTS_FOR_BYTES
                && !self.tripped.load(Ordering::Relaxed)
            {
                self.suspect();
                if here >= self.limit.bytes {
                    self.trip(Trip::Bytes, elapsed());
                    return;
                }
            }
        }
        if self.suspect.load(Ordering::Relaxed) {
            let mut tally = self.tally.lock().unwrap();
            let tally = &mut *tally;
            tally.network_events += 1;
            let kinds = tally.network.len();
            let known = tally
                .network
                .iter_mut()
                .find(|(f, fr, t, m, _)| *f == fate && *m == method && **fr == *from && **t == *to);
            match known {
                Some(kind) => kind.4 += 1,
                None if kinds < NETWORK_KINDS => {
                    tally
                        .network
                        .push((fate, from.into(), to.into(), method, 1))
                }
                None => tally.network_other += 1,
            }
        }
    }

    /// Counts a trace topic, if the current instant is suspect.
    pub(crate) fn note_topic(&self, topic: &str) {
        if self.suspect.load(Ordering::Relaxed) {
            let mut tally = self.tally.lock().unwrap();
            match tally.topics.get_mut(topic) {
                Some(count) => *count += 1,
                None => {
                    tally.topics.insert(topic.to_string(), 1);
                }
            }
        }
    }

    /// Whether the run's instant is suspect (its trace topics are being counted).
    pub(crate) fn is_suspect(&self) -> bool {
        self.suspect.load(Ordering::Relaxed)
    }

    /// The verdict, once the monitor has tripped.
    pub(crate) fn take_verdict(&self) -> Option<Verdict> {
        self.verdict.lock().unwrap().take()
    }

    /// Ends the run's suspicion (so the process-wide count is right) when the run ends.
    pub(crate) fn finish(&self) {
        self.end_suspicion();
    }

    /// The limits per instant.
    pub(crate) fn limit(&self) -> Budget {
        self.limit
    }

    /// The wall-clock limit, if any.
    pub(crate) fn wall_limit(&self) -> Option<Duration> {
        self.wall.map(|(_, limit)| limit)
    }
}

/// The livelock report: the instant, the work done there, what the network and the traces
/// were doing, and the busiest tasks with what they were waiting on.
pub(crate) async fn report(verdict: &Verdict, limit: Budget) -> String {
    let mut out = String::new();
    let at = verdict.at.as_secs_f64();
    let tally = &verdict.tally;
    let _ = writeln!(out, "livelock report at t={at:.6} s:");
    let _ = writeln!(
        out,
        "  at this one simulated instant: {} task polls (the limit is {}), {} bytes on the network (the limit is {})",
        group(verdict.polls),
        group(limit.polls),
        group(verdict.bytes),
        group(limit.bytes),
    );
    let _ = writeln!(
        out,
        "  tasks kept waking each other with zero-delay work, so simulated time never advanced"
    );
    let _ = writeln!(
        out,
        "  in the last {} polls (since the instant became suspect), {} network events, most frequent first:",
        group(verdict.window),
        group(tally.network_events)
    );
    let mut events: Vec<_> = tally.network.iter().collect();
    events.sort_by(|a, b| b.4.cmp(&a.4).then(a.cmp(b)));
    for (fate, from, to, method, count) in events.iter().take(10) {
        let to = if to.is_empty() { "-" } else { to };
        let _ = writeln!(
            out,
            "    {:>11}  {fate:<12} {from} -> {to} {method}",
            group(*count)
        );
    }
    let rest: u64 = events.iter().skip(10).map(|e| e.4).sum::<u64>() + tally.network_other;
    if rest > 0 {
        let _ = writeln!(out, "    {:>11}  of other kinds", group(rest));
    }
    if tally.topics.is_empty() {
        let _ = writeln!(
            out,
            "  trace topics: none counted (no trace event, or no subscriber: the harness counts them)"
        );
    } else {
        let mut topics: Vec<_> = tally.topics.iter().collect();
        topics.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let list: Vec<String> = topics
            .iter()
            .take(12)
            .map(|(topic, count)| format!("{topic} {}", group(**count)))
            .collect();
        let _ = writeln!(out, "  trace topics: {}", list.join(", "));
    }
    out.push_str(&busiest_tasks(&tally.tasks).await);
    out
}

/// The tasks polled at the suspect instant, busiest first, with their stacks of awaits.
async fn busiest_tasks(polled: &BTreeMap<tokio::task::Id, u64>) -> String {
    let Some(stacks) = crate::hang::task_stacks().await else {
        return "  (task dumps need Linux on x86_64 or aarch64)\n".into();
    };
    // Identical stacks together: (polls, tasks) per stack.
    let mut by_stack: BTreeMap<&str, (u64, usize)> = BTreeMap::new();
    let mut alive_polls = 0;
    for (id, stack) in &stacks {
        if let Some(polls) = polled.get(id) {
            let entry = by_stack.entry(stack).or_default();
            entry.0 += polls;
            entry.1 += 1;
            alive_polls += polls;
        }
    }
    let finished_tasks = polled.len() - by_stack.values().map(|(_, n)| n).sum::<usize>();
    let finished_polls = polled.values().sum::<u64>() - alive_polls;
    let mut rows: Vec<_> = by_stack.into_iter().collect();
    rows.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
    let mut out = format!(
        "  {} polls of {} short-lived tasks that have finished (RPC handlers, calls' own tasks)\n",
        group(finished_polls),
        group(finished_tasks as u64)
    );
    let _ = writeln!(
        out,
        "  {} tasks alive, {} of them polled in these last polls; the busiest, with what they wait on between polls:",
        stacks.len(),
        rows.iter().map(|(_, (_, n))| n).sum::<usize>()
    );
    for (stack, (polls, tasks)) in rows.iter().take(6) {
        let _ = writeln!(out, "  {} polls, {tasks} task(s):", group(*polls));
        for frame in stack.lines() {
            let _ = writeln!(out, "      {frame}");
        }
    }
    if rows.len() > 6 {
        let _ = writeln!(out, "  … and {} other stacks", rows.len() - 6);
    }
    out
}

/// 1234567 → "1,234,567".
pub(crate) fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn groups_digits() {
        assert_eq!(super::group(0), "0");
        assert_eq!(super::group(999), "999");
        assert_eq!(super::group(1000), "1,000");
        assert_eq!(super::group(20_000_000), "20,000,000");
    }
}
