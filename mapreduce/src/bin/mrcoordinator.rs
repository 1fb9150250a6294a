//! `mrcoordinator FILE...`: serves a MapReduce job to `mrworker` processes and exits once every
//! output file `mr-out-*` is written. See [`mapreduce::coordinator`].

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use mapreduce::address::Address;
use mapreduce::cli::parse_seconds;
use mapreduce::coordinator::{self, Config};

/// Serves a MapReduce job to mrworker processes; exits once every output is written.
#[derive(Parser)]
#[command(name = "mrcoordinator")]
struct Args {
    /// Input files, one map task each.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,

    /// Number of reduce tasks (output files mr-out-0 ... mr-out-N-1).
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    nreduce: u32,

    // The help text is an attribute, not a doc comment, so rustdoc does not read `<uid>` as HTML.
    #[arg(
        long,
        value_name = "ADDR",
        help = "Where workers reach the coordinator: a Unix socket path, or HOST:PORT for TCP \
                [default: /var/tmp/5840-mr-<uid>]"
    )]
    listen: Option<Address>,

    /// Seconds after which a task that has not been reported is given to another worker.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_seconds)]
    task_timeout: Duration,
}

fn main() -> ExitCode {
    let args = Args::parse();
    mapreduce::init_logging();
    let config = Config {
        files: args.files,
        n_reduce: args.nreduce,
        listen: args.listen.unwrap_or_else(Address::default_unix),
        task_timeout: args.task_timeout,
    };
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .and_then(|runtime| runtime.block_on(coordinator::run(config)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mrcoordinator: {e}");
            ExitCode::FAILURE
        }
    }
}
