//! [`Future`]: the handle to a submitted task's eventual result.

pub(crate) mod core;
pub(crate) mod promise;
pub(crate) mod task;

use std::fmt;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use self::core::{BorrowingCallback, Callback, Core};
use self::task::{Completion, Handle, Ready};
use crate::error::{Deadline, TaskError};

/// The eventual result of a task submitted to a pool (Python's `concurrent.futures.Future`).
///
/// A `Future` is returned at once by [`ThreadPool::submit`](crate::ThreadPool::submit) and by
/// every `#[parallel]` function. Ask for the value with [`result`](Self::result) (waits
/// forever), [`result_timeout`](Self::result_timeout) (waits at most so long) or
/// [`try_result`](Self::try_result) (never waits), or `.await` it from any async runtime.
///
/// All methods take `&self`, so one thread may wait while another cancels or adds callbacks.
/// The value is *moved out* by the first successful `result*` call or `.await`; later calls
/// return [`TaskError::Taken`]. An error stays, and every call returns a clone of it.
///
/// Futures compare and hash by identity, so they can key a `HashMap`, as in Python's
/// `futures[future]` idiom (see [`as_completed`](crate::as_completed)).
///
/// # Examples
///
/// ```
/// use parallel::ThreadPool;
/// use std::time::Duration;
///
/// let pool = ThreadPool::new();
/// let future = pool.submit(|| 6 * 7);
/// assert_eq!(future.result_timeout(Duration::from_secs(10)), Ok(42));
/// assert!(future.is_done());
/// assert!(future.result().unwrap_err().is_taken());
/// ```
#[must_use = "a future does nothing by itself: the task runs anyway, but its result and errors are lost"]
pub struct Future<T> {
    handle: Arc<dyn Handle<T>>,
}

impl<T: Send + 'static> Future<T> {
    pub(crate) fn new(handle: Arc<dyn Handle<T>>) -> Self {
        Self { handle }
    }

    /// A future that is already done with `error`.
    pub(crate) fn failed(error: TaskError) -> Self {
        Self::new(Arc::new(Ready::failed(error)))
    }
}

impl<T: Send> Future<T> {
    /// The future of a scoped task, whose handle may borrow for `'a`.
    ///
    /// # Safety
    /// The future must not be used once `'a` has ended: the caller puts it in a value that
    /// carries the scope's lifetime (`ScopedFuture`, a scoped map) and never hands it out by
    /// value. (`T` itself carries whatever lifetimes the value has; the lifetime erased here
    /// is that of the task's closure, which is gone by the time the scope ends.)
    pub(crate) unsafe fn from_scoped<'a>(handle: Arc<dyn Handle<T> + 'a>) -> Self {
        // SAFETY: only the trait object's lifetime bound changes; see the caller's promise.
        let handle =
            unsafe { std::mem::transmute::<Arc<dyn Handle<T> + 'a>, Arc<dyn Handle<T>>>(handle) };
        Self { handle }
    }
}

impl<T> Future<T> {
    fn core(&self) -> &Core<T> {
        self.handle.core()
    }

    /// Blocks until done or `deadline`; a worker waiting on queued work of its own pool runs
    /// it instead of sleeping. Returns whether the task is done.
    pub(crate) fn block(&self, deadline: Option<Instant>) -> bool {
        self.core().is_done() || self.handle.help() || self.core().wait(deadline)
    }

    pub(crate) fn completion(&self) -> &dyn Completion {
        self.handle.as_completion()
    }

    /// Waits for the task and returns its value, moving it out of the future.
    ///
    /// A worker thread that calls this on a task still queued in its own pool runs that task
    /// itself rather than sleeping, so tasks that wait on tasks never deadlock a pool.
    ///
    /// # Errors
    ///
    /// The task's [`TaskError`] if it failed, [`TaskError::Taken`] if an earlier call took
    /// the value.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::new();
    /// let text = pool.submit(|| format!("{} downloaded", "a.pdf"));
    /// assert_eq!(text.result().unwrap(), "a.pdf downloaded");
    /// ```
    #[doc(alias = "join")]
    pub fn result(&self) -> Result<T, TaskError> {
        self.block(None);
        self.core()
            .try_take()
            .expect("a done future has an outcome")
    }

    /// Waits at most `timeout` for the task and returns its value, moving it out.
    ///
    /// # Errors
    ///
    /// [`TaskError::TimedOut`] with [`Deadline::Wait`] if the task was not done in time; the
    /// future stays usable and can be waited on again. Otherwise as [`result`](Self::result).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use std::time::Duration;
    ///
    /// let pool = parallel::ThreadPool::new();
    /// let (go, wait_for_go) = mpsc::channel::<()>();
    /// let future = pool.submit(move || wait_for_go.recv().is_ok());
    /// assert!(future.result_timeout(Duration::from_millis(10)).unwrap_err().is_timed_out());
    /// go.send(()).unwrap();
    /// assert_eq!(future.result_timeout(Duration::from_secs(10)), Ok(true));
    /// ```
    pub fn result_timeout(&self, timeout: Duration) -> Result<T, TaskError> {
        if !self.block(Instant::now().checked_add(timeout)) {
            return Err(TaskError::timed_out(Deadline::Wait));
        }
        self.core()
            .try_take()
            .expect("a done future has an outcome")
    }

