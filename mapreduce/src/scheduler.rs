// BEGIN SOLUTION 1
//! The coordinator's decisions, as a plain synchronous state machine.
//!
//! The [`Scheduler`] knows nothing of RPC, files or clocks: the coordinator asks it what to do
//! with a worker's request ([`Scheduler::assign`]), tells it about reports
//! ([`Scheduler::complete`], [`Scheduler::fail`]) and lost connections
//! ([`Scheduler::worker_lost`]), and passes the current time in. That keeps every rule of the
//! MapReduce paper's master here, testable without processes or sockets:
//!
//! - all map tasks finish before any reduce task is handed out (a reduce needs every map's
//!   output);
//! - a task not reported within the timeout is given to the next worker that asks (the worker
//!   may have crashed, or be stuck), and so is every task of a worker whose connection dropped;
//! - the first completion report of a task wins and later ones are ignored: output files are
//!   renamed into place atomically and the apps are deterministic, so a presumed-dead worker's
//!   late report describes output as good as anyone's.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Identifies a worker connection; assigned by the coordinator as workers connect.
pub type WorkerId = u64;

/// A task of the job: map task `i` reads input file `i`; reduce task `i` writes `mr-out-i`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskId {
    Map(u32),
    Reduce(u32),
}

/// What to tell a worker that asks for work.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Run this task.
    Run(TaskId),
    /// Nothing can be handed out now; ask again when the state changes (a report, a lost
    /// worker) or at `until`, when a running task's timeout expires (`None`: no timeout
    /// pending).
    Wait { until: Option<Instant> },
    /// The job is over (finished or failed): exit.
    Exit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TaskState {
    Idle,
    Running { worker: WorkerId, deadline: Instant },
    Done,
}

/// The state of one job: every map and reduce task, and whether the job failed.
pub struct Scheduler {
    maps: Vec<TaskState>,
    reduces: Vec<TaskState>,
    maps_left: usize,
    reduces_left: usize,
    timeout: Duration,
    failure: Option<String>,
    /// Workers whose connection dropped. A request of theirs still in flight gets nothing,
    /// so no task is handed to a worker that is known to be gone.
    lost: BTreeSet<WorkerId>,
}

impl Scheduler {
    /// A job of `n_map` map tasks and `n_reduce` reduce tasks, in which a task not reported
    /// within `timeout` of being handed out is handed out again.
    pub fn new(n_map: usize, n_reduce: usize, timeout: Duration) -> Self {
        Scheduler {
            maps: vec![TaskState::Idle; n_map],
            reduces: vec![TaskState::Idle; n_reduce],
            maps_left: n_map,
            reduces_left: n_reduce,
            timeout,
            failure: None,
            lost: BTreeSet::new(),
        }
    }

    /// Decides what `worker`, asking for work at `now`, should do.
    pub fn assign(&mut self, worker: WorkerId, now: Instant) -> Decision {
        if self.is_over() || self.lost.contains(&worker) {
            return Decision::Exit;
        }
        let timeout = self.timeout;
        let (tasks, make_id): (&mut Vec<TaskState>, fn(u32) -> TaskId) = if self.maps_left > 0 {
            (&mut self.maps, TaskId::Map)
        } else {
            (&mut self.reduces, TaskId::Reduce)
        };

        // A task whose worker missed its deadline is presumed lost: make it available again.
        for (i, task) in tasks.iter_mut().enumerate() {
            if let TaskState::Running {
                worker: late,
                deadline,
            } = *task
            {
                if deadline <= now {
                    tracing::info!(task = ?make_id(i as u32), worker = late, "timed out; re-issuing");
                    *task = TaskState::Idle;
                }
            }
        }

        if let Some(i) = tasks.iter().position(|t| *t == TaskState::Idle) {
            tasks[i] = TaskState::Running {
                worker,
                deadline: now + timeout,
            };
            return Decision::Run(make_id(i as u32));
        }
        let until = tasks
            .iter()
            .filter_map(|t| match t {
                TaskState::Running { deadline, .. } => Some(*deadline),
                _ => None,
            })
            .min();
        Decision::Wait { until }
    }

    /// Records that `task` finished and its output is in place. Returns whether the report
    /// changed anything: a duplicate or unknown report is ignored and returns `false`.
    pub fn complete(&mut self, task: TaskId) -> bool {
        let Some(state) = self.state_mut(task) else {
            return false;
        };
        if *state == TaskState::Done {
            return false;
        }
        *state = TaskState::Done;
        match task {
            TaskId::Map(_) => self.maps_left -= 1,
            TaskId::Reduce(_) => self.reduces_left -= 1,
        }
        true
    }

    /// Records that `task` failed in a way that retrying cannot fix (say, an unreadable input):
    /// the job is over, with `message` as its error. Reports for finished tasks are ignored.
    pub fn fail(&mut self, task: TaskId, message: String) -> bool {
        let pending = matches!(self.state_mut(task), Some(state) if *state != TaskState::Done);
        if !pending || self.failure.is_some() {
            return false;
        }
        self.failure = Some(message);
        true
    }

    /// Makes every task running on `worker` available again: its connection dropped, so it
    /// crashed or exited. Returns how many tasks were released.
    pub fn worker_lost(&mut self, worker: WorkerId) -> usize {
        self.lost.insert(worker);
        let mut released = 0;
        for task in self.maps.iter_mut().chain(self.reduces.iter_mut()) {
            if matches!(*task, TaskState::Running { worker: w, .. } if w == worker) {
                *task = TaskState::Idle;
                released += 1;
            }
        }
        released
    }

