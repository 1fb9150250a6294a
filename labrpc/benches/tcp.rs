//! Calls per second through the TCP network (`labrpc::tcp`) over loopback, for a small request
//! and reply: what the second network costs next to the simulated one (`benches/calls.rs`).
//!
//! `cargo bench -p labrpc --bench tcp` prints two lines: one caller making calls back to back
//! (the round trip's latency), and 40 callers, each with its own end and so its own
//! connection, making calls at once (throughput). Real sockets, the wall clock, a
//! multi-threaded runtime ([`sim::run_service`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use labrpc::{sim, tcp, ClientEnd, Server};
use tokio::net::TcpListener;

labrpc::service! {
    mod echo("Echo") {
        fn echo(u64) -> u64;
    }
}

struct Echo;

impl echo::Handler for Echo {
    async fn echo(&self, x: u64) -> u64 {
        x + 1
    }
}

/// `callers` callers making `calls_each` calls each; the answered calls and the wall time.
fn bench(callers: u64, calls_each: u64) -> (u64, Duration) {
    sim::run_service(1, || async move {
        let mut server = Server::new();
        server.add_service(echo::service(Arc::new(Echo)));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = tcp::serve(listener, server).unwrap();
        let addr = server.local_addr().to_string();
        // Connect every end before timing.
        let clients: Vec<_> = (0..callers)
            .map(|_| echo::Client::new(ClientEnd::tcp(addr.clone())))
            .collect();
        for client in &clients {
            client.echo(&0).await.expect("the warm-up call failed");
        }
        let start = Instant::now();
        let tasks: Vec<_> = clients
            .into_iter()
            .map(|client| {
                sim::spawn(async move {
                    let mut ok = 0u64;
                    for i in 0..calls_each {
                        if client.echo(&i).await == Ok(i + 1) {
                            ok += 1;
                        }
                    }
                    ok
                })
            })
            .collect();
        let mut ok = 0;
        for task in tasks {
            ok += task.await.unwrap();
        }
        let wall = start.elapsed();
        server.shutdown().await;
        (ok, wall)
    })
    .expect("benchmark run failed")
}

fn main() {
    for (callers, calls_each) in [(1, 20_000), (40, 2_500)] {
        let (ok, wall) = bench(callers, calls_each);
        let calls = callers * calls_each;
        println!(
            "labrpc tcp {callers:>2} caller(s): {calls} calls ({ok} answered), {:.3} s wall: \
             {:.0} calls per second, {:.1} µs per call per caller",
            wall.as_secs_f64(),
            calls as f64 / wall.as_secs_f64(),
            wall.as_secs_f64() * 1e6 * callers as f64 / calls as f64
        );
    }
}
