// BEGIN SOLUTION 2B
//! What a leader knows of one follower, and how it paces what it sends it.
//!
//! - At most one replication request (entries, a snapshot, or news of a higher commit index)
//!   is in flight to a follower; entries proposed meanwhile go in the next one, sent as soon
//!   as the answer comes back, so proposals batch themselves under load.
//! - A follower that does not answer (the request was lost, or it is slow or unreachable) is
//!   *probed* with small empty AppendEntries on each heartbeat tick until it answers, rather
//!   than sent the same entries again and again; once silent for `PROBE_BACKOFF_AFTER` ticks
//!   (down or cut off, not merely slow), only every other tick.
//! - On each tick a follower gets a heartbeat (or the entries it lacks) unless it answered a
//!   replication request sent since the last tick: an idle leader sends one message per
//!   follower per tick, a busy one little beyond its replication traffic.
//! - Its silence also feeds check quorum: see [`Progress::answered_recently`].

use std::mem;

/// Heartbeat ticks a replication request may go unanswered before the leader presumes it
/// lost and starts probing the follower.
const IN_FLIGHT_TICKS: u8 = 2;

/// Heartbeat ticks of silence after which a follower is presumed down or cut off rather than
/// slow, and probed only every other tick: 2.4 s, longer than a reply can take (long
/// reordering holds replies back up to 2.2 s), so that an alive follower whose answers are
/// late still hears from the leader on every tick.
const PROBE_BACKOFF_AFTER: u8 = 16;

/// Check quorum (section 6.2 of the Raft thesis): a leader steps down when fewer than a
/// majority (itself included) have answered anything in this many heartbeat ticks, about an
/// election timeout. A leader cut off from the majority then stops accepting commands that
/// cannot commit.
pub const QUORUM_TICKS: u8 = 5;

#[derive(Debug, Clone)]
pub struct Progress {
    /// The next log index to send.
    pub next_index: u64,
    /// The highest index known to be replicated on the follower.
    pub match_index: u64,
    /// The highest commit index sent to the follower.
    pub commit_sent: u64,
    /// The replication request awaiting an answer, if any.
    in_flight: Option<InFlight>,
    /// The follower has not answered lately: send it only heartbeats until it does.
    probing: bool,
    /// Heartbeat ticks since the follower last answered anything (saturating).
    ticks_silent: u8,
    /// Skip the next tick's probe (a long-silent follower is probed every other tick).
    skip_next_probe: bool,
    /// A replication request sent since the last tick was answered: the follower heard from
    /// the leader lately, and the tick need not add a heartbeat. (Answers to heartbeats do
    /// not count, or an idle leader would send one every other tick; nor do late answers to
    /// older requests, which say nothing about the last tick.)
    acked_since_tick: bool,
}

#[derive(Debug, Clone, Copy)]
struct InFlight {
    seq: u64,
    /// Heartbeat ticks since it was sent.
    ticks: u8,
}

/// What a heartbeat tick calls for.
pub enum TickAction {
    /// Nothing: the follower heard from the leader lately, or is probed every other tick.
    Nothing,
    /// An empty AppendEntries.
    Probe,
    /// What the follower needs next, or else a heartbeat.
    Replicate,
}

impl Progress {
    /// A new leader's view of a follower: its log may match the leader's, until shown
    /// otherwise. `may_be_down`: it did not vote for the leader, so it is probed at once (the
    /// leader's announcement), then every other tick until it answers.
    pub fn new(next_index: u64, may_be_down: bool) -> Progress {
        Progress {
            next_index,
            match_index: 0,
            commit_sent: 0,
            in_flight: None,
            probing: may_be_down,
            ticks_silent: if may_be_down { PROBE_BACKOFF_AFTER } else { 0 },
            skip_next_probe: may_be_down,
            acked_since_tick: false,
        }
    }

    /// Whether a replication request may go now: none is in flight and the follower is
    /// answering.
    pub fn is_ready(&self) -> bool {
        self.in_flight.is_none() && !self.probing
    }

    /// Records that replication request `seq` went out.
    pub fn sent(&mut self, seq: u64) {
        self.in_flight = Some(InFlight { seq, ticks: 0 });
    }

    /// Records what became of replication request `seq`: answered, or lost (`answered`
    /// false). A lost request that was the one in flight starts probing; any answer ends it.
    pub fn record_outcome(&mut self, seq: u64, answered: bool) {
        let flight = self.in_flight.filter(|f| f.seq == seq);
        if flight.is_some() {
            self.in_flight = None;
        }
        if !answered {
            // Probe until the follower answers again rather than resend blindly.
            self.probing |= flight.is_some();
            return;
        }
        self.probing = false;
        self.skip_next_probe = false;
        self.ticks_silent = 0;
        self.acked_since_tick |= flight.is_some_and(|f| f.ticks == 0);
    }

    /// Whether the follower answered anything within the last `QUORUM_TICKS` ticks (asked
    /// before this tick's [`Progress::tick`]).
    pub fn answered_recently(&self) -> bool {
        self.ticks_silent < QUORUM_TICKS
    }

    /// A heartbeat tick: ages the request in flight and the silence, and says what to send.
    pub fn tick(&mut self) -> TickAction {
        if let Some(flight) = &mut self.in_flight {
            flight.ticks += 1;
            if flight.ticks >= IN_FLIGHT_TICKS {
                self.in_flight = None;
                self.probing = true;
            }
        }
        self.ticks_silent = self.ticks_silent.saturating_add(1);
        if mem::take(&mut self.acked_since_tick) {
            return TickAction::Nothing;
        }
        if self.probing {
            if mem::take(&mut self.skip_next_probe) {
                return TickAction::Nothing;
            }
            self.skip_next_probe = self.ticks_silent >= PROBE_BACKOFF_AFTER;
            return TickAction::Probe;
        }
        TickAction::Replicate
    }
}
// END SOLUTION
