// BEGIN SOLUTION 2
//! The driver: the one task per peer that runs its [`Core`].
//!
//! Everything that happens to a peer reaches the driver as an [`Event`] on one channel: a
//! request from another peer (with a one-shot channel for the answer), the outcome of a
//! request this peer sent, or a poke after `start()` or `snapshot()` changed the core. The
//! driver also owns the timers: election, heartbeat, and commit news. Its loop:
//!
//! 1. wait for an event or a timer, then take every event already queued: a batch;
//! 2. feed the batch to the core, then fire whichever timer has expired;
//! 3. take the core's [`Ready`](crate::core::Ready) and carry it out in order: save the
//!    state once for the whole batch, then answer the batch's requests, send its messages
//!    (each request in its own task, whose outcome comes back as an event), and hand
//!    committed entries to the apply channel.
//!
//! Saving before answering or sending is what makes Figure 2's "persistent state, updated on
//! stable storage before responding to RPCs" hold; saving once per batch rather than once
//! per message is what keeps it cheap under load.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use labrpc::sim;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep_until, Instant, Sleep};

use crate::apply::ApplyMsg;
use crate::core::{AppendSent, Core, ElectionTimer, Message, Ready, Response, Rpc};
use crate::messages::{
    raft_rpc, AppendEntriesArgs, AppendEntriesReply, InstallSnapshotArgs, InstallSnapshotReply,
    RequestVoteArgs, RequestVoteReply,
};
use crate::persister::Persister;

/// How often a leader's heartbeat timer ticks: at most 10 heartbeats a second, as the lab
/// asks; fewer keeps idle RPC counts low.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(150);

/// Election timeouts are drawn uniformly from this range (milliseconds). Its floor spans
/// three heartbeat ticks, so two heartbeats lost in a row do not start an election; the
/// spread makes split votes rare.
pub const ELECTION_TIMEOUT_MS: std::ops::Range<u64> = 500..800;

/// While an election is under way (after starting one or voting in one), timeouts are this
/// many times longer: votes may take a while to come back (long reordering holds replies up
/// to 2.2 s), and a new election started too soon throws away the votes still on their way.
/// A peer that hears from the new leader goes back to the usual timeout at once.
pub const ELECTION_PATIENCE: u64 = 2;

/// How long a leader may sit on news of a higher commit index before telling followers that
/// have nothing else coming. Under load the news travels with the next entries instead, for
/// free; idle, followers apply this much later than the leader. (Shorter than the tester's
/// 20 ms polls, so that it does not slow them down.)
pub const COMMIT_NEWS_DELAY: Duration = Duration::from_millis(15);

/// The most events one batch takes, so that timers are still checked under a flood.
const MAX_BATCH: usize = 256;

/// What happens to a peer, in the order it happens.
pub enum Event {
    RequestVote(RequestVoteArgs, oneshot::Sender<RequestVoteReply>),
    AppendEntries(AppendEntriesArgs, oneshot::Sender<AppendEntriesReply>),
    InstallSnapshot(InstallSnapshotArgs, oneshot::Sender<InstallSnapshotReply>),
    /// The outcome of a request this peer sent to `from`.
    Response {
        from: usize,
        response: Response,
    },
    /// `start()` or `snapshot()` changed the core: send and save what they caused.
    Poke,
    /// The peer was killed: wakes the driver to stop (the `killed` flag says so).
    Kill,
}

/// What the driver shares with the [`Raft`](crate::Raft) handle and the RPC inbox.
pub struct Shared {
    core: Mutex<Core>,
    events: mpsc::UnboundedSender<Event>,
    /// A poke is queued and not yet taken; further pokes would be redundant.
    poked: AtomicBool,
    killed: AtomicBool,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, Core> {
        // The core's own assertions panic only while stopping the run; its data is not
        // looked at again in a way that matters.
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wakes the driver to act on what the caller just did to the core.
    pub fn poke(&self) {
        if !self.poked.swap(true, Ordering::AcqRel) {
            let _ = self.events.send(Event::Poke);
        }
    }

    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        // On the event channel rather than a `Notify` of its own, so that the driver's loop
        // waits on one thing less each time round.
        let _ = self.events.send(Event::Kill);
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    /// Queues an incoming request and waits for the driver's answer. A killed peer never
    /// answers, as a crashed machine would not; the caller's call ends when the tester
    /// deletes the server.
    async fn ask<R>(&self, event: impl FnOnce(oneshot::Sender<R>) -> Event) -> R {
        let (tx, rx) = oneshot::channel();
        if self.events.send(event(tx)).is_ok() {
            if let Ok(reply) = rx.await {
                return reply;
            }
        }
        std::future::pending().await
    }
}

/// The RPC handler the peer's labrpc server dispatches to.
pub struct Inbox(pub Arc<Shared>);

impl raft_rpc::Handler for Inbox {
    async fn request_vote(&self, args: RequestVoteArgs) -> RequestVoteReply {
        self.0.ask(|tx| Event::RequestVote(args, tx)).await
    }

