//! The allocator of every test binary that links the harness: mimalloc instead of the system's.
//!
//! A simulated run allocates for nearly everything it does: each RPC's request and reply
//! bytes, its handler task, its timers, each log entry's copies. With glibc's malloc a quarter
//! of Lab 3's profile was inside `malloc`, `free` and their bookkeeping (`malloc_consolidate`
//! among them, as large snapshots are freed between small messages); mimalloc's thread-local
//! free lists cut Lab 3's suite by about an eighth (README, "Sweeps at scale").
//!
//! The choice cannot change a run: nothing in the labs looks at addresses, so a seed's digest
//! is the same under either allocator.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
