//! Solution regions: how the lab sources mark what a student writes, and the two pure
//! functions that turn a marked file into its handout ([`render`]) and back ([`restore`]).
//!
//! The convention, in the spirit of nbgrader's `BEGIN SOLUTION` / `END SOLUTION`, for `.rs`
//! and `.toml` files (`#` instead of `//` in TOML). A region is the lines from a begin marker
//! to its end marker, each marker alone on its line, indented like the code around it:
//!
//! ```text
//!     pub fn start(&self, command: Vec<u8>) -> Option<(u64, u64)> {
//!         // BEGIN SOLUTION 2B
//!         let proposed = self.shared.lock().propose(command);
//!         ...
//!         // HANDOUT
//!         // // Hint: if this peer is not the leader, return None.
//!         // todo!("Lab 2B: start agreement on a new log entry")
//!         // END SOLUTION
//!     }
//! ```
//!
//! - The begin marker names the lab part the region belongs to: `1`, `2`, `2A` … `2D`, `3`,
//!   `3A`, `3B`, `4`, `4A`, `4B`. `--keep` keeps the regions of the labs it names.
//! - Lines up to the optional `HANDOUT` marker are the solution. Lines after it are what the
//!   handout gets instead, each written as a comment (the marker's indentation, its comment
//!   token, a space, the line), so the solution tree compiles them never and keeps them next
//!   to the code they stand for. Without a `HANDOUT` marker the region is simply removed.
//! - A file that is one region without a handout part (a module the student writes from
//!   scratch) is left out of the handout altogether.
//! - Regions do not nest; a marker out of place is an error naming its line.
//!
//! A kept region keeps its solution lines only (no markers, no commented stub), so a kept lab
//! reads as ordinary code. Every replaced region is recorded ([`Removed`]): the handout plus
//! its records is the original file again, byte for byte ([`restore`]).

use serde::{Deserialize, Serialize};

/// The lab parts a region may name, and the lab each belongs to.
pub const PARTS: &[&str] = &[
    "1", "2", "2A", "2B", "2C", "2D", "3", "3A", "3B", "4", "4A", "4B",
];

/// The labs `--keep` may name.
pub const LABS: &[&str] = &["1", "2", "3", "4"];

/// The lab ("1" … "4") a part belongs to.
pub fn lab_of(part: &str) -> &str {
    &part[..1]
}

/// A marker out of place, at a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkerError {
    pub line: usize,
    pub message: String,
}

/// One region of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// The lab part the begin marker names.
    pub part: String,
    /// The 0-based line of the begin marker.
    pub begin: usize,
    /// The 0-based line of the end marker.
    pub end: usize,
    /// The 0-based line of the `HANDOUT` marker, if any.
    pub handout_marker: Option<usize>,
    /// The handout's lines, uncommented, each ending as the file's lines do.
    pub handout: Vec<String>,
}

/// A file split into its regions.
#[derive(Debug, Clone)]
pub struct Marked<'a> {
    /// The file's lines, line endings included.
    pub lines: Vec<&'a str>,
    pub regions: Vec<Region>,
}

/// Where a replaced region sits in the handout and what it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removed {
    /// The 0-based line of the handout where the region's replacement starts.
    pub line: usize,
    /// How many handout lines replace it.
    pub lines: usize,
    /// The region as it was, markers included.
    pub original: String,
    /// The part the region named.
    pub part: String,
}

/// The handout of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    pub removed: Vec<Removed>,
    /// Regions whose handout part is not empty (stubs the student fills in), by part.
    pub stubs: Vec<String>,
}

/// What a marker line says.
#[derive(Debug, PartialEq, Eq)]
enum Marker<'a> {
    Begin(&'a str),
    Handout,
    End,
}

/// A line's marker, with its indentation and comment token, if it is one.
fn marker(line: &str) -> Option<(&str, &str, Marker<'_>)> {
    let body = line.trim_end_matches(['\n', '\r']);
    let rest = body.trim_start_matches([' ', '\t']);
    let indent = &body[..body.len() - rest.len()];
    let token = ["//", "#"].into_iter().find(|t| rest.starts_with(t))?;
    let words = rest[token.len()..].strip_prefix(' ')?;
    let marker = if let Some(part) = words.strip_prefix("BEGIN SOLUTION ") {
        Marker::Begin(part)
    } else if words == "HANDOUT" {
        Marker::Handout
    } else if words == "END SOLUTION" {
        Marker::End
    } else {
        return None;
    };
    Some((indent, token, marker))
}

