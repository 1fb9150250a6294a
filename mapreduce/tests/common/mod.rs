//! Helpers for the integration tests: each test runs the real binaries as separate processes in
//! its own temporary directory, with its own socket, so tests can run in parallel.
//!
//! Every process is wrapped in a [`Proc`] guard with a hard deadline (the course wraps each
//! process in `timeout 45s`): waiting past it kills the process and fails the test, and
//! dropping the guard (the test ended, passed or panicked) kills whatever is still running. A
//! bug can make a test fail, never hang the suite or leave processes behind.
//!
//! The output a distributed run must match comes from [`reference`], a plain implementation
//! here that shares nothing with the workers' grouping, sorting, Reduce loop or output
//! formatting; only the app itself is common to both sides.

#![allow(dead_code)] // Each test binary uses a different subset of these helpers.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// The course's limit for one process (`timeout -k 2s 45s`).
pub const PROCESS_LIMIT: Duration = Duration::from_secs(45);
/// The course's limit in the crash test (`timeout -k 2s 120s`).
pub const CRASH_LIMIT: Duration = Duration::from_secs(120);
/// How often a test checks on processes it is waiting for.
const POLL: Duration = Duration::from_millis(2);

pub const COORDINATOR: &str = env!("CARGO_BIN_EXE_mrcoordinator");
pub const WORKER: &str = env!("CARGO_BIN_EXE_mrworker");
pub const SEQUENTIAL: &str = env!("CARGO_BIN_EXE_mrsequential");

/// The eight input texts, as absolute paths (the copy in mapreduce/data).
pub fn inputs() -> Vec<String> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let mut files: Vec<String> = fs::read_dir(&data)
        .unwrap_or_else(|e| panic!("{}: {e}", data.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            name.starts_with("pg-") && name.ends_with(".txt")
        })
        .map(|path| path.to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        8,
        "expected the eight pg-*.txt texts in {}",
        data.display()
    );
    files
}

