//! `tracing` set-up for tests: events stamped with simulated time.
//!
//! `RUST_LOG=debug` (any `EnvFilter` directive) prints events to stderr; `LAB_TRACE=FILE`
//! writes every event at trace level and above as JSON lines to FILE. Both off (the default),
//! no subscriber is installed and `tracing`'s macros cost a branch each.

use std::fmt;
use std::sync::Once;

use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Stamps events with the simulation's clock (seconds since the run started).
struct SimTime;

impl FormatTime for SimTime {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        match labrpc::sim::try_current() {
            Some(sim) => write!(w, "{:10.6}", sim.elapsed().as_secs_f64()),
            None => write!(w, "{:>10}", "-"),
        }
    }
}

/// Installs the subscriber once per process, if `RUST_LOG` or `LAB_TRACE` asks for one.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let stderr = std::env::var("RUST_LOG").ok().map(|_| {
            tracing_subscriber::fmt::layer()
                .with_timer(SimTime)
                .with_writer(std::io::stderr)
                .with_filter(EnvFilter::from_default_env())
        });
        let file = std::env::var("LAB_TRACE").ok().map(|path| {
            let file = std::fs::File::create(&path)
                .unwrap_or_else(|e| panic!("LAB_TRACE={path}: cannot create the trace file: {e}"));
            tracing_subscriber::fmt::layer()
                .json()
                .with_timer(SimTime)
                .with_writer(std::sync::Mutex::new(file))
                .with_filter(tracing_subscriber::filter::LevelFilter::TRACE)
        });
        if stderr.is_some() || file.is_some() {
            let _ = tracing_subscriber::registry()
                .with(stderr)
                .with(file)
                .try_init();
        }
    });
}
