//! The clerks' loop: find the server that leads, retry until one carries the request out.
//!
//! Every clerk of a Raft-backed service does the same: remember which server answered last
//! (the leader, most likely) and start there; a wrong-leader or timeout answer, or a call the
//! network lost, moves on to the next server at once; only after every server in turn has
//! failed does it pause briefly, so that during an election it does not spin.
// BEGIN SOLUTION 3A

use std::future::Future;
use std::time::Duration;

/// How long a clerk waits after every server in turn has failed a request before starting
/// the round again. Long enough not to flood the network while no leader exists (an
/// election takes a few hundred milliseconds), short enough to find a new one promptly.
pub const RETRY_PAUSE: Duration = Duration::from_millis(50);
// HANDOUT
// //!
// //! Lab 3A. kvraft's clerk and the shard controller's (Lab 4) call these signatures. A
// //! call that comes back `None` (an error reply, or an RPC the network lost) must never
// //! stop the loop; sleep with `tokio::time::sleep`, the simulation's clock, between rounds
// //! (tens of milliseconds: an election takes a few hundred).
//
// // Stubs leave their arguments unused: delete this line when you start.
// #![allow(unused_variables, dead_code)]
//
// use std::future::Future;
// END SOLUTION

/// Which of `n` servers a clerk tries next.
#[derive(Clone, Debug)]
pub struct LeaderCursor {
    // BEGIN SOLUTION 3A
    n: usize,
    /// The server to try first: the one that answered last.
    leader: usize,
    // HANDOUT
    // // Hint: how many servers there are, and which one to try first (the one that
    // // answered last: most likely the leader).
    // END SOLUTION
}

impl LeaderCursor {
    /// A cursor over `n` servers, starting at the first.
    pub fn new(n: usize) -> LeaderCursor {
        // BEGIN SOLUTION 3A
        assert!(n > 0, "a clerk needs at least one server");
        LeaderCursor { n, leader: 0 }
        // HANDOUT
        // todo!("Lab 3A: a cursor over n servers, starting at the first")
        // END SOLUTION
    }

    /// Calls `call(server)` on server after server until one answers `Some`; pauses
    // BEGIN SOLUTION 3A
    /// [`RETRY_PAUSE`] after each full round of failures.
    // HANDOUT
    // /// briefly after each full round of failures.
    // END SOLUTION
    pub async fn until_answered<T, F, Fut>(&mut self, call: F) -> T
    where
        F: FnMut(usize) -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        // BEGIN SOLUTION 3A
        let mut call = call;
        loop {
            if let Some(answer) = self.one_round(&mut call).await {
                return answer;
            }
            tokio::time::sleep(RETRY_PAUSE).await;
        }
        // HANDOUT
        // todo!("Lab 3A: call server after server until one answers; pause after each round")
        // END SOLUTION
    }

    /// Tries each server once, starting with the last one that answered; the first answer,
    /// or `None` when every server failed.
    pub async fn one_round<T, F, Fut>(&mut self, call: &mut F) -> Option<T>
    where
        F: FnMut(usize) -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        // BEGIN SOLUTION 3A
        for _ in 0..self.n {
            if let Some(answer) = call(self.leader).await {
                return Some(answer);
            }
            self.leader = (self.leader + 1) % self.n;
        }
        None
        // HANDOUT
        // todo!("Lab 3A: try each server once, from the last that answered; the first answer")
        // END SOLUTION
    }
}
