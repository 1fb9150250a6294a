//! `kvctl`: a command-line client of the key/value service and of the sharded service.
//!
//! ```sh
//! kvctl --servers 127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 put k hello
//! kvctl --servers ... get k                 # prints: hello
//! kvctl --servers ... status                # which replica leads, which do not answer
//! kvctl --servers ... bench --clients 64 --value-size 100 --seconds 10
//! kvctl --ctrlers A,B,C join 100 X,Y,Z      # the sharded service: groups join, leave ...
//! kvctl --ctrlers A,B,C put k v             # ... and the same get/put/append
//! ```
//!
//! Every operation has a deadline (`--timeout`, default 5 s): a cluster that does not answer
//! is an error and exit status 1, not a client that retries for ever.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use cluster::client::{within, Client, Target};
use cluster::status::status_rpc;
use cluster::{addrs, bench, process};
use labrpc::ClientEnd;

#[derive(Parser)]
#[command(
    about = "A client of the key/value service (--servers) or the sharded service (--ctrlers)"
)]
struct Args {
    /// The key/value service's replicas, host:port comma-separated.
    #[arg(long, required_unless_present_any = ["ctrlers", "etcd"])]
    servers: Option<String>,
    /// The sharded service's controllers, host:port comma-separated.
    #[arg(long, conflicts_with = "servers")]
    ctrlers: Option<String>,
    /// An etcd cluster's client endpoints, host:port comma-separated (get, put and bench
    /// only: to measure etcd beside our service).
    #[arg(long, conflicts_with_all = ["servers", "ctrlers"])]
    etcd: Option<String>,
    /// Seconds an operation may take before it is given up.
    #[arg(long, default_value_t = 5.0)]
    timeout: f64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Prints the value of KEY ("" if never written).
    Get { key: String },
    /// Sets KEY to VALUE.
    Put { key: String, value: String },
    /// Appends VALUE to KEY's value.
    Append { key: String, value: String },
    /// Asks every replica (or controller) whether it leads.
    Status,
    /// Closed-loop clients doing Puts (or Gets) for a while; prints ops/s and latencies.
    Bench {
        #[arg(long, default_value_t = 1)]
        clients: usize,
        /// Bytes per value written.
        #[arg(long, default_value_t = 100)]
        value_size: usize,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Keys per client (each client writes its own keys).
        #[arg(long, default_value_t = 10)]
        keys: usize,
        /// Measure Gets of the written keys instead of Puts.
        #[arg(long)]
        gets: bool,
    },
    /// Sharded service: group GID, served by SERVERS (host:port,...), joins.
    Join { gid: u64, servers: String },
    /// Sharded service: group GID leaves.
    Leave { gid: u64 },
    /// Sharded service: prints configuration NUM (default: the latest).
    Query {
        #[arg(allow_negative_numbers = true, default_value_t = -1)]
        num: i64,
    },
}

fn main() {
    let args = Args::parse();
    let parsed = (|| {
        let deadline = if args.timeout.is_finite() && args.timeout > 0.0 {
            Duration::from_secs_f64(args.timeout)
        } else {
            return Err("--timeout must be a positive number of seconds".to_string());
        };
        let target = match (&args.servers, &args.ctrlers, &args.etcd) {
            (Some(servers), _, _) => Target::Kv(addrs::parse_list(servers, "--servers")?),
            (_, Some(ctrlers), _) => Target::Sharded(addrs::parse_list(ctrlers, "--ctrlers")?),
            (_, _, Some(etcd)) => Target::Etcd(addrs::parse_list(etcd, "--etcd")?),
            (None, None, None) => unreachable!("clap requires one of them"),
        };
        Ok((deadline, target))
    })();
    let (deadline, target) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => {
            eprintln!("kvctl: {error}");
            std::process::exit(2);
        }
    };
    process::init_logging();
    let outcome = process::run(|| command(args.command, target, deadline));
    match outcome {
        Ok(output) => {
            if !output.is_empty() {
                println!("{output}");
            }
        }
        Err(error) => process::exit_with("kvctl", &error),
    }
}

