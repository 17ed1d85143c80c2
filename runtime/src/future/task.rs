//! `Task`: a submitted closure and its [`Core`], in one allocation that the pool's queue
//! (as a [`Job`]) and the caller's [`Future`](crate::Future) (as a [`Handle`]) share.

use std::cell::Cell;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::core::{Core, CoreState, FROM_PENDING, FROM_RUNNING};
use crate::error::TaskError;
use crate::panic;
use crate::scope::counter::ScopeCounter;
use crate::signal::Signal;
use crate::sync::{thread_local, Arc, UnsafeCell};

/// What `as_completed`, `wait` and `map` need from a future, whatever its value type.
///
/// Public only because [`Waitable`](crate::Waitable) hands it out; not part of the API.
#[doc(hidden)]
pub trait Completion: Send + Sync {
    /// The task's core, seen without its value type.
    fn state(&self) -> &dyn CoreState;
    /// Whether the task is done.
    fn is_done(&self) -> bool {
        self.state().is_done()
    }
    /// Whether it is done with an error other than cancellation.
    fn is_failed(&self) -> bool {
        self.state().is_failed()
    }
    /// See [`Core::subscribe`].
    fn subscribe(&self, signal: &Arc<Signal>, token: usize) -> bool {
        self.state().subscribe(signal, token)
    }
    /// See [`Core::unsubscribe`].
    fn unsubscribe(&self, signal: &Arc<Signal>) {
        self.state().unsubscribe(signal);
    }
    /// Runs the task here and now if it is still queued and this thread is a worker of the
    /// pool it was submitted to. A worker about to block on such a task calls this, so a pool
    /// whose every worker waits on queued work still makes progress. Returns whether it ran.
    /// Only a thread pool's task can: by default, `false`.
    fn help(&self) -> bool {
        false
    }
    /// Runs the task here and now if it is still queued, on whatever thread this is (a
    /// scoped map's consumer runs its own batches this way). Returns whether it ran. Only a
    /// thread pool's task can: by default, `false`.
    fn run_here(&self) -> bool {
        false
    }
}

/// A future's view of its task.
pub(crate) trait Handle<T>: Completion {
    fn core(&self) -> &Core<T>;
    fn as_completion(&self) -> &dyn Completion;
    /// Cancels the task if it has not started.
    fn cancel(&self) -> bool;
    /// Stops the task whether or not it has started, where that is possible (a process task:
    /// its worker is killed); otherwise as `cancel`. Returns whether the task is stopped.
    fn kill(&self) -> bool {
        self.cancel()
    }
}

/// A pool's view of a queued task.
pub(crate) trait Job: Send + Sync {
    /// Runs the task unless someone else already started, cancelled or failed it.
    fn run(&self);
    /// Finishes a task that has not started with `error` instead of running it.
    fn fail(&self, error: TaskError);
    /// Cancels the task if it has not started.
    fn cancel(&self) -> bool;
}

/// A job as a thread pool's queue and workers hold it: the job, and the scope it counts in
/// if it is a scoped task (`scope.rs`).
///
/// Invariant: a scoped task is counted in its scope's `ScopeCounter` from before it is queued
/// until this value is dropped, and dropping it is the last thing the runtime does with the
/// task: the reference is dropped first (possibly freeing the task, and with it whatever of
/// the caller's it still held), then the count. So once the count is zero, no runtime thread
/// holds or will touch the task, which is what lets a scope end.
pub(crate) struct QueuedJob {
    /// std's `Arc` (not loom's under `--cfg loom`), as the thread pool that queues it uses.
    job: ManuallyDrop<std::sync::Arc<dyn Job>>,
    /// The scope's counter; it outlives this value because this value is counted in it.
    scope: Option<NonNull<ScopeCounter>>,
}

// SAFETY: `job` is Send (an `Arc` of a Send + Sync job). `scope` points to a `ScopeCounter`,
// which is Sync, and is only used to release this job's count, from whichever thread drops it.
unsafe impl Send for QueuedJob {}

