//! `slowwrite` and `bigwrite`: test apps whose files take long to write, for the test that kills
//! workers at random moments (`tests/kills.rs`). A kill lands in the middle of writing a file
//! only if writing takes a good share of a worker's time; with `wc` it takes a few
//! milliseconds a task, and a random kill would almost never hit it.
//!
//! Map emits every word of its file, as `wc` does, but with a 24-byte value, so a map task writes
//! megabytes of intermediate data. Reduce outputs the word's count followed by 100 bytes of
//! padding, so an output file is hundreds of kilobytes, flushed in many pieces as Reduce goes.
//! `slowwrite` also sleeps 2 ms every 8 Reduce calls: an output file then stays open, partly
//! written, for about half a second (the ~2,200 keys of one partition out of ten), almost the
//! whole of its reduce task. `bigwrite` is the same without the sleeps: the same output, for
//! the reference. Only the timing differs, never the output.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use super::{words, App};

/// The value of every intermediate pair: long enough to make the intermediate files large.
const MAP_VALUE: &str = "one-occurrence-of-a-word";
/// Appended to each output line to make the output files large.
const PADDING: &str = "....................................................................................................";

pub struct SlowWrite {
    pub slow: bool,
}

impl App for SlowWrite {
    fn map(
        &self,
        _filename: &str,
        contents: &str,
        emit: &mut dyn FnMut(&str, &str),
    ) -> io::Result<()> {
        for word in words(contents) {
            emit(word, MAP_VALUE);
        }
        Ok(())
    }

    fn reduce(&self, _key: &str, values: &[&str]) -> io::Result<String> {
        if self.slow {
            // A worker runs one task at a time, so a process-wide count paces each output file.
            static CALLS: AtomicU64 = AtomicU64::new(0);
            if CALLS.fetch_add(1, Ordering::Relaxed).is_multiple_of(8) {
                thread::sleep(Duration::from_millis(2));
            }
        }
        Ok(format!("{} {PADDING}", values.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_and_big_give_the_same_output() {
        let mut pairs = Vec::new();
        SlowWrite { slow: true }
            .map("f", "a b, a", &mut |k, v| {
                pairs.push((k.to_string(), v.to_string()))
            })
            .unwrap();
        assert_eq!(pairs.len(), 3);
        assert!(pairs.iter().all(|(_, v)| v == MAP_VALUE));
        assert_eq!(PADDING.len(), 100);
        let slow = SlowWrite { slow: true }.reduce("a", &["x", "x"]).unwrap();
        let big = SlowWrite { slow: false }.reduce("a", &["x", "x"]).unwrap();
        assert_eq!(slow, big);
        assert_eq!(slow, format!("2 {PADDING}"));
    }
}