    /// Whether the job has finished or failed.
    pub fn is_over(&self) -> bool {
        self.reduces_left == 0 && self.maps_left == 0 || self.failure.is_some()
    }

    /// The job's failure, if it failed.
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    fn state_mut(&mut self, task: TaskId) -> Option<&mut TaskState> {
        match task {
            TaskId::Map(i) => self.maps.get_mut(i as usize),
            TaskId::Reduce(i) => self.reduces.get_mut(i as usize),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TaskId::{Map, Reduce};

    const TIMEOUT: Duration = Duration::from_secs(10);

    fn secs(start: Instant, s: u64) -> Instant {
        start + Duration::from_secs(s)
    }

    #[test]
    fn maps_then_reduces_then_exit() {
        let t0 = Instant::now();
        let mut s = Scheduler::new(2, 1, TIMEOUT);
        assert_eq!(s.assign(1, t0), Decision::Run(Map(0)));
        assert_eq!(s.assign(2, t0), Decision::Run(Map(1)));
        // No reduce before every map is done, even though one map is.
        assert!(s.complete(Map(0)));
        assert_eq!(
            s.assign(1, t0),
            Decision::Wait {
                until: Some(secs(t0, 10))
            }
        );
        assert!(s.complete(Map(1)));
        assert_eq!(s.assign(1, t0), Decision::Run(Reduce(0)));
        assert!(!s.is_over());
        assert!(s.complete(Reduce(0)));
        assert!(s.is_over());
        assert_eq!(s.failure(), None);
        assert_eq!(s.assign(2, t0), Decision::Exit);
    }

    #[test]
    fn task_is_reissued_after_timeout_only() {
        let t0 = Instant::now();
        let mut s = Scheduler::new(1, 1, TIMEOUT);
        assert_eq!(s.assign(1, t0), Decision::Run(Map(0)));
        // Just before the deadline the task still belongs to worker 1.
        let just_before = secs(t0, 10) - Duration::from_millis(1);
        assert!(matches!(s.assign(2, just_before), Decision::Wait { .. }));
        assert_eq!(s.assign(2, secs(t0, 10)), Decision::Run(Map(0)));
    }

    #[test]
    fn late_report_from_presumed_dead_worker_is_harmless() {
        let t0 = Instant::now();
        let mut s = Scheduler::new(1, 1, TIMEOUT);
        assert_eq!(s.assign(1, t0), Decision::Run(Map(0)));
        assert_eq!(s.assign(2, secs(t0, 11)), Decision::Run(Map(0)));
        // Worker 2 finishes first; worker 1's late report changes nothing.
        assert!(s.complete(Map(0)));
        assert!(!s.complete(Map(0)));
        assert_eq!(s.assign(1, secs(t0, 12)), Decision::Run(Reduce(0)));
        assert!(s.complete(Reduce(0)));
        assert!(!s.complete(Reduce(0)));
        assert!(s.is_over());
    }

    #[test]
    fn report_of_a_released_task_still_counts() {
        // The task went back to idle (its worker was presumed lost) but nobody took it yet when
        // a report for it arrives: the output is in place, so the task is done.
        let t0 = Instant::now();
        let mut s = Scheduler::new(1, 1, TIMEOUT);
        assert_eq!(s.assign(1, t0), Decision::Run(Map(0)));
        assert_eq!(s.worker_lost(1), 1);
        assert!(s.complete(Map(0)));
        assert_eq!(s.assign(2, t0), Decision::Run(Reduce(0)));
    }

    #[test]
    fn lost_worker_tasks_are_reissued_at_once() {
        let t0 = Instant::now();
        let mut s = Scheduler::new(2, 1, TIMEOUT);
        assert_eq!(s.assign(1, t0), Decision::Run(Map(0)));
        assert_eq!(s.assign(2, t0), Decision::Run(Map(1)));
        assert_eq!(s.worker_lost(1), 1);
        assert_eq!(s.worker_lost(1), 0);
        assert_eq!(s.assign(3, t0), Decision::Run(Map(0)));
        // A request from the lost worker that was still in flight gets nothing.
        assert_eq!(s.assign(1, t0), Decision::Exit);
    }

    #[test]
    fn wait_reports_earliest_deadline_or_none() {
        let t0 = Instant::now();
        let mut s = Scheduler::new(2, 1, TIMEOUT);
        assert_eq!(s.assign(1, t0), Decision::Run(Map(0)));
        assert_eq!(s.assign(2, secs(t0, 3)), Decision::Run(Map(1)));
        assert_eq!(
            s.assign(3, secs(t0, 4)),
            Decision::Wait {
                until: Some(secs(t0, 10))
            }
        );
        s.complete(Map(0));
        s.complete(Map(1));
        s.assign(1, secs(t0, 5));
        s.complete(Reduce(0));
        assert_eq!(s.assign(1, secs(t0, 5)), Decision::Exit);
    }

    #[test]
    fn failure_ends_the_job() {
        let t0 = Instant::now();
        let mut s = Scheduler::new(1, 1, TIMEOUT);
        assert_eq!(s.assign(1, t0), Decision::Run(Map(0)));
        assert!(s.fail(Map(0), "pg-x.txt: No such file".into()));
        assert!(s.is_over());
        assert_eq!(s.failure(), Some("pg-x.txt: No such file"));
        assert_eq!(s.assign(2, t0), Decision::Exit);
    }

    #[test]
    fn unknown_task_ids_are_ignored() {
        let mut s = Scheduler::new(1, 1, TIMEOUT);
        assert!(!s.complete(Map(7)));
        assert!(!s.complete(Reduce(7)));
        assert!(!s.fail(Map(7), "x".into()));
        assert!(!s.is_over());
    }
}
// END SOLUTION
