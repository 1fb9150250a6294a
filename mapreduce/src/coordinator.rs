// BEGIN SOLUTION 1
//! The coordinator process: a tarpc server around the [`Scheduler`].
//!
//! One `Job` is shared by every connection. A `get_task` call asks the scheduler; if it says
//! wait, the call sleeps until the job changes (a report, a lost worker: `Job::changed`) or
//! the next task timeout, then asks again. Each connection is one worker: when it closes, the
//! worker's running tasks are released at once rather than after their timeout.
//!
//! When the last reduce task is reported the job is over: every held `get_task` wakes and
//! answers [`Task::Exit`], the listener closes, and the coordinator gives connected workers a
//! moment to hear the answer and hang up before it exits.
// HANDOUT
// //! The coordinator process (the course's `mr/coordinator.go`): serves one MapReduce job to
// //! `mrworker` processes over tarpc and returns once every output file `mr-out-Y` is written.
// //!
// //! `mrcoordinator` parses its command line into a [`Config`] and runs [`run`] on a one-thread
// //! tokio runtime; `run` returning is the course's `Done()` returning true (the process exits,
// //! with code 1 and the error on stderr if `run` failed). Everything behind `run` is yours.
// //!
// //! Hints (the course's, for this interface):
// //! - Start small: a worker asks for a task and the coordinator answers with an input file that
// //!   nobody has mapped yet. Then the reduce tasks, then the failures.
// //! - Map task X writes `mr-X-Y` for each reduce task Y (`n_reduce` of them, a key going to
// //!   [`crate::hash::partition`]); reduce task Y reads `mr-X-Y` of every map task X and writes
// //!   `mr-out-Y`. No reduce task may start before the last map task has finished.
// //! - RPC handlers run concurrently: keep the job's state behind a lock (and never hold a
// //!   `std::sync::Mutex` across an `.await`).
// //! - A worker sometimes has to wait (every map is handed out, but not every map is done): let
// //!   it sleep and ask again, or hold its call until there is work, within the call's deadline.
// //! - The coordinator cannot tell a crashed worker from a slow one. A task not reported within
// //!   `config.task_timeout` (10 s unless the test says otherwise) goes to the next worker that
// //!   asks; a late report from the first worker must then do no harm.
// //! - A task that cannot succeed (its input vanished) fails the job: `run` returns an error
// //!   with "job failed" and the file's name rather than hand the task out forever.
// //! - Before listening, check every input with [`crate::files::check_readable`]: a bad one is an
// //!   error naming the file, with no socket left behind (`tests/bad_input.rs`).
// //! - On a Unix socket, remove a stale socket file left by a dead coordinator, but refuse with
// //!   "already listening" if a live one answers there. The tests start workers once the socket
// //!   file exists. Over TCP, print `mrcoordinator: listening on ADDR` to stderr (with port 0
// //!   the system picks the port, and the TCP test reads it from that line).
// //! - When the job is done, tell the workers to exit (or just go away: a worker that cannot reach
// //!   the coordinator any more may assume the job is over), and remove the socket file.
//
// // The stubs leave their arguments unused: delete this line when you start.
// #![allow(unused_variables, dead_code)]
// END SOLUTION

// BEGIN SOLUTION 1
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use tarpc::server::{BaseChannel, Channel};
use tarpc::tokio_serde::formats::Bincode;
use tarpc::{context, serde_transport, ClientMessage, Response, Transport};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::address::Address;
use crate::files;
use crate::rpc::{Coordinator, CoordinatorRequest, CoordinatorResponse, Task, MAX_HOLD};
use crate::scheduler::{Decision, Scheduler, TaskId, WorkerId};

/// How long, once the job is over, the coordinator waits for connected workers to hang up.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);
// HANDOUT
// use std::io;
// use std::time::Duration;
//
// use crate::address::Address;
// END SOLUTION

