//! `nemesis`: the Jepsen-style fault-injection test of the key/value services as processes.
//!
//! ```sh
//! sudo nemesis --seconds 20            # 5 replicas, 5 clients, kills, pauses, partitions
//! sudo nemesis --sharded --groups 3    # the sharded service, and groups joined and removed
//! nemesis --net loopback               # without root: kills and pauses only
//! ```
//!
//! Prints the run's directory and a `nemesis-result …` line; exit status 0 when the history
//! is linearizable and every acknowledged write is there exactly once, 1 when not (the
//! directory keeps the history, the schedule, every server's log and the checker's page),
//! 2 for bad arguments. See `cluster::nemesis` for what it does.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use cluster::nemesis::{self, layout::Layout, net::Net, Config};
use cluster::process;

#[derive(Parser)]
#[command(
    about = "Kills, pauses and partitions kvserver replicas under clients, then checks the history"
)]
struct Args {
    /// Replicas of the key/value service (without --sharded).
    #[arg(long, default_value_t = 5)]
    replicas: usize,
    /// Test the sharded service instead: 3 shard controllers and --groups groups of 3.
    #[arg(long)]
    sharded: bool,
    /// Shardkv groups (with --sharded).
    #[arg(long, default_value_t = 3)]
    groups: usize,
    #[arg(long, default_value_t = 5)]
    clients: usize,
    /// How long the faults and clients run.
    #[arg(long, default_value_t = 20.0)]
    seconds: f64,
    /// Fixes the fault schedules and the clients' choices (default: a fresh one, printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Where the run's files go (default: a new directory under /tmp).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Where replicas run: network namespaces (root), loopback, or namespaces if possible.
    #[arg(long, value_enum, default_value_t = NetChoice::Auto)]
    net: NetChoice,
    #[arg(long, default_value_t = 10_000, allow_negative_numbers = true)]
    maxraftstate: i64,
    /// Seconds a client waits for an operation before giving it up.
    #[arg(long, default_value_t = 5.0)]
    op_timeout: f64,
    /// Internal: this process is the run inside the namespaces named TAG-*.
    #[arg(long, hide = true)]
    inside: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum NetChoice {
    Auto,
    Netns,
    Loopback,
}

fn main() {
    let args = Args::parse();
    if args.replicas < 3
        || args.groups < 2
        || args.clients == 0
        || !(args.seconds > 0.0 && args.seconds.is_finite())
        || !(args.op_timeout > 0.0 && args.op_timeout.is_finite())
    {
        eprintln!(
            "nemesis: needs --replicas 3 or more, --groups 2 or more, and --clients, --seconds and \
             --op-timeout above zero"
        );
        std::process::exit(2);
    }
    let seed = args.seed.unwrap_or_else(process::fresh_seed);
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("nemesis-{}", std::process::id())));
    let kvserver = match std::env::current_exe() {
        Ok(me) => me.with_file_name("kvserver"),
        Err(e) => process::exit_with("nemesis", &format!("cannot find this program: {e}")),
    };
    if !kvserver.exists() {
        process::exit_with(
            "nemesis",
            &format!(
                "{} not found (cargo build --release -p cluster)",
                kvserver.display()
            ),
        );
    }
    let layout = if args.sharded {
        Layout::Sharded {
            groups: args.groups,
        }
    } else {
        Layout::Kv {
            replicas: args.replicas,
        }
    };
    let total = layout.total();
    let config = Config {
        layout,
        clients: args.clients,
        duration: Duration::from_secs_f64(args.seconds),
        seed,
        dir: dir.clone(),
        kvserver,
        maxraftstate: args.maxraftstate,
        op_deadline: Duration::from_secs_f64(args.op_timeout),
    };

    if let Some(tag) = &args.inside {
        let net = Net::Namespaces {
            tag: tag.clone(),
            n: total,
        };
        std::process::exit(run_here(config, net));
    }
    let net = match args.net {
        NetChoice::Loopback => Net::loopback(total),
        NetChoice::Netns => Net::namespaces(total),
        NetChoice::Auto => Net::namespaces(total).or_else(|why| {
            eprintln!("nemesis: no partitions ({why}); replicas on loopback");
            Net::loopback(total)
        }),
    };
    let net = net.unwrap_or_else(|e| process::exit_with("nemesis", &e));
    println!(
        "nemesis: seed {seed}, {}, {}, files in {}",
        layout.describe(),
        net.describe(),
        dir.display()
    );
    let status = match &net {
        Net::Loopback { .. } => run_here(config, net),
        Net::Namespaces { tag, .. } => {
            // The clients must live in the clients' namespace: run the rest of the test there.
            let me = std::env::current_exe().expect("found above");
            let mut command = net.client_command(&me);
            command
                .args(["--replicas", &args.replicas.to_string()])
                .args(["--groups", &args.groups.to_string()])
                .args(args.sharded.then_some("--sharded"))
                .args(["--clients", &args.clients.to_string()])
                .args(["--seconds", &args.seconds.to_string()])
                .args(["--seed", &seed.to_string()])
                .arg("--dir")
                .arg(&dir)
                .args(["--maxraftstate", &args.maxraftstate.to_string()])
                .args(["--op-timeout", &args.op_timeout.to_string()])
                .args(["--inside", tag]);
            let status = command.status();
            net.teardown();
            match status {
                Ok(status) => status.code().unwrap_or(1),
                Err(e) => process::exit_with("nemesis", &format!("cannot run the test: {e}")),
            }
        }
    };
    std::process::exit(status);
}

/// Runs the test in this process; its exit status.
fn run_here(config: Config, net: Net) -> i32 {
    let dir = config.dir.clone();
    match process::run(|| nemesis::run(config, net)) {
        Ok(summary) => {
            println!("{}", summary.line());
            if summary.problems.is_empty() {
                println!("nemesis: passed: linearizable, every acknowledged write present once");
                0
            } else {
                for problem in &summary.problems {
                    println!("nemesis: FAILED: {problem}");
                }
                println!(
                    "nemesis: history, schedule and server logs kept in {}",
                    dir.display()
                );
                1
            }
        }
        Err(error) => {
            println!("nemesis: error: {error} (files in {})", dir.display());
            1
        }
    }
}
