//! # lincheck — a linearizability checker
//!
//! Given a concurrent [`History`] (each operation's call time, and its return time and output if
//! a reply came) and a sequential [`Model`] of the object, [`check`] decides whether there is a
//! single order of the operations, consistent with their real-time intervals, in which every
//! output is the one the model would give. It is a Rust port of the design of porcupine (the
//! checker the MIT 6.5840 labs use) with one difference that matters to a test suite: the search
//! is limited by a deterministic count of steps instead of a wall-clock timeout, and running out
//! is reported as [`Outcome::BudgetExhausted`] rather than passing silently.
//!
//! ## Using it from a tester
//!
//! ```
//! use lincheck::{check, KvInput, KvModel, Operation, DEFAULT_BUDGET};
//!
//! let history = vec![
//!     // client 1: Append("k", "a") called at t=0, returned at t=5
//!     Operation::returned(1, KvInput::append("k", "a"), 0, String::new(), 5),
//!     // client 2: Get("k") called at t=1, no reply ever arrived
//!     Operation::no_reply(2, KvInput::get("k"), 1),
//!     // client 3: Get("k") called at t=6 returned "" at t=9: stale, the append had finished
//!     Operation::returned(3, KvInput::get("k"), 6, String::new(), 9),
//! ];
//! let outcome = check(&KvModel, &history, DEFAULT_BUDGET);
//! assert!(!outcome.is_linearizable());
//! println!("{outcome}"); // one-line summary
//! // On failure, draw the history and the longest partial linearization:
//! // lincheck::write_html(&KvModel, &history, &outcome, "/tmp/history.html")?;
//! ```
//!
//! ## How it works
//!
//! * [`Model::partition`] splits the history into independent parts (per key for [`KvModel`]),
//!   which take turns at the search, a fixed quantum of steps each, so that a part that fails
//!   quickly is found even behind a hard one ([`check`] in `check.rs`).
//! * A model may decide a part outright ([`Model::decide`]): [`KvModel`] does when the written
//!   values are unique, reading from each Get's value which writes it saw and in what order,
//!   and checking that those orders fit together and with real time (`models/kv_order`).
//! * Each remaining part's call and return events are sorted into a linked list (`entries.rs`) and
//!   searched depth-first for a linearization, Wing & Gong style, with Lowe's memoization of
//!   (linearized set, state) configurations (`search.rs`, `cache.rs`, `bitset.rs`).
//! * A failure keeps the longest linearization prefix found and the operations that could not
//!   come next ([`Failure`]), which [`html`] draws.
//! * [`parse`] reads the text formats of the test data; the `lincheck` binary wraps it all.

#![warn(missing_docs)]

mod bitset;
mod cache;
mod check;
mod entries;
mod hash;
mod history;
pub mod html;
mod model;
pub mod models;
mod outcome;
pub mod parse;
mod search;

pub use check::{check, DEFAULT_BUDGET};
pub use history::{History, Operation, Reply};
pub use html::{render_html, write_html};
pub use model::{Conflict, Decision, Model, Partition};
pub use models::kv::{KvInput, KvModel, KvState};
pub use models::register::{RegisterInput, RegisterModel, RegisterOutput};
pub use outcome::{Failure, LinearizedOp, OpSummary, Outcome};