/// What the coordinator needs to run a job. Given: `mrcoordinator` builds it from its command
/// line.
pub struct Config {
    /// Input files, one map task each.
    pub files: Vec<String>,
    /// Number of reduce tasks (and output files).
    pub n_reduce: u32,
    /// Where to listen for workers.
    pub listen: Address,
    /// How long a task may run before it is handed to another worker.
    pub task_timeout: Duration,
}

/// Runs a whole job: checks the inputs, serves workers until every output is written, and
/// returns. Fails if an input is missing or unreadable (before anything is written), if the
/// address cannot be listened on, or if a worker reports a task that cannot succeed.
pub async fn run(config: Config) -> io::Result<()> {
    // BEGIN SOLUTION 1
    for file in &config.files {
        files::check_readable(file)?;
    }
    let job = Arc::new(Job {
        scheduler: Mutex::new(Scheduler::new(
            config.files.len(),
            config.n_reduce as usize,
            config.task_timeout,
        )),
        changed: Notify::new(),
        n_reduce: config.n_reduce,
        files: config.files,
    });

    match &config.listen {
        Address::Unix(path) => {
            prepare_socket_path(path)?;
            let incoming = serde_transport::unix::listen(path, Bincode::default)
                .await
                .map_err(|e| files::with_path(path, e))?;
            let socket = SocketFile(path.clone());
            serve(job.clone(), incoming, move || drop(socket)).await;
        }
        Address::Tcp(addr) => {
            let incoming = serde_transport::tcp::listen(addr, Bincode::default)
                .await
                .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
            // With port 0 the system picks the port; say which, so workers can be pointed at it.
            eprintln!("mrcoordinator: listening on {}", incoming.local_addr());
            serve(job.clone(), incoming, || {}).await;
        }
    }

    let scheduler = job.scheduler();
    match scheduler.failure() {
        Some(message) => Err(io::Error::other(format!("job failed: {message}"))),
        None if !scheduler.is_over() => Err(io::Error::other(
            "the listener stopped before the job was done",
        )),
        None => Ok(()),
    }
    // HANDOUT
    // todo!("Lab 1: check the inputs, serve the job to workers, return once it is done")
    // END SOLUTION
}
// BEGIN SOLUTION 1

/// The state shared by all connections.
struct Job {
    scheduler: Mutex<Scheduler>,
    /// Signalled whenever the scheduler's state changes in a way that could let a waiting
    /// `get_task` proceed: a task finished or failed, or a worker was lost.
    changed: Notify,
    files: Vec<String>,
    n_reduce: u32,
}

impl Job {
    fn scheduler(&self) -> MutexGuard<'_, Scheduler> {
        // A panic while holding the lock would be a bug in the scheduler; its state is plain
        // data, so carrying on with it is no worse than the panic itself.
        self.scheduler.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The full description of a task, as sent to a worker.
    fn describe(&self, task: TaskId) -> Task {
        match task {
            TaskId::Map(id) => Task::Map {
                id,
                file: self.files[id as usize].clone(),
                n_reduce: self.n_reduce,
            },
            TaskId::Reduce(id) => Task::Reduce {
                id,
                n_map: self.files.len() as u32,
            },
        }
    }

    /// Returns once the job has finished or failed.
    async fn over(&self) {
        loop {
            let mut changed = pin!(self.changed.notified());
            // Register before checking, so a change between the check and the await is not lost.
            changed.as_mut().enable();
            if self.scheduler().is_over() {
                return;
            }
            changed.await;
        }
    }
}

