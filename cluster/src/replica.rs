//! One replica process: a lab server on its TCP address, with its Raft state on disk.
//!
//! The order of start-up is what makes its errors clear: the data directory is opened (and
//! locked) first, so a second server on the same directory is refused before it touches
//! anything; then the address is bound; then the lab's server starts from what the directory
//! holds, and serves its services, its Raft's and [`status`](crate::status)'s until asked
//! to stop.

use std::path::PathBuf;
use std::sync::Arc;

use labrpc::{tcp, ClientEnd, Server};
use raft::{Persister, Raft};
use shardkv::{Gid, ShardCtrler, ShardKv};
use tokio::net::TcpListener;

use crate::status::{status_rpc, StatusHandler};

/// Which service the replica is a replica of.
#[derive(Clone, Debug)]
pub enum Role {
    /// Lab 3's key/value service.
    Kv,
    /// Lab 4's shard controller.
    Ctrler,
    /// A server of shardkv group `gid`, which reaches the controllers at `ctrlers`.
    Shard { gid: Gid, ctrlers: Vec<String> },
}

impl Role {
    pub fn name(&self) -> String {
        match self {
            Role::Kv => "kv".into(),
            Role::Ctrler => "ctrler".into(),
            Role::Shard { gid, .. } => format!("shard {gid}"),
        }
    }
}

/// Everything a replica needs to start.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Its index in `peers`.
    pub id: usize,
    /// Every replica's address, its own included (where it listens).
    pub peers: Vec<String>,
    pub data_dir: PathBuf,
    /// Raft state size past which the service snapshots; -1 never.
    pub maxraftstate: i64,
    pub role: Role,
}

/// A replica that is serving.
pub struct Running {
    serving: tcp::TcpServer,
    kill: Kill,
    raft_state: RaftState,
}

/// Reads a replica's Raft: its term and whether it leads.
pub type RaftState = Arc<dyn Fn() -> (u64, bool) + Send + Sync>;

impl Running {
    /// Its Raft's term and whether it leads.
    pub fn raft_state(&self) -> RaftState {
        self.raft_state.clone()
    }

    /// Stops serving (closing the listener and every connection), then stops the server.
    pub async fn stop(self) {
        self.serving.shutdown().await;
        (self.kill)();
    }
}

/// What this crate needs of a lab's Raft-backed server: the three have the same shape
/// (their own service, their Raft's, and a kill), but no common trait in the labs, which
/// have no reason to know about each other.
trait LabServer: Send + Sync + 'static {
    fn add_services(self: &Arc<Self>, server: &mut Server);
    fn raft(&self) -> &Raft;
    fn kill(&self);
}

macro_rules! lab_server {
    ($($t:ty),*) => {$(
        impl LabServer for $t {
            fn add_services(self: &Arc<Self>, server: &mut Server) {
                server.add_service(self.service());
                server.add_service(<$t>::raft(self).service());
            }
            fn raft(&self) -> &Raft {
                <$t>::raft(self)
            }
            fn kill(&self) {
                <$t>::kill(self)
            }
        }
    )*};
}
lab_server!(kvraft::KvServer, ShardCtrler, ShardKv);

type Kill = Box<dyn Fn() + Send + Sync>;

/// Adds `lab`'s services to `server`; returns how to read its Raft's state and how to kill it.
fn serve_replica<S: LabServer>(lab: Arc<S>, server: &mut Server) -> (RaftState, Kill) {
    lab.add_services(server);
    let state = lab.clone();
    (
        Arc::new(move || state.raft().get_state()),
        Box::new(move || lab.kill()),
    )
}

/// Opens the data directory, binds the address and starts the service. Must run inside
/// [`crate::process::run`].
pub async fn start(spec: &Spec) -> Result<Running, String> {
    if spec.id >= spec.peers.len() {
        return Err(format!(
            "--id {} is not an index into --peers ({} addresses)",
            spec.id,
            spec.peers.len()
        ));
    }
    let persister = Arc::new(Persister::open(&spec.data_dir).map_err(|e| e.to_string())?);
    let addr = &spec.peers[spec.id];
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;

    let ends = || spec.peers.iter().map(ClientEnd::tcp).collect::<Vec<_>>();
    let started = |e: kvraft::StartError| {
        format!(
            "the state saved in {} does not decode: {e}",
            spec.data_dir.display()
        )
    };
    let mut server = Server::new();
    let (raft_state, kill) = match &spec.role {
        Role::Kv => {
            let kv = kvraft::KvServer::start(ends(), spec.id, persister, spec.maxraftstate)
                .map_err(started)?;
            serve_replica(kv, &mut server)
        }
        Role::Ctrler => {
            let ctrler = ShardCtrler::start(ends(), spec.id, persister).map_err(started)?;
            serve_replica(ctrler, &mut server)
        }
        Role::Shard { gid, ctrlers } => {
            let ctrler_ends = ctrlers.iter().map(ClientEnd::tcp).collect();
            // Configurations name servers by address, so an end to one is made from its name.
            let make_end: shardkv::kv::MakeEnd = Arc::new(|name: &str| ClientEnd::tcp(name));
            let kv = ShardKv::start(
                ends(),
                spec.id,
                persister,
                spec.maxraftstate,
                *gid,
                ctrler_ends,
                make_end,
            )
            .map_err(started)?;
            serve_replica(kv, &mut server)
        }
    };
    server.add_service(status_rpc::service(Arc::new(StatusHandler {
        id: spec.id,
        service: spec.role.name(),
        raft: raft_state.clone(),
    })));
    let serving =
        tcp::serve(listener, server).map_err(|e| format!("cannot serve on {addr}: {e}"))?;
    Ok(Running {
        serving,
        kill,
        raft_state,
    })
}
