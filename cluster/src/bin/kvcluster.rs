//! `kvcluster`: starts a local cluster of `kvserver` processes for a demo, in one command.
//!
//! ```sh
//! kvcluster                      # 3 replicas of the key/value service on free local ports
//! kvcluster --replicas 5 --dir /tmp/kv
//! kvcluster --sharded --groups 2 # 3 shard controllers and 2 groups of 3, joined
//! ```
//!
//! It prints every replica's address, process id and log file, and the `kvctl` commands to
//! try; then it watches: a replica that exits (say, killed with `kill -9` to see the others
//! elect a new leader) is reported with the command that restarts it. Ctrl-C stops them all.

use std::collections::BTreeMap;
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use cluster::process;
use cluster::status::status_rpc;
use labrpc::ClientEnd;
use tokio::process::{Child, Command};

#[derive(Parser)]
#[command(about = "Starts a local cluster of kvserver processes for a demo")]
struct Args {
    /// Replicas of the key/value service (or per shardkv group, with --sharded).
    #[arg(long, default_value_t = 3)]
    replicas: usize,
    /// Where the replicas keep their data and logs (default: a new directory under /tmp).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The first port; replicas take the ports after it in turn (default: free ports).
    #[arg(long)]
    base_port: Option<u16>,
    /// Passed to every replica.
    #[arg(long, default_value_t = 1 << 20, allow_negative_numbers = true)]
    maxraftstate: i64,
    /// The sharded service: 3 shard controllers and --groups groups of --replicas servers.
    #[arg(long)]
    sharded: bool,
    /// Groups of the sharded service (with --sharded).
    #[arg(long, default_value_t = 2)]
    groups: usize,
}

/// One replica process the launcher started.
struct Replica {
    name: String,
    addr: String,
    /// The arguments `kvserver` was started with (to restart it).
    args: Vec<String>,
    log: PathBuf,
    child: Option<Child>,
}

fn main() {
    let args = Args::parse();
    if args.replicas == 0 || (args.sharded && args.groups == 0) {
        eprintln!("kvcluster: --replicas and --groups must be at least 1");
        std::process::exit(2);
    }
    let outcome = process::run(|| launch(args));
    if let Err(error) = outcome {
        process::exit_with("kvcluster", &error);
    }
}

async fn launch(args: Args) -> Result<(), String> {
    let kvserver = sibling("kvserver")?;
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("kvcluster-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut ports = Ports::new(args.base_port);

    // (name prefix, service arguments, replicas) of each replica set, in start order.
    let mut sets: Vec<(String, Vec<String>, usize)> = Vec::new();
    let ctrler_addrs: Vec<String>;
    if args.sharded {
        ctrler_addrs = (0..3).map(|_| ports.next()).collect::<Result<_, _>>()?;
        sets.push((
            "ctrler".into(),
            vec!["--service".into(), "ctrler".into()],
            3,
        ));
        for g in 0..args.groups {
            let gid = 100 + g;
            sets.push((
                format!("group{gid}-"),
                vec![
                    "--service".into(),
                    "shard".into(),
                    "--gid".into(),
                    gid.to_string(),
                    "--ctrlers".into(),
                    ctrler_addrs.join(","),
                ],
                args.replicas,
            ));
        }
    } else {
        ctrler_addrs = Vec::new();
        sets.push(("kv".into(), Vec::new(), args.replicas));
    }

    // Every address first, then the processes: the free ports are held until all are chosen.
    let mut peers_of_set = Vec::new();
    let mut groups = BTreeMap::new();
    for (prefix, _, n) in &sets {
        let peers: Vec<String> = if prefix == "ctrler" {
            ctrler_addrs.clone()
        } else {
            (0..*n).map(|_| ports.next()).collect::<Result<_, _>>()?
        };
        if let Some(gid) = prefix
            .strip_prefix("group")
            .and_then(|g| g.strip_suffix('-'))
        {
            groups.insert(gid.parse::<u64>().expect("we named it"), peers.clone());
        }
        peers_of_set.push(peers);
    }
    drop(ports);

    let mut replicas = Vec::new();
    for ((prefix, service_args, n), peers) in sets.iter().zip(&peers_of_set) {
        for id in 0..*n {
            let name = format!("{prefix}{id}");
            let mut kv_args = vec![
                "--id".into(),
                id.to_string(),
                "--peers".into(),
                peers.join(","),
                "--data-dir".into(),
                dir.join(&name).display().to_string(),
                "--maxraftstate".into(),
                args.maxraftstate.to_string(),
            ];
            kv_args.extend(service_args.iter().cloned());
            let log = dir.join(format!("{name}.log"));
            let child = spawn(&kvserver, &kv_args, &log)?;
            replicas.push(Replica {
                name,
                addr: peers[id].clone(),
                args: kv_args,
                log,
                child: Some(child),
            });
        }
    }

    for replica in &replicas {
        wait_ready(replica).await?;
    }
    if args.sharded {
        let mut ctrler =
            shardkv::CtrlerClerk::new(ctrler_addrs.iter().map(ClientEnd::tcp).collect());
        for (gid, servers) in &groups {
            let join = ctrler.join(BTreeMap::from([(*gid, servers.clone())]));
            tokio::time::timeout(Duration::from_secs(10), join)
                .await
                .map_err(|_| "the controllers did not take the join within 10 s".to_string())??;
        }
    }

    print_summary(&args, &dir, &replicas, &ctrler_addrs, &kvserver);
    watch(&mut replicas, &kvserver).await;
    println!("kvcluster: stopping every replica");
    for replica in &mut replicas {
        if let Some(mut child) = replica.child.take() {
            terminate(&mut child).await;
        }
    }
    Ok(())
}

fn print_summary(
    args: &Args,
    dir: &Path,
    replicas: &[Replica],
    ctrlers: &[String],
    kvserver: &Path,
) {
    let what = if args.sharded {
        format!(
            "the sharded service: 3 controllers, {} groups of {}",
            args.groups, args.replicas
        )
    } else {
        format!("{} replicas of the key/value service", args.replicas)
    };
    println!("kvcluster: {what}; data and logs in {}", dir.display());
    for r in replicas {
        let pid = r.child.as_ref().and_then(Child::id).unwrap_or(0);
        println!(
            "  {:<10} {:<21} pid {:<7} log {}",
            r.name,
            r.addr,
            pid,
            r.log.display()
        );
    }
    let kvctl = kvserver.with_file_name("kvctl");
    let flag = if args.sharded {
        format!("--ctrlers {}", ctrlers.join(","))
    } else {
        let addrs: Vec<&str> = replicas.iter().map(|r| r.addr.as_str()).collect();
        format!("--servers {}", addrs.join(","))
    };
    println!("try:");
    println!("  {} {flag} put greeting hello", kvctl.display());
    println!("  {} {flag} get greeting", kvctl.display());
    if !args.sharded {
        println!("  {} {flag} status", kvctl.display());
    } else {
        println!("  {} {flag} query", kvctl.display());
    }
    println!("kill a replica (kill -9 PID) and the rest carry on; Ctrl-C stops them all.");
}

/// Reports replicas that exit, until Ctrl-C or SIGTERM.
async fn watch(replicas: &mut [Replica], kvserver: &Path) {
    let stop = process::stop_requested();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
        for r in replicas.iter_mut() {
            let Some(child) = r.child.as_mut() else {
                continue;
            };
            if let Ok(Some(status)) = child.try_wait() {
                println!(
                    "kvcluster: {} ({}) exited: {status}; its log: {}",
                    r.name,
                    r.addr,
                    r.log.display()
                );
                println!(
                    "  restart it with: {} {}",
                    kvserver.display(),
                    r.args.join(" ")
                );
                r.child = None;
            }
        }
    }
}