/// Accepts worker connections until the job is over, then stops listening (`stop_listening`
/// removes the socket file) and waits, at most [`SHUTDOWN_GRACE`], for workers to hang up.
async fn serve<S, T>(job: Arc<Job>, incoming: S, stop_listening: impl FnOnce())
where
    S: Stream<Item = io::Result<T>>,
    T: Transport<Response<CoordinatorResponse>, ClientMessage<CoordinatorRequest>> + Send + 'static,
{
    let mut connections = JoinSet::new();
    {
        let mut incoming = pin!(incoming);
        let mut next_worker: WorkerId = 0;
        loop {
            tokio::select! {
                _ = job.over() => break,
                accepted = incoming.next() => match accepted {
                    Some(Ok(transport)) => {
                        next_worker += 1;
                        connections.spawn(serve_connection(job.clone(), next_worker, transport));
                    }
                    Some(Err(e)) => tracing::warn!("accepting a connection failed: {e}"),
                    None => break,
                },
                // Reap closed connections as we go so the set does not grow with every worker.
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    } // The listener is dropped here: no more connections.
    stop_listening();

    let all_hung_up = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, all_hung_up)
        .await
        .is_err()
    {
        tracing::info!("some workers are still connected; exiting anyway");
    }
}

/// Serves one worker's connection until it closes, then releases the worker's tasks.
fn serve_connection<T>(job: Arc<Job>, worker: WorkerId, transport: T) -> impl Future<Output = ()>
where
    T: Transport<Response<CoordinatorResponse>, ClientMessage<CoordinatorRequest>> + Send + 'static,
{
    let handler = Handler {
        job: job.clone(),
        worker,
    };
    async move {
        tracing::debug!(worker, "connected");
        BaseChannel::with_defaults(transport)
            .execute(handler.serve())
            .for_each(|request| async {
                tokio::spawn(request);
            })
            .await;
        // The worker exited or crashed: whatever it was running will never be reported.
        let released = job.scheduler().worker_lost(worker);
        tracing::debug!(worker, released, "disconnected");
        if released > 0 {
            job.changed.notify_waiters();
        }
    }
}

/// The RPC handler of one connection (tarpc clones it for every request).
#[derive(Clone)]
struct Handler {
    job: Arc<Job>,
    worker: WorkerId,
}

impl Coordinator for Handler {
    async fn get_task(self, _: context::Context) -> Task {
        let give_up = Instant::now() + MAX_HOLD;
        loop {
            let mut changed = pin!(self.job.changed.notified());
            changed.as_mut().enable();
            let decision = self.job.scheduler().assign(self.worker, Instant::now());
            let wake_at = match decision {
                Decision::Run(task) => {
                    tracing::debug!(worker = self.worker, ?task, "assigned");
                    return self.job.describe(task);
                }
                Decision::Exit => return Task::Exit,
                Decision::Wait { until } => until.map_or(give_up, |t| t.min(give_up)),
            };
            if Instant::now() >= give_up {
                return Task::Again;
            }
            tokio::select! {
                _ = changed => {}
                _ = tokio::time::sleep_until(wake_at.into()) => {}
            }
        }
    }

    async fn task_done(self, _: context::Context, task: TaskId) {
        let accepted = self.job.scheduler().complete(task);
        tracing::debug!(worker = self.worker, ?task, accepted, "done");
        if accepted {
            self.job.changed.notify_waiters();
        }
    }

    async fn task_failed(self, _: context::Context, task: TaskId, error: String) {
        tracing::warn!(worker = self.worker, ?task, "failed: {error}");
        if self.job.scheduler().fail(task, error) {
            self.job.changed.notify_waiters();
        }
    }
}

/// Makes `path` free for a new socket. A leftover socket from a coordinator that died is
/// removed (as the course does), but one that a live coordinator still answers on is not:
/// two jobs in one directory would overwrite each other's files.
fn prepare_socket_path(path: &Path) -> io::Result<()> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(());
    }
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!(
                "{}: another coordinator is already listening there (use --listen)",
                path.display()
            ),
        ));
    }
    std::fs::remove_file(path).map_err(|e| files::with_path(path, e))
}

/// Removes the socket file when dropped, so a finished coordinator leaves nothing behind and
/// late workers fail fast instead of waiting on a dead listener.
struct SocketFile(PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
// END SOLUTION
