//! `crash` and `nocrash`: tests recovery from crashed and slow workers.
//!
//! With `may_crash`, every Map and Reduce call first rolls a die: a third of the time the worker
//! process exits on the spot, a third of the time it sleeps up to 10 s, otherwise it goes on.
//! Map emits facts about its file (`a` = name, `b` = name length, `c` = content length in bytes,
//! `d` = "xyzzy"); Reduce joins the sorted values. `nocrash` gives the expected output.

use std::io;
use std::thread;
use std::time::Duration;

use super::{random, App};

pub struct Crash {
    pub may_crash: bool,
}

impl Crash {
    fn maybe_crash(&self) {
        if !self.may_crash {
            return;
        }
        let roll = random::below(1000);
        if roll < 330 {
            std::process::exit(1);
        } else if roll < 660 {
            thread::sleep(Duration::from_millis(random::below(10_000)));
        }
    }
}

impl App for Crash {
    fn map(
        &self,
        filename: &str,
        contents: &str,
        emit: &mut dyn FnMut(&str, &str),
    ) -> io::Result<()> {
        self.maybe_crash();
        emit("a", filename);
        emit("b", &filename.len().to_string());
        emit("c", &contents.len().to_string());
        emit("d", "xyzzy");
        Ok(())
    }

    fn reduce(&self, _key: &str, values: &[&str]) -> io::Result<String> {
        self.maybe_crash();
        let mut values = values.to_vec();
        values.sort_unstable();
        Ok(values.join(" "))
    }
}
