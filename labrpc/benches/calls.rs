//! Simulated calls per wall second through labrpc, for a small request and reply.
//!
//! `cargo bench -p labrpc` prints one line per network mode. Every call is encoded, counted,
//! recorded in the digest and decoded, exactly as in the labs' tests; the clock is simulated.

use std::sync::Arc;
use std::time::{Duration, Instant};

use labrpc::{sim, Network, Server};

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

const CALLERS: u64 = 40;
const CALLS_PER_CALLER: u64 = 5_000;

fn bench(reliable: bool) -> (f64, u64, Duration) {
    let wall = Instant::now();
    let (_sim, outcome) = sim::run(1, false, Duration::from_secs(100_000), || async move {
        let net = Network::new();
        net.set_reliable(reliable);
        let mut server = Server::new();
        server.add_service(echo::service(Arc::new(Echo)));
        net.add_server("s", server);
        let start = tokio::time::Instant::now();
        let mut tasks = Vec::new();
        for c in 0..CALLERS {
            let end = net.make_end(format!("c{c}"));
            net.connect(end.name(), "s");
            net.enable(end.name(), true);
            let client = echo::Client::new(end);
            tasks.push(sim::spawn(async move {
                let mut ok = 0u64;
                for i in 0..CALLS_PER_CALLER {
                    if client.echo(&i).await == Ok(i + 1) {
                        ok += 1;
                    }
                }
                ok
            }));
        }
        let mut ok = 0;
        for t in tasks {
            ok += t.await.unwrap();
        }
        (ok, start.elapsed())
    });
    let (ok, simulated) = outcome.expect("benchmark run failed");
    (wall.elapsed().as_secs_f64(), ok, simulated)
}

fn main() {
    let calls = CALLERS * CALLS_PER_CALLER;
    for (name, reliable) in [("reliable", true), ("unreliable", false)] {
        let (wall, ok, simulated) = bench(reliable);
        println!(
            "labrpc {name:>10}: {calls} calls ({ok} answered) from {CALLERS} callers, {:.1} simulated s, \
             {wall:.3} s wall: {:.0} simulated calls per wall second",
            simulated.as_secs_f64(),
            calls as f64 / wall
        );
    }
}
