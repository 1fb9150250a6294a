//! `early_exit`: tests that no process exits before the job is done. Map emits
//! `(filename, "1")`; Reduce sleeps 3 s for keys containing "sherlock" or "tom", so those reduce
//! tasks finish last, then counts the values.

use std::io;
use std::thread;
use std::time::Duration;

use super::App;

pub struct EarlyExit;

impl App for EarlyExit {
    fn map(
        &self,
        filename: &str,
        _contents: &str,
        emit: &mut dyn FnMut(&str, &str),
    ) -> io::Result<()> {
        emit(filename, "1");
        Ok(())
    }

    fn reduce(&self, key: &str, values: &[&str]) -> io::Result<String> {
        if key.contains("sherlock") || key.contains("tom") {
            thread::sleep(Duration::from_secs(3));
        }
        Ok(values.len().to_string())
    }
}
