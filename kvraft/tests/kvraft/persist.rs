//! Part 3A with restarts: every server is shut down and restarted from what it persisted,
//! alone or with an unreliable network and partitions.

use crate::config::generic::{generic_test, Generic};
use crate::config::run;

fn restarts(nclients: usize, unreliable: bool, partitions: bool) -> Generic {
    Generic {
        part: "3A",
        nclients,
        nservers: 5,
        unreliable,
        crash: true,
        partitions,
        maxraftstate: -1,
        randomkeys: false,
    }
}

#[test]
fn persist_one_client_3a() {
    run(|| generic_test(restarts(1, false, false)));
}

#[test]
fn persist_concurrent_3a() {
    run(|| generic_test(restarts(5, false, false)));
}

#[test]
fn persist_concurrent_unreliable_3a() {
    run(|| generic_test(restarts(5, true, false)));
}

#[test]
fn persist_partition_3a() {
    run(|| generic_test(restarts(5, false, true)));
}

#[test]
fn persist_partition_unreliable_3a() {
    run(|| generic_test(restarts(5, true, true)));
}

#[test]
fn persist_partition_unreliable_linearizable_3a() {
    run(|| {
        generic_test(Generic {
            nclients: 15,
            nservers: 7,
            randomkeys: true,
            ..restarts(15, true, true)
        })
    });
}
