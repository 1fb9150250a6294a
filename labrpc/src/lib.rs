//! labrpc: the simulated network and the simulation runtime every lab runs on.
//!
//! - [`sim`]: one seed fixes a run. A paused-clock tokio runtime, the one seeded random
//!   generator, panic capture for spawned tasks, the run's event digest.
//! - [`Network`], [`ClientEnd`], [`Server`]: the course's labrpc, with its semantics for
//!   disconnection, unreliability, reordering, long delays and deleted servers, and faults
//!   a tester arms for one particular message (a crash right after a reply, a request held
//!   back or delivered twice: see `faults.rs`).
//! - [`service!`]: declare a service's methods once; get a typed client and a dispatcher.
//! - [`codec`]: serde + bincode, on every call.
//! - [`tcp`]: the second network: the same services and the same [`ClientEnd`] between
//!   processes over TCP (tarpc), for running the labs as a real cluster
//!   ([`sim::run_service`] is a real process's runtime).
//! - [`livelock`]: a run that works without simulated time advancing, or past its wall-clock
//!   limit, fails with a report.
//!
//! labrpc knows nothing of Raft or any lab: it sits at the bottom of the layering.

pub mod codec;
mod digest;
mod error;
mod faults;
mod handler;
mod hang;
pub mod livelock;
mod network;
mod pending;
mod server;
pub mod service;
pub mod sim;
pub mod tcp;

pub use digest::Digest;
pub use error::RpcError;
pub use network::{ClientEnd, Network};
pub use server::{BoxFuture, Server, Service};
pub use tcp::{serve, TcpOptions, TcpServer};
