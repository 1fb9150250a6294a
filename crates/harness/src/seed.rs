//! Where a run's seed comes from, and how to replay it.

/// `LAB_SEED` if set (decimal, or hex with `0x`), else a fresh random seed.
///
/// # Panics
/// If `LAB_SEED` is set but is not a number: a typo must not silently run another seed. If
/// `LAB_SEEDS` is set: a test that reads its seed itself would run a fresh one in a batch
/// (it should take its seeds from `harness::run_test` or `harness::run_seeded_test`).
pub fn from_env() -> u64 {
    if std::env::var_os(crate::batch::SEEDS_VAR).is_some() {
        panic!(
            "this test reads LAB_SEED itself and cannot run a batch (LAB_SEEDS): run it with LAB_SEED, or take the seed from harness::run_seeded_test"
        );
    }
    match std::env::var("LAB_SEED") {
        Ok(text) => parse(&text).unwrap_or_else(|| {
            panic!("LAB_SEED={text:?} is not a seed: give a decimal or 0x-prefixed hex u64")
        }),
        Err(_) => rand::random(),
    }
}

/// Parses a seed written in decimal or `0x` hex.
pub fn parse(text: &str) -> Option<u64> {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// `LAB_REALTIME=1`: run on a multi-threaded runtime against the wall clock.
pub fn realtime_from_env() -> bool {
    matches!(
        std::env::var("LAB_REALTIME").as_deref(),
        Ok("1") | Ok("true") | Ok("yes")
    )
}

/// The command that replays this test with this seed (and in this mode).
pub fn replay_command(seed: u64) -> String {
    // libtest names each test's thread after the test's path in its binary.
    let thread = std::thread::current();
    let test = thread
        .name()
        .filter(|n| *n != "main")
        .unwrap_or("TEST_NAME");
    let package = std::env::var("CARGO_PKG_NAME")
        .map(|p| format!(" -p {p}"))
        .unwrap_or_default();
    // A realtime run is replayed realtime: that is where it failed.
    let realtime = if realtime_from_env() {
        "LAB_REALTIME=1 "
    } else {
        ""
    };
    format!("{realtime}LAB_SEED={seed} cargo test --release{package} {test} -- --exact --nocapture")
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_decimal_and_hex() {
        assert_eq!(super::parse("1234"), Some(1234));
        assert_eq!(super::parse(" 0xff "), Some(255));
        assert_eq!(super::parse("seed"), None);
        assert_eq!(super::parse("-1"), None);
    }
}
