//! The key/value server: a thin async layer between clerks, Raft and the
//! [`StateMachine`].
//!
//! Two paths meet in one lock-protected [`Inner`]:
//! - **requests** ([`KvServer::execute`], the "KVServer" RPC): a write this server has already
//!   applied is answered at once; anything else is proposed to Raft and parked in
//!   [`Waiters`] under its log index until it is applied. The handler stops waiting, and
//!   the clerk tries elsewhere, if the term changes or the server stops leading (checked every
//!   [`LEADERSHIP_CHECK`]), or after [`REQUEST_TIMEOUT`] (a leader cut off in a minority keeps
//!   believing it leads).
//! - **applying** (the applier task): takes what Raft delivers, in log order, applies it to
//!   the state machine, answers the parked requests, and snapshots when Raft's saved state
//!   has grown past `maxraftstate`.
//!
//! Gets go through the log like writes, so a server answers a read only with state that a
//! majority has agreed on: a deposed leader cannot serve a stale value. Batching comes from
//! Raft, which sends every entry proposed while a replication request is in flight in the
//! next one, and from the applier, which takes every message queued at once and considers a
//! snapshot once per such batch.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use labrpc::{sim, ClientEnd};
use raft::{ApplyMsg, PersistError, Persister, Raft};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::ops::Command;
use crate::rpc::{kv_rpc, KvError, Reply, Request};
use crate::snapshot::SnapshotError;
use crate::state_machine::{Effect, StateMachine};
use crate::waiters::Waiters;

/// How often a waiting request checks that its leader still leads in the same term.
pub const LEADERSHIP_CHECK: Duration = Duration::from_millis(50);

/// How long a request waits to commit before the server gives up and the clerk tries another
/// server. A leader cut off in a minority never learns it was deposed until the partition
/// heals; its clerks must not wait that long.
pub const REQUEST_TIMEOUT: Duration = Duration::from_millis(500);

/// The most apply messages handled under one lock (and one snapshot check).
const APPLY_BATCH: usize = 256;

