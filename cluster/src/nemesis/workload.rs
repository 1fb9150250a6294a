//! The clients: each loops without a pause over random operations, recording every call and
//! return in one history, as Jepsen's clients do.
//!
//! Appends go to eight keys at a time and Puts to key `p`; every written value is unique
//! (`x <client> <n> y`, as in the course's tests), so a value read names the writes it
//! contains, and the checker can tell a lost write, a duplicated one and a stale read apart.
//! An operation past its deadline is recorded as having no reply (it may or may not have
//! taken effect, and may yet), and its client carries on under a new process number with a
//! new clerk, as Jepsen does after an indeterminate operation.
//!
//! The eight append keys change every [`KEY_EPOCH`] (`a0`..`h0`, then `a1`..`h1`, ...), as
//! Jepsen's independent keys do: a key's value, which every Get of it carries whole, stays a
//! //! few kilobytes instead of growing with the run, and each key is a small history of its own.
//! The keys start with eight different letters because shardkv assigns a key to a shard by
//! its first byte: so the sharded service's clients use eight of its ten shards at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lincheck::{KvInput, Operation};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::vote_race::Hold;
use crate::client::{Client, Target};

/// How many keys are appended to at a time.
pub const KEYS_AT_A_TIME: u64 = 8;
/// How long the clients append to the same keys.
pub const KEY_EPOCH: Duration = Duration::from_secs(1);

/// The `r`th append key in use `elapsed` into the run.
pub fn append_key(elapsed: Duration, r: u64) -> String {
    key(elapsed.as_millis() / KEY_EPOCH.as_millis(), r)
}

/// Every append key used in a run that has lasted `elapsed`.
pub fn append_keys_until(elapsed: Duration) -> Vec<String> {
    let epochs = elapsed.as_millis() / KEY_EPOCH.as_millis();
    (0..=epochs)
        .flat_map(|epoch| (0..KEYS_AT_A_TIME).map(move |r| key(epoch, r)))
        .collect()
}

/// Key `r` (a letter) of `epoch`.
fn key(epoch: u128, r: u64) -> String {
    debug_assert!(r < KEYS_AT_A_TIME);
    format!("{}{epoch}", char::from(b'a' + r as u8))
}

/// The key written with Puts.
pub const PUT_KEY: &str = "p";

/// Every operation of the run, as it happened.
#[derive(Clone, Default)]
pub struct History {
    inner: Arc<Mutex<Vec<Operation<KvInput, String>>>>,
}

/// How one operation ended.
pub enum Outcome {
    Ok(String),
    NoReply,
}

impl History {
    pub fn record(&self, process: usize, input: KvInput, call: u64, outcome: Outcome, ret: u64) {
        let op = match outcome {
            Outcome::Ok(output) => Operation::returned(process, input, call, output, ret),
            Outcome::NoReply => Operation::no_reply(process, input, call),
        };
        self.inner.lock().unwrap().push(op);
    }

    pub fn operations(&self) -> Vec<Operation<KvInput, String>> {
        self.inner.lock().unwrap().clone()
    }
}

/// Nanoseconds since the run's start.
pub fn since(start: Instant) -> u64 {
    start.elapsed().as_nanos() as u64
}

/// Runs one operation through `client` and records it.
pub async fn perform(
    client: &mut Client,
    history: &History,
    start: Instant,
    process: usize,
    input: KvInput,
) -> Result<String, String> {
    let call = since(start);
    let result = match &input {
        KvInput::Get { key } => client.get(key).await,
        KvInput::Put { key, value } => client.put(key, value).await.map(|()| String::new()),
        KvInput::Append { key, value } => client.append(key, value).await.map(|()| String::new()),
    };
    let ret = since(start);
    let outcome = match &result {
        Ok(output) => Outcome::Ok(output.clone()),
        Err(_) => Outcome::NoReply,
    };
    history.record(process, input, call, outcome, ret);
    result
}

/// What every client of a run shares.
#[derive(Clone)]
pub struct Clients {
    /// How many clients run (process numbers of replaced clerks step by it).
    pub count: usize,
    pub target: Target,
    /// An operation is given up after this long.
    pub deadline: Duration,
    pub seed: u64,
    pub history: History,
    pub start: Instant,
    pub stop: Arc<AtomicBool>,
    /// While held (by a scripted fault), clients start no new operation.
    pub hold: Hold,
}

/// Client `index`'s loop, until `stop`. Returns (operations completed, operations given up).
pub async fn client_loop(index: usize, shared: Clients) -> (usize, usize) {
    let Clients {
        count: clients,
        target,
        deadline,
        seed,
        history,
        start,
        stop,
        hold,
    } = shared;
    let mut rng =
        SmallRng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut process = index;
    let mut client = Client::new(&target, deadline);
    let (mut ok, mut timed_out) = (0, 0);
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        hold.clients_wait().await;
        let value = format!("x {index} {n} y");
        n += 1;
        let roll: f64 = rng.random();
        let key = append_key(start.elapsed(), rng.random_range(0..KEYS_AT_A_TIME));
        let input = if roll < 0.45 {
            KvInput::append(key, value)
        } else if roll < 0.55 {
            KvInput::put(PUT_KEY, value)
        } else if roll < 0.65 {
            KvInput::get(PUT_KEY)
        } else {
            KvInput::get(key.as_str())
        };
        match perform(&mut client, &history, start, process, input).await {
            Ok(_) => ok += 1,
            Err(_) => {
                timed_out += 1;
                // The clerk was replaced; so is the process it stood for.
                process += clients;
            }
        }
    }
    (ok, timed_out)
}
