//! Livelock detection and the wall-clock backstop: a run that keeps working without getting
//! anywhere fails with a report instead of spinning forever.
//!
//! On the paused clock, simulated time moves only when the runtime parks with no task ready to
//! run, and then jumps to the next timer. Tasks that keep waking each other with zero-delay
//! work (a leader that resends at once on every rejection, over the zero-delay reliable
//! network, to a follower that keeps rejecting) never let it park, so time never advances, the
//! simulated budget never fires, and the run spins at 100 % CPU forever. The [`Monitor`] counts
//! task polls at the current simulated instant and trips when they pass a limit that no correct
//! run comes near (see [`DEFAULT_POLLS_PER_INSTANT`]).
//!
//! Why polls and park hooks: the runtime already calls a hook before every task poll (one
//! relaxed increment), and on the current-thread runtime the clock can only move between the
//! runtime's `on_thread_park` and `on_thread_unpark` hooks, which run once per park. So the
//! unpark hook notes whether the instant changed and, if so, the poll count at its start; the
//! poll hook compares. Both figures are deterministic on the current-thread runtime (one
//! thread, seeded scheduler), so the same seed trips at the same poll with the same report.
//!
//! Once an instant has used a quarter of the limit it is *suspect*: from then on the monitor
//! tallies the instant's network events, trace topics and polls per task, for the report.
//! Passing runs never get there, so they pay one comparison per poll and nothing else.
//!
//! The wall-clock backstop is the same hook reading the wall clock every
//! [`WALL_CHECK_EVERY`] polls (the runtime's infrastructure may read the wall clock; lab code
//! may not). It catches what the simulation cannot judge: a run that is merely far too slow, a
//! livelock under `LAB_REALTIME=1` (where simulated time is the wall clock and this detector is
//! off), a limit set too high.

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

/// An instant becomes suspect (tallies start) after this many quarters of the limit: the
/// report describes the last quarter.
const SUSPECT_QUARTERS: u64 = 3;

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
    Livelock,
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
}

/// What the monitor knew when it tripped, for the report.
pub(crate) struct Verdict {
    pub trip: Trip,
    /// Simulated time of the instant.
    pub at: Duration,
    /// Polls at this instant when it tripped.
    pub polls: u64,
    /// Polls into the instant at which tallying began.
    pub suspect_from: u64,
    tally: Tally,
}

/// Watches one run's polls; lives in the run's [`Sim`](crate::sim::Sim).
pub(crate) struct Monitor {
    /// Off under `LAB_REALTIME=1`: there the wall clock governs time.
    detect: bool,
    limit: u64,
    suspect_from: u64,
    /// Every task poll of the run.
    polls: AtomicU64,
    /// Every park of the runtime.
    parks: AtomicU64,
    /// `polls` when the current simulated instant began.
    instant_start: AtomicU64,
    /// The current instant (as tokio sees it) and the largest work seen at one instant
    /// (polls, simulated time), both updated once per park.
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
    current: Option<tokio::time::Instant>,
    /// The run's simulated time when the current instant began.
    started_at: Duration,
    largest: (u64, Duration),
}

