//! The course's labrpc tests (src/labrpc/test_test.go), ported, plus tests of what this port
//! adds: decode errors and determinism.

mod common;

use std::time::Duration;

use common::{connected_end, junk, setup, JunkArgs};
use harness::report;
use labrpc::{sim, RpcError};
use tokio::time::Instant;

const BUDGET: Duration = Duration::from_secs(120);

/// Runs a test body, printing the course-style header and result line.
fn labrpc_test<F, Fut>(title: &str, body: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    // Each run of a batch (`LAB_SEEDS`) calls the body again: the closure lends it out.
    let body = &body;
    harness::run_test(BUDGET, || async move {
        report::begin("labrpc", title);
        let start = Instant::now();
        body().await;
        report::passed(start.elapsed());
    });
}

#[test]
fn basic() {
    labrpc_test("basic", || async {
        let (_net, _js, client) = setup();
        assert_eq!(client.handler2(&111).await.unwrap(), "handler2-111");
        assert_eq!(client.handler1(&"9099".to_string()).await.unwrap(), 9099);
    });
}

#[test]
fn types() {
    labrpc_test("struct arguments and replies", || async {
        let (_net, _js, client) = setup();
        let reply = client.handler4(&JunkArgs { x: 7 }).await.unwrap();
        assert_eq!(reply.x, "pointer");
    });
}

#[test]
fn disconnect() {
    labrpc_test("disabled end gets no reply", || async {
        let (net, js, client) = setup();
        net.enable("end1-99", false);
        assert_eq!(client.handler2(&111).await, Err(RpcError::Lost));
        assert!(
            js.log2.lock().unwrap().is_empty(),
            "a disabled end delivered a call"
        );
        net.enable("end1-99", true);
        assert_eq!(client.handler1(&"9099".to_string()).await.unwrap(), 9099);
    });
}

#[test]
fn counts() {
    labrpc_test("per-server RPC counts", || async {
        let (net, _js, client) = setup();
        for i in 0..17 {
            assert_eq!(client.handler2(&i).await.unwrap(), format!("handler2-{i}"));
        }
        assert_eq!(net.count("server99"), 17);
        assert_eq!(net.total_count(), 17);
    });
}

#[test]
fn bytes() {
    labrpc_test("byte counts", || async {
        let (net, _js, client) = setup();
        let mut args = "x".repeat(71);
        args = format!("{args}{args}");
        args = format!("{args}{args}"); // 284 characters, as in the course's test
        for _ in 0..17 {
            assert_eq!(client.handler6(&args).await.unwrap(), 284);
        }
        let n = net.total_bytes();
        assert!(
            (4828..=6000).contains(&n),
            "wrong byte count {n}, expected 4828..6000"
        );
        for _ in 0..17 {
            assert_eq!(client.handler7(&107).await.unwrap(), "y".repeat(107));
        }
        let nn = net.total_bytes() - n;
        assert!(
            (1800..=2500).contains(&nn),
            "wrong byte count {nn}, expected 1800..2500"
        );
    });
}

#[test]
fn concurrent_many() {
    labrpc_test("20 clients, 10 calls each", || async {
        let (net, _js, _client) = setup();
        let mut tasks = Vec::new();
        for c in 0..20 {
            let client = junk::Client::new(connected_end(&net, &format!("end-{c}")));
            tasks.push(sim::spawn(async move {
                let mut ok = 0;
                for i in 0..10 {
                    let arg = 100 * c + i;
                    assert_eq!(
                        client.handler2(&arg).await.unwrap(),
                        format!("handler2-{arg}")
                    );
                    ok += 1;
                }
                ok
            }));
        }
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap();
        }
        assert_eq!(total, 200);
        assert_eq!(net.count("server99"), 200);
    });
}

