//! Lab 1 of MIT 6.5840 (Spring 2023): MapReduce, run as real processes.
//!
//! A job is one `mrcoordinator` process and any number of `mrworker` processes. The coordinator
//! hands out map tasks (one per input file) and then reduce tasks (`nreduce` of them) over tarpc;
//! workers run the chosen [`apps::App`] and write files in the current directory:
//!
//! ```text
//! input files --map--> mr-X-Y (X = map task, Y = reduce partition) --reduce--> mr-out-Y
//! ```
//!
//! `mrsequential` runs the same app in one process and writes `mr-out-0`, the output a
//! distributed run must match. (The tests compute that output independently; see [`sequential`].)
//!
//! How the pieces fit:
//! - [`apps`]: the MapReduce applications (`wc`, `indexer`, the test apps), selected by name.
// BEGIN SOLUTION 1
//! - [`scheduler`]: the coordinator's decisions (which task to give out, timeouts, completion)
//!   as a plain synchronous state machine with its own unit tests.
//! - [`coordinator`]: the tarpc server around the scheduler (long-polling, shutdown).
//! - [`worker`]: the worker loop (ask, run, report); [`tasks`]: the map and reduce task bodies.
//! - [`sequential`]: the one-process run.
//! - [`rpc`] and [`address`]: the wire protocol and where the coordinator listens.
// HANDOUT
// //! - [`coordinator`], [`worker`] and [`rpc`]: yours to write (the course's `coordinator.go`,
// //!   `worker.go` and `rpc.go`). Each stub's module documentation has the course's hints.
// //!   Keep [`coordinator::run`], [`coordinator::Config`] and [`worker::run`] as they are (the
// //!   binaries call them); add modules of your own as you like.
// //! - [`sequential`]: the one-process run (the course's `mrsequential.go`): borrow from it.
// //! - [`address`]: where the coordinator listens and workers connect.
// END SOLUTION
//! - [`kv`], [`files`], [`hash`]: intermediate encoding and grouping, atomic file writes and
//!   naming, and the FNV hashes used for partitioning and grouping; [`cli`]: argument parsing
//!   shared by the binaries.
// BEGIN SOLUTION 1
// HANDOUT
// //!
// //! Everything but [`coordinator`], [`worker`] and [`rpc`] is given, as the course gives
// //! `mrsequential.go`, the apps and `ihash`; the tests use [`apps`], [`hash::partition`] and
// //! [`kv::decode`] (they read the `mr-X-Y` files), so those stay as they are.
// END SOLUTION

pub mod address;
pub mod apps;
pub mod cli;
pub mod coordinator;
pub mod files;
pub mod hash;
pub mod kv;
pub mod rpc;
// BEGIN SOLUTION 1
pub mod scheduler;
// END SOLUTION
pub mod sequential;
// BEGIN SOLUTION 1
pub mod tasks;
// END SOLUTION
pub mod worker;

/// Sets up `tracing` output on stderr for the binaries. `RUST_LOG=debug` shows every
/// assignment and report; the default shows only warnings.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
