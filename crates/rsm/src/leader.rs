//! The clerks' loop: find the server that leads, retry until one carries the request out.
//!
//! Every clerk of a Raft-backed service does the same: remember which server answered last
//! (the leader, most likely) and start there; a wrong-leader or timeout answer, or a call the
//! network lost, moves on to the next server at once; only after every server in turn has
//! failed does it pause briefly, so that during an election it does not spin.

use std::future::Future;
use std::time::Duration;

/// How long a clerk waits after every server in turn has failed a request before starting
/// the round again. Long enough not to flood the network while no leader exists (an
/// election takes a few hundred milliseconds), short enough to find a new one promptly.
pub const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// Which of `n` servers a clerk tries next.
#[derive(Clone, Debug)]
pub struct LeaderCursor {
    n: usize,
    /// The server to try first: the one that answered last.
    leader: usize,
}

impl LeaderCursor {
    /// A cursor over `n` servers, starting at the first.
    pub fn new(n: usize) -> LeaderCursor {
        assert!(n > 0, "a clerk needs at least one server");
        LeaderCursor { n, leader: 0 }
    }

    /// Calls `call(server)` on server after server until one answers `Some`; pauses
    /// [`RETRY_PAUSE`] after each full round of failures.
    pub async fn until_answered<T, F, Fut>(&mut self, mut call: F) -> T
    where
        F: FnMut(usize) -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        loop {
            if let Some(answer) = self.one_round(&mut call).await {
                return answer;
            }
            tokio::time::sleep(RETRY_PAUSE).await;
        }
    }

    /// Tries each server once, starting with the last one that answered; the first answer,
    /// or `None` when every server failed.
    pub async fn one_round<T, F, Fut>(&mut self, call: &mut F) -> Option<T>
    where
        F: FnMut(usize) -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        for _ in 0..self.n {
            if let Some(answer) = call(self.leader).await {
                return Some(answer);
            }
            self.leader = (self.leader + 1) % self.n;
        }
        None
    }
}
