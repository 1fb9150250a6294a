//! The persister on disk across real crashes: a child process (this test binary again,
//! running [`child_process`]) saves in a loop and is `SIGKILL`ed at random instants, and a
//! save that fails ends the process.
//!
//! The tests here run one at a time ([`SERIAL`]): a child forked while another test holds a
//! directory's lock shares that lock until it execs (flock locks belong to the open file,
//! which a fork shares), so a test reopening its directory then would find it in use.

mod disk_common;

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use disk_common::{assert_same, op_for, tag_of, TempDir};
use raft::Persister;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Held by each test for its whole run.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Set in a child process: the directory it saves in, and what it does there.
const CHILD_DIR: &str = "RAFT_DISK_TEST_CHILD_DIR";
const CHILD_ROLE: &str = "RAFT_DISK_TEST_CHILD_ROLE";

/// Runs this test binary again as a child doing `role` in `dir`.
fn child(role: &str, dir: &Path) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "child_process",
            "--ignored",
            "--nocapture",
            "--quiet",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir)
        .env(CHILD_ROLE, role)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// The child processes of the tests below (not a test of its own: it does nothing unless
/// started by one of them).
#[test]
#[ignore = "run by other tests as a child process"]
fn child_process() {
    let (Ok(dir), Ok(role)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_ROLE)) else {
        return;
    };
    let p = Persister::open(&dir).unwrap_or_else(|err| panic!("child: {err}"));
    match role.as_str() {
        // Saves the next numbered save, again and again, telling each one done.
        "save-loop" => loop {
            let tag = tag_of(&p) + 1;
            op_for(tag, &p).apply(&p);
            println!("saved {tag}");
        },
        // Saves a snapshot whose file cannot be created.
        "failing-save" => {
            p.save_raft_state(b"before".to_vec());
            fs::create_dir(Path::new(&dir).join("raft.snapshot.1")).unwrap();
            println!("saving");
            p.save(b"after".to_vec(), b"snapshot".to_vec());
            println!("saved, which it should not have");
        }
        _ => panic!("unknown role {role}"),
    }
}

#[test]
fn a_process_killed_at_any_instant_restarts_from_its_last_save() {
    use std::os::unix::process::ExitStatusExt;

    let _serial = serial();
    let dir = TempDir::new("kill");
    let mut rng = SmallRng::seed_from_u64(11);
    let model = Persister::new();
    // The last save a child reported.
    let mut reported = 0;
    let mut rounds = 0;
    let mut ahead = 0;
    let started = Instant::now();
    while rounds < 15 || (rounds < 50 && started.elapsed() < Duration::from_secs(4)) {
        let mut process = child("save-loop", dir.path()).spawn().unwrap();
        let mut stdout = BufReader::new(process.stdout.take().unwrap());
        let mut lines = Vec::new();
        if rounds == 0 {
            // While the child lives and saves, the directory is its own.
            let mut line = String::new();
            stdout.read_line(&mut line).unwrap();
            while !line.contains("saved ") {
                line.clear();
                assert!(stdout.read_line(&mut line).unwrap() > 0, "the child ended");
            }
            lines.push(line);
            let err = Persister::open(dir.path()).err().expect("a dir in use");
            assert!(err.is_in_use(), "{err}");
            assert!(
                err.to_string().contains(&format!("pid {}", process.id())),
                "{err}"
            );
        }
        std::thread::sleep(Duration::from_micros(rng.random_range(0..100_000)));
        process.kill().unwrap();
        let status = process.wait().unwrap();
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).unwrap();
        let mut stderr = String::new();
        process
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_eq!(
            status.signal(),
            Some(9),
            "the child ended by itself ({status}): {stderr}"
        );
        lines.extend(rest.lines().map(str::to_string));
        for line in &lines {
            // (libtest may have begun the line with the test's name.)
            if let Some(at) = line.find("saved ") {
                let tag: u64 = line[at + 6..].trim().parse().unwrap();
                assert_eq!(tag, reported + 1, "saves reported out of order");
                reported = tag;
            }
        }

        let disk = Persister::open(dir.path())
            .unwrap_or_else(|err| panic!("round {rounds}, after save {reported}: {err}"));
        let found = tag_of(&disk);
        assert!(
            found == reported || found == reported + 1,
            "round {rounds}: the child reported save {reported}, the directory holds {found}"
        );
        while tag_of(&model) < found {
            let tag = tag_of(&model) + 1;
            op_for(tag, &model).apply(&model);
        }
        assert_same(&disk, &model, &format!("round {rounds}, at save {found}"));
        if found > reported {
            ahead += 1;
            reported = found;
        }
        rounds += 1;
    }
    eprintln!(
        "{rounds} rounds, {reported} saves in {:.1} s; {ahead} rounds found one save more than \
         reported (killed after writing a save, before reporting it)",
        started.elapsed().as_secs_f64()
    );
    assert!(
        reported >= rounds,
        "only {reported} saves in {rounds} rounds: the kills struck too soon to test much"
    );
}

#[test]
fn a_failed_save_ends_the_process_with_an_error_naming_the_file() {
    let _serial = serial();
    let dir = TempDir::new("fail");
    let output = child("failing-save", dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(74), "{stdout}\n{stderr}");
    assert!(stdout.contains("saving"), "{stdout}");
    assert!(!stdout.contains("saved, which"), "{stdout}");
    let file = dir.join("raft.snapshot.1");
    assert!(
        stderr.contains(&format!("{}: cannot create", file.display())),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Nothing of the failed save is in force.
    fs::remove_dir(&file).unwrap();
    let p = Persister::open(dir.path()).unwrap();
    assert_eq!(p.read_raft_state(), b"before");
    assert_eq!(p.read_snapshot(), b"");
}
