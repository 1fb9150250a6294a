//! File names and file I/O shared by the coordinator, the workers and `mrsequential`.
//!
//! Every file a task produces is written under a temporary name and then renamed into place.
//! A rename within one directory is atomic, so a worker that crashes mid-write leaves only a
//! `mr-tmp-*` file behind, never a partial `mr-X-Y` or `mr-out-Y` that a reader could mistake
//! for a finished one (the MapReduce paper, section 3.3). Temporary names deliberately do not
//! start with `mr-out`, so `sort mr-out*` never picks one up.

use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// The intermediate file written by map task `map` for reduce partition `reduce`.
pub fn intermediate_name(map: u32, reduce: u32) -> String {
    format!("mr-{map}-{reduce}")
}

/// The output file of reduce task `reduce`.
pub fn output_name(reduce: u32) -> String {
    format!("mr-out-{reduce}")
}

/// Adds the file name to an I/O error so the user knows which file failed.
pub fn with_path(path: impl AsRef<Path>, error: io::Error) -> io::Error {
    io::Error::new(
        error.kind(),
        format!("{}: {error}", path.as_ref().display()),
    )
}

/// Checks that `path` names a readable regular file, without reading it. The coordinator calls
/// this for every input before it starts, so a typo fails the job at once instead of at the
/// map task.
pub fn check_readable(path: &str) -> io::Result<()> {
    let file = File::open(path).map_err(|e| with_path(path, e))?;
    let metadata = file.metadata().map_err(|e| with_path(path, e))?;
    if metadata.is_dir() {
        return Err(with_path(
            path,
            io::Error::new(io::ErrorKind::InvalidInput, "is a directory, not a file"),
        ));
    }
    Ok(())
}

/// Reads an input file as text. Bytes that are not UTF-8 become U+FFFD, as Go's conversion of
/// a byte slice to runes does, so no input is rejected for its encoding.
pub fn read_input(path: &str) -> io::Result<String> {
    let bytes = fs::read(path).map_err(|e| with_path(path, e))?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// Writes `path` atomically: `fill` writes the contents into a temporary file in the same
/// directory, which is then renamed to `path`. On any error the temporary file is removed and
/// `path` is left untouched.
pub fn write_atomically(
    path: &str,
    fill: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    // Unique among concurrent writers: other processes differ by pid, threads of this
    // process by the counter.
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let dir = Path::new(path).parent().unwrap_or(Path::new(""));
    let name = Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!("mr-tmp-{}-{sequence}-{name}", std::process::id()));

    let result = (|| {
        let mut writer = BufWriter::with_capacity(64 * 1024, File::create(&temp)?);
        fill(&mut writer)?;
        writer.into_inner().map_err(|e| e.into_error())?;
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result.map_err(|e| with_path(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn names_follow_the_course() {
        assert_eq!(intermediate_name(3, 7), "mr-3-7");
        assert_eq!(output_name(4), "mr-out-4");
    }

    #[test]
    fn atomic_write_replaces_only_on_success() {
        let dir = std::env::temp_dir().join(format!("mr-files-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mr-out-0");
        let path = path.to_str().unwrap();

        write_atomically(path, |w| w.write_all(b"first\n")).unwrap();
        let failed = write_atomically(path, |w| {
            w.write_all(b"partial")?;
            Err(io::Error::other("simulated crash"))
        });
        assert!(failed.is_err());
        assert_eq!(fs::read_to_string(path).unwrap(), "first\n");
        // The failed attempt cleaned up its temporary file.
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_input_names_the_file() {
        let err = check_readable("/nonexistent/pg-missing.txt").unwrap_err();
        assert!(err.to_string().contains("pg-missing.txt"), "{err}");
    }
}
