//! What every binary of this crate shares: its runtime, its logs and its signals.
//!
//! Lab code reaches its runtime through `labrpc::sim`, so a real process runs inside
//! [`labrpc::sim::run_service`]: a multi-threaded tokio runtime on the wall clock. Its random
//! generator gives clerks their ids, so every process must seed it differently (two `kvctl`
//! runs with one seed would be one client to the servers, and the second one's writes would be
//! taken for retries of the first one's): the seed comes from the OS's randomly keyed hasher,
//! the process id and the time.

use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::io::IsTerminal;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing_subscriber::EnvFilter;

/// A seed no other process is likely to have drawn.
pub fn fresh_seed() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    hasher.write_u128(now);
    hasher.finish()
}

/// Logs the labs' `tracing` events to stderr as `RUST_LOG` asks (default: warnings only, and
/// this crate's own info lines).
pub fn init_logging() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("warn,cluster=info,kvserver=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

/// Runs `body` as this process's main task; a failure of it or of any task it started
/// (a panic in a server) is an error message.
pub fn run<F, Fut, T>(body: F) -> Result<T, String>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    match labrpc::sim::run_service(fresh_seed(), body) {
        Ok(result) => result,
        Err(error) => Err(error.to_string()),
    }
}

/// Resolves when the process is asked to stop: SIGINT (Ctrl-C) or SIGTERM.
pub async fn stop_requested() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Prints `error` as `NAME: error` and exits with status 1.
pub fn exit_with(name: &str, error: &str) -> ! {
    eprintln!("{name}: {error}");
    std::process::exit(1)
}
