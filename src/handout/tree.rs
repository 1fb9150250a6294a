//! The repository as files: listing them, rendering each one's handout, writing a tree and
//! checking that it round-trips.
//!
//! The files are those git tracks or would track (`git ls-files --cached --others
//! --exclude-standard`), so build output and ignored files never reach a handout; outside a
//! git checkout the tree is walked, leaving out `target*` and `.git`.

use std::path::Path;
use std::process::Command;

use super::markers::{self, Removed};

/// The note a handout carries at its root.
pub const NOTE_FILE: &str = "HANDOUT.md";

/// One file of the repository.
pub struct SourceFile {
    /// Relative to the repository's root, with `/` between components.
    pub path: String,
    pub bytes: Vec<u8>,
    /// Unix permission bits, carried over to the handout (scripts stay executable).
    pub mode: u32,
}

/// One file's handout.
pub struct FileHandout {
    pub path: String,
    /// What the handout holds; `None` when the file is left out (a module that was all
    /// solution).
    pub output: Option<Vec<u8>>,
    pub removed: Vec<Removed>,
    /// The parts of the stubs in it.
    pub stubs: Vec<String>,
    /// Whether the file has solution regions: a student's file, not a canonical one.
    pub marked: bool,
}

/// Whether a file may hold solution regions.
pub fn is_markable(path: &str) -> bool {
    path.ends_with(".rs") || path.ends_with(".toml")
}

/// The repository's files, in path order.
pub fn source_files(root: &Path) -> Result<Vec<SourceFile>, String> {
    let mut paths = match git_files(root) {
        Some(paths) => paths,
        None => files_under(root)?,
    };
    paths.sort();
    paths.dedup();
    // An earlier handout written inside the repository is not part of it.
    let earlier: Vec<String> = paths
        .iter()
        .filter_map(|p| p.strip_suffix(&format!("/{NOTE_FILE}")))
        .map(|dir| format!("{dir}/"))
        .collect();
    paths.retain(|p| !earlier.iter().any(|dir| p.starts_with(dir.as_str())));
    let mut files = Vec::new();
    for path in paths {
        let full = root.join(&path);
        // Listed by git but deleted in the working tree: not part of it.
        let Ok(metadata) = std::fs::metadata(&full) else {
            continue;
        };
        if !metadata.is_file() {
            continue;
        }
        let bytes =
            std::fs::read(&full).map_err(|e| format!("cannot read {}: {e}", full.display()))?;
        files.push(SourceFile {
            path,
            bytes,
            mode: permission_bits(&metadata),
        });
    }
    Ok(files)
}

fn git_files(root: &Path) -> Option<Vec<String>> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let text = String::from_utf8(output.stdout).ok()?;
    Some(
        text.split('\0')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// The files under `dir` (relative, `/` between components), leaving out `.git` and
/// `target*` directories and not following symbolic links.
pub fn files_under(dir: &Path) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let name = entry.file_name().to_string_lossy().to_string();
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| e.to_string())?;
        if kind.is_dir() {
            if name == ".git" || name.starts_with("target") {
                continue;
            }
            walk(root, &path, out)?;
        } else if !kind.is_file() {
            // A symbolic link is not followed: a lab tree has none, and following one could
            // copy a whole file system.
            continue;
        } else if let Ok(relative) = path.strip_prefix(root) {
            let parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().to_string())
                .collect();
            out.push(parts.join("/"));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn permission_bits(metadata: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o777
}

#[cfg(not(unix))]
fn permission_bits(_: &std::fs::Metadata) -> u32 {
    0o644
}

/// Every file's handout, keeping the regions of the labs `keep` accepts. A marker out of
/// place anywhere is an error naming its file and line.
pub fn render_all(
    sources: &[SourceFile],
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<FileHandout>, String> {
    sources
        .iter()
        .map(|source| {
            let unchanged = || FileHandout {
                path: source.path.clone(),
                output: Some(source.bytes.clone()),
                removed: Vec::new(),
                stubs: Vec::new(),
                marked: false,
            };
            if !is_markable(&source.path) {
                return Ok(unchanged());
            }
            let text = std::str::from_utf8(&source.bytes)
                .map_err(|_| format!("{} is not UTF-8", source.path))?;
            let marked = markers::parse(text)
                .map_err(|e| format!("{}:{}: {}", source.path, e.line, e.message))?;
            if marked.regions.is_empty() {
                return Ok(unchanged());
            }
            let rendered = markers::render(&marked, &keep);
            Ok(FileHandout {
                path: source.path.clone(),
                // A file that was all solution, with nothing to hand out, is left out.
                output: (!rendered.text.is_empty()).then(|| rendered.text.into_bytes()),
                removed: rendered.removed,
                stubs: rendered.stubs,
                marked: true,
            })
        })
        .collect()
}

/// Writes the handout files under `dir`.
pub fn write(dir: &Path, sources: &[SourceFile], handouts: &[FileHandout]) -> Result<(), String> {
    for (source, handout) in sources.iter().zip(handouts) {
        let Some(bytes) = &handout.output else {
            continue;
        };
        let path = dir.join(&handout.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        set_mode(&path, source.mode)?;
    }
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("cannot set the mode of {}: {e}", path.display()))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> Result<(), String> {
    Ok(())
}

/// Reads the written tree back and checks the round trip: each file plus the regions taken
/// out of it is its source byte for byte, files left out are absent, and the tree holds
/// nothing else but the note.
pub fn verify(dir: &Path, sources: &[SourceFile], handouts: &[FileHandout]) -> Result<(), String> {
    let mut problems = Vec::new();
    for (source, handout) in sources.iter().zip(handouts) {
        let path = dir.join(&handout.path);
        let written = match (&handout.output, std::fs::read(&path)) {
            (Some(_), Ok(bytes)) => bytes,
            (None, Err(_)) => Vec::new(),
            (Some(_), Err(e)) => {
                problems.push(format!("{}: cannot read it back: {e}", handout.path));
                continue;
            }
            (None, Ok(_)) => {
                problems.push(format!("{}: should have been left out", handout.path));
                continue;
            }
        };
        let restored = if handout.removed.is_empty() {
            Some(written)
        } else {
            String::from_utf8(written)
                .ok()
                .and_then(|text| markers::restore(&text, &handout.removed))
                .map(String::into_bytes)
        };
        if restored.as_deref() != Some(source.bytes.as_slice()) {
            problems.push(format!(
                "{}: the handout plus its removed regions is not the original",
                handout.path
            ));
        }
    }
    for path in files_under(dir)? {
        let known = path == NOTE_FILE
            || handouts
                .iter()
                .any(|h| h.path == path && h.output.is_some());
        if !known {
            problems.push(format!(
                "{path}: in the handout but not from the repository"
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the handout does not round-trip:\n  {}",
            problems.join("\n  ")
        ))
    }
}
