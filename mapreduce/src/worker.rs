// BEGIN SOLUTION 1
//! The worker process: asks the coordinator for tasks and runs them until the job is done.
//!
//! The loop has no sleeps: `get_task` blocks in the coordinator until there is something to
//! do. The worker exits when told the job is over ([`Task::Exit`]) or when the coordinator goes
//! away (it exits once every output is written, so a vanished coordinator means the job is
//! done, as in the course). Only the first connection is retried, briefly, because a worker
//! may be started at the same moment as its coordinator.
// HANDOUT
// //! The worker process (the course's `mr/worker.go`): asks the coordinator for tasks and runs
// //! them until the job is done.
// //!
// //! `mrworker` parses its command line and runs [`run`] on a one-thread tokio runtime; `run`
// //! returning `Ok` ends the process with code 0.
// //!
// //! Hints (the course's, for this interface):
// //! - Borrow from [`crate::sequential`]: read an input with [`crate::files::read_input`], call
// //!   `app.map`, and for a reduce, group the pairs by key ([`crate::kv::Groups`]) and write the
// //!   output lines with [`crate::kv::reduce_into`] (one `"key value"` line per key).
// //! - Write the intermediate pairs with [`crate::kv::Pairs`] (read back with
// //!   [`crate::kv::decode`] or `Groups::add_encoded`): the tests read `mr-X-Y` with `decode`.
// //!   Put a key in partition [`crate::hash::partition`] and name the files with
// //!   [`crate::files::intermediate_name`] and [`crate::files::output_name`].
// //! - Write every file under a temporary name and rename it into place
// //!   ([`crate::files::write_atomically`] does both), so that nobody ever sees a partly
// //!   written file, even if the worker crashes in the middle.
// //! - Maps and reduces are blocking code: run them off the RPC runtime
// //!   (`tokio::task::spawn_blocking`). An app may fail (or panic): report it, don't hang.
// //! - The worker may start before the coordinator listens: retry the connection until
// //!   `connect_timeout` has passed, then fail with "cannot reach the coordinator" and the
// //!   address in the error (`tests/bad_input.rs`).
// //! - Exit when the job is done: when the coordinator says so, or when a call fails because the
// //!   coordinator is gone (it exits once the job is over).
//
// // The stubs leave their arguments unused: delete this line when you start.
// #![allow(unused_variables, dead_code)]
// END SOLUTION

// BEGIN SOLUTION 1
use std::io;
use std::time::{Duration, Instant};

use crate::address::Address;
use crate::apps::App;
use crate::rpc::{self, call_context, CoordinatorClient, Task, TaskId};
use crate::tasks::{run_map, run_reduce};

/// The first delay between connection attempts; it doubles up to [`MAX_RETRY_DELAY`].
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(5);
const MAX_RETRY_DELAY: Duration = Duration::from_millis(200);
// HANDOUT
// use std::io;
// use std::time::Duration;
//
// use crate::address::Address;
// use crate::apps::App;
// END SOLUTION

/// Runs tasks of `app` for the coordinator at `address` until the job is done. Fails only if
/// the coordinator cannot be reached within `connect_timeout`.
pub async fn run(
    app: &'static dyn App,
    address: &Address,
    connect_timeout: Duration,
) -> io::Result<()> {
    // BEGIN SOLUTION 1
    let client = connect(address, connect_timeout).await?;
    loop {
        let task = match client.get_task(call_context()).await {
            Ok(task) => task,
            Err(e) => {
                tracing::info!("coordinator gone ({e}); assuming the job is done");
                return Ok(());
            }
        };
        let (id, result) = match task {
            Task::Exit => return Ok(()),
            Task::Again => continue,
            Task::Map { id, file, n_reduce } => (
                TaskId::Map(id),
                tokio::task::spawn_blocking(move || run_map(app, id, &file, n_reduce)).await,
            ),
            Task::Reduce { id, n_map } => (
                TaskId::Reduce(id),
                tokio::task::spawn_blocking(move || run_reduce(app, id, n_map)).await,
            ),
        };
        // A panic inside an app counts as a failed task, reported like any other failure.
        let result = result.unwrap_or_else(|panic| Err(io::Error::other(panic.to_string())));
        let report = match result {
            Ok(()) => client.task_done(call_context(), id).await,
            Err(e) => {
                tracing::error!("{id:?} failed: {e}");
                client.task_failed(call_context(), id, e.to_string()).await
            }
        };
        if let Err(e) = report {
            tracing::info!("coordinator gone ({e}); assuming the job is done");
            return Ok(());
        }
    }
    // HANDOUT
    // todo!("Lab 1: ask the coordinator for tasks and run them until the job is done")
    // END SOLUTION
}
// BEGIN SOLUTION 1

/// Connects to the coordinator, retrying with a short backoff until `timeout` has passed.
async fn connect(address: &Address, timeout: Duration) -> io::Result<CoordinatorClient> {
    let give_up = Instant::now() + timeout;
    let mut delay = FIRST_RETRY_DELAY;
    loop {
        match rpc::connect(address).await {
            Ok(client) => return Ok(client),
            Err(e) if Instant::now() + delay < give_up => {
                tracing::debug!("coordinator not reachable yet at {address}: {e}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_RETRY_DELAY);
            }
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!(
                        "cannot reach the coordinator at {address} (gave up after {:.1} s): {e}",
                        timeout.as_secs_f64()
                    ),
                ))
            }
        }
    }
}
// END SOLUTION
