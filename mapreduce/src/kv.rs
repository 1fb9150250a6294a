//! Key/value pairs on their way from Map to Reduce.
//!
//! [`Pairs`] is an append-only buffer of encoded pairs: a map task fills one per reduce
//! partition and writes each as an intermediate file `mr-X-Y`. [`decode`] reads pairs back
//! without copying them. [`Groups`] collects pairs (from intermediate files, or straight from
//! Map in `mrsequential`) by key, and [`reduce_into`] runs Reduce over the keys in sorted order
//! and writes the course's `"key value"` lines.
//!
//! The encoding writes each key and value as `<length>:<text>` (a netstring without the
//! trailing comma): keys and values may hold any character, spaces and newlines included, and
//! the file stays readable text. `wc` emits six hundred thousand pairs for the eight books, so
//! both structures avoid an allocation per pair: [`Pairs`] appends to one string, and
//! [`Groups`] mostly just counts.
//!
//! Given in the student handout, not part of the lab: `tests/kills.rs` reads every `mr-X-Y`
//! with [`decode`], so workers must write their intermediate files in this encoding.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use crate::apps::App;
use crate::hash::FnvBuildHasher;

/// An append-only buffer of encoded key/value pairs.
#[derive(Default)]
pub struct Pairs {
    text: String,
}

impl Pairs {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one pair.
    pub fn push(&mut self, key: &str, value: &str) {
        for field in [key, value] {
            // Writing to a String cannot fail.
            let _ = write!(self.text, "{}:", field.len());
            self.text.push_str(field);
        }
    }

    /// The encoded pairs, as written to an intermediate file.
    pub fn as_bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }
}

/// The pairs encoded in `bytes` (the contents of an intermediate file), borrowed from it.
/// Damaged data is an `InvalidData` error, never a panic.
pub fn decode(bytes: &[u8]) -> io::Result<Vec<(&str, &str)>> {
    let damaged = || io::Error::new(io::ErrorKind::InvalidData, "malformed intermediate data");
    let mut rest = std::str::from_utf8(bytes).map_err(|_| damaged())?;
    let mut pairs = Vec::new();
    while !rest.is_empty() {
        let (key, after_key) = take_field(rest).ok_or_else(damaged)?;
        let (value, after_value) = take_field(after_key).ok_or_else(damaged)?;
        pairs.push((key, value));
        rest = after_value;
    }
    Ok(pairs)
}

/// Splits `<length>:<field>` off the front of `text`: returns the field and what follows.
fn take_field(text: &str) -> Option<(&str, &str)> {
    let (len, after) = text.split_once(':')?;
    let len: usize = len.parse().ok()?;
    Some((after.get(..len)?, after.get(len..)?))
}

/// Pairs grouped by key: what Reduce needs.
///
/// Each key is stored once, and each group keeps its values as runs of equal values
/// (value, how many times in a row). Most apps emit the same value over and over (`wc`'s "1"),
/// so a group usually stays a single run however many pairs it gets, and adding a pair costs a
/// hash lookup and an increment.
#[derive(Default)]
pub struct Groups {
    /// Each distinct key and its group number.
    index: HashMap<Box<str>, u32, FnvBuildHasher>,
    /// For each group, its values in the order they were added, as runs:
    /// (value number, run length).
    runs: Vec<Vec<(u32, u32)>>,
    /// The distinct values (consecutive duplicates stored once), by value number.
    values: Vec<Box<str>>,
}

impl Groups {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one pair.
    pub fn add(&mut self, key: &str, value: &str) {
        // Group and value numbers fit in u32: four billion distinct strings would need far more
        // memory than a worker has.
        let group = match self.index.get(key) {
            Some(&group) => group as usize,
            None => {
                self.index.insert(key.into(), self.runs.len() as u32);
                self.runs.push(Vec::new());
                self.runs.len() - 1
            }
        };
        if !self.values.last().is_some_and(|last| short_eq(last, value)) {
            self.values.push(value.into());
        }
        let value = self.values.len() as u32 - 1;
        match self.runs[group].last_mut() {
            Some((last, count)) if *last == value => *count += 1,
            _ => self.runs[group].push((value, 1)),
        }
    }

    /// Adds every pair encoded in `bytes` (an intermediate file).
    pub fn add_encoded(&mut self, bytes: &[u8]) -> io::Result<()> {
        for (key, value) in decode(bytes)? {
            self.add(key, value);
        }
        Ok(())
    }

    /// Calls `each(key, values)` for every key in sorted order (byte order, like Go's
    /// `sort.Sort(ByKey)`), with its values in the order they were added.
    pub fn for_each_sorted(
        self,
        mut each: impl FnMut(&str, &[&str]) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut keys: Vec<(Box<str>, u32)> = self.index.into_iter().collect();
        keys.sort_unstable();
        let mut values: Vec<&str> = Vec::new();
        for (key, group) in &keys {
            values.clear();
            for &(value, count) in &self.runs[*group as usize] {
                let value: &str = &self.values[value as usize];
                values.extend(std::iter::repeat_n(value, count as usize));
            }
            each(key, &values)?;
        }
        Ok(())
    }
}

/// String equality for the short strings of typical pairs: an inline loop beats a call to
/// `memcmp`, and this runs once per pair.
fn short_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
}

/// Runs `app`'s Reduce once per key, in key order, writing one `"key value"` line per key (the
/// course's `"%v %v\n"`).
pub fn reduce_into(app: &dyn App, groups: Groups, out: &mut impl Write) -> io::Result<()> {
    groups.for_each_sorted(|key, values| {
        let value = app.reduce(key, values)?;
        out.write_all(key.as_bytes())?;
        out.write_all(b" ")?;
        out.write_all(value.as_bytes())?;
        out.write_all(b"\n")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_round_trip_any_text() {
        let long = "x".repeat(300);
        let mut pairs = Pairs::new();
        pairs.push("a", "1");
        pairs.push("with space:\nand newline", "");
        pairs.push(&long, "é");
        assert_eq!(
            decode(pairs.as_bytes()).unwrap(),
            vec![
                ("a", "1"),
                ("with space:\nand newline", ""),
                (long.as_str(), "é")
            ]
        );
    }

    #[test]
    fn damaged_data_is_an_error_not_a_panic() {
        let mut pairs = Pairs::new();
        pairs.push("key", "é");
        let bytes = pairs.as_bytes();
        for cut in 1..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert!(decode(b"9:short").is_err());
        assert!(decode(b"x:1:a").is_err());
        assert!(decode(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn groups_collect_values_and_sort_keys() {
        let mut groups = Groups::new();
        for (k, v) in [("b", "1"), ("a", "2"), ("b", "1"), ("b", "3")] {
            groups.add(k, v);
        }
        let mut seen = Vec::new();
        groups
            .for_each_sorted(|key, values| {
                seen.push(format!("{key}={}", values.join(",")));
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, ["a=2", "b=1,1,3"]);
    }
}
