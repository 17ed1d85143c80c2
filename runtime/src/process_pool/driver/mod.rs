//! The pool side of the workers: one driver thread per worker slot starts a worker, feeds it
//! tasks (`top_up.rs`), finishes their futures from its replies (`reply.rs`), and replaces it
//! when it dies, overruns a task's deadline, sends garbage, has run its
//! `max_tasks_per_child`, or a task it runs is killed. The protocol is in `README.md` beside
//! the process pool.

mod reply;
mod top_up;

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::shared::Shared;
use super::task::ProcessJob;
use super::worker::{Launch, Worker};
use crate::error::TaskError;
use crate::pool::queue::{Popped, Wait};
use crate::sync::lock;
use crate::trace;

/// How many tasks a worker holds at once: the one it runs and the next, so that it never
/// waits for the round trip between two tasks. The second is handed over only while every
/// worker is busy: a task queued behind another would otherwise wait while a worker idles.
const DEPTH: usize = 2;

/// The body of the driver thread of worker slot `slot`.
pub(crate) fn drive(shared: Arc<Shared>, slot: usize) {
    let _alive = shared.lifecycle.enter();
    Driver {
        shared: &shared,
        slot,
        retry: VecDeque::new(),
        next_id: 0,
        booted: false,
        replacing: None,
    }
    .run();
}

/// One driver: its pool, and the tasks it claimed that must go to its next worker.
struct Driver<'a> {
    shared: &'a Shared,
    /// Which of the pool's workers this driver keeps (for `tracing`).
    slot: usize,
    /// Tasks this driver claimed whose worker died before finishing them: sent again first.
    retry: VecDeque<Arc<dyn ProcessJob>>,
    next_id: u64,
    /// Whether a worker of this driver has been up (counted in `Shared::boot`).
    booted: bool,
    /// The process id of the worker the next one replaces, and why it went (for `tracing`).
    replacing: Option<(u32, &'static str)>,
}

impl Drop for Driver<'_> {
    /// A driver that ends, however it ends, without ever having had a worker up tells
    /// `wait_ready`, which would otherwise wait for it forever.
    fn drop(&mut self) {
        if !self.booted {
            self.shared.boot.gone();
        }
    }
}

/// How the time with one worker ended.
enum Next {
    /// Start another worker and go on.
    Replace,
    /// The worker waited longer than the idle timeout: let it go, start one when work comes.
    Idle,
    /// The pool is shut down and its queue is empty.
    Stop,
}

/// The tasks sent to one worker, and the counts that go with them.
struct Line<'a> {
    in_flight: VecDeque<Sent>,
    busy: Busy<'a>,
    /// Tasks sent to this worker, for `max_tasks_per_child`.
    sent: usize,
}

/// A task sent to the current worker and not yet answered.
struct Sent {
    job: Arc<dyn ProcessJob>,
    id: u64,
    /// When the worker started it: set for the first task in line, since workers run their
    /// tasks in the order sent.
    started: Option<Instant>,
}

/// Counts a driver in `Shared::busy` while its worker has a task.
struct Busy<'a> {
    shared: &'a Shared,
    counted: bool,
}