/// SIGTERM, then SIGKILL if it has not exited within 3 s.
async fn terminate(child: &mut Child) {
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill")
            .arg(pid.to_string())
            .status();
        if tokio::time::timeout(Duration::from_secs(3), child.wait())
            .await
            .is_ok()
        {
            return;
        }
    }
    let _ = child.kill().await;
}

fn spawn(kvserver: &Path, args: &[String], log: &Path) -> Result<Child, String> {
    let out = File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let err = out
        .try_clone()
        .map_err(|e| format!("{}: {e}", log.display()))?;
    let mut command = Command::new(kvserver);
    command
        .args(args)
        .stdout(out)
        .stderr(err)
        .kill_on_drop(true);
    if std::env::var_os("RUST_LOG").is_none() {
        command.env("RUST_LOG", "warn,cluster=info,kvserver=info");
    }
    command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", kvserver.display()))
}

/// Waits until the replica answers its status service (5 s at most).
async fn wait_ready(replica: &Replica) -> Result<(), String> {
    let status = status_rpc::Client::new(ClientEnd::tcp(&replica.addr));
    for _ in 0..50 {
        if status.state(&()).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = std::fs::read_to_string(&replica.log).unwrap_or_default();
    Err(format!(
        "{} did not come up on {} within 5 s; its log ({}):\n{log}",
        replica.name,
        replica.addr,
        replica.log.display()
    ))
}

/// The binary `name` beside this one (cargo builds them into one directory).
fn sibling(name: &str) -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let path = me.with_file_name(name);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "{} not found (build it: cargo build --release -p cluster)",
            path.display()
        ))
    }
}

/// Hands out local addresses: consecutive ports from a base, or free ones.
struct Ports {
    next: Option<u16>,
    /// Free ports found so far, held so that the OS does not hand one out twice.
    held: Vec<TcpListener>,
}

impl Ports {
    fn new(base: Option<u16>) -> Ports {
        Ports {
            next: base,
            held: Vec::new(),
        }
    }

    fn next(&mut self) -> Result<String, String> {
        match &mut self.next {
            Some(port) => {
                let addr = format!("127.0.0.1:{port}");
                *port = port
                    .checked_add(1)
                    .ok_or("ran out of ports above --base-port")?;
                Ok(addr)
            }
            None => {
                // The OS picks a free port; it stays free for the moment the replica needs.
                let probe =
                    TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
                let addr = probe.local_addr().map_err(|e| e.to_string())?;
                self.held.push(probe);
                Ok(addr.to_string())
            }
        }
    }
}
