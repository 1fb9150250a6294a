//! The course's `nparallel` trick, shared by `mtiming` and `rtiming`: how many workers are
//! running a task of this phase right now?
//!
//! Each worker drops a marker file `mr-worker-<phase>-<pid>` in the current directory, counts the
//! markers whose process is still alive, sleeps one second (so that overlapping tasks see each
//! other), and removes its marker. The tests then check that some task saw two.

use std::fs;
use std::io;
use std::path::Path;
use std::thread;
use std::time::Duration;

/// Returns how many processes (this one included) are in `phase` at the moment.
pub fn nparallel(phase: &str) -> io::Result<usize> {
    let prefix = format!("mr-worker-{phase}-");
    let mine = format!("{prefix}{}", std::process::id());
    fs::write(&mine, "x")?;

    let mut live = 0;
    for entry in fs::read_dir(".")? {
        let name = entry?.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        // Like Go's Sscanf("%d"): the leading digits are the pid, anything after is ignored.
        let digits = rest
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap_or("");
        if let Ok(pid) = digits.parse::<u32>() {
            if is_alive(pid) {
                live += 1;
            }
        }
    }

    thread::sleep(Duration::from_secs(1));
    fs::remove_file(&mine)?;
    Ok(live)
}

/// Whether process `pid` exists: the course's `kill(pid, 0)`. Linux lists every process (zombies
/// too, as `kill` counts them) under /proc, which avoids an `unsafe` libc call.
fn is_alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive() {
        assert!(is_alive(std::process::id()));
        assert!(!is_alive(u32::MAX));
    }
}