/// The expected output of `app` on the eight texts, computed in this process the plain way, as
/// the course's mrsequential does: Map every input, collect the pairs by key, Reduce each key,
/// format each line as Go's `"%v %v\n"`; then sorted, blank lines dropped, like
/// [`TestDir::output`]. It deliberately uses none of the crate's own grouping, sorting, Reduce or
/// output code (`kv`, `tasks`, `sequential`, `files`), which mrsequential shares with the
/// workers: a bug there would otherwise show up in the output and its reference alike, and the
/// comparison would pass. Simple and allocation-heavy on purpose; it runs once per test.
pub fn reference(app_name: &str) -> Vec<String> {
    let app = mapreduce::apps::lookup(app_name).unwrap();
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in inputs() {
        let bytes = fs::read(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
        // Go's string(bytes) keeps invalid UTF-8 and its range loop turns it into U+FFFD, as this
        // does (the eight texts are valid UTF-8 anyway).
        let contents = String::from_utf8_lossy(&bytes);
        app.map(&file, &contents, &mut |key, value| {
            groups
                .entry(key.to_string())
                .or_default()
                .push(value.to_string())
        })
        .unwrap_or_else(|e| panic!("{app_name} map of {file}: {e}"));
    }
    let mut text = String::new();
    for (key, values) in &groups {
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        let value = app
            .reduce(key, &values)
            .unwrap_or_else(|e| panic!("{app_name} reduce of {key:?}: {e}"));
        text.push_str(&format!("{key} {value}\n"));
    }
    sorted_text_lines(&text)
}

/// Fails the test with `message` unless `actual` and `expected` (sorted output lines) are equal.
/// The message shows the first line that differs rather than both outputs, which run to tens of
/// thousands of lines.
pub fn assert_same_lines(actual: &[String], expected: &[String], message: &str) {
    if actual == expected {
        return;
    }
    let at = actual
        .iter()
        .zip(expected)
        .position(|(a, e)| a != e)
        .unwrap_or(actual.len().min(expected.len()));
    panic!(
        "{message}: {} lines, expected {}; first difference at line {}: got {:?}, expected {:?}",
        actual.len(),
        expected.len(),
        at + 1,
        actual.get(at),
        expected.get(at)
    );
}

/// Prints the course-style result lines: `Test (1): NAME ...` when created, and
/// `  ... Passed --  SECONDS` from [`Scenario::passed`].
pub struct Scenario {
    start: Instant,
}

impl Scenario {
    pub fn start(name: &str) -> Scenario {
        println!("Test (1): {name} ...");
        Scenario {
            start: Instant::now(),
        }
    }

    pub fn passed(self) {
        println!("  ... Passed --  {:.1}", self.start.elapsed().as_secs_f64());
    }
}

/// A fresh directory for one test: the working directory of its processes, holding their
/// files, their socket and their logs. Removed when the test passes; kept (and named in the
/// panic output) when it fails, for inspection.
pub struct TestDir {
    pub path: PathBuf,
    logs: AtomicUsize,
}

impl TestDir {
    pub fn new(name: &str) -> TestDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("mr-{name}-{}-{unique}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        TestDir {
            path,
            logs: AtomicUsize::new(0),
        }
    }

    /// This test's socket path.
    pub fn socket(&self) -> String {
        self.path.join("mr.sock").to_string_lossy().into_owned()
    }

    /// Starts `program` in this directory with a hard deadline `limit`; its stderr goes to
    /// a log file here.
    pub fn spawn(&self, name: &str, program: &str, args: &[&str], limit: Duration) -> Proc {
        let n = self.logs.fetch_add(1, Ordering::Relaxed);
        let log_path = self.path.join(format!("log-{n:02}-{name}"));
        let log = File::create(&log_path).unwrap();
        let child = Command::new(program)
            .args(args)
            .current_dir(&self.path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {program}: {e}"));
        Proc {
            name: format!("{name} (log {})", log_path.display()),
            log: log_path,
            child,
            deadline: Instant::now() + limit,
            status: None,
        }
    }

    /// Starts a coordinator on the eight texts, listening on this test's socket.
    pub fn coordinator(&self, extra: &[&str], limit: Duration) -> Proc {
        let socket = self.socket();
        let inputs = inputs();
        let mut args = vec!["--listen", &socket];
        args.extend_from_slice(extra);
        args.extend(inputs.iter().map(String::as_str));
        let mut coordinator = self.spawn("coordinator", COORDINATOR, &args, limit);
        self.wait_for_socket(&mut coordinator);
        coordinator
    }

    /// Waits until the coordinator's socket exists. The course's script sleeps a second
    /// instead; waiting for the socket starts the workers as soon as they can connect. A
    /// coordinator that exits first fails the test at once, with the end of what it said.
    pub fn wait_for_socket(&self, coordinator: &mut Proc) {
        let socket = self.path.join("mr.sock");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            if let Some(status) = coordinator.try_wait() {
                panic!(
                    "the coordinator exited ({status}) before it created {}: {}",
                    socket.display(),
                    last_words(&coordinator.stderr())
                );
            }
            assert!(
                Instant::now() < deadline,
                "the coordinator never created {}",
                socket.display()
            );
            thread::sleep(POLL);
        }
    }

    /// Starts a worker running `app` for this test's coordinator.
    pub fn worker(&self, app: &str, limit: Duration) -> Proc {
        let socket = self.socket();
        self.spawn("worker", WORKER, &[app, "--coordinator", &socket], limit)
    }

    /// Runs mrsequential with `app` on the eight texts in a subdirectory and returns its output
    /// lines, sorted, blank lines dropped (the course's `sort mr-out-0 | grep .`). The scenarios
    /// compare against [`reference`] instead; this checks the binary itself.
    pub fn sequential(&self, app: &str) -> Vec<String> {
        let reference = self.path.join("reference");
        fs::create_dir_all(&reference).unwrap();
        let inputs = inputs();
        let status = Command::new(SEQUENTIAL)
            .arg(app)
            .args(&inputs)
            .current_dir(&reference)
            .status()
            .unwrap();
        assert!(status.success(), "mrsequential {app} failed: {status}");
        sorted_lines(&reference, "mr-out-0")
    }

    /// The output of a distributed run: the lines of every `mr-out*` file, sorted, blank lines
    /// dropped (the course's `sort mr-out* | grep .`).
    pub fn output(&self) -> Vec<String> {
        sorted_lines(&self.path, "mr-out")
    }

    /// Names of the files in this directory that start with `prefix`.
    pub fn files_starting_with(&self, prefix: &str) -> Vec<String> {
        files_starting_with(&self.path, prefix)
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!(
                "test files and process logs kept in {}",
                self.path.display()
            );
        } else {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

fn files_starting_with(dir: &Path, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(prefix))
        .collect();
    names.sort();
    names
}

fn sorted_lines(dir: &Path, prefix: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for name in files_starting_with(dir, prefix) {
        let text = fs::read_to_string(dir.join(&name)).unwrap();
        lines.extend(text.lines().filter(|l| !l.is_empty()).map(String::from));
    }
    lines.sort();
    lines
}

/// The lines of `text`, blank ones dropped, sorted: `sort | grep .`.
fn sorted_text_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    lines.sort();
    lines
}

/// What a process that died said of why: the message of its panic if it panicked (the line
/// after "panicked at"), else its last line.
pub fn last_words(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let panic = lines.iter().position(|l| l.contains("panicked at"));
    match panic.and_then(|i| lines.get(i + 1)).or(lines.last()) {
        Some(line) => line.trim(),
        None => "it printed nothing",
    }
}

/// A process started by a test, killed when dropped.
pub struct Proc {
    pub name: String,
    /// Where its stderr goes.
    pub log: PathBuf,
    child: Child,
    deadline: Instant,
    status: Option<ExitStatus>,
}