    /// Waits for the task and returns a reference to its value, leaving it in the future, so
    /// it can be read any number of times (Python's `result()`, which never moves anything).
    ///
    /// Takes `&mut self`: while the reference lives nothing else can take the value out from
    /// under it. For a value that several threads read, share it (`Arc`) or clone it out with
    /// [`result_cloned`](Self::result_cloned).
    ///
    /// # Errors
    ///
    /// As [`result`](Self::result): the task's error, or [`TaskError::Taken`] if `result`
    /// already moved the value out.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::new();
    /// let mut future = pool.submit(|| vec![1, 2, 3]);
    /// assert_eq!(future.result_ref().unwrap().len(), 3);
    /// assert_eq!(future.result_ref().unwrap()[0], 1, "read again");
    /// assert_eq!(future.result(), Ok(vec![1, 2, 3]), "and still there to move out");
    /// ```
    pub fn result_ref(&mut self) -> Result<&T, TaskError> {
        self.block(None);
        // SAFETY: `&mut self` is held for as long as the returned reference lives, and every
        // way to take, lend or otherwise reach the value goes through this future (the pool's
        // side only ever completes a core, and a done core cannot be completed again), so
        // nothing else touches the value meanwhile.
        unsafe { self.core().value_ref() }.expect("a done future has an outcome")
    }

    /// Waits for the task and returns a clone of its value, leaving the value in the future:
    /// any number of calls, from any number of threads, get the same value.
    ///
    /// # Errors
    ///
    /// As [`result`](Self::result).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::new();
    /// let future = pool.submit(|| "a.pdf downloaded".to_owned());
    /// assert_eq!(future.result_cloned().unwrap(), "a.pdf downloaded");
    /// assert_eq!(future.result_cloned().unwrap(), "a.pdf downloaded");
    /// ```
    pub fn result_cloned(&self) -> Result<T, TaskError>
    where
        T: Clone,
    {
        self.block(None);
        self.core()
            .lend(|outcome| outcome.cloned().map_err(Clone::clone))
            .expect("a done future has an outcome")
    }

    /// Returns the outcome if the task is done, without waiting; `None` if it is not.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::new();
    /// let future = pool.submit(|| 1);
    /// future.wait();
    /// assert_eq!(future.try_result(), Some(Ok(1)));
    /// ```
    pub fn try_result(&self) -> Option<Result<T, TaskError>> {
        self.core().try_take()
    }

    /// Waits for the task and returns its error, or `None` if it succeeded (Python's
    /// `exception()`). Never takes the value.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::new();
    /// assert_eq!(pool.submit(|| 1).error(), None);
    /// assert!(pool.submit(|| -> i32 { panic!("no") }).error().unwrap().is_panicked());
    /// ```
    #[doc(alias = "exception")]
    pub fn error(&self) -> Option<TaskError> {
        self.block(None);
        if self.core().is_cancelled() {
            Some(TaskError::Cancelled)
        } else if self.core().is_failed() {
            self.core().try_take().and_then(Result::err)
        } else {
            None
        }
    }

    /// Waits until the task is done, without taking its value.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::new();
    /// let future = pool.submit(|| 1);
    /// future.wait();
    /// assert!(future.is_done());
    /// ```
    pub fn wait(&self) {
        self.block(None);
    }

