//! The Raft services as real processes, on real sockets and disks.
//!
//! Every lab is graded inside the simulation; this crate runs the very same servers (kvraft,
//! the shard controller, shardkv: not a line of them changed) as separate processes that talk
//! over TCP (`labrpc::tcp`) and keep their Raft state on disk (`raft::Persister::open`), and
//! tests them from outside, the way Jepsen tests a database:
//!
//! - [`replica`]: one replica of a service, served on its address with its data directory
//!   (the `kvserver` binary);
//! - [`client`]: clerks with deadlines, so a command against a dead cluster ends with an
//!   error instead of retrying for ever (the `kvctl` binary);
//! - [`bench`]: closed-loop clients measuring throughput and latency (`kvctl bench`);
//! - [`etcd`]: a minimal etcd client, so that `kvctl bench` measures etcd the same way;
//! - [`status`]: a small extra RPC service by which a replica says whether it leads;
//! - [`addrs`]: checking address lists given on the command line;
//! - [`process`]: what every binary here shares: its runtime, logging and signals;
//! - [`nemesis`]: the fault-injecting test run (the `nemesis` binary): replicas killed,
//!   paused and cut off from each other while clients record a history that `lincheck`
//!   checks afterwards.
//!
//! Layering: this crate sits above every lab and is used by none of them.

pub mod addrs;
pub mod bench;
pub mod client;
pub mod etcd;
pub mod nemesis;
pub mod process;
pub mod replica;
pub mod status;
