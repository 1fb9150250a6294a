//! What several shardkv tests share: the course's `check`, its appender goroutines, and
//! waiting on them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use labrpc::sim;
use tester::random_string;
use tokio::task::JoinHandle;

use crate::config::{Config, History, TestClerk};

/// The value of `key` read through `ck` is `value`.
pub async fn check(ck: &mut TestClerk, key: &str, value: &str) {
    let v = ck.get(key).await;
    assert!(v == value, "Get({key}): expected:\n{value}\nreceived:\n{v}");
}

/// Keys "0".."n-1" (so every shard is used) with fresh random values of `len` characters,
/// each Put through `ck`.
pub async fn put_keys(ck: &mut TestClerk, n: usize, len: usize) -> (Vec<String>, Vec<String>) {
    let mut ka = Vec::new();
    let mut va = Vec::new();
    for i in 0..n {
        ka.push(i.to_string());
        va.push(random_string(len));
        ck.put(&ka[i], &va[i]).await;
    }
    (ka, va)
}

/// Checks every key, then appends `len` random characters to it.
pub async fn check_and_append(ck: &mut TestClerk, ka: &[String], va: &mut [String], len: usize) {
    for i in 0..ka.len() {
        check(ck, &ka[i], &va[i]).await;
        let x = random_string(len);
        ck.append(&ka[i], &x).await;
        va[i].push_str(&x);
    }
}

/// Checks every key.
pub async fn check_all(ck: &mut TestClerk, ka: &[String], va: &[String]) {
    for i in 0..ka.len() {
        check(ck, &ka[i], &va[i]).await;
    }
}

/// The course's appender goroutines: one clerk per key, each appending `len` random
/// characters to its key until told to stop, pausing `pause` between appends (none for
/// back-to-back). Every operation goes into `history`. Each task returns its key's value.
pub struct Appenders {
    done: Arc<AtomicBool>,
    tasks: Vec<JoinHandle<String>>,
}

impl Appenders {
    pub fn start(
        cfg: &Config,
        ka: &[String],
        va: &[String],
        len: usize,
        pause: Duration,
        history: &History,
    ) -> Appenders {
        let done = Arc::new(AtomicBool::new(false));
        let tasks = ka
            .iter()
            .zip(va)
            .enumerate()
            .map(|(i, (key, value))| {
                let mut ck1 = cfg.make_client();
                ck1.record_in(history, i + 1);
                let (key, mut value, done) = (key.clone(), value.clone(), done.clone());
                sim::spawn(async move {
                    while !done.load(Ordering::Acquire) {
                        let x = random_string(len);
                        ck1.append(&key, &x).await;
                        value.push_str(&x);
                        if !pause.is_zero() {
                            tokio::time::sleep(pause).await;
                        }
                    }
                    value
                })
            })
            .collect();
        Appenders { done, tasks }
    }

    /// Tells them to stop (at once, as the course's `atomic.StoreInt32(&done, 1)`); the
    /// future waits for each and returns every key's expected value.
    pub fn stop(self) -> impl std::future::Future<Output = Vec<String>> {
        self.done.store(true, Ordering::Release);
        async move {
            let mut values = Vec::new();
            for task in self.tasks {
                values.push(task.await.expect("an appender failed"));
            }
            values
        }
    }
}

/// Sleeps `ms` milliseconds of simulated time.
pub async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}
