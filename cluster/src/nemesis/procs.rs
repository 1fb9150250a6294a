//! The replica processes the nemesis starts, kills, pauses and restarts.
//!
//! Each replica is a `kvserver` process with its own data directory; its stdout and stderr go
//! to one log file, appended to across restarts, so that a failing run keeps what every
//! incarnation said. Kills are SIGKILL (no chance to clean up: a crash), pauses SIGSTOP and
//! SIGCONT (a process that stops answering without its connections closing, like a long GC
//! pause or a VM migration).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use super::layout::Member;
use super::net::Net;

/// What a replica is doing now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    Up,
    Killed,
    Paused,
}

pub struct Replicas {
    kvserver: PathBuf,
    dir: PathBuf,
    maxraftstate: i64,
    members: Vec<Member>,
    children: Vec<Option<Child>>,
    health: Vec<Health>,
    /// Replicas found to have exited by themselves when they were about to be killed: a
    /// crash that a kill must not hide.
    crashes: Vec<String>,
}

impl Replicas {
    /// `members` are indexed by their position (the layout lists them in index order).
    pub fn new(kvserver: &Path, dir: &Path, maxraftstate: i64, members: Vec<Member>) -> Replicas {
        let n = members.len();
        debug_assert!(members.iter().enumerate().all(|(i, m)| m.index == i));
        Replicas {
            kvserver: kvserver.to_path_buf(),
            dir: dir.to_path_buf(),
            maxraftstate,
            members,
            children: (0..n).map(|_| None).collect(),
            health: vec![Health::Killed; n],
            crashes: Vec::new(),
        }
    }

    /// How many replicas there are.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn health(&self, i: usize) -> Health {
        self.health[i]
    }

    pub fn log_path(&self, i: usize) -> PathBuf {
        self.dir.join(format!("server-{i}.log"))
    }

    /// Starts replica `i` from its data directory.
    pub fn start(&mut self, net: &Net, i: usize) -> Result<(), String> {
        let log_path = self.log_path(i);
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("cannot open {}: {e}", log_path.display()))?;
        let _ = writeln!(log, "---- nemesis: starting replica {i}");
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let mut command = net.command_for(i, &self.kvserver);
        command
            .args(&self.members[i].args)
            .arg("--data-dir")
            .arg(self.dir.join(format!("data-{i}")))
            .args(["--maxraftstate", &self.maxraftstate.to_string()])
            .env(
                "RUST_LOG",
                std::env::var("NEMESIS_SERVER_LOG").unwrap_or("info".into()),
            )
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err);
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start replica {i}: {e}"))?;
        self.children[i] = Some(child);
        self.health[i] = Health::Up;
        Ok(())
    }

    /// SIGKILL, and waits for the process to be gone (so its lock and port are free).
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.children[i].take() {
            if let Ok(Some(status)) = child.try_wait() {
                self.crashes
                    .push(format!("replica {i} exited by itself: {status}"));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        self.health[i] = Health::Killed;
    }

    pub fn pause(&mut self, i: usize) -> Result<(), String> {
        self.signal(i, "STOP")?;
        self.health[i] = Health::Paused;
        Ok(())
    }

    pub fn resume(&mut self, i: usize) -> Result<(), String> {
        self.signal(i, "CONT")?;
        self.health[i] = Health::Up;
        Ok(())
    }

    /// A replica that exited on its own (it should never): its exit status.
    pub fn exited(&mut self, i: usize) -> Option<String> {
        let child = self.children[i].as_mut()?;
        match child.try_wait() {
            Ok(Some(status)) => {
                self.children[i] = None;
                self.health[i] = Health::Killed;
                Some(status.to_string())
            }
            _ => None,
        }
    }

    /// Every replica that has exited by itself so far (see [`Replicas::kill`]), and forgets
    /// them.
    pub fn take_crashes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.crashes)
    }

    /// Kills every replica (resuming paused ones first, so none is left stopped).
    pub fn stop_all(&mut self) {
        for i in 0..self.children.len() {
            if self.health[i] == Health::Paused {
                let _ = self.resume(i);
            }
            self.kill(i);
        }
    }

    fn signal(&self, i: usize, signal: &str) -> Result<(), String> {
        let child = self.children[i]
            .as_ref()
            .ok_or_else(|| format!("replica {i} is not running"))?;
        let status = std::process::Command::new("kill")
            .args(["-s", signal, &child.id().to_string()])
            .status()
            .map_err(|e| format!("cannot run kill: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("kill -s {signal} {} failed", child.id()))
        }
    }
}

impl Drop for Replicas {
    fn drop(&mut self) {
        self.stop_all();
    }
}
