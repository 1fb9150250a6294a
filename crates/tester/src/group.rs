//! One Raft group's servers on a simulated network, as every tester wires them.
//!
//! A [`Group`] knows each server's name on the network, the ends each server uses to reach
//! its peers, which of those links are enabled, and the persister each server last saved
//! to. Tests connect, disconnect and partition servers (server-to-server links only: clerks'
//! ends are the tester's business), crash them, and restart them from a copy of what they
//! persisted, as the course's `config.go` files do. What a server *is* (a Raft peer, a
//! key/value server, a shardkv server) is the tester's: [`Group::start_server`] takes a
//! closure that builds it from its ends and persister.
//!
//! Crashes, restarts and cut links are traced (`crash`, `restart`, `disconnect`,
//! `connect`, with the server's trace node) for the timeline page.

use std::sync::{Arc, Mutex, MutexGuard};

use labrpc::{ClientEnd, Network, Server};
use raft::Persister;

/// The servers of one Raft group. Cheap to clone; clones share it.
pub struct Group<S> {
    net: Network,
    /// Each server's name on the network.
    names: Vec<String>,
    /// Each server's `node` in traces.
    nodes: Vec<i64>,
    state: Arc<Mutex<State<S>>>,
}

impl<S> Clone for Group<S> {
    fn clone(&self) -> Self {
        Group {
            net: self.net.clone(),
            names: self.names.clone(),
            nodes: self.nodes.clone(),
            state: self.state.clone(),
        }
    }
}

struct State<S> {
    servers: Vec<Option<S>>,
    saved: Vec<Arc<Persister>>,
    /// `end_names[i][j]`: server i's end to server j.
    end_names: Vec<Vec<String>>,
    /// `links[i][j]`: server i's end to server j is enabled.
    links: Vec<Vec<bool>>,
    /// Whether each server was last traced as cut off from some live peer.
    cut: Vec<bool>,
    /// Whether each server is attached, in the Raft tester's sense ([`Group::attach`]).
    attached: Vec<bool>,
    /// How many times each server has been started.
    starts: Vec<u32>,
}

impl<S: Clone> Group<S> {
    /// A group of servers called `names` on `net`, traced as `nodes`; none started yet.
    pub fn new(net: &Network, names: Vec<String>, nodes: Vec<i64>) -> Group<S> {
        assert_eq!(names.len(), nodes.len(), "one trace node per server");
        let n = names.len();
        // So that a fault striking a server is traced on its node (and the timeline page
        // marks it on its lane).
        for (name, &node) in names.iter().zip(&nodes) {
            net.trace_as(name, node);
        }
        Group {
            net: net.clone(),
            names,
            nodes,
            state: Arc::new(Mutex::new(State {
                servers: (0..n).map(|_| None).collect(),
                saved: (0..n).map(|_| Arc::new(Persister::new())).collect(),
                end_names: vec![Vec::new(); n],
                links: vec![vec![false; n]; n],
                cut: vec![false; n],
                attached: vec![false; n],
                starts: vec![0; n],
            })),
        }
    }

    pub fn n(&self) -> usize {
        self.names.len()
    }

    /// Every server: `0..n`.
    pub fn all(&self) -> Vec<usize> {
        (0..self.n()).collect()
    }

    /// Server i's name on the network.
    pub fn name(&self, i: usize) -> &str {
        &self.names[i]
    }

    /// Every server's name, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Server i's trace node.
    pub fn node(&self, i: usize) -> i64 {
        self.nodes[i]
    }

