//! The nemesis's network: where the replicas live, and how it cuts them off from each other.
//!
//! - **Namespaces** (needs root, `ip` and `nft`): every replica runs in a network namespace of
//!   its own, a small host with one interface on a bridge (itself in a namespace, so nothing of
//!   the machine's own network is touched), and the clients in another. A partition is real:
//!   nftables rules in each replica's namespace drop what arrives from the replicas on the
//!   other side, so connections stall and time out as they would on a cut cable. No line of
//!   the servers knows about it.
//! - **Loopback**: every replica on a port of 127.0.0.1, for machines where namespaces are not
//!   available (not root). Kills and pauses work; partitions do not.
//!
//! Names carry the nemesis's process id, so runs in parallel never collide, and namespaces
//! left by a run that died are removed by the next one.

use std::process::Command;

/// The subnet of the namespaces' bridge (inside the run's own namespaces only).
const SUBNET: &str = "10.77.0";
/// The port every replica listens on in namespace mode.
const PORT: u16 = 7000;

/// Where the replicas and clients run.
pub enum Net {
    Loopback { ports: Vec<u16> },
    Namespaces { tag: String, n: usize },
}

impl Net {
    /// Namespaces for `n` replicas and the clients, or `Err` saying why they cannot be made.
    pub fn namespaces(n: usize) -> Result<Net, String> {
        if !is_root() {
            return Err("network namespaces need root".into());
        }
        for tool in ["ip", "nft"] {
            if !runs(Command::new(tool).arg("-V")) {
                return Err(format!("`{tool}` is not installed"));
            }
        }
        remove_stale();
        let net = Net::Namespaces {
            tag: format!("nem{}", std::process::id()),
            n,
        };
        net.build().inspect_err(|_| net.teardown())?;
        Ok(net)
    }

