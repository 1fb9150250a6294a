//! The course's shardkv tests on an unreliable network.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use labrpc::sim;
use tester::random_string;

use crate::common::{check, check_all, put_keys, sleep_ms, Appenders};
use crate::config::{run, Config, History};

/// TestUnreliable1: joins and leaves with checks and appends, on an unreliable network.
#[test]
fn unreliable1_4b() {
    run(|| async {
        let cfg = Config::new(true, 100);
        cfg.begin("unreliable 1");
        let mut ck = cfg.make_client();
        cfg.join(0).await;
        let (ka, mut va) = put_keys(&mut ck, 10, 5).await;
        cfg.join(1).await;
        cfg.join(2).await;
        cfg.leave(0).await;
        for ii in 0..ka.len() * 2 {
            let i = ii % ka.len();
            check(&mut ck, &ka[i], &va[i]).await;
            let x = random_string(5);
            ck.append(&ka[i], &x).await;
            va[i].push_str(&x);
        }
        cfg.join(0).await;
        cfg.leave(1).await;
        for ii in 0..ka.len() * 2 {
            let i = ii % ka.len();
            check(&mut ck, &ka[i], &va[i]).await;
        }
        cfg.end();
        cfg.cleanup();
    });
}

/// The configuration changes unreliable 2 and 3 make while their clients run.
async fn unreliable_schedule(cfg: &Config) {
    sleep_ms(150).await;
    cfg.join(1).await;
    sleep_ms(500).await;
    cfg.join(2).await;
    sleep_ms(500).await;
    cfg.leave(0).await;
    sleep_ms(500).await;
    cfg.leave(1).await;
    sleep_ms(500).await;
    cfg.join(1).await;
    cfg.join(0).await;
    sleep_ms(2000).await;
}

/// TestUnreliable2: back-to-back appends while groups join and leave.
#[test]
fn unreliable2_4b() {
    run(|| async {
        let cfg = Config::new(true, 100);
        cfg.begin("unreliable 2");
        let history = History::new();
        let mut ck = cfg.make_client();
        ck.record_in(&history, 0);
        cfg.join(0).await;
        let (ka, va) = put_keys(&mut ck, 10, 5).await;
        let appenders = Appenders::start(&cfg, &ka, &va, 5, std::time::Duration::ZERO, &history);
        unreliable_schedule(&cfg).await;
        let stopping = appenders.stop();
        cfg.set_unreliable(false);
        let va = stopping.await;
        check_all(&mut ck, &ka, &va).await;
        history.check("unreliable2_4b");
        cfg.end();
        cfg.cleanup();
    });
}

/// TestUnreliable3: random Gets, Puts and Appends on random keys while groups join and
/// leave; the whole history must be linearizable (checked to a definite verdict, where the
/// course's porcupine gives up after one second and passes).
#[test]
fn unreliable3_4b() {
    run(|| async {
        let cfg = Config::new(true, 100);
        cfg.begin("unreliable 3");
        let history = History::new();
        let mut ck = cfg.make_client();
        ck.record_in(&history, 0);
        cfg.join(0).await;
        let n = 10;
        let ka: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        for key in &ka {
            ck.put(key, &random_string(5)).await;
        }

        let done = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..n)
            .map(|i| {
                let mut ck1 = cfg.make_client();
                ck1.record_in(&history, i + 1);
                let (ka, done) = (ka.clone(), done.clone());
                sim::spawn(async move {
                    while !done.load(Ordering::Acquire) {
                        let key = &ka[sim::random_range(0..n)];
                        let nv = random_string(5);
                        if sim::random_range(0..1000) < 500 {
                            ck1.append(key, &nv).await;
                        } else if sim::random_range(0..1000) < 100 {
                            ck1.put(key, &nv).await;
                        } else {
                            ck1.get(key).await;
                        }
                    }
                })
            })
            .collect();
        unreliable_schedule(&cfg).await;
        done.store(true, Ordering::Release);
        cfg.set_unreliable(false);
        for client in clients {
            client.await.expect("a client failed");
        }
        history.check("unreliable3_4b");
        cfg.end();
        cfg.cleanup();
    });
}