#[test]
fn unreliable() {
    labrpc_test(
        "unreliable network: some calls fail, some succeed",
        || async {
            let (net, _js, _client) = setup();
            net.set_reliable(false);
            let mut tasks = Vec::new();
            for c in 0..300 {
                let client = junk::Client::new(connected_end(&net, &format!("end-{c}")));
                tasks.push(sim::spawn(async move {
                    match client.handler2(&c).await {
                        Ok(reply) => {
                            assert_eq!(reply, format!("handler2-{c}"));
                            1
                        }
                        Err(_) => 0,
                    }
                }));
            }
            let mut total = 0;
            for task in tasks {
                total += task.await.unwrap();
            }
            assert!(
                total != 300 && total != 0,
                "{total} of 300 calls succeeded despite unreliable"
            );
            // About 81% should get through (90% of requests, then 90% of replies).
            assert!(
                (200..=280).contains(&total),
                "{total} of 300 calls succeeded, expected about 243"
            );
        },
    );
}

#[test]
fn concurrent_one() {
    labrpc_test("20 concurrent calls on one end", || async {
        let (net, js, client) = setup();
        let mut tasks = Vec::new();
        for i in 0..20 {
            let client = client.clone();
            tasks.push(sim::spawn(async move {
                client.handler2(&(100 + i)).await.unwrap()
            }));
        }
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap(), format!("handler2-{}", 100 + i));
        }
        assert_eq!(js.log2.lock().unwrap().len(), 20);
        assert_eq!(net.count("server99"), 20);
    });
}

#[test]
fn regression1() {
    labrpc_test(
        "calls sent while disabled are not delivered after enable",
        || async {
            let (net, js, client) = setup();
            net.enable("end1-99", false);
            let mut tasks = Vec::new();
            for i in 0..20 {
                let client = client.clone();
                tasks.push(sim::spawn(async move { client.handler2(&i).await }));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            let t0 = Instant::now();
            net.enable("end1-99", true);
            assert_eq!(client.handler2(&99).await.unwrap(), "handler2-99");
            let took = t0.elapsed();
            assert!(
                took <= Duration::from_millis(30),
                "call took too long ({took:?}) after enable"
            );
            for task in tasks {
                assert_eq!(task.await.unwrap(), Err(RpcError::Lost));
            }
            assert_eq!(
                js.log2.lock().unwrap().len(),
                1,
                "wrong number of calls delivered"
            );
            assert_eq!(net.count("server99"), 1);
        },
    );
}

#[test]
fn killed() {
    labrpc_test("a call to a deleted server returns false", || async {
        let (net, _js, client) = setup();
        let call = sim::spawn(async move { client.handler3(&99).await });
        tokio::time::sleep(Duration::from_millis(1000)).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!call.is_finished(), "handler3 should not have returned yet");
        net.delete_server("server99");
        let outcome = tokio::time::timeout(Duration::from_millis(100), call).await;
        match outcome {
            Ok(result) => assert_eq!(
                result.unwrap(),
                Err(RpcError::Lost),
                "handler3 returned despite delete"
            ),
            Err(_) => panic!("handler3 should return after delete_server"),
        }
    });
}

#[test]
fn a_handler_runs_to_the_end_after_its_caller_gives_up() {
    labrpc_test(
        "a handler runs on after its caller stops waiting, as a goroutine would",
        || async {
            let (net, js, client) = setup();
            // The caller drops its call mid-handler.
            let dropped = tokio::time::timeout(Duration::from_millis(100), client.slow_log(&1));
            assert!(dropped.await.is_err(), "slow_log returned within 100 ms");
            // The server is deleted mid-handler: the call fails at once, the handler goes on.
            let call = sim::spawn(async move { client.slow_log(&2).await });
            tokio::time::sleep(Duration::from_millis(100)).await;
            net.delete_server("server99");
            assert_eq!(call.await.unwrap(), Err(RpcError::Lost));
            assert!(js.log2.lock().unwrap().is_empty(), "logged too early");
            tokio::time::sleep(Duration::from_secs(2)).await;
            assert_eq!(*js.log2.lock().unwrap(), [1, 2], "a handler stopped midway");
        },
    );
}

