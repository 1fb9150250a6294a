//! The apply checkers: one per peer incarnation, reading its apply channel, as config.go's
//! `applier` and `applierSnap` goroutines do.
//!
//! Every applied command must equal what every other peer applied at that index, and a peer
//! must apply index i only after i-1. The snapshotting checker (part 2D) also requires each
//! command to be exactly the one after the last applied (no gaps, no repeats) and behaves
//! like a service: after applying index i with (i+1) % 10 == 0 it calls `Raft::snapshot(i,
//! blob)` synchronously, the blob holding i and every command through i; a snapshot Raft
//! delivers must carry the index its blob says, and must not be older than what the peer has
//! already applied (which would move its service backwards). A violation panics, which fails the run (as
//! `log.Fatalf` kills the Go test binary).
//!
//! The course's checker sees every message a peer delivers, including those a crash
//! overtakes; so does this one. An incarnation's channel sits in an [`Inbox`] shared by its
//! checker task and by the tester: when the tester crashes the peer it drains the inbox
//! ([`Applier::stop`]), checking in order what Raft had queued before it was killed, then
//! closes it, so that nothing of this incarnation is checked twice or after its successor's
//! first message. The task checks messages while holding the inbox's lock, so on a
//! multi-threaded runtime (`LAB_REALTIME=1`) a crash waits for the message in hand rather
//! than overtaking it.

use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Poll;

use labrpc::codec;
use raft::{ApplyMsg, Raft};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;

use super::commands::show;
use super::{Cmd, Config, State, SNAPSHOT_INTERVAL};

/// One incarnation's apply channel, and whether its checking has ended (the peer crashed).
struct Inbox {
    rx: UnboundedReceiver<ApplyMsg>,
    closed: bool,
}

/// The checker of one incarnation of a peer.
pub struct Applier {
    inbox: Arc<Mutex<Inbox>>,
    task: JoinHandle<()>,
}

/// Locks an inbox. A check that fails panics while holding the lock; the run is over then,
/// and the data is not looked at again in a way that matters.
fn lock(inbox: &Mutex<Inbox>) -> MutexGuard<'_, Inbox> {
    inbox.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Starts the checker for one incarnation of peer i.
