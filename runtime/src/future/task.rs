//! `Task`: a submitted closure and its [`Core`], in one allocation that the pool's queue
//! (as a [`Job`]) and the caller's [`Future`](crate::Future) (as a [`Handle`]) share.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::core::{Core, CoreState, FROM_PENDING, FROM_RUNNING};
use crate::error::TaskError;
use crate::panic;
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
        if !self.core.claim() {
            return;
        }
        // SAFETY: `claim` moved the stage out of PENDING on this thread.
        let func = unsafe { self.take_func() }.expect("a pending task has its function");
        let outcome = panic::catch(func);
        // Loses only to a deadline that already finished the task: the late value is dropped,
        // and its `Drop` (user code) must not unwind into the worker's loop.
        if let Err(late) = self.core.complete(FROM_RUNNING, outcome) {
            panic::drop_quietly("a task's late result", late);
        }
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
        if here == 0 || here != self.pool || !self.core.is_pending() {
            return false;
        }
        Job::run(self);
        true
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