impl Busy<'_> {
    fn set(&mut self, busy: bool) {
        if busy != self.counted {
            self.counted = busy;
            if busy {
                self.shared.busy.fetch_add(1, Ordering::Relaxed);
            } else {
                self.shared.busy.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// Whether every worker of the pool has a task.
    fn everyone(&self) -> bool {
        self.shared.busy.load(Ordering::Relaxed) >= self.shared.settings.workers
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.set(false);
    }
}

impl Driver<'_> {
    fn run(&mut self) {
        loop {
            if let Some(error) = self.shared.lifecycle.broken_error() {
                return self.fail_all(&error);
            }
            if self.shared.is_stopping() {
                return self.stop_retries();
            }
            let Some(mut worker) = self.start_worker() else {
                continue; // the pool is broken now
            };
            let next = self.serve(&mut worker);
            lock(&self.shared.live).retain(|live| !Arc::ptr_eq(live, &worker.signaller));
            let (pool, pid) = (self.shared.lifecycle.id(), worker.pid());
            match next {
                Next::Replace => {}
                Next::Idle => {
                    trace::worker_idle(pool, self.slot, pid);
                    worker.retire();
                    if !self.wait_for_work() {
                        return;
                    }
                }
                Next::Stop => {
                    trace::worker_retired(pool, self.slot, pid);
                    return worker.retire();
                }
            }
        }
    }

    /// Starts a worker and waits for its `READY`; breaks the pool if that fails.
    fn start_worker(&mut self) -> Option<Worker> {
        let launch = Launch {
            max_frame: self.shared.settings.max_frame,
            initializer: self.shared.settings.initializer.as_ref(),
        };
        let pool = self.shared.lifecycle.id();
        match Worker::start(&launch) {
            Ok(worker) => {
                trace::worker_started(pool, self.slot, worker.pid());
                if let Some((previous, why)) = self.replacing.take() {
                    trace::worker_replaced(pool, self.slot, worker.pid(), previous, why);
                }
                lock(&self.shared.live).push(Arc::clone(&worker.signaller));
                if !self.booted {
                    self.booted = true;
                    self.shared.boot.up();
                }
                Some(worker)
            }
            Err(reason) => {
                trace::worker_failed(pool, self.slot, &reason);
                self.shared.lifecycle.break_pool(|| reason);
                self.shared.boot.wake();
                None
            }
        }
    }

    /// Waits without a worker until a task comes (then keeps it for the next worker);
    /// `false` if the pool was shut down first.
    fn wait_for_work(&mut self) -> bool {
        if !self.retry.is_empty() {
            return true;
        }
        match self.next_job(Wait::Forever) {
            Popped::Job(job) => {
                self.retry.push_back(job);
                true
            }
            Popped::Closed | Popped::TimedOut | Popped::Empty => false,
        }
    }

    /// Feeds `worker` until it has to be replaced or the pool is done.
    fn serve(&mut self, worker: &mut Worker) -> Next {
        let mut line = Line {
            in_flight: VecDeque::new(),
            busy: Busy {
                shared: self.shared,
                counted: false,
            },
            sent: 0,
        };
        loop {
            line.busy.set(!line.in_flight.is_empty());
            if let Some(next) = self.top_up(worker, &mut line) {
                return next;
            }
            if line.in_flight.is_empty() {
                // Idle with the limit reached: let this worker go, start a fresh one.
                let (pool, pid) = (self.shared.lifecycle.id(), worker.pid());
                trace::worker_recycled(pool, self.slot, pid, line.sent);
                self.replacing = Some((pid, "recycled after `max_tasks_per_child` tasks"));
                worker.retire();
                return Next::Replace;
            }
            if let Some(next) = self.await_reply(worker, &mut line.in_flight) {
                return next;
            }
        }
    }

    /// The worker died. The task it was running fails with how it ended, unless it may be
    /// retried (`retries`) or the worker was killed to stop another task (then it was not
    /// this task's fault); those it had not started go to the next worker.
    fn replace_dead(&mut self, worker: &mut Worker, in_flight: &mut VecDeque<Sent>) -> Next {
        let exit = worker.reap();
        let running = in_flight.pop_front();
        self.requeue(in_flight);
        let killed_for_task = worker.signaller.was_killed_for_task();
        {
            // Inside the span of the task it was running, if any.
            let _span = running.as_ref().map(|running| running.job.span().enter());
            let (pool, pid) = (self.shared.lifecycle.id(), worker.pid());
            if killed_for_task {
                trace::worker_killed(pool, self.slot, pid, &TaskError::Cancelled);
            } else if self.shared.is_stopping() {
                trace::worker_killed(pool, self.slot, pid, &"its pool stopped every worker");
            } else {
                trace::worker_died(pool, self.slot, pid, &exit);
            }
            self.replacing = Some((
                pid,
                if killed_for_task {
                    "killed to stop a task"
                } else {
                    "died"
                },
            ));
        }
        if let Some(running) = running.filter(|running| !running.job.is_done()) {
            let attempts = running.job.attempts();
            let retry = !self.shared.is_stopping()
                && (killed_for_task || attempts <= self.shared.settings.retries);
            if retry {
                self.retry.push_front(running.job);
            } else {
                let _span = running.job.span().enter();
                // One try at least: a task that died with a worker killed before it had begun
                // it (`kill_workers`, see `send`) had that one.
                running
                    .job
                    .finish(Err(TaskError::worker_died_after(exit, attempts.max(1))));
            }
        }
        Next::Replace
    }

    /// The worker must go (a deadline passed, it broke the protocol, or its task was killed):
    /// it is killed, the task it was running fails with `error`, and those it had not started
    /// go to the next worker.
    fn replace_broken(
        &mut self,
        worker: &mut Worker,
        in_flight: &mut VecDeque<Sent>,
        error: TaskError,
    ) -> Next {
        worker.kill();
        worker.reap();
        let running = in_flight.pop_front();
        {
            let _span = running.as_ref().map(|running| running.job.span().enter());
            let (pool, pid) = (self.shared.lifecycle.id(), worker.pid());
            trace::worker_killed(pool, self.slot, pid, &error);
            self.replacing = Some((pid, killed_why(&error)));
        }
        if let Some(running) = running {
            let _span = running.job.span().enter();
            running.job.finish(Err(error));
        }
        self.requeue(in_flight);
        Next::Replace
    }

    /// Puts the tasks of `in_flight` (none of them started), in order, before the retries.
    fn requeue(&mut self, in_flight: &mut VecDeque<Sent>) {
        for waiting in in_flight.drain(..).rev() {
            self.retry.push_front(waiting.job);
        }
    }

    /// A broken pool: fails this driver's retries, then every job that reaches the queue,
    /// until the pool is shut down. Drivers stay to do this so that nothing waits forever.
    fn fail_all(&mut self, error: &TaskError) {
        for job in self.retry.drain(..) {
            job.finish(Err(error.clone()));
        }
        while let Popped::Job(job) = self.shared.queue.pop(Wait::Forever, &mut ()) {
            job.fail(error.clone());
        }
    }

    /// A pool whose workers were terminated: what this driver holds is cancelled.
    fn stop_retries(&mut self) {
        for job in self.retry.drain(..) {
            job.stop();
        }
    }
}

/// Why a driver killed its worker, in words, from the error the running task got.
fn killed_why(error: &TaskError) -> &'static str {
    match error {
        TaskError::TimedOut { .. } => "killed: its task's deadline passed",
        TaskError::Cancelled => "killed to stop a task",
        _ => "killed: it broke the protocol",
    }
}