/// Why a server could not start from what its persister holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartError {
    Raft(PersistError),
    Snapshot(SnapshotError),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Raft(e) => e.fmt(f),
            StartError::Snapshot(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for StartError {}

/// One key/value server: a state machine replicated by its Raft peer.
pub struct KvServer {
    me: usize,
    rf: Raft,
    persister: Arc<Persister>,
    /// Snapshot when Raft's saved state grows past this many bytes; `None`: never.
    maxraftstate: Option<usize>,
    inner: Mutex<Inner>,
    killed: AtomicBool,
}

/// What requests and the applier share.
struct Inner {
    machine: StateMachine,
    waiters: Waiters,
    /// The index of the latest snapshot handed to Raft (or restored).
    snapshot_index: u64,
}

impl KvServer {
    /// Starts server `me` of `servers` (ends to every peer's Raft, itself included) from
    /// what `persister` holds. `maxraftstate` is the Raft state size (bytes) past which the
    /// server snapshots; -1 means never. Returns the server, whose [`service`](Self::service)
    /// and whose Raft's service the caller adds to the peer's labrpc server.
    ///
    /// Fails, starting nothing, if the saved Raft state or snapshot does not decode.
    pub fn start(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        maxraftstate: i64,
    ) -> Result<Arc<KvServer>, StartError> {
        let machine =
            StateMachine::restore(&persister.read_snapshot()).map_err(StartError::Snapshot)?;
        let (apply_tx, apply_rx) = mpsc::unbounded_channel();
        let rf = Raft::new(servers, me, persister.clone(), apply_tx).map_err(StartError::Raft)?;
        let kv = Arc::new(KvServer {
            me,
            rf,
            persister,
            maxraftstate: usize::try_from(maxraftstate).ok(),
            inner: Mutex::new(Inner {
                snapshot_index: machine.applied_index(),
                machine,
                waiters: Waiters::default(),
            }),
            killed: AtomicBool::new(false),
        });
        sim::spawn(kv.clone().apply_loop(apply_rx));
        Ok(kv)
    }

    /// The "KVServer" RPC service, for the peer's labrpc server.
    pub fn service(self: &Arc<Self>) -> impl labrpc::Service {
        kv_rpc::service(self.clone())
    }

    /// This server's Raft peer (the tester asks it who leads).
    pub fn raft(&self) -> &Raft {
        &self.rf
    }

    /// Stops the server and its Raft peer; requests still waiting are answered WrongLeader.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.rf.kill();
        self.lock().waiters.fail_all();
    }

    fn killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The state machine is only changed by whole apply steps, never left half-updated.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Carries out one request: see the module documentation.
    async fn execute(&self, request: Request) -> Reply {
        if self.killed() {
            return Err(KvError::WrongLeader);
        }
        let (index, term, answer) = {
            // Held across start() so the applier cannot apply the entry before it is parked.
            let mut inner = self.lock();
            if request.op.is_write() && inner.machine.has_applied(request.client, request.seq) {
                return Ok(String::new());
            }
            let command = Command {
                client: request.client,
                seq: request.seq,
                op: request.op,
            };
            let Some((index, term)) = self.rf.start(command.encode()) else {
                return Err(KvError::WrongLeader);
            };
            (index, term, inner.waiters.park(index, term))
        };
        self.wait(index, term, answer).await
    }

    /// Waits for the request proposed at `index` in `term` to be answered by the applier.
    async fn wait(&self, index: u64, term: u64, answer: oneshot::Receiver<Reply>) -> Reply {
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        tokio::pin!(answer);
        loop {
            let check = (Instant::now() + LEADERSHIP_CHECK).min(deadline);
            tokio::select! {
                biased;
                reply = &mut answer => return reply.unwrap_or(Err(KvError::WrongLeader)),
                _ = tokio::time::sleep_until(check) => {}
            }
            let (current, leading) = self.rf.get_state();
            let error = if current != term || !leading || self.killed() {
                KvError::WrongLeader
            } else if Instant::now() >= deadline {
                KvError::Timeout
            } else {
                continue;
            };
            self.lock().waiters.abandon(index, term);
            return Err(error);
        }
    }

    /// Applies what Raft delivers until Raft stops (its sender is dropped when it is killed).
    async fn apply_loop(self: Arc<Self>, mut apply_rx: mpsc::UnboundedReceiver<ApplyMsg>) {
        let mut batch = Vec::new();
        while apply_rx.recv_many(&mut batch, APPLY_BATCH).await > 0 {
            if self.killed() {
                return;
            }
            let mut inner = self.lock();
            for msg in batch.drain(..) {
                match msg {
                    ApplyMsg::Command {
                        index,
                        term,
                        command,
                    } => self.apply_command(&mut inner, index, term, &command),
                    ApplyMsg::Snapshot { index, data, .. } => {
                        if let Err(error) = self.install_snapshot(&mut inner, index, &data) {
                            tracing::error!(node = self.me, topic = "snapshot", "{error}");
                            // Carrying on would serve a state that skipped the snapshot's
                            // entries: stop this server instead (the others carry on).
                            drop(inner);
                            self.kill();
                            return;
                        }
                    }
                }
            }
            self.maybe_snapshot(&mut inner);
        }
    }

    fn apply_command(&self, inner: &mut Inner, index: u64, term: u64, bytes: &[u8]) {
        let command = match Command::decode(bytes) {
            Ok(command) => command,
            Err(error) => {
                // Every replica skips the same entry, so they stay identical.
                tracing::error!(
                    node = self.me,
                    topic = "apply",
                    index,
                    "skipping an undecodable command: {error}"
                );
                inner.machine.skip(index);
                inner
                    .waiters
                    .applied(index, term, || Err(KvError::WrongLeader));
                return;
            }
        };
        let Inner {
            machine, waiters, ..
        } = inner;
        let effect = machine.apply(index, &command);
        if effect == Effect::Stale {
            return;
        }
        tracing::debug!(
            node = self.me,
            topic = "apply",
            index,
            command = %command.op,
            client = command.client,
            seq = command.seq,
            duplicate = effect == Effect::Duplicate,
        );
        waiters.applied(index, term, || match &command.op {
            crate::ops::Op::Get { key } => Ok(machine.get(key).to_string()),
            _ => Ok(String::new()),
        });
    }

    fn install_snapshot(
        &self,
        inner: &mut Inner,
        index: u64,
        data: &[u8],
    ) -> Result<(), SnapshotError> {
        if index <= inner.machine.applied_index() {
            return Ok(());
        }
        let machine = StateMachine::restore(data)?;
        tracing::debug!(
            node = self.me,
            topic = "snapshot",
            index,
            "installed a snapshot"
        );
        inner.machine = machine;
        // Whatever the snapshot's own record says, Raft delivers the next command at index+1.
        inner.machine.skip(index);
        inner.snapshot_index = index;
        inner.waiters.skipped_through(index);
        Ok(())
    }

    /// Snapshots the state if Raft's saved state has grown past `maxraftstate`.
    fn maybe_snapshot(&self, inner: &mut Inner) {
        let Some(max) = self.maxraftstate else {
            return;
        };
        let index = inner.machine.applied_index();
        // Raft saves a compaction only on its next step: until then its saved state still
        // looks too big, and snapshotting the same index again would be wasted work.
        if index == inner.snapshot_index || self.persister.raft_state_size() <= max {
            return;
        }
        inner.snapshot_index = index;
        tracing::debug!(
            node = self.me,
            topic = "snapshot",
            index,
            "taking a snapshot"
        );
        self.rf.snapshot(index, inner.machine.snapshot());
    }
}

impl kv_rpc::Handler for KvServer {
    async fn execute(&self, request: Request) -> Reply {
        KvServer::execute(self, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undecodable_saved_state_is_an_error_not_a_panic() {
        let garbage_snapshot = Arc::new(Persister::new());
        garbage_snapshot.save(Vec::new(), vec![1, 0xff, 0xff]);
        assert!(matches!(
            KvServer::start(Vec::new(), 0, garbage_snapshot, 1000),
            Err(StartError::Snapshot(_))
        ));

        let garbage_raft_state = Arc::new(Persister::new());
        garbage_raft_state.save(vec![9, 9, 9], Vec::new());
        let error = KvServer::start(Vec::new(), 0, garbage_raft_state, -1).err();
        assert!(matches!(error, Some(StartError::Raft(_))), "{error:?}");
    }
}