impl Monitor {
    pub(crate) fn new(detect: bool, limit: u64, wall_limit: Option<Duration>) -> Monitor {
        let limit = limit.max(4);
        Monitor {
            detect,
            limit,
            suspect_from: limit / 4 * SUSPECT_QUARTERS,
            polls: AtomicU64::new(0),
            parks: AtomicU64::new(0),
            instant_start: AtomicU64::new(0),
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

    /// The hot path: called before every task poll.
    #[inline]
    pub(crate) fn on_poll(&self, task: tokio::task::Id, elapsed: impl FnOnce() -> Duration) {
        let n = self.polls.fetch_add(1, Ordering::Relaxed) + 1;
        if self.detect {
            let here = n.saturating_sub(self.instant_start.load(Ordering::Relaxed));
            if here >= self.suspect_from {
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
                self.trip(Trip::WallClock, Duration::ZERO, 0);
            }
        }
    }

    #[cold]
    fn suspicious_poll(
        &self,
        here: u64,
        task: tokio::task::Id,
        elapsed: impl FnOnce() -> Duration,
    ) {
        if self.tripped.load(Ordering::Relaxed) {
            return;
        }
        if !self.suspect.swap(true, Ordering::Relaxed) {
            // Topics are counted by the harness's subscriber, which only asks to see events
            // while some run is suspect: make it ask again now.
            if SUSPECT_RUNS.fetch_add(1, Ordering::Relaxed) == 0 {
                tracing::callsite::rebuild_interest_cache();
            }
        }
        *self.tally.lock().unwrap().tasks.entry(task).or_default() += 1;
        if here >= self.limit {
            self.trip(Trip::Livelock, elapsed(), here);
        }
    }

    /// Records the verdict (the first trip wins) and wakes the run's watch.
    fn trip(&self, trip: Trip, at: Duration, polls: u64) {
        if self.tripped.swap(true, Ordering::Relaxed) {
            return;
        }
        let tally = std::mem::take(&mut *self.tally.lock().unwrap());
        *self.verdict.lock().unwrap() = Some(Verdict {
            trip,
            at,
            polls,
            suspect_from: self.suspect_from,
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
    pub(crate) fn on_unpark(&self, elapsed: impl FnOnce() -> Duration) {
        // Also here, not only between polls: a test body that loops on timers is no task, and
        // is polled without the poll hook.
        if self.parks.fetch_add(1, Ordering::Relaxed) & (WALL_CHECK_EVERY_PARKS - 1) == 0 {
            self.check_wall();
        }
        if !self.detect {
            return;
        }
        let now = tokio::time::Instant::now();
        let mut instants = self.instant.lock().unwrap();
        if instants.current == Some(now) {
            return;
        }
        let polls = self.polls();
        let worked = polls - self.instant_start.load(Ordering::Relaxed);
        if worked > instants.largest.0 {
            instants.largest = (worked, instants.started_at);
        }
        instants.current = Some(now);
        instants.started_at = elapsed();
        drop(instants);
        self.instant_start.store(polls, Ordering::Relaxed);
        if !self.tripped.load(Ordering::Relaxed) && self.suspect.load(Ordering::Relaxed) {
            *self.tally.lock().unwrap() = Tally::default();
            self.end_suspicion();
        }
    }

    /// The most polls seen at one simulated instant so far, and that instant's time.
    pub(crate) fn largest_instant(&self) -> (u64, Duration) {
        let instants = self.instant.lock().unwrap();
        let current = self.polls() - self.instant_start.load(Ordering::Relaxed);
        if current > instants.largest.0 {
            (current, instants.started_at)
        } else {
            instants.largest
        }
    }

    /// Counts a network event, if the current instant is suspect.
    #[inline]
    pub(crate) fn note_network(
        &self,
        fate: &'static str,
        from: &str,
        to: &str,
        method: &'static str,
    ) {
        if self.suspect.load(Ordering::Relaxed) {
            let mut tally = self.tally.lock().unwrap();
            tally.network_events += 1;
            let tally = &mut *tally;
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

    /// The wall-clock limit, if any.
    pub(crate) fn wall_limit(&self) -> Option<Duration> {
        self.wall.map(|(_, limit)| limit)
    }

    /// The poll limit per instant.
    pub(crate) fn limit(&self) -> u64 {
        self.limit
    }
}

/// The livelock report: the instant, the work done there, what the network and the traces
/// were doing, and the busiest tasks with what they were waiting on.
pub(crate) async fn report(verdict: &Verdict, limit: u64) -> String {
    let mut out = String::new();
    let at = verdict.at.as_secs_f64();
    let tally = &verdict.tally;
    let _ = writeln!(out, "livelock report at t={at:.6} s:");
    let _ = writeln!(
        out,
        "  {} task polls at this one simulated instant (the limit is {}), {} network events in the last {} of them",
        group(verdict.polls),
        group(limit),
        group(tally.network_events),
        group(verdict.polls - verdict.suspect_from + 1),
    );
    let _ = writeln!(
        out,
        "  tasks kept waking each other with zero-delay work, so simulated time never advanced"
    );
    if tally.network.is_empty() {
        let _ = writeln!(out, "  network: no event at this instant");
    } else {
        let _ = writeln!(
            out,
            "  network events at this instant, most frequent first:"
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
        let _ = writeln!(out, "  trace topics at this instant: {}", list.join(", "));
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
        if i > 0 && (digits.len() - i) % 3 == 0 {
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
