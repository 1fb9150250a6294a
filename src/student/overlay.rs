//! The tree a student is graded in: their files, with the canonical tests and tooling laid
//! over them.
//!
//! A file is the student's when its source in this repository has solution regions (the lab
//! code, `lib.rs` and `Cargo.toml` of the lab crates), when this repository has no such file
//! (modules they added), and `Cargo.lock` (a dependency they added needs its entry). Every
//! other file of the repository is canonical: tests, testers, labrpc, harness, lincheck, the
//! grader, the build configuration. Those are written over the student's copy, and every one
//! the student changed or deleted is reported.

use std::path::Path;

use crate::handout::tree::{self, FileHandout, SourceFile};

/// A canonical file the student's tree did not hold as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    Modified(String),
    Missing(String),
}

impl std::fmt::Display for Changed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Changed::Modified(path) => write!(f, "changed: {path}"),
            Changed::Missing(path) => write!(f, "missing: {path}"),
        }
    }
}

/// Files that are the student's although unmarked.
const STUDENT_OWNED: &[&str] = &["Cargo.lock", tree::NOTE_FILE];

/// The canonical files: the sources without solution regions.
pub fn canonical<'a>(sources: &'a [SourceFile], handouts: &[FileHandout]) -> Vec<&'a SourceFile> {
    sources
        .iter()
        .zip(handouts)
        .filter(|(source, handout)| {
            !handout.marked && !STUDENT_OWNED.contains(&source.path.as_str())
        })
        .map(|(source, _)| source)
        .collect()
}

/// Makes `work` a copy of `student` (less `.git` and build output) with `canonical` written
/// over it; returns the canonical files the student had changed or deleted.
pub fn prepare(
    student: &Path,
    work: &Path,
    canonical: &[&SourceFile],
) -> Result<Vec<Changed>, String> {
    if work.exists() {
        std::fs::remove_dir_all(work)
            .map_err(|e| format!("cannot clear {}: {e}", work.display()))?;
    }
    copy_tree(student, work)?;
    let mut changed = Vec::new();
    for file in canonical {
        let path = work.join(&file.path);
        match std::fs::read(&path) {
            Ok(bytes) if bytes == file.bytes => continue,
            Ok(_) => changed.push(Changed::Modified(file.path.clone())),
            Err(_) => changed.push(Changed::Missing(file.path.clone())),
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, &file.bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(changed)
}

/// Copies a tree, leaving out `.git` and `target*` directories.
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    for path in tree::files_under(from)? {
        let target = to.join(&path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::copy(from.join(&path), &target)
            .map_err(|e| format!("cannot copy {}: {e}", from.join(&path).display()))?;
    }
    std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(path: &str, text: &str) -> SourceFile {
        SourceFile {
            path: path.into(),
            bytes: text.as_bytes().to_vec(),
            mode: 0o644,
        }
    }

    #[test]
    fn canonical_files_are_laid_over_and_changes_reported() {
        let base = std::env::temp_dir().join(format!("overlay-test-{}", std::process::id()));
        let (student, work) = (base.join("student"), base.join("work"));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(student.join("raft/tests")).unwrap();
        std::fs::create_dir_all(student.join("raft/src")).unwrap();
        std::fs::create_dir_all(student.join("target/release")).unwrap();
        std::fs::write(student.join("raft/tests/a.rs"), "weakened").unwrap();
        std::fs::write(student.join("raft/tests/b.rs"), "same").unwrap();
        std::fs::write(student.join("raft/src/raft.rs"), "student code").unwrap();
        std::fs::write(student.join("target/release/big"), "build output").unwrap();
        let a = source("raft/tests/a.rs", "canonical");
        let b = source("raft/tests/b.rs", "same");
        let c = source("labrpc/src/lib.rs", "network");
        let changed = prepare(&student, &work, &[&a, &b, &c]).unwrap();
        assert_eq!(
            changed,
            vec![
                Changed::Modified("raft/tests/a.rs".into()),
                Changed::Missing("labrpc/src/lib.rs".into())
            ]
        );
        let read = |p: &str| std::fs::read_to_string(work.join(p)).unwrap();
        assert_eq!(read("raft/tests/a.rs"), "canonical");
        assert_eq!(read("labrpc/src/lib.rs"), "network");
        assert_eq!(read("raft/src/raft.rs"), "student code");
        assert!(!work.join("target").exists());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
