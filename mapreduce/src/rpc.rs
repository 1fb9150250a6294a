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
