//! The second network: labrpc services served between processes over TCP, with tarpc.
//!
//! The simulated [`Network`](crate::Network) connects ends and servers inside one process.
//! This module carries the very same calls between processes, so a lab whose peers call each
//! other through [`ClientEnd`]s runs unchanged as a real cluster:
//!
//! - [`serve`] answers a labrpc [`Server`] (its services declared with
//!   [`service!`](crate::service!), say "Raft" and "KVServer") on a [`TcpListener`];
//! - [`ClientEnd::tcp`] is an end that calls the server at an address. It connects lazily, on
//!   its first call, and again after a failure, so a peer that restarts is reached again
//!   without restarting the caller.
//!
//! **One generic tarpc service.** Every labrpc call is already a method name and encoded
//! arguments, answered by encoded reply bytes or an [`RpcError`]. So the wire carries one tarpc
//! service, `Wire::call(method, request) -> Result<reply, RpcError>`, with tarpc's bincode
//! transport (as Lab 1's coordinator and workers use), dispatched into the [`Server`] on the
//! far side. The typed encoding stays labrpc's [`codec`](crate::codec), byte for byte what
//! the simulated network carries; tarpc adds the framing, the multiplexing of concurrent calls
//! on one connection, and the deadline.
//!
//! **Failures are the simulated network's: an error for the caller, never a panic or a
//! hang.** A call fails with [`RpcError::Lost`] when the peer cannot be connected to, when the
//! connection breaks (the peer died or restarted), or when no reply comes within the end's
//! timeout ([`TcpOptions::timeout`], which bounds connecting too: a paused or cut-off peer
//! costs a caller at most that). Undecodable bytes never panic: a frame that does not decode
//! closes that one connection (the server keeps serving others; the client reconnects on its
//! next call), and arguments or a reply of the wrong type are [`RpcError::Decode`], as in the
//! simulation. As there, a handler runs in a task of its own, so a call that gives up does not
//! cancel it.
//!
//! **Real time only.** A TCP end must be called on a runtime driven by the wall clock
//! ([`sim::run_service`], or a realtime [`sim::run`]):
//! on a paused clock the timeout would expire the moment the runtime waits for the socket.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tarpc::server::{BaseChannel, Channel};
use tarpc::tokio_serde::formats::Bincode;
use tarpc::tokio_util::codec::{Framed, LengthDelimitedCodec};
use tarpc::{client, context, serde_transport};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Mutex};
use tokio::task::{JoinHandle, JoinSet};

use crate::{sim, ClientEnd, RpcError, Server};

/// The largest frame either side accepts: labrpc's largest message (see
/// [`codec`](crate::codec)) plus room for tarpc's envelope. A corrupt length prefix beyond it
/// closes the connection instead of asking for gigabytes.
const MAX_FRAME: usize = (256 << 20) + (1 << 20);

/// The one tarpc service every labrpc call travels as.
#[tarpc::service]
trait Wire {
    /// Calls `method` ("Service.method") on the server with encoded arguments.
    async fn call(method: String, request: Vec<u8>) -> Result<Vec<u8>, RpcError>;
}

/// How a TCP end behaves.
#[derive(Clone, Copy, Debug)]
pub struct TcpOptions {
    /// The longest a call may take, connecting included, before it fails with
    /// [`RpcError::Lost`]. It must cover the slowest handler the caller waits for (a key/value
    /// server holds a request up to half a second while it commits).
    pub timeout: Duration,
}

impl Default for TcpOptions {
    /// A one-second timeout: far above a loopback or LAN round trip and the services'
    /// handlers, short enough that Raft gives up on a paused peer well within an election.
    fn default() -> Self {
        TcpOptions {
            timeout: Duration::from_secs(1),
        }
    }
}

/// The TCP side of a [`ClientEnd`]: an address and, once connected, the connection's client.
pub(crate) struct TcpEnd {
    addr: String,
    options: TcpOptions,
    /// The current connection, numbered so that a call whose connection broke forgets that
    /// one and not a newer one another call has made meanwhile. Held across a connect, so that
    /// concurrent first calls share one connection.
    conn: Mutex<Option<(u64, WireClient)>>,
}

impl ClientEnd {
    /// An end that calls the server [`serve`]d at `addr` ("host:port") over TCP, with the
    /// default [`TcpOptions`]. It connects on its first call, and again after any failure.
    pub fn tcp(addr: impl Into<String>) -> ClientEnd {
        ClientEnd::tcp_with(addr, TcpOptions::default())
    }

    /// [`ClientEnd::tcp`] with the given options.
    pub fn tcp_with(addr: impl Into<String>, options: TcpOptions) -> ClientEnd {
        ClientEnd::from_tcp(TcpEnd {
            addr: addr.into(),
            options,
            conn: Mutex::new(None),
        })
    }
}

impl TcpEnd {
    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    /// One call: connect if need be, send, wait for the reply; all within the timeout.
    pub(crate) async fn call(&self, method: &str, request: Vec<u8>) -> Result<Vec<u8>, RpcError> {
        let timeout = self.options.timeout;
        // TCP ends serve real processes, on the wall clock (`sim::run_service`). The bound is
        // tokio's timeout; tarpc's context wants its deadline as a std `Instant`, which only
        // tells the server when to stop working on the call.
        let deadline = std::time::Instant::now() + timeout;
        match tokio::time::timeout(timeout, self.call_within(deadline, method, request)).await {
            Ok(outcome) => outcome,
            Err(_) => {
                tracing::trace!(target: "labrpc", to = %self.addr, method, "tcp call timed out");
                Err(RpcError::Lost)
            }
        }
    }