    /// Waits at most `timeout` until the task is done. Returns whether it is.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let pool = parallel::ThreadPool::new();
    /// assert!(pool.submit(|| 1).wait_timeout(Duration::from_secs(10)));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.block(Instant::now().checked_add(timeout))
    }

    /// Whether the task is done: finished, failed or cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::new();
    /// let future = pool.submit(|| 1);
    /// future.wait();
    /// assert!(future.is_done());
    /// ```
    #[doc(alias = "done")]
    pub fn is_done(&self) -> bool {
        self.core().is_done()
    }

    /// Whether the task is running right now.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// let pool = parallel::ThreadPool::new();
    /// let (started, on_start) = mpsc::channel();
    /// let (go, wait_for_go) = mpsc::channel::<()>();
    /// let future = pool.submit(move || { started.send(()).unwrap(); wait_for_go.recv().ok() });
    /// on_start.recv().unwrap();
    /// assert!(future.is_running());
    /// go.send(()).unwrap();
    /// future.wait();
    /// assert!(!future.is_running());
    /// ```
    #[doc(alias = "running")]
    pub fn is_running(&self) -> bool {
        self.core().is_running()
    }

    /// Whether the task was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::new();
    /// assert!(!pool.submit(|| 1).is_cancelled());
    /// ```
    #[doc(alias = "cancelled")]
    pub fn is_cancelled(&self) -> bool {
        self.core().is_cancelled()
    }

    /// Cancels the task if it has not started. Returns whether the future is cancelled: `true`
    /// also if it already was, `false` if the task is running or done (as Python's `cancel`).
    /// Threads waiting on the future wake with [`TaskError::Cancelled`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use parallel::ThreadPool;
    ///
    /// let pool = ThreadPool::builder().workers(1).build().unwrap();
    /// let (go, wait_for_go) = mpsc::channel::<()>();
    /// let busy = pool.submit(move || wait_for_go.recv().ok());
    /// let queued = pool.submit(|| "never runs");
    /// assert!(queued.cancel());
    /// assert!(queued.cancel(), "cancelling again still says it is cancelled");
    /// assert!(queued.result().unwrap_err().is_cancelled());
    /// go.send(()).unwrap();
    /// assert!(busy.result().is_ok());
    /// ```
    pub fn cancel(&self) -> bool {
        self.handle.cancel() || self.core().is_cancelled()
    }

    /// Stops the task, even if it is running, where that is possible: a queued task is
    /// cancelled (as [`cancel`](Self::cancel)); a process task that is running has its worker
    /// process killed and replaced (pebble's `cancel()` on a running future). Either way the
    /// future fails with [`TaskError::Cancelled`] at once, and the rest of the pool goes on.
    /// A running thread task cannot be stopped from outside: then nothing happens and this
    /// returns `false`.
    ///
    /// Returns whether the future is now cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::parallel;
    ///
    /// #[parallel(processes = 1)]
    /// fn spin() -> u64 {
    ///     loop {
    ///         std::hint::spin_loop();
    ///     }
    /// }
    ///
    /// let stuck = spin();
    /// while !stuck.is_running() {
    ///     std::thread::yield_now();
    /// }
    /// assert!(stuck.kill());
    /// assert!(stuck.result().unwrap_err().is_cancelled());
    /// ```
    pub fn kill(&self) -> bool {
        self.handle.kill() || self.core().is_cancelled()
    }

    /// Calls `callback` with the outcome when the task is done, or at once (on this thread) if
    /// it already is. Callbacks run in the order they were added, on the thread that finished
    /// the task, before waiting threads get the value; a panicking callback is reported on
    /// stderr and stops nothing else.
    ///
    /// The callback borrows the value: it must not call `result` on this same future (that
    /// panics with a message saying so). If the value was already taken, the callback gets
    /// [`TaskError::Taken`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    ///
    /// let pool = parallel::ThreadPool::new();
    /// let (tx, rx) = mpsc::channel();
    /// let future = pool.submit(|| 21 * 2);
    /// future.add_done_callback(move |outcome| tx.send(outcome.ok().copied()).unwrap());
    /// assert_eq!(rx.recv().unwrap(), Some(42));
    /// assert_eq!(future.result(), Ok(42));
    /// ```
    pub fn add_done_callback<F>(&self, callback: F)
    where
        F: FnOnce(Result<&T, &TaskError>) + Send + 'static,
    {
        self.core().add_callback(Box::new(callback));
    }

    /// As `add_done_callback`, for a callback that may borrow for `'a`.
    ///
    /// # Safety
    /// The task must complete (which calls or drops every callback) before `'a` ends: it is a
    /// scoped task, and the scope waits for that.
    pub(crate) unsafe fn add_done_callback_scoped<'a>(&self, callback: BorrowingCallback<'a, T>) {
        // SAFETY: only the lifetime bound changes; the callback is gone before `'a` ends (the
        // caller's promise).
        let callback =
            unsafe { std::mem::transmute::<BorrowingCallback<'a, T>, Callback<T>>(callback) };
        self.core().add_callback(callback);
    }

    /// A number identifying this future's task, equal for clones of the same reference.
    fn id(&self) -> usize {
        Arc::as_ptr(&self.handle) as *const () as usize
    }
}

impl<T> std::future::Future for Future<T> {
    type Output = Result<T, TaskError>;

    /// Completes with the outcome; the waker is woken by whichever thread finishes the task.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let core = self.core();
        if let Some(outcome) = core.try_take() {
            return Poll::Ready(outcome);
        }
        if core.register_waker(cx.waker()) {
            return Poll::Ready(core.try_take().expect("a done future has an outcome"));
        }
        Poll::Pending
    }
}

impl<T> PartialEq for Future<T> {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl<T> Eq for Future<T> {}

impl<T> Hash for Future<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id().hash(state);
    }
}

impl<T> fmt::Debug for Future<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let core = self.core();
        let state = if core.is_cancelled() {
            "cancelled"
        } else if core.is_done() {
            "done"
        } else if core.is_running() {
            "running"
        } else {
            "pending"
        };
        f.debug_struct("Future").field("state", &state).finish()
    }
}