impl QueuedJob {
    /// A job that counts in no scope.
    pub(crate) fn new(job: std::sync::Arc<dyn Job>) -> Self {
        Self {
            job: ManuallyDrop::new(job),
            scope: None,
        }
    }

    /// A job that counts in `scope`, which the caller has already counted it in
    /// (`ScopeCounter::enter`).
    ///
    /// # Safety
    /// `scope` must stay alive until this job's count is released (the scope waits for that).
    pub(crate) unsafe fn scoped(job: std::sync::Arc<dyn Job>, scope: &ScopeCounter) -> Self {
        Self {
            job: ManuallyDrop::new(job),
            scope: Some(NonNull::from(scope)),
        }
    }
}

impl Deref for QueuedJob {
    type Target = dyn Job;

    fn deref(&self) -> &Self::Target {
        &**self.job
    }
}

impl Drop for QueuedJob {
    fn drop(&mut self) {
        // SAFETY: `job` is taken here only, once, and never used again.
        let job = unsafe { ManuallyDrop::take(&mut self.job) };
        let Some(scope) = self.scope else {
            // The last reference drops the task's value if nobody took it: user code, which
            // must not unwind into a worker's loop.
            panic::drop_quietly("a task's result", job);
            return;
        };
        // A scoped task released while still queued (nothing in the pool does this today:
        // a pool runs, cancels or fails every job it queued) would leave its future waiting
        // forever: it fails instead, as a job of a pool that shut down.
        job.fail(TaskError::ShutDown);
        panic::drop_quietly("a task's result", job);
        // SAFETY: this job is still counted in the scope (invariant above), so the counter
        // is alive; after `release` this value never touches it again.
        unsafe { ScopeCounter::release(scope) };
    }
}

thread_local! {
    /// The id of the pool whose worker this thread is, or 0.
    static CURRENT_POOL: Cell<usize> = const { Cell::new(0) };
}

/// A new pool id, unique among all pools of every kind (thread pools, process pools), never 0.
pub(crate) fn new_pool_id() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Marks the current thread as a worker of pool `id` (for [`Completion::help`], and so that a
/// pool shut down from one of its own threads does not wait for that thread).
pub(crate) fn enter_pool(id: usize) {
    CURRENT_POOL.with(|cell| cell.set(id));
}

/// The id of the pool whose worker this thread is, or 0.
pub(crate) fn current_pool() -> usize {
    CURRENT_POOL.with(Cell::get)
}

pub(crate) struct Task<F, T> {
    core: Core<T>,
    /// Invariant: `Some` until the one thread that moves the stage out of PENDING (to run,
    /// cancel or fail the task) takes it; no other thread ever touches it.
    func: UnsafeCell<Option<F>>,
    /// The pool whose workers may run this task inline (see [`Completion::help`]).
    pool: usize,
}

// SAFETY: `core` is Sync for `T: Send`. `func` is accessed by exactly one thread, the one
// whose CAS moved the stage out of PENDING (invariant on `func`), so `F: Send` suffices.
unsafe impl<F: Send, T: Send> Sync for Task<F, T> {}

impl<F, T> Task<F, T>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    pub(crate) fn new(func: F, pool: usize) -> Self {
        Self {
            core: Core::new(),
            func: UnsafeCell::new(Some(func)),
            pool,
        }
    }

    /// Runs the task on this thread unless another thread already started, cancelled or
    /// failed it. Returns whether this thread ran it; if so, the task is done on return (the
    /// outcome is its own, or a deadline's that came first).
    fn run_if_pending(&self) -> bool {
        if !self.core.claim() {
            return false;
        }
        // SAFETY: `claim` moved the stage out of PENDING on this thread.
        let func = unsafe { self.take_func() }.expect("a pending task has its function");
        let outcome = panic::catch(func);
        // Loses only to a deadline that already finished the task: the late value is dropped,
        // and its `Drop` (user code) must not unwind into the worker's loop.
        if let Err(late) = self.core.complete(FROM_RUNNING, outcome) {
            panic::drop_quietly("a task's late result", late);
        }
        true
    }

    /// Takes the function.
    ///
    /// # Safety
    /// Call only from the thread whose CAS just moved the stage out of PENDING.
    unsafe fn take_func(&self) -> Option<F> {
        // SAFETY: our caller left PENDING, so by the invariant on `func` it is the only
        // thread that will ever touch the cell.
        self.func.with_mut(|cell| unsafe { (*cell).take() })
    }
}

