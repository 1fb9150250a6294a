//! Which seeds a grading session runs, and how a session is cut into slices.
//!
//! Run `i` of a test gets seed `splitmix64(base + i)`: distinct for distinct runs, and the
//! same on every machine given the same `--seed`, so `--partition K/N` on N machines runs
//! exactly the jobs (test, seed) of one unpartitioned session, each once.

/// SplitMix64: a bijection on u64 that scatters consecutive inputs.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The seed of run `i` in a session started from `base`.
pub fn seed_of_run(base: u64, i: u64) -> u64 {
    splitmix64(base.wrapping_add(i))
}

/// `K/N`: the K-th (1-based) of N slices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Partition {
    type Err = String;

    fn from_str(text: &str) -> Result<Partition, String> {
        let (k, n) = text
            .split_once('/')
            .ok_or("expected K/N, for example 2/8")?;
        let index: usize = k
            .trim()
            .parse()
            .map_err(|_| format!("{k:?} is not a slice number"))?;
        let count: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("{n:?} is not a slice count"))?;
        if count == 0 || index == 0 || index > count {
            return Err(format!(
                "slice {index} of {count} does not exist: need 1 <= K <= N"
            ));
        }
        Ok(Partition { index, count })
    }
}

impl Partition {
    /// Whether the job at `position` in the session's fixed order belongs to this slice.
    pub fn contains(&self, position: usize) -> bool {
        position % self.count == self.index - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_distinct_and_stable() {
        let seeds: std::collections::BTreeSet<u64> =
            (0..1000).map(|i| seed_of_run(42, i)).collect();
        assert_eq!(seeds.len(), 1000);
        assert_eq!(seed_of_run(42, 3), seed_of_run(42, 3));
    }

    #[test]
    fn slices_cover_every_job_once() {
        let slices: Vec<Partition> = (1..=3).map(|k| format!("{k}/3").parse().unwrap()).collect();
        for position in 0..100 {
            assert_eq!(slices.iter().filter(|s| s.contains(position)).count(), 1);
        }
    }

    #[test]
    fn bad_partitions_are_refused() {
        for bad in ["0/3", "4/3", "1/0", "x/2", "3"] {
            assert!(bad.parse::<Partition>().is_err(), "{bad} was accepted");
        }
    }
}