    async fn append_entries(&self, args: AppendEntriesArgs) -> AppendEntriesReply {
        self.0.ask(|tx| Event::AppendEntries(args, tx)).await
    }

    async fn install_snapshot(&self, args: InstallSnapshotArgs) -> InstallSnapshotReply {
        self.0.ask(|tx| Event::InstallSnapshot(args, tx)).await
    }
}

/// An answer to an incoming request, held until the batch's state is saved.
enum Answer {
    Vote(oneshot::Sender<RequestVoteReply>, RequestVoteReply),
    Append(oneshot::Sender<AppendEntriesReply>, AppendEntriesReply),
    Snapshot(oneshot::Sender<InstallSnapshotReply>, InstallSnapshotReply),
}

pub struct Driver {
    shared: Arc<Shared>,
    events: mpsc::UnboundedReceiver<Event>,
    peers: Vec<raft_rpc::Client>,
    persister: Arc<Persister>,
    apply_tx: mpsc::UnboundedSender<ApplyMsg>,
}

impl Driver {
    /// A driver for `core`, and the state it shares with the handle.
    pub fn new(
        core: Core,
        peers: Vec<raft_rpc::Client>,
        persister: Arc<Persister>,
        apply_tx: mpsc::UnboundedSender<ApplyMsg>,
    ) -> (Driver, Arc<Shared>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            core: Mutex::new(core),
            events: tx,
            poked: AtomicBool::new(false),
            killed: AtomicBool::new(false),
        });
        let driver = Driver {
            shared: shared.clone(),
            events: rx,
            peers,
            persister,
            apply_tx,
        };
        (driver, shared)
    }

    /// Runs the peer until it is killed.
    pub async fn run(mut self) {
        let mut deadlines = Deadlines::new(sim::instant());
        // One tokio timer, at the earliest deadline that applies, rather than one per
        // deadline: every turn of the loop polls the timers it selects on, and a poll of a
        // tokio timer is a lock and a waker's reference count. Whichever deadlines have
        // passed when it fires, `Deadlines::update` acts on.
        let mut timer: Pin<Box<Sleep>> = Box::pin(sleep_until(deadlines.next(Role::Follower)));
        let mut batch = Vec::new();
        let mut answers = Vec::new();
        while !self.shared.is_killed() {
            tokio::select! {
                biased;
                event = self.events.recv() => match event {
                    Some(event) => batch.push(event),
                    None => break,
                },
                _ = timer.as_mut() => {}
            }
            // Killed while waiting: the batch is never acted on, as a crashed machine would
            // not act on it.
            if self.shared.is_killed() {
                break;
            }
            while batch.len() < MAX_BATCH {
                match self.events.try_recv() {
                    Ok(event) => batch.push(event),
                    Err(_) => break,
                }
            }

            let (ready, role) = {
                let mut core = self.shared.lock();
                let was_leader = core.is_leader();
                for event in batch.drain(..) {
                    self.step(&mut core, event, &mut answers);
                }
                deadlines.update(&mut core, was_leader, sim::instant());
                (core.take_ready(), Role::of(&core))
            };
            // Only if the deadline moved: a reset re-files the timer in tokio's wheel, and
            // most batches move none.
            let next = deadlines.next(role);
            if timer.deadline() != next {
                timer.as_mut().reset(next);
            }
            self.carry_out(ready, &mut answers);
        }
    }

    fn step(&self, core: &mut Core, event: Event, answers: &mut Vec<Answer>) {
        match event {
            Event::RequestVote(args, tx) => {
                answers.push(Answer::Vote(tx, core.handle_request_vote(args)));
            }
            Event::AppendEntries(args, tx) => {
                answers.push(Answer::Append(tx, core.handle_append_entries(args)));
            }
            Event::InstallSnapshot(args, tx) => {
                answers.push(Answer::Snapshot(tx, core.handle_install_snapshot(args)));
            }
            Event::Response { from, response } => core.handle_response(from, response),
            Event::Kill => {}
            Event::Poke => {
                // Cleared under the lock, before replicating: a proposal made after this
                // point either is sent now or pokes again.
                self.shared.poked.store(false, Ordering::Release);
                core.replicate();
            }
        }
    }

    /// Saves, then answers, sends and applies: see the module documentation.
    fn carry_out(&self, ready: Ready, answers: &mut Vec<Answer>) {
        if let Some(save) = ready.save {
            self.persister.save_update(save.state, save.snapshot);
        }
        for answer in answers.drain(..) {
            // The caller may have given up (its call was lost): nothing to do then.
            let _ = match answer {
                Answer::Vote(tx, reply) => tx.send(reply).is_ok(),
                Answer::Append(tx, reply) => tx.send(reply).is_ok(),
                Answer::Snapshot(tx, reply) => tx.send(reply).is_ok(),
            };
        }
        for message in ready.messages {
            self.send(message);
        }
        for msg in ready.apply {
            // The service may have stopped reading (it crashed): Raft carries on regardless.
            let _ = self.apply_tx.send(msg);
        }
    }

    /// Sends one request in a task of its own; its outcome comes back as an event.
    fn send(&self, Message { to, rpc }: Message) {
        let client = self.peers[to].clone();
        let events = self.shared.events.clone();
        sim::spawn(async move {
            let response = match rpc {
                Rpc::RequestVote(args) => match client.request_vote(&args).await {
                    Ok(reply) => Response::RequestVote {
                        term: args.term,
                        reply,
                    },
                    // A lost vote request needs no follow-up: the next election asks again.
                    Err(_) => return,
                },
                Rpc::AppendEntries { seq, args } => Response::AppendEntries {
                    seq,
                    sent: AppendSent::of(&args),
                    reply: client.append_entries(&args).await.ok(),
                },
                Rpc::InstallSnapshot { seq, args } => Response::InstallSnapshot {
                    seq,
                    term: args.term,
                    last_included_index: args.last_included_index,
                    reply: client.install_snapshot(&args).await.ok(),
                },
            };
            // The peer may have been killed meanwhile: then nobody is listening.
            let _ = events.send(Event::Response { from: to, response });
        });
    }
}

