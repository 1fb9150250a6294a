//! No input makes the parsers, the checker or the HTML renderer panic: thousands of
//! deterministic random corruptions of valid history files either parse (and then check and
//! render) or are rejected with a line-numbered error.

use lincheck::{check, parse, render_html, KvModel, RegisterModel};
use std::path::Path;

fn data(file: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(file),
    )
    .unwrap()
}

/// A small deterministic pseudo-random generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }
}

/// Applies one random corruption to a file's lines.
fn mutate(rng: &mut Rng, lines: &mut Vec<String>) {
    const NOISE: &[&str] = &[
        "",
        " ",
        "\t",
        ":",
        ",",
        "\"",
        "\\",
        "{",
        "}",
        "[",
        "]",
        "nil",
        "-1",
        "999999999999999999999",
        ":ok",
        ":fail",
        ":info",
        ":invoke",
        ":cas",
        ":read",
        ":write",
        ":get",
        ":put",
        ":append",
        "é",
        "\u{0}",
    ];
    let n = lines.len();
    match rng.below(8) {
        0 if n > 0 => {
            lines.remove(rng.below(n));
        }
        1 if n > 0 => {
            let line = lines[rng.below(n)].clone();
            lines.insert(rng.below(n + 1), line);
        }
        2 if n > 1 => {
            let (a, b) = (rng.below(n), rng.below(n));
            lines.swap(a, b);
        }
        3 if n > 0 => {
            let i = rng.below(n);
            let cut = rng.below(lines[i].chars().count() + 1);
            lines[i] = lines[i].chars().take(cut).collect();
        }
        4 | 5 if n > 0 => {
            // Change a digit: usually still valid, often a different verdict.
            let i = rng.below(n);
            let digits: Vec<usize> = lines[i]
                .char_indices()
                .filter(|(_, c)| c.is_ascii_digit())
                .map(|(at, _)| at)
                .collect();
            if !digits.is_empty() {
                let at = digits[rng.below(digits.len())];
                let digit = char::from(b'0' + rng.below(10) as u8);
                lines[i].replace_range(at..at + 1, &digit.to_string());
            }
        }
        _ if n > 0 => {
            // Replace a random whitespace-separated token with noise.
            let i = rng.below(n);
            let mut tokens: Vec<String> = lines[i].split(' ').map(str::to_string).collect();
            let t = rng.below(tokens.len());
            tokens[t] = NOISE[rng.below(NOISE.len())].to_string();
            lines[i] = tokens.join(" ");
        }
        _ => lines.push(NOISE[rng.below(NOISE.len())].to_string()),
    }
}

#[test]
fn corrupted_files_never_cause_a_panic() {
    let mut rng = Rng(0x5eed);
    let (mut parsed, mut rejected) = (0, 0);
    for file in [
        "kv/c01-ok.txt",
        "kv/c01-bad.txt",
        "jepsen/etcd_000.log",
        "jepsen/etcd_100.log",
    ] {
        let original: Vec<String> = data(file).lines().map(str::to_string).collect();
        for _ in 0..400 {
            let mut lines = original.clone();
            for _ in 0..=rng.below(3) {
                mutate(&mut rng, &mut lines);
            }
            let text = lines.join("\n");
            // Whatever the file was meant to be, feed it to both parsers.
            match parse::kv::parse(&text) {
                Ok(history) => {
                    parsed += 1;
                    let outcome = check(&KvModel, &history, 20_000);
                    render_html(&KvModel, &history, &outcome);
                }
                Err(error) => {
                    rejected += 1;
                    assert!(!error.message.is_empty());
                }
            }
            match parse::jepsen::parse(&text) {
                Ok(history) => {
                    parsed += 1;
                    let outcome = check(&RegisterModel, &history, 20_000);
                    render_html(&RegisterModel, &history, &outcome);
                }
                Err(error) => {
                    rejected += 1;
                    assert!(!error.message.is_empty());
                }
            }
        }
    }
    // The corruptions exercise both paths.
    assert!(
        parsed > 100 && rejected > 100,
        "parsed {parsed}, rejected {rejected}"
    );
}
