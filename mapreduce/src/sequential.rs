//! `mrsequential`: the same app run in one process, producing the reference output that a
//! distributed run must match (after sorting its lines).

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
