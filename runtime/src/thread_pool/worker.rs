//! The worker thread: how it starts, its loop, and the state the pool shares with its
//! workers.

use std::cell::{Cell, OnceCell};
use std::io;
use std::sync::Arc;
use std::thread;

use super::builder::Initializer;
use super::demand::DemandQueue;
use crate::error::TaskError;
use crate::exit::AtExit;
use crate::future::task::Job;
use crate::panic;
use crate::pool::lifecycle::Lifecycle;
use crate::trace;

/// What a pool and its workers share. The protocol is in `README.md` beside this file.
pub(crate) struct Shared {
    /// The pool's id, whether it is broken (an initializer panicked or the only thread could
    /// not start: from then on no task runs), and the threads alive, which `shutdown` waits
    /// for.
    pub(crate) lifecycle: Lifecycle,
    /// The most threads the pool starts.
    pub(crate) workers: usize,
    /// The jobs, closed by `shutdown`: every job is either queued before that (and then run
    /// or cancelled) or refused; none can slip into a queue nobody serves. It decides when a
    /// thread starts.
    pub(crate) queue: DemandQueue,
    /// Threads are named `<prefix>-<index>`.
    pub(crate) prefix: String,
    pub(crate) stack_size: Option<usize>,
    pub(crate) initializer: Option<Initializer>,
}

impl Shared {
    /// Marks the pool broken and fails every queued task. Workers fail the tasks that arrive
    /// later, so nothing waits forever on a broken pool.
    fn break_pool(&self, reason: String) {
        let reason = self.lifecycle.break_pool(|| reason);
        for job in self.queue.drain() {
            job.fail(TaskError::broken(reason));
        }
    }

    /// Handles a thread that `DemandQueue::push` asked for and the system refused. The workers
    /// already running serve the queue; if there are none, the queued jobs would wait
    /// forever, so the pool breaks and they fail. The thread stays counted until they are
    /// failed, so `shutdown(wait = true)` does not return before; then it is counted out.
    fn start_failed(&self, error: &io::Error) {
        while let Some(jobs) = self.queue.start_failed() {
            let reason = self
                .lifecycle
                .break_pool(|| format!("the system could not start a worker thread: {error}"));
            for job in jobs {
                job.fail(TaskError::broken(reason));
            }
        }
        self.lifecycle.count_out();
    }
}

/// Starts worker number `index`, as `DemandQueue::push` asked; the caller holds no lock.
pub(crate) fn start(shared: &Arc<Shared>, index: usize) {
    let mut thread = thread::Builder::new().name(format!("{}-{index}", shared.prefix));
    if let Some(bytes) = shared.stack_size {
        thread = thread.stack_size(bytes);
    }
    let worker = Arc::clone(shared);
    if let Err(error) = thread.spawn(move || run(worker)) {
        shared.start_failed(&error);
    }
}

impl AtExit for Shared {
    fn close(&self) {
        self.queue.close();
    }

    fn wait(&self) {
        self.lifecycle.wait_for_workers(None);
    }
}

/// Counts a worker out of the queue's threads when its loop ends, however it ends (before
/// the `Lifecycle`'s guard counts it out of the pool's live workers).
struct Exit<'a>(&'a Shared);

impl Drop for Exit<'_> {
    fn drop(&mut self) {
        self.0.queue.thread_exited();
    }
}

/// Where a worker is in running a job it popped; see [`Finish`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not running the function of a job it popped.
    Other,
    /// About to run a job it popped.
    Popped,
    /// Inside that job's function.
    Running,
    /// That function returned and the worker was counted as finishing.
    Finished,
}

thread_local! {
    /// The pool this thread works for, set once when it starts.
    static POOL: OnceCell<Arc<Shared>> = const { OnceCell::new() };
    static PHASE: Cell<Phase> = const { Cell::new(Phase::Other) };
}

/// The body of a worker thread: initialize, then run jobs until the queue is closed and empty.
fn run(shared: Arc<Shared>) {
    let _alive = shared.lifecycle.enter();
    let _exit = Exit(&shared);
    POOL.with(|pool| {
        pool.get_or_init(|| Arc::clone(&shared));
    });
    trace::thread_started(shared.lifecycle.id());
    if let Some(initializer) = &shared.initializer {
        if let Err((message, location)) = panic::catch_parts(|| initializer()) {
            let at = location.map(|at| format!(" at {at}")).unwrap_or_default();
            shared.break_pool(format!("a worker's initializer panicked{at}: {message}"));
        }
    }
    let mut finishing = false;
    while let Some(job) = shared.queue.pop(finishing) {
        finishing = match shared.lifecycle.broken_error() {
            Some(error) => {
                job.fail(error);
                false
            }
            // A full pool reads no idle counts, so its workers skip keeping them.
            None if shared.queue.is_full() => {
                job.run();
                false
            }
            None => run_popped(&*job),
        };
    }
}

/// Runs a job this worker popped; returns whether its function counted the worker as
/// finishing (`DemandQueue::task_returned`).
fn run_popped(job: &dyn Job) -> bool {
    PHASE.with(|phase| phase.set(Phase::Popped));
    job.run(); // without calling the function if a helper already claimed the task
    PHASE.with(|phase| phase.replace(Phase::Other)) == Phase::Finished
}

/// Wraps a task's function so that a worker that popped the task counts itself as finishing
/// the moment the function returns or panics: before the result is published, so a thread
/// that sees the result and submits again finds this worker counted (see `README.md`).
pub(crate) fn counted<T>(func: impl FnOnce() -> T) -> impl FnOnce() -> T {
    move || {
        let _finish = Finish::begin();
        func()
    }
}

/// Counts the worker as finishing when dropped, if it runs the function of the job it popped
/// (not a task it runs inline through `Completion::help`, nor on a thread of no pool).
struct Finish(bool);

impl Finish {
    fn begin() -> Self {
        PHASE.with(|phase| {
            let popped = phase.get() == Phase::Popped;
            if popped {
                phase.set(Phase::Running);
            }
            Self(popped)
        })
    }
}

impl Drop for Finish {
    fn drop(&mut self) {
        if !self.0 {
            return;
        }
        let counted = POOL.with(|pool| pool.get().is_some_and(|s| s.queue.task_returned()));
        if counted {
            PHASE.with(|phase| phase.set(Phase::Finished));
        }
    }
}
