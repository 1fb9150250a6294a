//! Part 3A without partitions or restarts: one client, speed, many clients, an unreliable
//! network, and concurrent appends to one key.

use crate::config::generic::{check_concurrent_appends, generic_test, generic_test_speed, Generic};
use crate::config::{run, Config};
use labrpc::sim;

/// A GenericTest of part 3A with no snapshots, no restarts and no partitions.
fn plain(nclients: usize, unreliable: bool) -> Generic {
    Generic {
        part: "3A",
        nclients,
        nservers: 5,
        unreliable,
        crash: false,
        partitions: false,
        maxraftstate: -1,
        randomkeys: false,
    }
}

#[test]
fn basic_3a() {
    run(|| generic_test(plain(1, false)));
}

#[test]
fn speed_3a() {
    run(|| generic_test_speed("3A", -1));
}

#[test]
fn concurrent_3a() {
    run(|| generic_test(plain(5, false)));
}

#[test]
fn unreliable_3a() {
    run(|| generic_test(plain(5, true)));
}

#[test]
fn unreliable_one_key_3a() {
    run(|| async {
        const NSERVERS: usize = 3;
        const NCLIENT: usize = 5;
        const UPTO: usize = 10;
        let cfg = Config::new(NSERVERS, true, -1);
        let mut ck = cfg.make_client(&cfg.all());
        cfg.begin("3A", "concurrent append to same key, unreliable");
        ck.put("k", "").await;

        let clients: Vec<_> = (0..NCLIENT)
            .map(|me| {
                let mut myck = cfg.make_client(&cfg.all());
                let cfg = cfg.clone();
                sim::spawn(async move {
                    for n in 0..UPTO {
                        myck.append("k", &format!("x {me} {n} y")).await;
                    }
                    cfg.delete_client(&myck);
                })
            })
            .collect();
        for client in clients {
            client.await.expect("a client failed");
        }

        let vx = ck.get("k").await;
        check_concurrent_appends(&vx, &[UPTO; NCLIENT]);
        cfg.end();
        cfg.cleanup();
    });
}