pub fn spawn(
    cfg: Config,
    i: usize,
    raft: Raft,
    apply_rx: UnboundedReceiver<ApplyMsg>,
    snapshotting: bool,
) -> Applier {
    let inbox = Arc::new(Mutex::new(Inbox {
        rx: apply_rx,
        closed: false,
    }));
    let shared = inbox.clone();
    // Checks every queued message in one poll, as a loop over `recv().await` would (both
    // yield when tokio's cooperative budget runs out), holding the lock only within a poll.
    let task = labrpc::sim::spawn(poll_fn(move |cx| {
        let mut inbox = lock(&shared);
        loop {
            if inbox.closed {
                return Poll::Ready(());
            }
            match inbox.rx.poll_recv(cx) {
                Poll::Ready(Some(msg)) => {
                    if let Some((index, blob)) = check(&cfg, i, msg, snapshotting) {
                        raft.snapshot(index, blob);
                    }
                }
                Poll::Ready(None) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
    }));
    Applier { inbox, task }
}

impl Applier {
    /// Peer i crashed (its Raft is already killed): checks, in order, every message it had
    /// queued that the task has not taken yet, then ends the task. No snapshot is handed back
    /// to the dead Raft: the service it models is gone too.
    pub fn stop(self, cfg: &Config, i: usize, snapshotting: bool) {
        let mut inbox = lock(&self.inbox);
        if !inbox.closed {
            while let Ok(msg) = inbox.rx.try_recv() {
                check(cfg, i, msg, snapshotting);
            }
            inbox.closed = true;
        }
        drop(inbox);
        self.task.abort();
    }
}

/// Checks one message of peer i against what every peer applied, and records it. Returns
/// the snapshot the service takes now, if one is due. Panics on a violation.
fn check(cfg: &Config, i: usize, msg: ApplyMsg, snapshotting: bool) -> Option<(u64, Vec<u8>)> {
    let mut st = cfg.state();
    let (error, snapshot_now) = match msg {
        ApplyMsg::Command { index, command, .. } => {
            let error = st.check_command(i, index, command, snapshotting);
            let due = snapshotting && (index + 1) % SNAPSHOT_INTERVAL == 0;
            (error, due.then(|| (index, st.snapshot_blob(i, index))))
        }
        ApplyMsg::Snapshot { index, data, .. } => {
            if snapshotting {
                (st.ingest_snapshot(i, &data, Some(index)).err(), None)
            } else {
                (None, None) // the plain checker ignores snapshots, as config.go's does
            }
        }
    };
    if let Some(error) = error {
        st.apply_err[i] = Some(error.clone());
        panic!("apply error: {error}");
    }
    snapshot_now
}

impl State {
    /// config.go's checkLogs, plus the snapshotting checker's strict order; records the
    /// command. Returns what is wrong, if anything.
    fn check_command(
        &mut self,
        i: usize,
        index: u64,
        command: Cmd,
        strict: bool,
    ) -> Option<String> {
        // What each peer applied where: the timeline page finds diverging logs from these.
        tracing::debug!(node = i, topic = "apply", index, command = %show(&command), "applied");
        if strict && index != self.last_applied[i] + 1 {
            return Some(format!(
                "server {i} apply out of order, expected index {}, got {index}",
                self.last_applied[i] + 1
            ));
        }
        let at = index as usize;
        let mut error = None;
        for (j, log) in self.logs.iter().enumerate() {
            if let Some(Some(old)) = log.get(at) {
                if *old != command {
                    // Some server has already committed a different value for this entry!
                    error = Some(format!(
                        "commit index={index} server={i} {} != server={j} {}",
                        show(&command),
                        show(old)
                    ));
                }
            }
        }
        let log = &mut self.logs[i];
        let prev_ok = at > 0 && matches!(log.get(at - 1), Some(Some(_)));
        if log.len() <= at {
            log.resize(at + 1, None);
        }
        log[at] = Some(command);
        self.max_index = self.max_index.max(index);
        if strict {
            self.last_applied[i] = index;
        }
        if index > 1 && !prev_ok && error.is_none() {
            error = Some(format!("server {i} apply out of order {index}"));
        }
        error
    }

    /// The snapshotting service's state through `index`: the index and every command.
    fn snapshot_blob(&self, i: usize, index: u64) -> Vec<u8> {
        let commands: &[Option<Cmd>] = &self.logs[i][..=index as usize];
        codec::encode(&(index, commands)).expect("a snapshot blob encodes")
    }

    /// Replaces peer i's record of what it applied by a snapshot's content (config.go's
    /// ingestSnap). `expected`: the index Raft said the snapshot has.
    pub(super) fn ingest_snapshot(
        &mut self,
        i: usize,
        blob: &[u8],
        expected: Option<u64>,
    ) -> Result<(), String> {
        let (index, commands): (u64, Vec<Option<Cmd>>) =
            codec::decode(blob).map_err(|e| format!("server {i}: snapshot decode error: {e}"))?;
        if expected.is_some_and(|e| e != index) {
            return Err(format!("server {i} snapshot doesn't match m.SnapshotIndex"));
        }
        // A snapshot Raft delivers replaces a state the service already has only if it is
        // newer: an older one would move the service backwards (a stale InstallSnapshot let
        // through), and it would then apply again what it had already applied.
        if expected.is_some() && index < self.last_applied[i] {
            return Err(format!(
                "server {i} moved backwards: a snapshot through {index} after applying {}",
                self.last_applied[i]
            ));
        }
        self.logs[i] = commands;
        self.last_applied[i] = index;
        Ok(())
    }
}
