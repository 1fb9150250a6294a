// BEGIN SOLUTION 1
//! The protocol between workers and the coordinator (a tarpc service), and how a worker
//! connects.
//!
//! A worker loops: `get_task`, run it, `task_done` (or `task_failed`). `get_task` is a long poll:
//! when nothing can be handed out yet, the coordinator holds the call open until something can
//! (a map phase ends, a task times out, the job ends) instead of making workers sleep and
//! retry. A hold lasts at most [`MAX_HOLD`], then the answer is [`Task::Again`], which keeps
//! every call well inside its deadline however long the job's task timeout is.

use std::io;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tarpc::tokio_serde::formats::Bincode;
use tarpc::{client, context, serde_transport};

use crate::address::Address;
pub use crate::scheduler::TaskId;

/// The longest the coordinator holds a `get_task` call before answering [`Task::Again`].
pub const MAX_HOLD: Duration = Duration::from_secs(5);

/// The answer to `get_task`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Task {
    /// Map input file `file`, splitting the pairs into `n_reduce` intermediate files `mr-id-Y`.
    Map {
        id: u32,
        file: String,
        n_reduce: u32,
    },
    /// Reduce the intermediate files `mr-X-id` of all `n_map` map tasks into `mr-out-id`.
    Reduce { id: u32, n_map: u32 },
    /// Nothing to do yet, and the coordinator has held the call long enough: ask again.
    Again,
    /// The job is over: exit.
    Exit,
}

#[tarpc::service]
pub trait Coordinator {
    /// Asks for a task (a long poll; see the module documentation).
    async fn get_task() -> Task;
    /// Reports that `task` finished: its output files are in place.
    async fn task_done(task: TaskId);
    /// Reports that `task` failed for a reason retrying will not fix; the job fails with
    /// `error`.
    async fn task_failed(task: TaskId, error: String);
}

/// A context for a call from a worker: the deadline leaves room for the longest hold.
pub fn call_context() -> context::Context {
    let mut ctx = context::current();
    ctx.deadline = Instant::now() + MAX_HOLD + Duration::from_secs(10);
    ctx
}

/// Connects once to the coordinator at `address`.
pub async fn connect(address: &Address) -> io::Result<CoordinatorClient> {
    let config = client::Config::default();
    Ok(match address {
        Address::Unix(path) => {
            let transport = serde_transport::unix::connect(path, Bincode::default).await?;
            CoordinatorClient::new(config, transport).spawn()
        }
        Address::Tcp(addr) => {
            let transport = serde_transport::tcp::connect(addr, Bincode::default).await?;
            CoordinatorClient::new(config, transport).spawn()
        }
    })
}
// HANDOUT
// //! The protocol between workers and the coordinator (the course's `mr/rpc.go`): yours to
// //! design. This module is empty; put the service and its message types here.
// //!
// //! Hints, for tarpc (the crate's dependencies already include `tarpc`, `serde` and `futures`):
// //! - Declare the service as a trait under `#[tarpc::service]`, one `async fn` per call. Every
// //!   argument and answer must derive `serde::Serialize` and `serde::Deserialize`. The macro
// //!   writes the client (`<Trait>Client`) and the server side (`<Trait>::serve`).
// //! - Both ends talk over `tarpc::serde_transport::unix` (or `tcp`, for an [`Address::Tcp`])
// //!   with the `Bincode` codec of `tarpc::tokio_serde::formats`: `listen` gives the coordinator
// //!   a stream of connections, each served by `tarpc::server::BaseChannel::with_defaults` and
// //!   `execute`; `connect` gives a worker a transport for `<Trait>Client::new(..).spawn()`.
// //! - A connection is one worker: when it closes, the worker has exited or crashed.
// //! - Every call carries a `tarpc::context::Context` whose deadline (10 s after
// //!   `context::current()`) ends the call with an error; a call the coordinator holds open must
// //!   answer before it.
// //!
// //! [`Address::Tcp`]: crate::address::Address::Tcp
// END SOLUTION
