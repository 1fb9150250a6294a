//! The TCP network (`labrpc::tcp`) over loopback: typed calls round trip, many at once; a dead
//! address, a restarted server, garbage in either direction, a handler that never returns and
//! a peer that never reads all end in an error for the caller within a bounded time, never a
//! panic or a hang.
//!
//! Every test runs in `sim::run_service` (the wall clock, as a real process does) on its own
//! ephemeral ports, under a wall-clock guard of its own so that a hang fails the test instead
//! of stalling `cargo test`.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use labrpc::{sim, tcp, BoxFuture, ClientEnd, RpcError, Server, Service, TcpOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

labrpc::service! {
    mod echo("Echo") {
        fn echo(u64) -> u64;
        fn concat(Vec<String>) -> String;
        /// Never answers.
        fn hang(u64) -> u64;
    }
}

struct Echo;

impl echo::Handler for Echo {
    async fn echo(&self, x: u64) -> u64 {
        // Yield once, so concurrent calls really overlap on the server.
        tokio::task::yield_now().await;
        x + 1
    }

    async fn concat(&self, parts: Vec<String>) -> String {
        parts.concat()
    }

    async fn hang(&self, _: u64) -> u64 {
        std::future::pending().await
    }
}

/// A service whose every reply is bytes no type decodes from: a server replying garbage inside
/// well-formed frames.
struct Junk;

impl Service for Junk {
    fn name(&self) -> &'static str {
        "Echo"
    }

    fn dispatch(&self, _: &str, _: Vec<u8>) -> BoxFuture<Result<Vec<u8>, RpcError>> {
        Box::pin(async { Ok(vec![0xff; 7]) })
    }
}

/// The longest any one test may take on the wall clock.
const GUARD: Duration = Duration::from_secs(20);

/// Panics seen anywhere in this test binary (the default hook still prints them).
static PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
    });
}

/// Runs `body` as a real process would, failing the test if it runs past [`GUARD`].
fn service_test<F, Fut>(body: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ()>,
{
    count_panics();
    let outcome = sim::run_service(1, || async {
        tokio::time::timeout(GUARD, body()).await.is_ok()
    });
    match outcome {
        Ok(true) => {}
        Ok(false) => panic!("the test hung: still running after {GUARD:?}"),
        Err(error) => panic!("{error}"),
    }
}

fn echo_server() -> Server {
    let mut server = Server::new();
    server.add_service(echo::service(Arc::new(Echo)));
    server
}

async fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.unwrap()
}

/// Serves the echo service on a fresh loopback port; returns the server and an end to it.
async fn echo_on_loopback() -> (tcp::TcpServer, ClientEnd) {
    let server = tcp::serve(listener().await, echo_server()).unwrap();
    let end = ClientEnd::tcp(server.local_addr().to_string());
    (server, end)
}

#[test]
fn typed_calls_round_trip() {
    service_test(|| async {
        let (_server, end) = echo_on_loopback().await;
        let client = echo::Client::new(end);
        assert_eq!(client.echo(&41).await, Ok(42));
        let parts = vec!["ab".to_string(), "".into(), "cd".into()];
        assert_eq!(client.concat(&parts).await, Ok("abcd".to_string()));
        // A large message crosses too (well past a TCP segment and tarpc's default buffers).
        let big = vec!["x".repeat(1 << 20), "y".repeat(3 << 20)];
        assert_eq!(client.concat(&big).await.map(|s| s.len()), Ok(4 << 20));
    });
}

#[test]
fn many_concurrent_calls() {
    service_test(|| async {
        let (server, end) = echo_on_loopback().await;
        let start = Instant::now();
        // Several clerks, each with its own end (and so its own connection), many calls in
        // flight on each at once.
        let mut tasks = Vec::new();
        for c in 0..8u64 {
            let client = echo::Client::new(ClientEnd::tcp(server.local_addr().to_string()));
            for i in 0..250u64 {
                let client = client.clone();
                tasks.push(sim::spawn(async move {
                    client.echo(&(c * 1000 + i)).await == Ok(c * 1000 + i + 1)
                }));
            }
        }
        // And 500 on the one shared end.
        let shared = echo::Client::new(end);
        for i in 0..500u64 {
            let client = shared.clone();
            tasks.push(sim::spawn(
                async move { client.echo(&i).await == Ok(i + 1) },
            ));
        }
        let mut ok = 0;
        for task in tasks {
            ok += usize::from(task.await.unwrap());
        }
        assert_eq!(ok, 2500, "every concurrent call must get its own reply");
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    });
}