#[test]
fn undecodable_messages_are_errors() {
    labrpc_test(
        "undecodable requests and replies are errors, not panics",
        || async {
            let (_net, js, client) = setup();
            let garbage = vec![0xff; 9];
            let outcome = client.end().call_raw("JunkServer.handler1", garbage).await;
            assert!(
                matches!(outcome, Err(RpcError::Decode(_))),
                "got {outcome:?}"
            );
            assert!(
                js.log1.lock().unwrap().is_empty(),
                "a handler ran on garbage"
            );
            // A reply of the wrong type: handler2 answers a string, the caller expects a number.
            let outcome: Result<u64, RpcError> =
                client.end().call("JunkServer.handler2", &5i64).await;
            assert!(
                matches!(outcome, Err(RpcError::Decode(_))),
                "got {outcome:?}"
            );
            let outcome: Result<i64, RpcError> =
                client.end().call("JunkServer.nosuch", &5i64).await;
            assert!(
                matches!(outcome, Err(RpcError::UnknownMethod(_))),
                "got {outcome:?}"
            );
            let outcome: Result<i64, RpcError> =
                client.end().call("NoService.handler2", &5i64).await;
            assert!(
                matches!(outcome, Err(RpcError::UnknownMethod(_))),
                "got {outcome:?}"
            );
        },
    );
}

#[test]
fn long_delays_bound_unreachable_calls() {
    labrpc_test(
        "unreachable calls fail within the course's delays",
        || async {
            let (net, _js, client) = setup();
            net.enable("end1-99", false);
            for long in [false, true] {
                net.set_long_delays(long);
                let bound = Duration::from_millis(if long { 7000 } else { 100 });
                // 20 long-delay calls average 70 s: within the 120 s budget.
                for i in 0..20 {
                    let t0 = Instant::now();
                    assert_eq!(client.handler2(&i).await, Err(RpcError::Lost));
                    assert!(
                        t0.elapsed() < bound,
                        "an unreachable call took {:?}",
                        t0.elapsed()
                    );
                }
            }
        },
    );
}

