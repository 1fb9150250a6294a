// BEGIN SOLUTION 1
//! The bodies of a map task and a reduce task, as a worker runs them. Plain blocking code:
//! the worker runs them on a blocking thread, off its RPC runtime.

use std::fs;
use std::io::{self, Write};

use crate::apps::App;
use crate::files::{self, intermediate_name, output_name, with_path};
use crate::hash::partition;
use crate::kv::{reduce_into, Groups, Pairs};

/// Map task `id`: runs Map over `file` and writes its pairs, split by key into `n_reduce`
/// partitions, to `mr-<id>-<partition>`. Every partition file is written, even an empty one,
/// so a reduce task can tell "no pairs" from "map not run".
pub fn run_map(app: &dyn App, id: u32, file: &str, n_reduce: u32) -> io::Result<()> {
    let contents = files::read_input(file)?;
    let mut partitions: Vec<Pairs> = (0..n_reduce).map(|_| Pairs::new()).collect();
    app.map(file, &contents, &mut |key, value| {
        partitions[partition(key, n_reduce)].push(key, value)
    })?;
    for (reduce, pairs) in (0..n_reduce).zip(&partitions) {
        files::write_atomically(&intermediate_name(id, reduce), |out| {
            out.write_all(pairs.as_bytes())
        })?;
    }
    Ok(())
}

/// Reduce task `id`: gathers partition `id` of every map task's output, runs Reduce per key in
/// key order, and writes `mr-out-<id>`.
pub fn run_reduce(app: &dyn App, id: u32, n_map: u32) -> io::Result<()> {
    let inputs = (0..n_map)
        .map(|map| {
            let name = intermediate_name(map, id);
            fs::read(&name).map_err(|e| with_path(&name, e))
        })
        .collect::<io::Result<Vec<Vec<u8>>>>()?;
    let mut groups = Groups::new();
    for (map, bytes) in (0..n_map).zip(&inputs) {
        groups
            .add_encoded(bytes)
            .map_err(|e| with_path(intermediate_name(map, id), e))?;
    }
    files::write_atomically(&output_name(id), |out| reduce_into(app, groups, out))
}
// END SOLUTION
