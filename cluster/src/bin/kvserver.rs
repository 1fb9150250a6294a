//! `kvserver`: one replica of a Raft-backed service, as a process of its own.
//!
//! ```sh
//! kvserver --id 0 --peers 127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 --data-dir /tmp/kv/0
//! ```
//!
//! It listens on its own entry of `--peers`, keeps its Raft state and snapshots in
//! `--data-dir` (one live server per directory: a second one is refused), and serves until
//! SIGINT or SIGTERM. SIGKILL is survived the way a crash is: a restart with the same
//! arguments recovers what was saved. `--service ctrler` runs a shard controller replica
//! instead, and `--service shard --gid G --ctrlers ...` a server of shardkv group G.
//! `RUST_LOG` sets what is logged to stderr (say `RUST_LOG=info,raft=debug`).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use cluster::replica::{self, Role, Spec};
use cluster::{addrs, process};

#[derive(Parser)]
#[command(
    about = "One replica of the key/value service (or the shard controller, or a shardkv group)"
)]
struct Args {
    /// This replica's index in --peers.
    #[arg(long)]
    id: usize,
    /// Every replica's host:port, comma-separated, this one's included (it listens there).
    #[arg(long)]
    peers: String,
    /// Where the Raft state and snapshots are kept (created if absent).
    #[arg(long)]
    data_dir: PathBuf,
    /// Snapshot once the saved Raft state passes this many bytes; -1: never.
    #[arg(long, default_value_t = 1 << 20, allow_negative_numbers = true)]
    maxraftstate: i64,
    /// Which service this replica serves.
    #[arg(long, value_enum, default_value_t = Service::Kv)]
    service: Service,
    /// The shardkv group this server belongs to (--service shard).
    #[arg(long)]
    gid: Option<u64>,
    /// The shard controllers' host:port list (--service shard).
    #[arg(long)]
    ctrlers: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Service {
    /// Lab 3's key/value service.
    Kv,
    /// Lab 4's shard controller.
    Ctrler,
    /// A server of a Lab 4 shardkv replica group.
    Shard,
}

fn main() {
    let args = Args::parse();
    let spec = match spec(&args) {
        Ok(spec) => spec,
        Err(error) => {
            // A usage error, reported the way clap reports its own.
            eprintln!("kvserver: {error}");
            std::process::exit(2);
        }
    };
    process::init_logging();
    let outcome = process::run(|| async move {
        let running = replica::start(&spec).await?;
        tracing::info!(
            "{} replica {} serving on {} (data in {})",
            spec.role.name(),
            spec.id,
            spec.peers[spec.id],
            spec.data_dir.display()
        );
        let watching = tokio::spawn(log_leadership(running.raft_state()));
        process::stop_requested().await;
        watching.abort();
        tracing::info!("stopping");
        running.stop().await;
        Ok(())
    });
    if let Err(error) = outcome {
        process::exit_with("kvserver", &error);
    }
}

fn spec(args: &Args) -> Result<Spec, String> {
    let peers = addrs::parse_list(&args.peers, "--peers")?;
    if args.id >= peers.len() {
        return Err(format!(
            "--id {} is not an index into --peers ({} addresses)",
            args.id,
            peers.len()
        ));
    }
    let role = match (args.service, args.gid, &args.ctrlers) {
        (Service::Kv, None, None) => Role::Kv,
        (Service::Ctrler, None, None) => Role::Ctrler,
        (Service::Shard, Some(gid), Some(ctrlers)) if gid > 0 => Role::Shard {
            gid,
            ctrlers: addrs::parse_list(ctrlers, "--ctrlers")?,
        },
        (Service::Shard, Some(0), _) => return Err("--gid must be positive".into()),
        (Service::Shard, _, _) => return Err("--service shard needs --gid and --ctrlers".into()),
        _ => return Err("--gid and --ctrlers go with --service shard only".into()),
    };
    Ok(Spec {
        id: args.id,
        peers,
        data_dir: args.data_dir.clone(),
        maxraftstate: args.maxraftstate,
        role,
    })
}

/// Logs each change of this replica's leadership, so that a person watching the logs (or
/// the launcher's output) sees who leads.
async fn log_leadership(raft_state: replica::RaftState) {
    let mut last: Option<(u64, bool)> = None;
    loop {
        let (term, leader) = raft_state();
        if last != Some((term, leader)) {
            if leader {
                tracing::info!("leader in term {term}");
            } else if last.is_some_and(|(_, led)| led) {
                tracing::info!("no longer leader (term {term})");
            }
            last = Some((term, leader));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