#[test]
fn long_reordering_reorders_replies() {
    labrpc_test("long reordering delivers replies out of order", || async {
        let (net, _js, client) = setup();
        net.set_long_reordering(true);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for i in 0..20i64 {
            let client = client.clone();
            let tx = tx.clone();
            sim::spawn(async move {
                let reply = client.handler2(&i).await.unwrap();
                tx.send((i, reply)).unwrap();
            });
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drop(tx);
        let mut order = Vec::new();
        while let Some((i, reply)) = rx.recv().await {
            assert_eq!(reply, format!("handler2-{i}"));
            order.push(i);
        }
        assert_eq!(order.len(), 20);
        assert!(
            order.windows(2).any(|w| w[0] > w[1]),
            "replies arrived in order: {order:?}"
        );
    });
}

/// A workload that exercises the network's randomness, for the determinism tests.
async fn random_workload() {
    let (net, _js, _client) = setup();
    net.set_reliable(false);
    net.set_long_reordering(true);
    let mut tasks = Vec::new();
    for c in 0..10 {
        let client = junk::Client::new(connected_end(&net, &format!("end-{c}")));
        tasks.push(sim::spawn(async move {
            for i in 0..20 {
                let _ = client.handler2(&i).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

fn digest_of(seed: u64) -> String {
    let (sim, outcome) = sim::run(seed, false, BUDGET, random_workload);
    outcome.unwrap();
    println!("seed={} digest={}", sim.seed(), sim.digest());
    sim.digest()
}

/// For tests about whole runs: they start their own simulations, with fixed seeds.
fn runs_test(title: &str, body: impl FnOnce()) {
    report::begin("labrpc", title);
    body();
    report::passed(Duration::ZERO);
}

#[test]
fn same_seed_same_digest() {
    runs_test("determinism: the same seed gives the same digest", || {
        for seed in [1, 42, 0xdead_beef] {
            assert_eq!(
                digest_of(seed),
                digest_of(seed),
                "seed {seed} gave two different runs"
            );
        }
    });
}

#[test]
fn different_seed_different_digest() {
    runs_test("determinism: another seed gives another digest", || {
        assert_ne!(digest_of(1), digest_of(2));
    });
}

/// `sim::now()` and `sim::instant()` read a copy of the clock taken when the runtime wakes:
/// they must agree with the clock itself wherever a task looks, after sleeps, calls, yields
/// and timeouts.
#[test]
fn simulated_now_is_the_clock() {
    runs_test(
        "sim::now() and sim::instant() agree with the simulated clock at every step",
        || {
            let (_sim, outcome) = sim::run(3, false, BUDGET, || async {
                let t0 = Instant::now();
                let agree = move |step: &str| {
                    assert_eq!(sim::now(), t0.elapsed(), "after {step}");
                    assert_eq!(sim::instant(), Instant::now(), "after {step}");
                };
                agree("the start");
                let (net, _js, _client) = setup();
                net.set_reliable(false);
                net.set_latency(Duration::from_millis(1), Duration::from_millis(5));
                let mut tasks = Vec::new();
                for c in 0..5 {
                    let client = junk::Client::new(connected_end(&net, &format!("end-{c}")));
                    tasks.push(sim::spawn(async move {
                        for i in 0..30 {
                            let _ = client.handler2(&i).await;
                            agree("a call");
                            tokio::task::yield_now().await;
                            agree("a yield");
                            let ms = sim::random_range(0..7);
                            tokio::time::sleep(Duration::from_millis(ms)).await;
                            agree("a sleep");
                            let _ =
                                tokio::time::timeout(Duration::from_millis(2), client.slow_log(&i))
                                    .await;
                            agree("a timeout");
                        }
                    }));
                }
                for task in tasks {
                    task.await.unwrap();
                }
                agree("the end");
                assert!(t0.elapsed() > Duration::from_millis(100), "no time passed");
            });
            outcome.unwrap();
        },
    );
}

/// The runtime wakes once per simulated instant, not twice: stock tokio 1.54 parks a paused
/// runtime twice for every instant in which a task was woken (the first park does not move
/// the clock), which cost Lab 3's suite 8 % of its CPU; `vendor/tokio` carries the fix
/// (`vendor/README.md`). A task and the test body each sleeping 1 ms a thousand times make
/// 2 000 instants; stock tokio wakes about 4 000 times.
#[test]
fn one_runtime_wake_up_per_instant() {
    runs_test("a paused runtime wakes once per simulated instant", || {
        const SLEEPS: u64 = 1000;
        let (sim, outcome) = sim::run(5, false, BUDGET, || async {
            let task = sim::spawn(async {
                for _ in 0..SLEEPS {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            });
            task.await.unwrap();
            // The body's own wake-ups go through tokio's other waker (the `block_on` one).
            for _ in 0..SLEEPS {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
        outcome.unwrap();
        let (_, wake_ups) = sim.scheduler_work();
        assert!(
            (2 * SLEEPS..2 * SLEEPS + 10).contains(&wake_ups),
            "{} instants took {wake_ups} runtime wake-ups",
            2 * SLEEPS
        );
    });
}

#[test]
fn simulated_time_is_free() {
    runs_test("60 simulated seconds cost well under a second", || {
        let wall = std::time::Instant::now();
        let (_sim, outcome) = sim::run(7, false, BUDGET, || async {
            let t0 = Instant::now();
            tokio::time::sleep(Duration::from_secs(60)).await;
            assert!(t0.elapsed() >= Duration::from_secs(60));
        });
        outcome.unwrap();
        let took = wall.elapsed();
        assert!(
            took < Duration::from_millis(500),
            "60 simulated seconds took {took:?} of wall time"
        );
    });
}

#[test]
fn budget_overrun_is_a_clear_failure() {
    runs_test("a test past its budget fails instead of hanging", || {
        let (_sim, outcome) = sim::run(7, false, Duration::from_secs(5), || async {
            // Waits forever: nothing will ever be sent.
            let (_tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
            rx.recv().await;
        });
        let error = outcome.unwrap_err();
        assert!(
            matches!(error, sim::RunError::TimedOut { .. }),
            "got {error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains("time budget"),
            "unclear message: {message}"
        );
        assert!(
            message.contains("(a deadlock)"),
            "a parked run is not called a deadlock: {message}"
        );
    });
}

#[test]
fn a_panicking_task_fails_the_run() {
    runs_test("a panic in a spawned task fails the run", || {
        let (_sim, outcome) = sim::run(7, false, BUDGET, || async {
            sim::spawn(async { panic!("checker found a bad apply") });
            tokio::time::sleep(Duration::from_secs(10)).await;
        });
        let error = outcome.unwrap_err();
        assert!(
            error.to_string().contains("checker found a bad apply"),
            "got {error}"
        );
    });
}

#[test]
fn hang_report_names_what_each_task_waits_on() {
    runs_test(
        "a hang report names the pending call and the waiting tasks",
        || {
            let (_sim, outcome) = sim::run(7, false, Duration::from_secs(10), || async {
                let (_net, _js, client) = setup();
                let _ = client.never_returns(&1).await;
            });
            let report = outcome.unwrap_err().to_string();
            println!("{report}");
            assert!(report.contains("(a deadlock)"), "{report}");
            assert!(
                report.contains("end1-99 -> server99 JunkServer.never_returns since t=0.000 s"),
                "the pending call is not named: {report}"
            );
            #[cfg(all(
                target_os = "linux",
                any(target_arch = "x86_64", target_arch = "aarch64")
            ))]
            assert!(
                report.contains("never_returns"),
                "the task dump does not show the handler: {report}"
            );
        },
    );
}

/// A client that calls again the moment a call returns, on the zero-delay reliable network:
/// simulated time never advances. (A student's Raft does this with a leader that resends at
/// once on every rejection.)
async fn retries_at_once() {
    let (_net, _js, client) = setup();
    let retrier = sim::spawn(async move {
        loop {
            let _ = client.handler2(&1).await;
        }
    });
    let _ = retrier.await;
}

/// The livelock error of `retries_at_once` with this seed and poll limit.
fn livelock_of(seed: u64, polls_per_instant: u64) -> (sim::RunError, std::time::Duration) {
    let limits = sim::Limits {
        polls_per_instant,
        ..sim::Limits::new(BUDGET)
    };
    let wall = std::time::Instant::now();
    let (_sim, outcome) = sim::run_with(seed, false, limits, retries_at_once);
    (outcome.unwrap_err(), wall.elapsed())
}

#[test]
fn livelock_is_a_clear_failure() {
    runs_test(
        "a run stuck at one simulated instant fails with a livelock report",
        || {
            // Count trace topics as the harness does for every lab test.
            harness::trace::init().unwrap();
            let (error, wall) = livelock_of(7, 400_000);
            let report = error.to_string();
            println!("{report}");
            println!("(failed after {wall:?} of wall time)");
            assert!(
                matches!(error, sim::RunError::Livelock { polls: 400_000, .. }),
                "got {error:?}"
            );
            assert!(report.contains("at t=0.000000 s"), "{report}");
            assert!(
                report.contains("send         end1-99 -> server99 JunkServer.handler2"),
                "the looping call is not named: {report}"
            );
            assert!(
                report.contains("deliver      end1-99 -> server99 JunkServer.handler2"),
                "{report}"
            );
            assert!(report.contains("trace topics: deliver "), "{report}");
            #[cfg(all(
                target_os = "linux",
                any(target_arch = "x86_64", target_arch = "aarch64")
            ))]
            assert!(
                report.contains("retries_at_once"),
                "the task dump does not show the looping task: {report}"
            );
            let (again, _) = livelock_of(7, 400_000);
            assert_eq!(again.to_string(), report, "same seed, another report");
        },
    );
}

#[test]
fn a_livelock_of_large_messages_trips_on_bytes() {
    runs_test(
        "a livelock moving a lot of data trips the byte limit",
        || {
            let wall = std::time::Instant::now();
            let (_sim, outcome) = sim::run(9, false, BUDGET, || async {
                let (_net, _js, client) = setup();
                let big = "x".repeat(100_000);
                let retrier = sim::spawn(async move {
                    loop {
                        let _ = client.handler6(&big).await;
                    }
                });
                let _ = retrier.await;
            });
            let error = outcome.unwrap_err();
            let message = error.to_string();
            println!(
                "{message}\n(failed after {:?} of wall time)",
                wall.elapsed()
            );
            let sim::RunError::Livelock { polls, bytes, .. } = error else {
                panic!("got {error:?}");
            };
            let limits = sim::Limits::new(BUDGET);
            assert!(bytes >= limits.bytes_per_instant, "{bytes} bytes");
            assert!(polls < limits.polls_per_instant / 10, "{polls} polls");
            assert!(message.contains("JunkServer.handler6"), "{message}");
        },
    );
}

#[test]
fn one_large_message_is_not_a_livelock() {
    runs_test(
        "one message past the byte limit at one instant is not a livelock",
        || {
            let (_sim, outcome) = sim::run(9, false, BUDGET, || async {
                let (_net, _js, client) = setup();
                let limits = sim::Limits::new(BUDGET);
                // One request larger than the whole byte limit, at one simulated instant.
                let big = "x".repeat(limits.bytes_per_instant as usize + 1);
                client.handler6(&big).await
            });
            let len = outcome.expect("a single large call is no livelock");
            assert_eq!(
                len.unwrap() as u64,
                sim::Limits::new(BUDGET).bytes_per_instant + 1
            );
        },
    );
}

#[test]
fn the_default_livelock_limit_fails_in_seconds() {
    runs_test(
        "a livelock fails within seconds at the default limit",
        || {
            let (error, wall) = livelock_of(8, sim::Limits::new(BUDGET).polls_per_instant);
            println!(
                "{}\n(failed after {wall:?} of wall time)",
                error.to_string().lines().next().unwrap()
            );
            assert!(
                matches!(error, sim::RunError::Livelock { .. }),
                "got {error:?}"
            );
            assert!(
                wall < std::time::Duration::from_secs(60),
                "the livelock took {wall:?} to detect"
            );
        },
    );
}

/// Fails on purpose, to show the livelock report under `cargo test` and under the grader
/// (`cargo run --release -- labrpc --test livelock_on_purpose --include-ignored`).
#[test]
#[ignore = "fails on purpose: shows what a livelock looks like"]
fn livelock_on_purpose() {
    labrpc_test(
        "a client that retries at once, forever (fails on purpose)",
        retries_at_once,
    );
}

/// Fails on purpose: a task that never returns from one poll, which only the harness's
/// watchdog can stop (`LAB_WALL_LIMIT=1` makes that quick).
#[test]
#[ignore = "fails on purpose: shows the watchdog ending a task stuck in one poll"]
fn stuck_in_one_poll_on_purpose() {
    labrpc_test("a task that never yields (fails on purpose)", || async {
        let spin = sim::spawn(async {
            let mut x = 0u64;
            loop {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        });
        let _: () = spin.await.unwrap();
    });
}

#[test]
fn wall_clock_limit_is_a_clear_failure() {
    runs_test(
        "a run past its wall-clock limit fails with a report",
        || {
            let limits = sim::Limits {
                // Ten million simulated seconds: the budget would take far longer than the
                // wall-clock limit to run out.
                wall: Some(Duration::from_secs(1)),
                ..sim::Limits::new(Duration::from_secs(10_000_000))
            };
            let wall = std::time::Instant::now();
            let (_sim, outcome) = sim::run_with(7, false, limits, || async {
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            });
            let took = wall.elapsed();
            let error = outcome.unwrap_err();
            let report = error.to_string();
            println!("{report}");
            assert!(
                matches!(error, sim::RunError::WallClock { .. }),
                "got {error:?}"
            );
            assert!(report.contains("wall-clock limit of 1 s"), "{report}");
            assert!(report.contains("hang report at t="), "{report}");
            assert!(took < Duration::from_secs(5), "stopped only after {took:?}");
        },
    );
}

/// A server that answers, then saves in a task of its own: the shape of the bug
/// "answer a vote, persist it afterwards".
mod save_after_reply {
    use std::sync::{Arc, Mutex};

    labrpc::service! {
        pub mod voter("Voter") {
            fn vote(u64) -> bool;
        }
    }

    pub struct Voter {
        pub log: Arc<Mutex<Vec<String>>>,
    }

    impl voter::Handler for Voter {
        async fn vote(&self, term: u64) -> bool {
            self.log.lock().unwrap().push(format!("granted {term}"));
            let log = self.log.clone();
            labrpc::sim::spawn(async move {
                log.lock().unwrap().push(format!("saved {term}"));
            });
            term.is_multiple_of(2)
        }
    }
}

#[test]
fn a_fault_after_a_reply_strikes_before_the_server_does_anything_else() {
    use labrpc::{Network, Server};
    use save_after_reply::{voter, Voter};
    use std::sync::{Arc, Mutex};
    runs_test(
        "event-triggered fault: right after a reply, before the server's next step",
        || {
            let (_sim, outcome) = sim::run(3, false, BUDGET, || async {
                let net = Network::new();
                let log = Arc::new(Mutex::new(Vec::new()));
                let mut server = Server::new();
                server.add_service(voter::service(Arc::new(Voter { log: log.clone() })));
                net.add_server("p", server);
                let end = net.make_end("c");
                net.connect("c", "p");
                net.enable("c", true);
                let client = voter::Client::new(end);
                // Strike after a granted vote (an encoded `true`), not after a refusal.
                let (fault_log, fault_net) = (log.clone(), net.clone());
                net.after_reply(
                    "p",
                    "Voter.vote",
                    |_request, reply| labrpc::codec::decode::<bool>(reply) == Ok(true),
                    move || {
                        fault_log.lock().unwrap().push("crash".into());
                        fault_net.delete_server("p");
                    },
                );
                assert_eq!(net.armed_faults(), 1);
                assert_eq!(
                    client.vote(&1).await,
                    Ok(false),
                    "a refusal does not trigger it"
                );
                tokio::time::sleep(Duration::from_millis(1)).await;
                assert_eq!(net.armed_faults(), 1);
                let granted = client.vote(&2).await;
                assert!(granted.is_err(), "the crash loses the reply: {granted:?}");
                tokio::time::sleep(Duration::from_millis(1)).await;
                assert_eq!(net.armed_faults(), 0, "it fires once");
                let seen = log.lock().unwrap().clone();
                seen
            });
            let log = outcome.unwrap();
            assert_eq!(
                log,
                ["granted 1", "saved 1", "granted 2", "crash", "saved 2"],
                "the crash came after the reply and before the server's save"
            );
        },
    );
}

/// Whether an encoded request is the `i64` `x` (JunkServer's handler2 takes one).
fn is_arg(x: i64) -> impl Fn(&[u8]) -> bool + Send + 'static {
    move |request| labrpc::codec::decode::<i64>(request) == Ok(x)
}

#[test]
fn a_delayed_request_arrives_after_later_ones() {
    labrpc_test(
        "event-triggered fault: one request held back arrives after later ones",
        || async {
            let (net, js, client) = setup();
            net.delay_request(
                "server99",
                "JunkServer.handler2",
                is_arg(1),
                Duration::from_millis(300),
            );
            assert_eq!(net.armed_faults(), 1);
            let t0 = Instant::now();
            let late = {
                let client = client.clone();
                sim::spawn(async move { (client.handler2(&1).await, Instant::now()) })
            };
            tokio::time::sleep(Duration::from_millis(1)).await;
            assert_eq!(net.armed_faults(), 0, "it fires on its request");
            // Sent after it, arriving before it.
            assert_eq!(client.handler2(&2).await.unwrap(), "handler2-2");
            assert_eq!(client.handler2(&3).await.unwrap(), "handler2-3");
            assert_eq!(
                *js.log2.lock().unwrap(),
                [2, 3],
                "the held-back request arrived early"
            );
            let (reply, at) = late.await.unwrap();
            assert_eq!(
                reply.unwrap(),
                "handler2-1",
                "the held-back call still succeeds"
            );
            assert!(
                at - t0 >= Duration::from_millis(300),
                "held back {:?}",
                at - t0
            );
            assert_eq!(*js.log2.lock().unwrap(), [2, 3, 1]);
            // It fired once: the same request again goes straight through.
            assert_eq!(client.handler2(&1).await.unwrap(), "handler2-1");
            assert_eq!(*js.log2.lock().unwrap(), [2, 3, 1, 1]);
        },
    );
}

#[test]
fn a_delayed_request_reaches_what_its_end_reaches_when_it_arrives() {
    use common::JunkServer;
    use labrpc::Server;
    use std::sync::Arc;
    labrpc_test(
        "event-triggered fault: a held-back request reaches the server there is when it arrives",
        || async {
            let (net, old, client) = setup();
            let by = Duration::from_millis(100);
            net.delay_request("server99", "JunkServer.handler2", is_arg(5), by);
            let late = {
                let client = client.clone();
                sim::spawn(async move { client.handler2(&5).await })
            };
            tokio::time::sleep(Duration::from_millis(1)).await;
            // The server is replaced while the request is on its way.
            let new = Arc::new(JunkServer::default());
            let mut server = Server::new();
            server.add_service(junk::service(new.clone()));
            net.add_server("server99", server);
            assert_eq!(late.await.unwrap().unwrap(), "handler2-5");
            assert!(old.log2.lock().unwrap().is_empty());
            assert_eq!(*new.log2.lock().unwrap(), [5], "the new server got it");

            // Held back while its end is disabled: lost, and the server never sees it.
            net.delay_request("server99", "JunkServer.handler2", is_arg(6), by);
            let late = {
                let client = client.clone();
                sim::spawn(async move { client.handler2(&6).await })
            };
            tokio::time::sleep(Duration::from_millis(1)).await;
            net.enable("end1-99", false);
            assert_eq!(late.await.unwrap(), Err(RpcError::Lost));
            assert_eq!(*new.log2.lock().unwrap(), [5]);
        },
    );
}

#[test]
fn a_duplicated_request_is_delivered_twice() {
    labrpc_test(
        "event-triggered fault: one request delivered twice",
        || async {
            let (net, js, client) = setup();
            net.duplicate_request(
                "server99",
                "JunkServer.handler2",
                is_arg(7),
                Duration::from_millis(50),
            );
            assert_eq!(client.handler2(&6).await.unwrap(), "handler2-6");
            assert_eq!(net.armed_faults(), 1, "another request does not trigger it");
            let t0 = Instant::now();
            assert_eq!(client.handler2(&7).await.unwrap(), "handler2-7");
            assert!(
                t0.elapsed() < Duration::from_millis(50),
                "the original was delayed"
            );
            assert_eq!(net.armed_faults(), 0);
            assert_eq!(client.handler2(&8).await.unwrap(), "handler2-8");
            assert_eq!(*js.log2.lock().unwrap(), [6, 7, 8]);
            tokio::time::sleep(Duration::from_millis(40)).await;
            assert_eq!(*js.log2.lock().unwrap(), [6, 7, 8], "the copy came early");
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert_eq!(
                *js.log2.lock().unwrap(),
                [6, 7, 8, 7],
                "the copy arrived 50 ms later, after the next request"
            );
            assert_eq!(net.count("server99"), 4);
            tokio::time::sleep(Duration::from_secs(1)).await;
            assert_eq!(js.log2.lock().unwrap().len(), 4, "only one copy");
        },
    );
}

/// A short workload with random wire latencies. `armed`: a fault holds request 2 back
/// (`Some(true)`), or waits for a request that is never sent (`Some(false)`).
fn digest_with_fault(seed: u64, armed: Option<bool>) -> String {
    let (sim, outcome) = sim::run(seed, false, BUDGET, move || async move {
        let (net, _js, client) = setup();
        net.set_latency(Duration::from_millis(1), Duration::from_millis(20));
        if let Some(fire) = armed {
            let arg = if fire { 2 } else { 1000 };
            net.delay_request(
                "server99",
                "JunkServer.handler2",
                is_arg(arg),
                Duration::from_millis(40),
            );
        }
        let calls: Vec<_> = (0..10)
            .map(|i| {
                let client = client.clone();
                sim::spawn(async move { client.handler2(&i).await.is_ok() })
            })
            .collect();
        for call in calls {
            call.await.unwrap();
        }
    });
    outcome.unwrap();
    sim.digest()
}

#[test]
fn a_fault_is_in_the_digest_only_when_it_fires() {
    runs_test(
        "event-triggered fault: deterministic, and in the digest only when it fires",
        || {
            for seed in [1, 2, 3] {
                let plain = digest_with_fault(seed, None);
                assert_eq!(
                    plain,
                    digest_with_fault(seed, Some(false)),
                    "seed {seed}: a fault that never fires changed the run"
                );
                let fired = digest_with_fault(seed, Some(true));
                assert_eq!(
                    fired,
                    digest_with_fault(seed, Some(true)),
                    "seed {seed}: the same fault gave two different runs"
                );
                assert_ne!(plain, fired, "seed {seed}: the fault left no trace");
            }
        },
    );
}