/// What the core is, as far as its timers care.
#[derive(Clone, Copy)]
enum Role {
    Follower,
    Candidate,
    Leader,
}

impl Role {
    fn of(core: &Core) -> Role {
        if core.is_leader() {
            Role::Leader
        } else if core.is_candidate() {
            Role::Candidate
        } else {
            Role::Follower
        }
    }
}

/// When the driver's timers fire, and what firing them does to the core.
struct Deadlines {
    election: Instant,
    heartbeat: Instant,
    commit_news: Option<Instant>,
    /// When this peer last started an election.
    candidate_since: Instant,
}

impl Deadlines {
    fn new(now: Instant) -> Deadlines {
        Deadlines {
            election: now + random_election_timeout(ElectionTimer::Follow),
            heartbeat: now + HEARTBEAT_INTERVAL,
            commit_news: None,
            candidate_since: now,
        }
    }

    /// The earliest deadline that applies: a leader's heartbeat, a follower's election, a
    /// candidate's election or its next round of vote requests; and commit news if any is
    /// pending.
    fn next(&self, role: Role) -> Instant {
        let timer = match role {
            Role::Leader => self.heartbeat,
            Role::Candidate => self.election.min(self.heartbeat),
            Role::Follower => self.election,
        };
        self.commit_news.map_or(timer, |news| news.min(timer))
    }

    /// After a batch of events: restarts the timers the events asked to restart, then fires
    /// those that have expired.
    fn update(&mut self, core: &mut Core, was_leader: bool, now: Instant) {
        if let Some(kind) = core.election_timer_reset_pending() {
            self.election = now + random_election_timeout(kind);
        }
        if !core.is_leader() && now >= self.election {
            core.election_timeout();
            self.election = now + random_election_timeout(ElectionTimer::Elect);
            self.candidate_since = now;
            // A candidate asks again on the heartbeat's beat (see `resend_vote_requests`).
            self.heartbeat = now + HEARTBEAT_INTERVAL;
        } else if core.is_candidate() && now >= self.heartbeat {
            core.resend_vote_requests();
            self.heartbeat = now + HEARTBEAT_INTERVAL;
        }
        if core.is_leader() {
            if !was_leader {
                // The new leader announced itself to the peers that did not vote for it.
                // Voters restarted their election timers when they voted; if winning took
                // long (their votes were slow to arrive), those timers may be close to
                // firing, so the first tick comes at once.
                let slow = now.duration_since(self.candidate_since) >= HEARTBEAT_INTERVAL;
                self.heartbeat = if slow { now } else { now + HEARTBEAT_INTERVAL };
            } else if now >= self.heartbeat {
                core.heartbeat();
                self.heartbeat = now + HEARTBEAT_INTERVAL;
            }
        }
        if self.commit_news.is_some_and(|deadline| now >= deadline) {
            core.announce_commit();
            self.commit_news = None;
        }
        if self.commit_news.is_none() && core.commit_news_pending() {
            self.commit_news = Some(now + COMMIT_NEWS_DELAY);
        }
    }
}

fn random_election_timeout(kind: ElectionTimer) -> Duration {
    let ms = sim::random_range(ELECTION_TIMEOUT_MS);
    Duration::from_millis(match kind {
        ElectionTimer::Follow => ms,
        ElectionTimer::Elect => ms * ELECTION_PATIENCE,
    })
}
// END SOLUTION