    async fn call_within(
        &self,
        deadline: std::time::Instant,
        method: &str,
        request: Vec<u8>,
    ) -> Result<Vec<u8>, RpcError> {
        let (generation, client) = self.connection().await?;
        let mut ctx = context::current();
        ctx.deadline = deadline;
        match client.call(ctx, method.to_string(), request).await {
            // The server's own answer: a reply, or its error (say, an undecodable request).
            Ok(outcome) => outcome,
            // The connection is fine; the peer is slow (or paused). Keep it.
            Err(client::RpcError::DeadlineExceeded) => Err(RpcError::Lost),
            Err(error) => {
                // The connection broke (the peer died, restarted, or sent bytes that do not
                // decode): the next call connects afresh.
                tracing::debug!(target: "labrpc", to = %self.addr, method, "tcp call failed: {error}");
                self.forget(generation).await;
                Err(RpcError::Lost)
            }
        }
    }

    /// The current connection, connecting first if there is none.
    async fn connection(&self) -> Result<(u64, WireClient), RpcError> {
        let mut conn = self.conn.lock().await;
        if let Some((generation, client)) = &*conn {
            return Ok((*generation, client.clone()));
        }
        let stream = TcpStream::connect(&self.addr).await.map_err(|error| {
            tracing::debug!(target: "labrpc", to = %self.addr, "tcp connect failed: {error}");
            RpcError::Lost
        })?;
        // Requests are small and latency-bound (heartbeats, votes): send each at once.
        let _ = stream.set_nodelay(true);
        let mut config = client::Config::default();
        // Calls are bounded by their callers (Raft's peers, clerks); tarpc's cap of 1000 in
        // flight would only queue them behind one another.
        config.max_in_flight_requests = usize::MAX;
        let client = WireClient::new(config, transport(stream)).spawn();
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let generation = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *conn = Some((generation, client.clone()));
        Ok((generation, client))
    }

    /// Drops connection `generation`, if it is still the current one.
    async fn forget(&self, generation: u64) {
        let mut conn = self.conn.lock().await;
        if conn
            .as_ref()
            .is_some_and(|(current, _)| *current == generation)
        {
            *conn = None;
        }
    }
}

/// tarpc's bincode transport over one socket, with labrpc's frame limit.
fn transport<Item, SinkItem>(
    stream: TcpStream,
) -> serde_transport::Transport<TcpStream, Item, SinkItem, Bincode<Item, SinkItem>>
where
    Item: for<'de> serde::Deserialize<'de>,
    SinkItem: serde::Serialize,
{
    let framing = LengthDelimitedCodec::builder()
        .max_frame_length(MAX_FRAME)
        .new_codec();
    serde_transport::new(Framed::new(stream, framing), Bincode::default())
}

/// A labrpc [`Server`] answering on a TCP listener; see [`serve`]. Dropping it stops the
/// server too, without waiting.
pub struct TcpServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Serves `server` on `listener`: every connection accepted is a client end's, each of its
/// calls dispatched into `server` in a task of its own. Must be called inside a tokio runtime
/// (a [`sim`] one, for lab services, whose handlers use it).
pub fn serve(listener: TcpListener, server: Server) -> io::Result<TcpServer> {
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel();
    let server = Arc::new(server);
    let task = tokio::spawn(accept(listener, server, stopped));
    Ok(TcpServer {
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}

impl TcpServer {
    /// The address the server listens on (with port 0 asked for, the port the system chose).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server: no more connections are accepted and every open one is closed, so
    /// its clients' calls fail at once (their handlers, if running, run on). On return the
    /// listener is closed and the address free to serve on again.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TcpServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Accepts connections until told to stop, then closes them all.
async fn accept(listener: TcpListener, server: Arc<Server>, mut stopped: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    connections.spawn(connection(stream, peer, server.clone()));
                }
                // Out of file descriptors and the like: pause rather than spin.
                Err(error) => {
                    tracing::warn!(target: "labrpc", "tcp accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            // Reap closed connections as we go, so the set does not grow with every client.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    // Aborts every connection's task and waits for them, which closes their sockets.
    connections.shutdown().await;
}

/// Serves one connection until it closes, or until a frame on it does not decode.
async fn connection(stream: TcpStream, peer: SocketAddr, server: Arc<Server>) {
    tracing::debug!(target: "labrpc", %peer, "tcp connection accepted");
    BaseChannel::with_defaults(transport(stream))
        .execute(Dispatch(server).serve())
        .for_each(|call| async {
            tokio::spawn(call);
        })
        .await;
    tracing::debug!(target: "labrpc", %peer, "tcp connection closed");
}

/// The tarpc handler: hands each call to the labrpc server.
#[derive(Clone)]
struct Dispatch(Arc<Server>);

impl Wire for Dispatch {
    async fn call(
        self,
        _: context::Context,
        method: String,
        request: Vec<u8>,
    ) -> Result<Vec<u8>, RpcError> {
        let handler = self.0.dispatch(&method, request);
        // In a task of its own, as on the simulated network: tarpc drops this future at the
        // call's deadline, and a handler cut off half-way (say, between saving Raft's state
        // and answering) is not what a lab expects; it runs to its end instead.
        let task = match sim::try_current() {
            Some(_) => sim::spawn(handler),
            None => tokio::spawn(handler),
        };
        // A handler that panicked has failed the whole run (see `sim::spawn`); the caller just
        // sees a lost call.
        task.await.unwrap_or(Err(RpcError::Lost))
    }
}
