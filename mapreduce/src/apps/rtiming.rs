//! `rtiming`: tests that reduce tasks run in parallel. Map emits the keys `a` to `j`; Reduce
//! outputs how many reduce tasks were running at once (see [`super::liveness`]).

use std::io;

use super::{liveness::nparallel, App};

pub struct ReduceTiming;

impl App for ReduceTiming {
    fn map(
        &self,
        _filename: &str,
        _contents: &str,
        emit: &mut dyn FnMut(&str, &str),
    ) -> io::Result<()> {
        for key in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"] {
            emit(key, "1");
        }
        Ok(())
    }

    fn reduce(&self, _key: &str, _values: &[&str]) -> io::Result<String> {
        Ok(nparallel("reduce")?.to_string())
    }
}
