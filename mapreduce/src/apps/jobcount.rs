//! `jobcount`: tests that no map task runs more often than needed. Every Map call leaves a
//! marker file `mr-worker-jobcount-<pid>-<n>` and sleeps 2–5 s; Reduce counts the markers, so a
//! job on 8 files must output `a 8`.

use std::fs;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use super::{random, App};

pub struct JobCount;

/// Map calls made by this process so far (the Go plugin's package-level `count`).
static CALLS: AtomicUsize = AtomicUsize::new(0);

impl App for JobCount {
    fn map(
        &self,
        _filename: &str,
        _contents: &str,
        emit: &mut dyn FnMut(&str, &str),
    ) -> io::Result<()> {
        let call = CALLS.fetch_add(1, Ordering::Relaxed);
        fs::write(
            format!("mr-worker-jobcount-{}-{call}", std::process::id()),
            "x",
        )?;
        thread::sleep(Duration::from_millis(2000 + random::below(3000)));
        emit("a", "x");
        Ok(())
    }

    fn reduce(&self, _key: &str, _values: &[&str]) -> io::Result<String> {
        let mut invocations = 0;
        for entry in fs::read_dir(".")? {
            if entry?
                .file_name()
                .to_string_lossy()
                .starts_with("mr-worker-jobcount")
            {
                invocations += 1;
            }
        }
        Ok(invocations.to_string())
    }
}
