//! `cargo run --release -- handout DIR`: the labs as a course, a student tree with every
//! lab's solution replaced by stubs that compile and fail with `todo!("Lab 2A: …")`.
//!
//! The solution regions are marked in the sources (`markers.rs` says how). This module walks
//! the repository's files (those git tracks or would track), renders each marked file
//! (`.rs`, `.toml`) through [`markers::render`], copies every other file byte for byte,
//! and writes `HANDOUT.md` saying what was handed out and what kept. Before it reports
//! success it reads the written tree back and checks the round trip: every handout file plus
//! the regions taken out of it is the original file again, and nothing else is in the tree.
//!
//! [`tree`] is shared with `grade-student`, which needs the same split of the repository
//! into the student's files (marked ones) and the canonical ones (everything else).

pub mod markers;
pub mod tree;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;

use markers::LABS;
use tree::{FileHandout, SourceFile};

#[derive(Args)]
pub struct HandoutArgs {
    /// Where to write the student tree (must not exist, or be an empty directory).
    pub dir: PathBuf,
    /// Labs whose solution the handout keeps, so that later labs build on it: `--keep 2`
    /// gives Raft to students doing Lab 3 (comma-separated or repeated: 1, 2, 3, 4).
    #[arg(long, value_name = "LABS", value_delimiter = ',', value_parser = parse_lab)]
    pub keep: Vec<String>,
}

fn parse_lab(text: &str) -> Result<String, String> {
    let lab = text.trim();
    if LABS.contains(&lab) {
        Ok(lab.to_string())
    } else {
        Err(format!(
            "unknown lab {text:?} in --keep; the labs are {}",
            LABS.join(", ")
        ))
    }
}

/// What each lab is called, and where its implementation lives (the lines counted).
pub const LAB_SOURCES: &[(&str, &str, &[&str])] = &[
    ("1", "MapReduce", &["mapreduce/src"]),
    ("2", "Raft", &["raft/src"]),
    (
        "3",
        "key/value service on Raft",
        &["crates/rsm/src", "kvraft/src"],
    ),
    ("4", "sharded key/value service", &["shardkv/src"]),
];

/// The repository the grader was built from: the tree a handout is made of.
pub fn repository_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn run(args: &HandoutArgs) -> Result<(), String> {
    check_empty_destination(&args.dir)?;
    let root = repository_root();
    let sources = tree::source_files(&root)?;
    let keep = |lab: &str| args.keep.iter().any(|k| k == lab);
    let handouts = tree::render_all(&sources, keep)?;
    let note = handout_note(&handouts, &args.keep, &root);
    tree::write(&args.dir, &sources, &handouts)?;
    std::fs::write(args.dir.join(tree::NOTE_FILE), &note)
        .map_err(|e| format!("cannot write {}: {e}", tree::NOTE_FILE))?;
    tree::verify(&args.dir, &sources, &handouts)?;
    let counts = line_counts(&sources, &handouts);
    println!("handout: wrote {}", args.dir.display());
    print!("{}", counts_table(&counts));
    println!(
        "round trip checked: the handout plus the {} regions taken out is the repository, file for file",
        handouts.iter().map(|h| h.removed.len()).sum::<usize>()
    );
    Ok(())
}

/// A destination that exists must be an empty directory: a handout never overwrites.
fn check_empty_destination(dir: &Path) -> Result<(), String> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                Err(format!(
                    "{} exists and is not empty: give a new or empty directory",
                    dir.display()
                ))
            } else {
                Ok(())
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            Err(format!("{} exists and is not a directory", dir.display()))
        }
        Err(e) => Err(format!("cannot read {}: {e}", dir.display())),
    }
}

/// Non-blank lines of the labs' implementations, in the solution and in the handout.
pub struct LineCount {
    pub lab: &'static str,
    pub name: &'static str,
    pub solution: usize,
    pub handout: usize,
}

pub fn line_counts(sources: &[SourceFile], handouts: &[FileHandout]) -> Vec<LineCount> {
    let code_lines = |bytes: &[u8]| {
        String::from_utf8_lossy(bytes)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count()
    };
    LAB_SOURCES
        .iter()
        .map(|(lab, name, dirs)| {
            let ours = |path: &str| {
                path.ends_with(".rs") && dirs.iter().any(|d| path.starts_with(&format!("{d}/")))
            };
            let mut count = LineCount {
                lab,
                name,
                solution: 0,
                handout: 0,
            };
            for (source, handout) in sources.iter().zip(handouts) {
                if ours(&source.path) {
                    count.solution += code_lines(&source.bytes);
                    count.handout += handout.output.as_deref().map_or(0, code_lines);
                }
            }
            count
        })
        .collect()
}

fn counts_table(counts: &[LineCount]) -> String {
    let mut out = String::from("  lab  implementation                  solution  handout  share\n");
    let (mut solution, mut handout) = (0, 0);
    for c in counts {
        solution += c.solution;
        handout += c.handout;
        let _ = writeln!(
            out,
            "  {:3}  {:30}  {:8}  {:7}  {:4.0} %",
            c.lab,
            c.name,
            c.solution,
            c.handout,
            100.0 * c.handout as f64 / c.solution.max(1) as f64
        );
    }
    let _ = writeln!(
        out,
        "  all  {:30}  {:8}  {:7}  {:4.0} %",
        "(non-blank lines of .rs)",
        solution,
        handout,
        100.0 * handout as f64 / solution.max(1) as f64
    );
    out
}

/// `HANDOUT.md`: what this tree is, which labs it hands out and which it keeps, and where
/// the stubs are.
fn handout_note(handouts: &[FileHandout], keep: &[String], root: &Path) -> String {
    let commit = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let mut out = String::from("# The labs, handed out\n\n");
    let _ = writeln!(
        out,
        "This tree was written by `cargo run --release -- handout`{}{}. Its tests, testers, \
         network, harness, checker and grader are the course's whole; the labs' \
         implementations are stubs for you to write. Read the README's \"Taking the labs\" \
         first.\n",
        commit.map_or(String::new(), |c| format!(" from commit {c}")),
        if keep.is_empty() {
            String::new()
        } else {
            format!(" with `--keep {}`", keep.join(","))
        }
    );
    out.push_str("| lab | what | in this tree |\n| --- | --- | --- |\n");
    for (lab, name, _) in LAB_SOURCES {
        let state = if keep.iter().any(|k| k == lab) {
            "kept: the solution is included, so the labs after it build on a working one"
        } else {
            "handed out: yours to write"
        };
        let _ = writeln!(out, "| {lab} | {name} | {state} |");
    }
    out.push_str("\nThe stubs, by file (each `todo!(\"Lab …\")` names its part):\n\n");
    out.push_str("| file | parts |\n| --- | --- |\n");
    for handout in handouts {
        if handout.stubs.is_empty() {
            continue;
        }
        let mut parts = handout.stubs.clone();
        parts.dedup();
        let _ = writeln!(out, "| `{}` | {} |", handout.path, parts.join(", "));
    }
    out.push_str(
        "\nA test of a part you have not written fails at once with `not yet implemented: Lab \
         …`, naming the part. `cargo run --release -- 2a` runs part 2A's tests; the README \
         says how to loop seeds and replay a failure.\n",
    );
    out
}