impl<F, T> Job for Task<F, T>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    fn run(&self) {
        self.run_if_pending();
    }

    fn fail(&self, error: TaskError) {
        if self.core.complete(FROM_PENDING, Err(error)).is_ok() {
            // SAFETY: `complete` moved the stage out of PENDING on this thread.
            let func = unsafe { self.take_func() };
            panic::drop_quietly("a task's closure", func);
        }
    }

    fn cancel(&self) -> bool {
        if !self.core.cancel() {
            return false;
        }
        // SAFETY: `cancel` moved the stage out of PENDING on this thread.
        let func = unsafe { self.take_func() };
        panic::drop_quietly("a task's closure", func);
        true
    }
}

impl<F, T> Completion for Task<F, T>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    fn state(&self) -> &dyn CoreState {
        &self.core
    }

    fn help(&self) -> bool {
        let here = current_pool();
        if here == 0 || here != self.pool {
            return false;
        }
        self.run_here()
    }

    fn run_here(&self) -> bool {
        // Whether this thread ran it, not whether it was pending a moment ago: another worker
        // may claim it in between, and a caller told `true` takes the task to be done.
        self.run_if_pending()
    }
}

impl<F, T> Handle<T> for Task<F, T>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    fn core(&self) -> &Core<T> {
        &self.core
    }

    fn as_completion(&self) -> &dyn Completion {
        self
    }

    fn cancel(&self) -> bool {
        Job::cancel(self)
    }
}

/// A future that is finished from the start (a submit refused by a shut-down pool).
pub(crate) struct Ready<T> {
    core: Core<T>,
}

impl<T: Send> Ready<T> {
    pub(crate) fn failed(error: TaskError) -> Self {
        Self {
            core: Core::failed(error),
        }
    }
}

impl<T: Send> Completion for Ready<T> {
    fn state(&self) -> &dyn CoreState {
        &self.core
    }
}

impl<T: Send> Handle<T> for Ready<T> {
    fn core(&self) -> &Core<T> {
        &self.core
    }

    fn as_completion(&self) -> &dyn Completion {
        self
    }

    fn cancel(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker that helps with a task (`run_here`, as `Future::result` does on a worker of
    /// the task's pool) is told it ran the task only if it did: here another worker claimed it
    /// first. (Its claim coming between a look at the stage and the helper's own claim, the
    /// race that made `result` panic with "a done future has an outcome", is the loom model's.)
    #[test]
    #[cfg(not(loom))]
    fn helping_with_a_task_another_worker_claimed_does_not_say_it_ran() {
        let task = Task::new(|| 7u32, 0);
        assert!(task.core.claim(), "the other worker's claim");
        assert!(!task.run_here(), "not run here: another worker has it");
        assert!(
            !task.core.is_done(),
            "and it is not done until that worker finishes"
        );
        let pending = Task::new(|| 7u32, 0);
        assert!(pending.run_here(), "a pending task runs here");
        assert!(pending.core.is_done());
    }

    /// Every interleaving of a worker running a task with another helping with it: the helper
    /// that is told it ran the task finds it done.
    #[test]
    #[cfg(loom)]
    fn loom_a_helper_told_it_ran_the_task_finds_it_done() {
        loom::model(|| {
            let task = Arc::new(Task::new(|| 7u32, 0));
            let other = Arc::clone(&task);
            let worker = loom::thread::spawn(move || Job::run(&*other));
            if task.run_here() {
                assert!(task.core.is_done());
            }
            worker.join().unwrap();
            assert!(task.core.is_done());
        });
    }
}