    fn state(&self) -> MutexGuard<'_, State<S>> {
        self.state.lock().unwrap()
    }

    /// Server i, unless it is shut down.
    pub fn server(&self, i: usize) -> Option<S> {
        self.state().servers[i].clone()
    }

    /// The servers that are up.
    pub fn live(&self) -> Vec<S> {
        self.state().servers.iter().flatten().cloned().collect()
    }

    /// What server i last persisted (its current persister while it runs).
    pub fn persister(&self, i: usize) -> Arc<Persister> {
        self.state().saved[i].clone()
    }

    /// The largest saved Raft state in the group (the course's `LogSize`).
    pub fn max_raft_state_size(&self) -> usize {
        let st = self.state();
        st.saved
            .iter()
            .map(|p| p.raft_state_size())
            .max()
            .unwrap_or(0)
    }

    /// The largest saved snapshot in the group.
    pub fn max_snapshot_size(&self) -> usize {
        let st = self.state();
        st.saved
            .iter()
            .map(|p| p.snapshot_size())
            .max()
            .unwrap_or(0)
    }

    /// Raft state plus snapshot bytes, summed over the group.
    pub fn total_saved_size(&self) -> usize {
        let st = self.state();
        st.saved
            .iter()
            .map(|p| p.raft_state_size() + p.snapshot_size())
            .sum()
    }

    // ---- links between servers -------------------------------------------------------

    /// Enables or disables the links between i and each of `others`, both ways.
    fn set_links(&self, st: &mut State<S>, i: usize, others: &[usize], enabled: bool) {
        for &j in others {
            for (a, b) in [(i, j), (j, i)] {
                if let Some(name) = st.end_names[a].get(b) {
                    self.net.enable(name, enabled);
                    st.links[a][b] = enabled;
                }
            }
        }
    }

    /// Traces "disconnect" for each live server newly cut off from some live peer, and
    /// "connect" for each one whose links are all whole again.
    fn trace_links(&self, st: &mut State<S>) {
        let n = self.n();
        for i in 0..n {
            if st.servers[i].is_none() {
                continue;
            }
            let cut = (0..n)
                .any(|j| j != i && st.servers[j].is_some() && !(st.links[i][j] && st.links[j][i]));
            if cut != st.cut[i] {
                st.cut[i] = cut;
                if cut {
                    tracing::debug!(node = self.nodes[i], topic = "disconnect");
                } else {
                    tracing::debug!(node = self.nodes[i], topic = "connect");
                }
            }
        }
    }

    /// Connects server i to each of `to` (both ways).
    pub fn connect(&self, i: usize, to: &[usize]) {
        let mut st = self.state();
        self.set_links(&mut st, i, to, true);
        self.trace_links(&mut st);
    }

    /// Cuts server i off from each of `from` (both ways).
    pub fn disconnect(&self, i: usize, from: &[usize]) {
        let mut st = self.state();
        self.set_links(&mut st, i, from, false);
        self.trace_links(&mut st);
    }

    /// Connects every server to every other.
    pub fn connect_all(&self) {
        let all = self.all();
        let mut st = self.state();
        for i in 0..self.n() {
            self.set_links(&mut st, i, &all, true);
        }
        self.trace_links(&mut st);
    }

    /// Splits the servers into two sides, each fully connected inside and cut off from the
    /// other.
    pub fn partition(&self, p1: &[usize], p2: &[usize]) {
        let mut st = self.state();
        for (side, other) in [(p1, p2), (p2, p1)] {
            for &i in side {
                self.set_links(&mut st, i, other, false);
                self.set_links(&mut st, i, side, true);
            }
        }
        self.trace_links(&mut st);
    }

    // ---- the course's Raft tester's connect(i) and disconnect(i) ----------------------
    //
    // There a server is connected or not, and a link is enabled exactly when both its
    // servers are. A server is traced as cut off while it is detached, not when a peer is.

    /// Whether server i is attached (and not shut down since).
    pub fn is_attached(&self, i: usize) -> bool {
        self.state().attached[i]
    }

    /// Attaches server i: enables its links to and from every attached server, itself
    /// included.
    pub fn attach(&self, i: usize) {
        let mut st = self.state();
        if !st.attached[i] {
            tracing::debug!(node = self.nodes[i], topic = "connect");
        }
        st.attached[i] = true;
        let attached: Vec<usize> = (0..self.n()).filter(|&j| st.attached[j]).collect();
        self.set_links(&mut st, i, &attached, true);
    }

    /// Detaches server i: disables every link to or from it.
    pub fn detach(&self, i: usize) {
        let mut st = self.state();
        if st.attached[i] {
            tracing::debug!(node = self.nodes[i], topic = "disconnect");
        }
        st.attached[i] = false;
        self.set_links(&mut st, i, &self.all(), false);
    }

    // ---- crash and restart -----------------------------------------------------------

    /// The course's `ShutdownServer`: cut i off, delete its server (so none of its replies
    /// arrives any more, and it cannot acknowledge a write it then persists in a superseded
    /// persister), keep a copy of what it persisted. Returns the server, for the caller to
    /// kill.
    pub fn shutdown_server(&self, i: usize) -> Option<S> {
        let all = self.all();
        let mut st = self.state();
        self.set_links(&mut st, i, &all, false);
        st.attached[i] = false;
        self.net.delete_server(&self.names[i]);
        st.saved[i] = Arc::new(st.saved[i].copy());
        // `cut[i]` stays as it was: the server is traced "connect" once it is back and whole
        // (or, in the Raft tester's terms, attached again).
        let server = st.servers[i].take();
        if server.is_some() {
            tracing::debug!(node = self.nodes[i], topic = "crash");
        }
        server
    }

    /// The course's `StartServer`: a fresh set of ends to the peers (so a crashed instance's
    /// ends can no longer send), a copy of the persisted state, and the server `make` builds
    /// from them, added to the network. The links stay disabled: the caller connects it.
    pub fn start_server(
        &self,
        i: usize,
        make: impl FnOnce(Vec<ClientEnd>, Arc<Persister>) -> (S, Server),
    ) {
        let n = self.n();
        let (ends, persister) = {
            let mut st = self.state();
            let start = st.starts[i];
            let names: Vec<String> = (0..n)
                .map(|j| format!("{}>{}#{start}", self.names[i], self.names[j]))
                .collect();
            let ends: Vec<ClientEnd> = names
                .iter()
                .enumerate()
                .map(|(j, name)| {
                    let end = self.net.make_end(name.clone());
                    self.net.connect(name, &self.names[j]);
                    end
                })
                .collect();
            st.end_names[i] = names;
            st.links[i] = vec![false; n];
            st.saved[i] = Arc::new(st.saved[i].copy());
            (ends, st.saved[i].clone())
        };
        let (server, rpc_server) = make(ends, persister);
        self.net.add_server(self.names[i].clone(), rpc_server);
        let mut st = self.state();
        st.servers[i] = Some(server);
        st.starts[i] += 1;
        if st.starts[i] > 1 {
            tracing::debug!(node = self.nodes[i], topic = "restart");
        }
    }

    /// The server that believes it leads, if any, by `is_leader`.
    pub fn leader(&self, is_leader: impl Fn(&S) -> bool) -> Option<usize> {
        let st = self.state();
        (0..self.n()).find(|&i| st.servers[i].as_ref().is_some_and(&is_leader))
    }
}
