//! `mrsequential`: the same app run in one process, writing the output that a distributed run
//! must match (after sorting its lines).
//!
//! It groups and reduces with the workers' own fast code ([`Groups`], [`reduce_into`]), so the
//! tests do not use it as their reference: a bug in that code would show up on both sides of the
//! comparison. They compute the expected output with a plain implementation of their own
//! (`tests/common`) and check this one against it as well.

use std::io;

use crate::apps::App;
use crate::files;
use crate::kv::{reduce_into, Groups};

/// Runs `app` over `inputs` and writes every key's output line to `output`. Nothing is
/// written unless every input was read and mapped.
pub fn run(app: &dyn App, inputs: &[String], output: &str) -> io::Result<()> {
    let mut groups = Groups::new();
    for file in inputs {
        let contents = files::read_input(file)?;
        app.map(file, &contents, &mut |key, value| groups.add(key, value))?;
    }
    files::write_atomically(output, |out| reduce_into(app, groups, out))
}
