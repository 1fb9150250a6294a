// BEGIN SOLUTION 2
//! Lab 2: Raft, as in the extended Raft paper (Figure 2, and section 7's snapshots), with the
//! course's interface.
//!
//! How the pieces fit:
//! - [`Raft`] (`raft.rs`) is the handle a service uses: `new`, `start`, `get_state`,
//!   `snapshot`, `kill`, and the RPC [`service`](Raft::service) the tester adds to a labrpc
//!   server.
//! - `core/` is the protocol: a synchronous state machine that takes events and returns
//!   effects, with no I/O, so it is unit-tested without a network.
//! - `driver.rs` is the one task per peer that runs the core: it owns the timers, sends each
//!   request in a task of its own, saves state, and feeds the apply channel.
//! - `log.rs` is the log with its snapshot offset; `storage.rs` is what is saved and how;
//!   [`Persister`] holds it (in memory, or on disk through `disk.rs`); `messages.rs`
//!   declares the RPCs; [`ApplyMsg`] is what the service receives.

mod apply;
pub mod core;
mod disk;
mod driver;
pub mod log;
pub mod messages;
mod persister;
mod raft;
mod storage;

pub use apply::ApplyMsg;
pub use disk::DiskError;
pub use driver::{ELECTION_TIMEOUT_MS, HEARTBEAT_INTERVAL};
pub use persister::{NewRecords, Persister, StateUpdate};
pub use raft::Raft;
pub use storage::{DurableState, PersistError};
// HANDOUT
// //! Lab 2: Raft, as in the extended Raft paper (Figure 2, and section 7's snapshots), with the
// //! course's interface.
// //!
// //! What is given and what you write:
// //! - [`Raft`] (`raft.rs`) is the handle the tester and the services of Labs 3 and 4 use:
// //!   `new`, `start`, `get_state`, `snapshot`, `kill`, and the RPC
// //!   [`service`](Raft::service) the tester adds to a labrpc server. Its methods are yours to
// //!   write (keep their signatures); start there, its module doc has the hints.
// //! - Given: `messages.rs` declares the RPCs (the tests decode them to aim their faults),
// //!   [`Persister`] is where Raft saves its state (in memory, or on disk through `disk.rs`),
// //!   [`ApplyMsg`] is what the service receives, and [`PersistError`] (`storage.rs`) is how
// //!   `Raft::new` reports saved state that does not decode.
// //! - Everything else is yours to design: add modules here as you like (an election timer,
// //!   the log, the encoding of the saved state in `storage.rs`...).
//
// mod apply;
// mod disk;
// pub mod messages;
// mod persister;
// mod raft;
// mod storage;
//
// pub use apply::ApplyMsg;
// pub use disk::DiskError;
// pub use persister::{NewRecords, Persister, StateUpdate};
// pub use raft::Raft;
// pub use storage::PersistError;
// END SOLUTION
