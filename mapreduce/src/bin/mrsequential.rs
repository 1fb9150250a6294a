//! `mrsequential APP FILE...`: runs APP over the files in one process and writes `mr-out-0`,
//! the output a distributed run must match. See [`mapreduce::sequential`].

use std::process::ExitCode;

use clap::Parser;
use mapreduce::apps::App;
use mapreduce::cli::parse_app;
use mapreduce::files::output_name;
use mapreduce::sequential;

/// Runs a MapReduce application in one process and writes mr-out-0.
#[derive(Parser)]
#[command(name = "mrsequential")]
struct Args {
    /// The application: wc, indexer, mtiming, rtiming, jobcount, early_exit, crash, nocrash.
    #[arg(value_name = "APP", value_parser = parse_app)]
    app: &'static dyn App,

    /// Input files.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match sequential::run(args.app, &args.files, &output_name(0)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mrsequential: {e}");
            ExitCode::FAILURE
        }
    }
}