#[test]
fn a_call_to_a_port_nobody_listens_on_fails_quickly() {
    service_test(|| async {
        // A port that was free a moment ago and is closed now.
        let addr = listener().await.local_addr().unwrap();
        let client = echo::Client::new(ClientEnd::tcp(addr.to_string()));
        for _ in 0..3 {
            let start = Instant::now();
            assert_eq!(client.echo(&1).await, Err(RpcError::Lost));
            // Refused at once on loopback: far below the one-second timeout.
            assert!(
                start.elapsed() < Duration::from_millis(500),
                "{:?}",
                start.elapsed()
            );
        }
        // An address that does not parse or resolve is the same lost call, not a panic.
        let nowhere = echo::Client::new(ClientEnd::tcp("not an address"));
        assert_eq!(nowhere.echo(&1).await, Err(RpcError::Lost));
    });
}

#[test]
fn a_restarted_server_is_reached_again_by_the_same_end() {
    service_test(|| async {
        let (server, end) = echo_on_loopback().await;
        let addr = server.local_addr();
        let client = echo::Client::new(end);
        assert_eq!(client.echo(&1).await, Ok(2));

        // Stopped: the open connection is closed and the port refuses; calls fail at once.
        server.shutdown().await;
        for _ in 0..3 {
            let start = Instant::now();
            assert_eq!(client.echo(&2).await, Err(RpcError::Lost));
            assert!(
                start.elapsed() < Duration::from_millis(500),
                "{:?}",
                start.elapsed()
            );
        }

        // Restarted on the same address (a new process would do the same): the same end
        // reconnects on its next call.
        let listener = TcpListener::bind(addr).await.unwrap();
        let _server = tcp::serve(listener, echo_server()).unwrap();
        assert_eq!(client.echo(&3).await, Ok(4));
        assert_eq!(client.echo(&4).await, Ok(5));
    });
}

/// Writes `bytes` to the server on a raw connection; returns once the server has closed it
/// (or reset it), failing if it stays open.
async fn send_raw(addr: std::net::SocketAddr, bytes: &[u8]) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // The server may already have hung up by the time the last bytes go: that is fine.
    let _ = stream.write_all(bytes).await;
    let mut sink = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut sink)).await;
    assert!(
        read.is_ok(),
        "the server kept a connection open after garbage"
    );
}

#[test]
fn garbage_from_a_client_is_an_error_not_a_panic() {
    service_test(|| async {
        let (server, end) = echo_on_loopback().await;
        let addr = server.local_addr();
        let panics = PANICS.load(Ordering::SeqCst);

        // Bytes that are not frames at all: a length prefix past the frame limit.
        send_raw(addr, &[0xff; 64]).await;
        // A well-formed frame whose content is no tarpc message.
        let mut frame = 32u32.to_be_bytes().to_vec();
        frame.extend([0xa5; 32]);
        send_raw(addr, &frame).await;
        // A frame claiming a huge (but allowed) length, then the client hangs up half-way.
        let mut partial = (200u32 << 20).to_be_bytes().to_vec();
        partial.extend([0u8; 100]);
        drop(
            TcpStream::connect(addr)
                .await
                .unwrap()
                .write_all(&partial)
                .await,
        );
        // Pseudo-random garbage of every length up to 300 bytes.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for len in (0..300).step_by(37) {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let _ = stream.write_all(&bytes).await;
        }

        // A well-formed call whose arguments are of the wrong type: the service's decode error
        // comes back to the caller, as on the simulated network.
        let wrong: Result<u64, _> = end.call("Echo.echo", &"not a number".to_string()).await;
        assert!(matches!(wrong, Err(RpcError::Decode(_))), "{wrong:?}");
        let unknown: Result<u64, _> = end.call("Echo.nothing", &1u64).await;
        assert!(
            matches!(unknown, Err(RpcError::UnknownMethod(_))),
            "{unknown:?}"
        );

        // The server is still up and serving.
        assert_eq!(echo::Client::new(end).echo(&7).await, Ok(8));
        assert_eq!(
            PANICS.load(Ordering::SeqCst),
            panics,
            "garbage made something panic"
        );
    });
}

