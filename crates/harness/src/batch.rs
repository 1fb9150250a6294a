//! Several seeds of one test in one process: `LAB_SEEDS=S1,S2,…`, how the grader runs them.
//!
//! Starting a test binary costs more than many of the tests it holds (a Raft 2A test takes a
//! few milliseconds of wall time, the process around it several), so the grader asks one
//! process to run one test with a list of seeds. Each seed is still its own run: a fresh
//! simulation with its own seed, digest and result lines, exactly as `LAB_SEED=S` would run
//! it (nothing of one run outlives it but the process). Around each run the harness prints
//!
//! ```text
//! lab-run: begin seed=S
//! … the run's own output: Test (…), seed=S digest=D, Passed -- or FAILED, replay: …
//! lab-run: end seed=S passed wall=0.012345
//! ```
//!
//! and stops at the first run that fails (its test panics as it would alone), so a failure,
//! a watchdog abort or a kill always ends the process inside that run's lines: the grader
//! reports that run as failed and runs the seeds after it again. `wall` is the run's own wall
//! time in seconds, without the process's start.

use std::time::Instant;

/// The variable that names a batch's seeds.
pub const SEEDS_VAR: &str = "LAB_SEEDS";

/// The line that opens a run of a batch.
pub const BEGIN: &str = "lab-run: begin seed=";

/// The line that closes a run of a batch that passed.
pub const END: &str = "lab-run: end seed=";

/// `LAB_SEEDS` parsed: None when unset.
///
/// # Errors
/// A list that does not parse (an empty one included) or that is given together with
/// `LAB_SEED`: a typo must not silently run other seeds.
pub fn seeds_from_env() -> Result<Option<Vec<u64>>, String> {
    let Ok(text) = std::env::var(SEEDS_VAR) else {
        return Ok(None);
    };
    if std::env::var_os("LAB_SEED").is_some() {
        return Err(format!(
            "both LAB_SEED and {SEEDS_VAR} are set: give one seed or a list, not both"
        ));
    }
    parse_seeds(&text).map(Some).ok_or_else(|| {
        format!("{SEEDS_VAR}={text:?} is not a list of seeds: give decimal or 0x-prefixed hex u64s separated by commas")
    })
}

/// `S1,S2,…`, each decimal or `0x` hex; at least one.
pub fn parse_seeds(text: &str) -> Option<Vec<u64>> {
    let seeds: Option<Vec<u64>> = text.split(',').map(crate::seed::parse).collect();
    seeds.filter(|s| !s.is_empty())
}

/// Runs `one` for every seed of the batch, between its marker lines, until one fails.
/// Returns the first failure (with the seed that failed), the caller fails the test with it.
pub fn run_each<E>(seeds: &[u64], mut one: impl FnMut(u64) -> Result<(), E>) -> Result<(), E> {
    for &seed in seeds {
        println!("{BEGIN}{seed}");
        let started = Instant::now();
        one(seed)?;
        println!(
            "{END}{seed} passed wall={:.6}",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_seed_lists() {
        assert_eq!(parse_seeds("1,0x10, 3"), Some(vec![1, 16, 3]));
        assert_eq!(parse_seeds("7"), Some(vec![7]));
        assert_eq!(parse_seeds(""), None);
        assert_eq!(parse_seeds("1,,2"), None);
        assert_eq!(parse_seeds("1,x"), None);
    }

    #[test]
    fn stops_at_the_first_failure() {
        let mut ran = Vec::new();
        let outcome = run_each(&[1, 2, 3], |seed| {
            ran.push(seed);
            if seed == 2 {
                Err(seed)
            } else {
                Ok(())
            }
        });
        assert_eq!(outcome, Err(2));
        assert_eq!(ran, vec![1, 2]);
    }
}
