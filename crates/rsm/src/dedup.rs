//! Duplicate detection: each client's write takes effect exactly once.
//!
//! A clerk retries a request until some server answers it, so the same write can reach the
//! log more than once (the first copy committed but its reply was lost; a leader timed out
//! and the clerk tried another). Each clerk numbers its requests 1, 2, 3… and has at most one
//! outstanding, so remembering the highest sequence number applied per client is enough: a
//! command at or below it is a duplicate and is skipped.
//!
//! The table is part of the replicated state: it is applied in log order on every replica and
//! saved in snapshots with the data, so a restarted or lagging server rejects the same
//! duplicates as everyone else.
// BEGIN SOLUTION 3A

use std::collections::BTreeMap;
// HANDOUT
// //!
// //! Lab 3A. The type and the two methods shardkv (Lab 4) calls are given as signatures;
// //! their bodies and the fields are yours. Memory must stay per client, never per request:
// //! a clerk has one request outstanding, so its newest request number says it has seen the
// //! replies to all earlier ones.
//
// // Stubs leave their arguments unused: delete this line when you start.
// #![allow(unused_variables, dead_code)]
// END SOLUTION

use serde::{Deserialize, Serialize};

/// The highest applied write per client.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dedup {
    // BEGIN SOLUTION 3A
    /// Client id → highest sequence number of a write applied for it. A BTreeMap, so the
    /// snapshot's bytes do not depend on hashing.
    last_applied: BTreeMap<u64, u64>,
    // HANDOUT
    // // Hint: per client id, the highest request number applied for it. It goes into
    // // snapshots and RPCs (shards move between groups in Lab 4), so use a BTreeMap, not a
    // // HashMap: encoded bytes must not depend on hashing.
    // END SOLUTION
}

impl Dedup {
    /// Whether request `seq` of `client` has already been applied.
    pub fn is_duplicate(&self, client: u64, seq: u64) -> bool {
        // BEGIN SOLUTION 3A
        self.last_applied
            .get(&client)
            .is_some_and(|&last| seq <= last)
        // HANDOUT
        // todo!("Lab 3A: whether request seq of client has already been applied")
        // END SOLUTION
    }

    /// Records that request `seq` of `client` has been applied.
    pub fn record(&mut self, client: u64, seq: u64) {
        // BEGIN SOLUTION 3A
        let last = self.last_applied.entry(client).or_insert(0);
        *last = (*last).max(seq);
        // HANDOUT
        // todo!("Lab 3A: remember that request seq of client has been applied")
        // END SOLUTION
    }
    // BEGIN SOLUTION 3A

    /// Takes in another table (a shard's, arriving from another group): for each client the
    /// higher mark wins, since a request either table saw applied has been applied.
    pub fn merge(&mut self, other: &Dedup) {
        for (&client, &seq) in &other.last_applied {
            self.record(client, seq);
        }
    }

    /// How many clients the table remembers.
    pub fn len(&self) -> usize {
        self.last_applied.len()
    }

    pub fn is_empty(&self) -> bool {
        self.last_applied.is_empty()
    }
    // END SOLUTION
}
// BEGIN SOLUTION 3A

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_highest_request_per_client() {
        let mut d = Dedup::default();
        assert!(!d.is_duplicate(1, 1));
        d.record(1, 1);
        d.record(1, 3);
        d.record(1, 2); // never lowers the mark
        assert!(d.is_duplicate(1, 1) && d.is_duplicate(1, 3));
        assert!(!d.is_duplicate(1, 4));
        assert!(!d.is_duplicate(2, 1), "clients are independent");
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn merging_keeps_the_higher_mark() {
        let mut a = Dedup::default();
        a.record(1, 5);
        a.record(2, 1);
        let mut b = Dedup::default();
        b.record(1, 3);
        b.record(3, 9);
        a.merge(&b);
        assert!(a.is_duplicate(1, 5) && !a.is_duplicate(1, 6));
        assert!(a.is_duplicate(3, 9) && a.is_duplicate(2, 1));
        assert_eq!(a.len(), 3);
    }
}
// END SOLUTION