/// Splits `text` into lines and finds its regions.
pub fn parse(text: &str) -> Result<Marked<'_>, MarkerError> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut regions = Vec::new();
    // The open region: its begin line, indentation, token, part, and HANDOUT line.
    let mut open: Option<(usize, &str, &str, &str, Option<usize>)> = None;
    let error = |line: usize, message: String| MarkerError {
        line: line + 1,
        message,
    };
    for (number, line) in lines.iter().enumerate() {
        let found = marker(line);
        match (&mut open, found) {
            (None, Some((indent, token, Marker::Begin(part)))) => {
                if !PARTS.contains(&part) {
                    return Err(error(
                        number,
                        format!(
                            "unknown lab part {part:?} (the parts are {})",
                            PARTS.join(", ")
                        ),
                    ));
                }
                open = Some((number, indent, token, part, None));
            }
            (None, Some((_, _, found))) => {
                let what = if found == Marker::End {
                    "END SOLUTION"
                } else {
                    "HANDOUT"
                };
                return Err(error(number, format!("{what} outside a solution region")));
            }
            (Some((begin, ..)), Some((_, _, Marker::Begin(_)))) => {
                return Err(error(
                    number,
                    format!(
                        "BEGIN SOLUTION inside the region begun at line {}: regions do not nest",
                        *begin + 1
                    ),
                ));
            }
            (Some((begin, indent, token, _, handout)), Some((i, t, found))) => {
                if i != *indent || t != *token {
                    return Err(error(
                        number,
                        format!(
                            "this marker's indentation or comment differs from the BEGIN SOLUTION at line {}",
                            *begin + 1
                        ),
                    ));
                }
                if found == Marker::Handout {
                    if handout.is_some() {
                        return Err(error(number, "a second HANDOUT in one region".into()));
                    }
                    *handout = Some(number);
                    continue;
                }
                let (begin, indent, token, part, handout) = open.take().expect("open");
                let stub = match handout {
                    Some(from) => uncomment(&lines[from + 1..number], indent, token)
                        .map_err(|at| error(from + 1 + at, format!(
                            "a HANDOUT line must be the marker's indentation and {token:?}, then a space and the line"
                        )))?,
                    None => Vec::new(),
                };
                regions.push(Region {
                    part: part.to_string(),
                    begin,
                    end: number,
                    handout_marker: handout,
                    handout: stub,
                });
            }
            (_, None) => {}
        }
    }
    if let Some((begin, ..)) = open {
        return Err(error(begin, "BEGIN SOLUTION without END SOLUTION".into()));
    }
    Ok(Marked { lines, regions })
}

/// The handout lines of a region: each commented line with its comment taken off.
fn uncomment(lines: &[&str], indent: &str, token: &str) -> Result<Vec<String>, usize> {
    let prefix = format!("{indent}{token}");
    lines
        .iter()
        .enumerate()
        .map(|(at, line)| {
            let ending = &line[line.trim_end_matches(['\n', '\r']).len()..];
            let body = &line[..line.len() - ending.len()];
            let rest = body.strip_prefix(prefix.as_str()).ok_or(at)?;
            if rest.is_empty() {
                Ok(ending.to_string())
            } else {
                let text = rest.strip_prefix(' ').ok_or(at)?;
                Ok(format!("{indent}{text}{ending}"))
            }
        })
        .collect()
}

/// The handout of a marked file: every region replaced by its handout lines, except those of
/// the labs `keep` accepts, which keep their solution lines.
pub fn render(marked: &Marked<'_>, keep: impl Fn(&str) -> bool) -> Rendered {
    let mut text = String::new();
    let mut removed = Vec::new();
    let mut stubs = Vec::new();
    let mut out_lines = 0;
    let mut next = 0;
    for region in &marked.regions {
        for line in &marked.lines[next..region.begin] {
            text.push_str(line);
            out_lines += 1;
        }
        let solution_end = region.handout_marker.unwrap_or(region.end);
        let replacement: Vec<&str> = if keep(lab_of(&region.part)) {
            marked.lines[region.begin + 1..solution_end].to_vec()
        } else {
            if !region.handout.is_empty() {
                stubs.push(region.part.clone());
            }
            region.handout.iter().map(String::as_str).collect()
        };
        removed.push(Removed {
            line: out_lines,
            lines: replacement.len(),
            original: marked.lines[region.begin..=region.end].concat(),
            part: region.part.clone(),
        });
        for line in replacement {
            text.push_str(line);
            out_lines += 1;
        }
        next = region.end + 1;
    }
    for line in &marked.lines[next..] {
        text.push_str(line);
    }
    Rendered {
        text,
        removed,
        stubs,
    }
}

