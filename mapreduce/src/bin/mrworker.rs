//! `mrworker APP`: runs map and reduce tasks of APP for a coordinator until the job is done.
//! See [`mapreduce::worker`].

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use mapreduce::address::Address;
use mapreduce::apps::App;
use mapreduce::cli::{parse_app, parse_seconds};
use mapreduce::worker;

/// Runs map and reduce tasks for a coordinator until the job is done.
#[derive(Parser)]
#[command(name = "mrworker")]
struct Args {
    /// The application: wc, indexer, mtiming, rtiming, jobcount, early_exit, crash, nocrash.
    #[arg(value_name = "APP", value_parser = parse_app)]
    app: &'static dyn App,

    // The help text is an attribute, not a doc comment, so rustdoc does not read `<uid>` as HTML.
    #[arg(
        long,
        value_name = "ADDR",
        help = "The coordinator's address: a Unix socket path, or HOST:PORT for TCP \
                [default: /var/tmp/5840-mr-<uid>]"
    )]
    coordinator: Option<Address>,

    /// Seconds to keep trying to reach the coordinator before giving up.
    #[arg(long, value_name = "SECS", default_value = "3", value_parser = parse_seconds)]
    connect_timeout: Duration,
}

fn main() -> ExitCode {
    let args = Args::parse();
    mapreduce::init_logging();
    let address = args.coordinator.unwrap_or_else(Address::default_unix);
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .and_then(|runtime| {
            runtime.block_on(worker::run(args.app, &address, args.connect_timeout))
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mrworker: {e}");
            ExitCode::FAILURE
        }
    }
}
