//! What one save of Raft state costs, by the length of the log.
//!
//! `cargo bench -p raft --bench save` drives a one-peer Raft core directly (no network, no
//! runtime): it restores a log of 1k, 10k or 100k entries of 16-byte commands, becomes
//! leader, then repeatedly proposes one 16-byte command and saves the resulting state to a
//! [`Persister`], exactly as the driver does after each batch of events. Raft must save
//! before it answers or sends anything, so this is on the path of every operation. One line
//! per log length, with the mean wall time of one propose-and-save step (and the mean of the
//! fastest half, less disturbed by a shared machine), and what `Persister::copy` (the
//! tester's crash copy) costs at that length. Both should be flat across log lengths.

use std::time::{Duration, Instant};

use raft::core::{Core, Save};
use raft::log::Log;
use raft::messages::Entry;
use raft::{DurableState, Persister};

const COMMAND_BYTES: usize = 16;
const STEPS: usize = 2000;
const WARM_UP: usize = 50;

/// Saves `save` as the driver does.
fn store(persister: &Persister, save: Save) {
    persister.save_update(save.state, save.snapshot);
}

/// One propose-and-save step.
fn step(core: &mut Core, persister: &Persister, i: usize) {
    let command = vec![i as u8; COMMAND_BYTES];
    core.propose(command).expect("the only peer leads");
    core.replicate();
    let save = core.take_ready().save.expect("a proposal changes the log");
    store(persister, save);
}

fn main() {
    for length in [1_000u64, 10_000, 100_000] {
        let mut log = Log::new();
        for i in 0..length {
            log.append(Entry {
                term: 1,
                command: vec![i as u8; COMMAND_BYTES],
            });
        }
        let state = DurableState {
            term: 1,
            voted_for: None,
            log,
        };
        let mut core = Core::new(0, 1, state, Vec::new());
        let persister = Persister::new();
        core.election_timeout();
        assert!(core.is_leader());
        if let Some(save) = core.take_ready().save {
            store(&persister, save);
        }
        for i in 0..WARM_UP {
            step(&mut core, &persister, i);
        }
        let mut times = Vec::with_capacity(STEPS);
        for i in 0..STEPS {
            let t0 = Instant::now();
            step(&mut core, &persister, i);
            times.push(t0.elapsed());
        }
        let mean = times.iter().sum::<Duration>() / STEPS as u32;
        times.sort();
        let fast_half = times[..STEPS / 2].iter().sum::<Duration>() / (STEPS / 2) as u32;
        let t0 = Instant::now();
        let copies: Vec<Persister> = (0..10).map(|_| persister.copy()).collect();
        let copy = t0.elapsed() / copies.len() as u32;
        println!(
            "raft save: log of {length:>6} entries ({:>7} bytes saved): one propose-and-save \
             {:>8.2} µs (fastest half {:>8.2} µs); Persister::copy {:>8.2} µs",
            persister.raft_state_size(),
            mean.as_secs_f64() * 1e6,
            fast_half.as_secs_f64() * 1e6,
            copy.as_secs_f64() * 1e6,
        );
    }
}