/// The original of a handout file: each recorded region put back in place of its
/// replacement. `None` if the records do not fit the text (a line past its end).
pub fn restore(handout: &str, removed: &[Removed]) -> Option<String> {
    let lines: Vec<&str> = handout.split_inclusive('\n').collect();
    let mut text = String::new();
    let mut next = 0;
    for region in removed {
        let end = region.line.checked_add(region.lines)?;
        if region.line < next || end > lines.len() {
            return None;
        }
        text.extend(lines[next..region.line].iter().copied());
        text.push_str(&region.original);
        next = end;
    }
    text.extend(lines[next..].iter().copied());
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Marker lines are built here, not written out, so that this file itself holds none.
    fn m(indent: &str, words: &str) -> String {
        format!("{indent}// {words}\n")
    }

    fn file(parts: &[&str]) -> String {
        parts.concat()
    }

    #[test]
    fn a_region_with_a_stub_becomes_the_stub() {
        let text = file(&[
            "fn start() -> u32 {\n",
            &m("    ", "BEGIN SOLUTION 2B"),
            "    let x = 1;\n",
            "    x + 1\n",
            &m("    ", "HANDOUT"),
            "    // // Hint: return the index.\n",
            "    //\n",
            "    // todo!(\"Lab 2B: start\")\n",
            &m("    ", "END SOLUTION"),
            "}\n",
        ]);
        let marked = parse(&text).unwrap();
        let handout = render(&marked, |_| false);
        assert_eq!(
            handout.text,
            "fn start() -> u32 {\n    // Hint: return the index.\n\n    todo!(\"Lab 2B: start\")\n}\n"
        );
        assert_eq!(handout.stubs, vec!["2B".to_string()]);
        assert_eq!(restore(&handout.text, &handout.removed).unwrap(), text);
        let kept = render(&marked, |lab| lab == "2");
        assert_eq!(
            kept.text,
            "fn start() -> u32 {\n    let x = 1;\n    x + 1\n}\n"
        );
        assert!(kept.stubs.is_empty());
        assert_eq!(restore(&kept.text, &kept.removed).unwrap(), text);
    }

    #[test]
    fn a_region_without_a_stub_is_removed_and_a_whole_file_is_empty() {
        let text = file(&[
            &m("", "BEGIN SOLUTION 2"),
            "mod core;\n",
            &m("", "END SOLUTION"),
        ]);
        let handout = render(&parse(&text).unwrap(), |_| false);
        assert_eq!(handout.text, "");
        assert_eq!(restore("", &handout.removed).unwrap(), text);
    }

    #[test]
    fn toml_uses_hash_and_a_file_without_markers_is_unchanged() {
        let text = "[package]\n# BEGIN SOLUTION 2\n[[bench]]\nname = \"save\"\n# END SOLUTION\n";
        let handout = render(&parse(text).unwrap(), |_| false);
        assert_eq!(handout.text, "[package]\n");
        assert_eq!(restore(&handout.text, &handout.removed).unwrap(), text);
        let plain = "no markers\nat all";
        assert_eq!(render(&parse(plain).unwrap(), |_| false).text, plain);
    }

    #[test]
    fn lines_that_merely_mention_markers_are_not_markers() {
        let words = "BEGIN SOLUTION 2A";
        let text = format!("//! // {words}\n/// {words}\nlet s = \"// {words}\";\n//{words}\n");
        assert!(parse(&text).unwrap().regions.is_empty());
    }

    #[test]
    fn misplaced_markers_are_errors_with_their_line() {
        let end_alone = m("", "END SOLUTION");
        assert_eq!(parse(&end_alone).unwrap_err().line, 1);
        let unclosed = file(&["a\n", &m("", "BEGIN SOLUTION 3A"), "b\n"]);
        let error = parse(&unclosed).unwrap_err();
        assert_eq!(error.line, 2);
        assert!(error.message.contains("without END"), "{}", error.message);
        let nested = file(&[
            &m("", "BEGIN SOLUTION 3A"),
            &m("", "BEGIN SOLUTION 3B"),
            &m("", "END SOLUTION"),
        ]);
        assert!(parse(&nested).unwrap_err().message.contains("nest"));
        for unknown in ["BEGIN SOLUTION 5A", "BEGIN SOLUTION 2A and more"] {
            let error = parse(&m("", unknown)).unwrap_err();
            assert!(
                error.message.contains("unknown lab part"),
                "{}",
                error.message
            );
        }
        let misindented = file(&[&m("  ", "BEGIN SOLUTION 1"), &m("", "END SOLUTION")]);
        assert!(parse(&misindented)
            .unwrap_err()
            .message
            .contains("indentation"));
        let bad_stub = file(&[
            &m("", "BEGIN SOLUTION 1"),
            &m("", "HANDOUT"),
            "todo!()\n",
            &m("", "END SOLUTION"),
        ]);
        assert_eq!(parse(&bad_stub).unwrap_err().line, 3);
    }

    #[test]
    fn several_regions_round_trip_with_crlf_and_no_final_newline() {
        let text = file(&[
            "a\r\n",
            &m("", "BEGIN SOLUTION 1").replace('\n', "\r\n"),
            "sol\r\n",
            &m("", "HANDOUT").replace('\n', "\r\n"),
            "// stub\r\n",
            &m("", "END SOLUTION").replace('\n', "\r\n"),
            "b\n",
            &m("", "BEGIN SOLUTION 4B"),
            "x\n",
            &m("", "END SOLUTION"),
            "tail",
        ]);
        let marked = parse(&text).unwrap();
        for keep in [false, true] {
            let handout = render(&marked, |_| keep);
            assert_eq!(restore(&handout.text, &handout.removed).unwrap(), text);
        }
        assert_eq!(render(&marked, |_| false).text, "a\r\nstub\r\nb\ntail");
    }
}