async fn command(command: Command, target: Target, deadline: Duration) -> Result<String, String> {
    match command {
        Command::Get { key } => Client::new(&target, deadline).get(&key).await,
        Command::Put { key, value } => {
            Client::new(&target, deadline).put(&key, &value).await?;
            Ok(String::new())
        }
        Command::Append { key, value } => {
            Client::new(&target, deadline).append(&key, &value).await?;
            Ok(String::new())
        }
        Command::Status => status(&target).await,
        Command::Bench {
            clients,
            value_size,
            seconds,
            keys,
            gets,
        } => {
            if clients == 0 || keys == 0 || !(seconds > 0.0 && seconds.is_finite()) {
                return Err("bench needs --clients, --keys and --seconds above zero".into());
            }
            let value = "v".repeat(value_size);
            let run = bench::run(clients, Duration::from_secs_f64(seconds), |i, until| {
                let (target, value) = (target.clone(), value.clone());
                async move {
                    let mut client = Client::new(&target, deadline);
                    let key = |k: usize| format!("bench-{i}-{k}");
                    // Every key exists before the clock starts, and connections are made.
                    for k in 0..keys {
                        client.put(&key(k), &value).await?;
                    }
                    let mut latencies = Vec::new();
                    let mut n = 0;
                    while Instant::now() < until {
                        let started = Instant::now();
                        if gets {
                            client.get(&key(n % keys)).await?;
                        } else {
                            client.put(&key(n % keys), &value).await?;
                        }
                        latencies.push(started.elapsed());
                        n += 1;
                    }
                    Ok(latencies)
                }
            });
            let figures = run.await?;
            let what = if gets { "get" } else { "put" };
            Ok(format!("{what}, {value_size}-byte values: {figures}"))
        }
        Command::Join { gid, servers } => {
            let servers = addrs::parse_list(&servers, "join")?;
            let mut ctrler = ctrler_clerk(&target)?;
            let groups = BTreeMap::from([(gid, servers)]);
            within(deadline, ctrler.join(groups))
                .await
                .ok_or_else(|| no_answer(&target, deadline))??;
            Ok(String::new())
        }
        Command::Leave { gid } => {
            let mut ctrler = ctrler_clerk(&target)?;
            within(deadline, ctrler.leave(vec![gid]))
                .await
                .ok_or_else(|| no_answer(&target, deadline))??;
            Ok(String::new())
        }
        Command::Query { num } => {
            let mut ctrler = ctrler_clerk(&target)?;
            let config = within(deadline, ctrler.query(num))
                .await
                .ok_or_else(|| no_answer(&target, deadline))?;
            let mut out = format!("configuration {}\n  shards:", config.num);
            for gid in config.shards {
                out += &format!(" {gid}");
            }
            for (gid, servers) in &config.groups {
                out += &format!("\n  group {gid}: {}", servers.join(","));
            }
            Ok(out)
        }
    }
}

fn ctrler_clerk(target: &Target) -> Result<shardkv::CtrlerClerk, String> {
    match target {
        Target::Sharded(ctrlers) => Ok(shardkv::CtrlerClerk::new(
            ctrlers.iter().map(ClientEnd::tcp).collect(),
        )),
        _ => Err("join, leave and query need --ctrlers (the sharded service)".into()),
    }
}

fn no_answer(target: &Target, deadline: Duration) -> String {
    let addrs = match target {
        Target::Kv(a) | Target::Sharded(a) | Target::Etcd(a) => a.join(","),
    };
    format!(
        "no answer from {addrs} within {:.1} s",
        deadline.as_secs_f64()
    )
}

/// One line per replica: leads or not, its term, or that it did not answer.
async fn status(target: &Target) -> Result<String, String> {
    let addrs = match target {
        Target::Kv(a) | Target::Sharded(a) => a.clone(),
        Target::Etcd(_) => {
            return Err("status is for our replicas (etcdctl endpoint status for etcd)".into())
        }
    };
    let mut lines = Vec::new();
    let mut answered = 0;
    for addr in &addrs {
        let client = status_rpc::Client::new(ClientEnd::tcp(addr));
        match client.state(&()).await {
            Ok(state) => {
                answered += 1;
                let role = if state.leader { "leader" } else { "follower" };
                lines.push(format!(
                    "{addr}  {} replica {}  {role}  term {}",
                    state.service, state.id, state.term
                ));
            }
            Err(error) => lines.push(format!("{addr}  no answer ({error})")),
        }
    }
    if answered == 0 {
        return Err(format!("no replica answered:\n{}", lines.join("\n")));
    }
    Ok(lines.join("\n"))
}