    /// Replicas on free ports of 127.0.0.1.
    pub fn loopback(n: usize) -> Result<Net, String> {
        let probes: Vec<std::net::TcpListener> = (0..n)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("no free port: {e}"))?;
        let ports = probes
            .iter()
            .map(|p| p.local_addr().map(|a| a.port()))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        Ok(Net::Loopback { ports })
    }

    pub fn can_partition(&self) -> bool {
        matches!(self, Net::Namespaces { .. })
    }

    pub fn describe(&self) -> String {
        match self {
            Net::Loopback { .. } => "loopback (kills and pauses; no partitions)".into(),
            Net::Namespaces { tag, .. } => {
                format!("network namespaces {tag}-* (kills, pauses and nftables partitions)")
            }
        }
    }

    /// Replica `i`'s address.
    pub fn addr(&self, i: usize) -> String {
        match self {
            Net::Loopback { ports } => format!("127.0.0.1:{}", ports[i]),
            Net::Namespaces { .. } => format!("{SUBNET}.{}:{PORT}", i + 1),
        }
    }

    /// The command that runs `program` where replica `i` lives.
    pub fn command_for(&self, i: usize, program: &std::path::Path) -> Command {
        match self {
            Net::Loopback { .. } => Command::new(program),
            Net::Namespaces { tag, .. } => {
                // `ip netns exec` enters the namespace and execs the program itself, so the
                // child's pid is the replica's: signals reach it directly.
                let mut command = Command::new("ip");
                command
                    .args(["netns", "exec", &format!("{tag}-{i}")])
                    .arg(program);
                command
            }
        }
    }

    /// The command that runs `program` where the clients live.
    pub fn client_command(&self, program: &std::path::Path) -> Command {
        match self {
            Net::Loopback { .. } => Command::new(program),
            Net::Namespaces { tag, .. } => {
                let mut command = Command::new("ip");
                command
                    .args(["netns", "exec", &format!("{tag}-c")])
                    .arg(program);
                command
            }
        }
    }

    /// Cuts the replicas into `sides`: each side reaches only itself (clients reach all).
    pub fn partition(&self, sides: &[Vec<usize>]) -> Result<(), String> {
        let mut drops = Vec::new();
        for side in sides {
            let others: Vec<usize> = sides
                .iter()
                .filter(|s| *s != side)
                .flatten()
                .copied()
                .collect();
            drops.extend(side.iter().map(|&i| (i, others.clone())));
        }
        self.cut(&drops)
    }

    /// Cuts two halves apart, except for `bridge`, which still reaches both (Jepsen's
    /// "bridge"): each half can reach a majority only through the bridge.
    pub fn bridge(&self, halves: [&[usize]; 2], bridge: usize) -> Result<(), String> {
        let [one, two] = halves;
        let mut drops: Vec<(usize, Vec<usize>)> = one.iter().map(|&i| (i, two.to_vec())).collect();
        drops.extend(two.iter().map(|&i| (i, one.to_vec())));
        drops.push((bridge, Vec::new()));
        self.cut(&drops)
    }

    /// For each `(replica, sources)`: replica `i` drops whatever arrives from `sources`, and
    /// nothing else (replicas not listed keep their rules).
    pub fn cut(&self, drops: &[(usize, Vec<usize>)]) -> Result<(), String> {
        for (i, sources) in drops {
            self.cut_calls(*i, sources, &[])?;
        }
        Ok(())
    }

    /// Replica `i` drops whatever arrives from `sources`, and the calls (not the answers)
    /// from `callers`: the packets of connections they opened to `i`'s port. So `i` misses
    /// their heartbeats but still completes its own calls to them, its handshake included.
    /// Replaces `i`'s rules.
    pub fn cut_calls(&self, i: usize, sources: &[usize], callers: &[usize]) -> Result<(), String> {
        let Net::Namespaces { tag, .. } = self else {
            return Err("no partitions on loopback".into());
        };
        let ns = format!("{tag}-{i}");
        let set = |replicas: &[usize]| {
            let addrs: Vec<String> = replicas
                .iter()
                .map(|j| format!("{SUBNET}.{}", j + 1))
                .collect();
            format!("{{ {} }}", addrs.join(", "))
        };
        nft(&ns, &["flush", "chain", "inet", "nemesis", "input"])?;
        if !sources.is_empty() {
            let from = set(sources);
            nft(
                &ns,
                &[
                    "add", "rule", "inet", "nemesis", "input", "ip", "saddr", &from, "drop",
                ],
            )?;
        }
        if !callers.is_empty() {
            let from = set(callers);
            let port = PORT.to_string();
            nft(
                &ns,
                &[
                    "add", "rule", "inet", "nemesis", "input", "ip", "saddr", &from, "tcp",
                    "dport", &port, "drop",
                ],
            )?;
        }
        Ok(())
    }

    /// Every replica reaches every other again.
    pub fn heal(&self) -> Result<(), String> {
        if let Net::Namespaces { tag, n } = self {
            for i in 0..*n {
                nft(
                    &format!("{tag}-{i}"),
                    &["flush", "chain", "inet", "nemesis", "input"],
                )?;
            }
        }
        Ok(())
    }

    fn build(&self) -> Result<(), String> {
        let Net::Namespaces { tag, n } = self else {
            return Ok(());
        };
        let sw = format!("{tag}-sw");
        ip(&["netns", "add", &sw])?;
        ip(&["-n", &sw, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &sw, "link", "set", "br0", "up"])?;
        // Hosts 0..n are the replicas, "c" the clients.
        let hosts: Vec<(String, String)> = (0..*n)
            .map(|i| (i.to_string(), format!("{SUBNET}.{}", i + 1)))
            .chain([("c".to_string(), format!("{SUBNET}.200"))])
            .collect();
        for (name, addr) in &hosts {
            let ns = format!("{tag}-{name}");
            let port = format!("p{name}");
            ip(&["netns", "add", &ns])?;
            ip(&[
                "-n", &sw, "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns",
                &ns,
            ])?;
            ip(&["-n", &sw, "link", "set", &port, "master", "br0"])?;
            ip(&["-n", &sw, "link", "set", &port, "up"])?;
            ip(&[
                "-n",
                &ns,
                "addr",
                "add",
                &format!("{addr}/24"),
                "dev",
                "eth0",
            ])?;
            ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
            if name != "c" {
                nft(&ns, &["add", "table", "inet", "nemesis"])?;
                nft(
                    &ns,
                    &[
                        "add",
                        "chain",
                        "inet",
                        "nemesis",
                        "input",
                        "{ type filter hook input priority 0; policy accept; }",
                    ],
                )?;
            }
        }
        Ok(())
    }

    /// Removes the namespaces (and with them the bridge, the links and the rules).
    pub fn teardown(&self) {
        if let Net::Namespaces { tag, n } = self {
            let names = (0..*n)
                .map(|i| i.to_string())
                .chain(["c".to_string(), "sw".to_string()]);
            for name in names {
                let _ = ip(&["netns", "del", &format!("{tag}-{name}")]);
            }
        }
    }
}

fn is_root() -> bool {
    // The effective uid, from /proc (no libc call needed).
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn runs(command: &mut Command) -> bool {
    command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn ip(args: &[&str]) -> Result<(), String> {
    checked(Command::new("ip").args(args), "ip", args)
}

fn nft(ns: &str, args: &[&str]) -> Result<(), String> {
    let mut command = Command::new("ip");
    command.args(["netns", "exec", ns, "nft"]).args(args);
    checked(&mut command, "nft", args)
}

fn checked(command: &mut Command, what: &str, args: &[&str]) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// Removes namespaces left by nemesis runs whose process is gone.
fn remove_stale() {
    let Ok(output) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(rest) = name.strip_prefix("nem") else {
            continue;
        };
        let Some((pid, _)) = rest.split_once('-') else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = ip(&["netns", "del", name]);
        }
    }
}