impl Proc {
    /// The exit status if the process has exited, without waiting.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().unwrap();
        }
        self.status
    }

    /// Waits for the process to exit. Past its deadline it is killed and the test fails.
    pub fn wait(&mut self) -> ExitStatus {
        loop {
            if let Some(status) = self.try_wait() {
                return status;
            }
            if Instant::now() >= self.deadline {
                let _ = self.child.kill();
                panic!("{} did not exit before its deadline; killed", self.name);
            }
            thread::sleep(POLL);
        }
    }

    /// Waits for the process and fails the test unless it exited successfully.
    pub fn wait_success(&mut self) {
        let status = self.wait();
        assert!(status.success(), "{} failed: {status}", self.name);
    }

    /// Waits for a worker and fails the test unless it exited successfully, or found no
    /// coordinator to talk to. The latter is not a bug: a job can finish before a worker
    /// started late (on a busy machine) gets to connect; the course's script ignores worker
    /// exit codes altogether.
    pub fn wait_worker(&mut self) {
        let status = self.wait();
        let stderr = self.stderr();
        let too_late = status.code() == Some(1) && stderr.contains("cannot reach the coordinator");
        assert!(
            status.success() || too_late,
            "{} failed: {status}\n{stderr}",
            self.name
        );
    }

    /// What the process has written to stderr so far.
    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The process id (what a worker puts in its temporary file names).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process with SIGKILL, which it cannot catch or clean up after, as in a crash,
    /// and waits until it is gone. Returns whether this call killed it: `false` if it had
    /// exited on its own first.
    pub fn kill(&mut self) -> bool {
        use std::os::unix::process::ExitStatusExt;
        if self.try_wait().is_some() {
            return false;
        }
        let _ = self.child.kill();
        let status = self.child.wait().unwrap();
        self.status = Some(status);
        // It may have exited by itself between the check and the signal.
        status.signal() == Some(9)
    }

    /// Whether the process has passed its deadline (the caller should give up on it).
    pub fn overdue(&self) -> bool {
        Instant::now() >= self.deadline
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits until any of `procs` exits, and returns its index. Fails the test if one of them
/// passes its deadline first.
pub fn wait_any(procs: &mut [Proc]) -> usize {
    loop {
        for (i, proc) in procs.iter_mut().enumerate() {
            if proc.try_wait().is_some() {
                return i;
            }
            assert!(
                !proc.overdue(),
                "{} did not exit before its deadline",
                proc.name
            );
        }
        thread::sleep(POLL);
    }
}

/// Runs a whole job as fast as it can go: the coordinator and `n_workers` workers all started at
/// once (workers retry until the coordinator listens). Returns when every process has exited
/// successfully.
pub fn quick_job(dir: &TestDir, app: &str, n_workers: usize) {
    let socket = dir.socket();
    let inputs = inputs();
    let mut args = vec!["--listen", socket.as_str()];
    args.extend(inputs.iter().map(String::as_str));
    let mut coordinator = dir.spawn("coordinator", COORDINATOR, &args, PROCESS_LIMIT);
    let mut workers: Vec<Proc> = (0..n_workers)
        .map(|_| {
            dir.spawn(
                "worker",
                WORKER,
                &[app, "--coordinator", &socket],
                PROCESS_LIMIT,
            )
        })
        .collect();
    coordinator.wait_success();
    for worker in &mut workers {
        worker.wait_worker();
    }
}

/// The course's crash scenario: a coordinator, one worker running `crash`, and three loops that
/// each restart a `crash` worker one second after it dies, for as long as the coordinator runs.
/// Returns when the coordinator and every worker have exited; fails the test if the coordinator
/// does not finish within [`CRASH_LIMIT`] or fails.
pub fn crash_job(dir: &TestDir) {
    let deadline = Instant::now() + CRASH_LIMIT;
    let mut coordinator = dir.coordinator(&[], CRASH_LIMIT);
    let mut single = dir.worker("crash", CRASH_LIMIT);
    let mut loops: Vec<(Option<Proc>, Instant)> = (0..3)
        .map(|_| (Some(dir.worker("crash", CRASH_LIMIT)), Instant::now()))
        .collect();
    let mut exited = Vec::new(); // Their guards live until the end, like the others'.
    while coordinator.try_wait().is_none() {
        assert!(
            Instant::now() < deadline,
            "the crash job did not finish in {CRASH_LIMIT:?}"
        );
        for (slot, restart_at) in &mut loops {
            let died = slot.as_mut().is_some_and(|proc| proc.try_wait().is_some());
            if died {
                exited.push(slot.take());
                *restart_at = Instant::now() + Duration::from_secs(1);
            } else if slot.is_none() && Instant::now() >= *restart_at {
                *slot = Some(dir.worker("crash", CRASH_LIMIT));
            }
        }
        thread::sleep(Duration::from_millis(10));
    }
    assert!(coordinator.wait().success(), "the coordinator failed");
    // Like the script's final `wait`: let the remaining workers finish.
    single.wait();
    for proc in loops.iter_mut().filter_map(|(slot, _)| slot.as_mut()) {
        proc.wait();
    }
}

/// Sleeps; only for the pauses that the course's script itself makes.
pub fn pause(duration: Duration) {
    thread::sleep(duration);
}