/// A fake server: accepts one connection after another and answers each with `reply`.
async fn garbage_server(reply: Vec<u8>) -> std::net::SocketAddr {
    let listener = listener().await;
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let reply = reply.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf).await;
                let _ = stream.write_all(&reply).await;
                // Then hold the connection open: the client must not wait for it to close.
                tokio::time::sleep(Duration::from_secs(30)).await;
            });
        }
    });
    addr
}

#[test]
fn garbage_from_a_server_is_an_error_not_a_panic() {
    service_test(|| async {
        let panics = PANICS.load(Ordering::SeqCst);
        let mut frame = 16u32.to_be_bytes().to_vec();
        frame.extend([0x5a; 16]);
        let replies = [
            vec![0xff; 64],                               // not frames: a length past the limit
            frame,                                        // a frame holding no tarpc response
            b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(), // some other protocol
        ];
        for reply in replies {
            let addr = garbage_server(reply).await;
            let client = echo::Client::new(ClientEnd::tcp(addr.to_string()));
            for _ in 0..2 {
                let start = Instant::now();
                assert_eq!(client.echo(&1).await, Err(RpcError::Lost));
                assert!(
                    start.elapsed() <= Duration::from_millis(1500),
                    "{:?}",
                    start.elapsed()
                );
            }
        }

        // Well-formed frames whose reply bytes do not decode as the reply type.
        let mut server = Server::new();
        server.add_service(Junk);
        let junk = tcp::serve(listener().await, server).unwrap();
        let client = echo::Client::new(ClientEnd::tcp(junk.local_addr().to_string()));
        let reply = client.echo(&1).await;
        assert!(matches!(reply, Err(RpcError::Decode(_))), "{reply:?}");
        assert_eq!(
            PANICS.load(Ordering::SeqCst),
            panics,
            "garbage made something panic"
        );
    });
}

#[test]
fn a_call_whose_handler_never_returns_times_out() {
    service_test(|| async {
        let server = tcp::serve(listener().await, echo_server()).unwrap();
        let timeout = Duration::from_millis(300);
        let end = ClientEnd::tcp_with(server.local_addr().to_string(), TcpOptions { timeout });
        let client = echo::Client::new(end);
        let start = Instant::now();
        assert_eq!(client.hang(&1).await, Err(RpcError::Lost));
        let took = start.elapsed();
        assert!(took >= timeout && took < timeout * 3, "{took:?}");
        // The connection was not to blame: the end goes on working.
        assert_eq!(client.echo(&1).await, Ok(2));
        // Ten stuck calls at once all give up in about one timeout, not ten.
        let start = Instant::now();
        let stuck: Vec<_> = (0..10)
            .map(|i| {
                let client = client.clone();
                sim::spawn(async move { client.hang(&i).await })
            })
            .collect();
        for call in stuck {
            assert_eq!(call.await.unwrap(), Err(RpcError::Lost));
        }
        assert!(start.elapsed() < timeout * 3, "{:?}", start.elapsed());
    });
}

#[test]
fn a_call_to_a_peer_that_never_reads_times_out() {
    service_test(|| async {
        // The kernel completes the handshake on a listener nobody accepts from, as it does for
        // a paused (SIGSTOP'd) process: the connection is up and nothing ever answers.
        let silent = listener().await;
        let timeout = Duration::from_millis(300);
        let end = ClientEnd::tcp_with(
            silent.local_addr().unwrap().to_string(),
            TcpOptions { timeout },
        );
        let client = echo::Client::new(end);
        for _ in 0..2 {
            let start = Instant::now();
            assert_eq!(client.echo(&1).await, Err(RpcError::Lost));
            let took = start.elapsed();
            assert!(took >= timeout && took < timeout * 3, "{took:?}");
        }
        drop(silent);
    });
}
