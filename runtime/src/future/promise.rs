//! [`Promise`]: the completing side of a [`Future`] that no pool runs, for code that finishes
//! a future itself (Python's `Future()` with `set_result` and `set_exception`).

use std::fmt;
use std::sync::Arc;

use super::core::{Core, CoreState, FROM_PENDING, FROM_RUNNING};
use super::task::{Completion, Handle};
use super::Future;
use crate::error::TaskError;

/// The completing side of a future made by [`promise`]. Completing consumes it, so a future
/// cannot be completed twice: where Python raises `InvalidStateError` at run time, a second
/// `set_result` here does not compile.
///
/// A promise dropped without completing its future fails it with [`TaskError::Abandoned`],
/// so nobody waits for ever on a future that no one will complete.
///
/// # Examples
///
/// ```
/// use parallel::{as_completed, promise};
///
/// let (promise, future) = promise::<String>();
/// std::thread::spawn(move || {
///     // ... work done by code of our own, not by a pool ...
///     promise.set_result("done".to_owned()).ok();
/// });
/// for finished in as_completed([&future]) {
///     assert_eq!(finished.result().unwrap(), "done");
/// }
/// ```
///
/// ```compile_fail
/// let (promise, _future) = parallel::promise::<u8>();
/// let _ = promise.set_result(1);
/// let _ = promise.set_result(2); // error[E0382]: use of moved value: `promise`
/// ```
pub struct Promise<T> {
    /// Invariant: `Some` until the promise completes the future (or is dropped, which
    /// completes it with `Abandoned`).
    cell: Option<Arc<PromiseCell<T>>>,
}

/// Makes a future that is completed by hand, and its [`Promise`].
///
/// The future starts pending: it can be cancelled until the promise marks it running
/// ([`Promise::set_running`]) or completes it. It works everywhere a pool's future does:
/// `result`, callbacks, [`as_completed`](crate::as_completed), [`wait`](crate::wait),
/// `.await`.
///
/// # Examples
///
/// ```
/// let (promise, future) = parallel::promise::<u32>();
/// assert!(!future.is_done());
/// promise.set_result(42).unwrap();
/// assert_eq!(future.result(), Ok(42));
/// ```
pub fn promise<T: Send + 'static>() -> (Promise<T>, Future<T>) {
    let cell = Arc::new(PromiseCell { core: Core::new() });
    let future = Future::new(Arc::clone(&cell) as Arc<dyn Handle<T>>);
    (Promise { cell: Some(cell) }, future)
}

impl<T> Promise<T> {
    fn core(&self) -> &Core<T> {
        &self
            .cell
            .as_ref()
            .expect("a live promise has its cell")
            .core
    }

    /// Marks the future running, so it can no longer be cancelled (Python's
    /// `set_running_or_notify_cancel`). Returns `false` if it was cancelled first: then the
    /// work it stands for need not be done.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, future) = parallel::promise::<u8>();
    /// assert!(promise.set_running());
    /// assert!(future.is_running());
    /// assert!(!future.cancel(), "a running future cannot be cancelled");
    /// promise.set_result(1).unwrap();
    /// ```
    pub fn set_running(&self) -> bool {
        self.core().claim() || self.core().is_running()
    }

    /// Whether the future was cancelled (it was still pending then).
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, future) = parallel::promise::<u8>();
    /// assert!(future.cancel());
    /// assert!(promise.is_cancelled());
    /// assert_eq!(promise.set_result(1), Err(1), "the value comes back");
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.core().is_cancelled()
    }

    /// Completes the future with `value`.
    ///
    /// # Errors
    ///
    /// Gives `value` back if the future was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, future) = parallel::promise();
    /// promise.set_result("ready").unwrap();
    /// assert_eq!(future.result(), Ok("ready"));
    /// ```
    pub fn set_result(self, value: T) -> Result<(), T> {
        self.complete(Ok(value)).map_err(|outcome| match outcome {
            Ok(value) => value,
            Err(_) => unreachable!("the value comes back as it went in"),
        })
    }

    /// Completes the future with `error` (Python's `set_exception`).
    ///
    /// # Errors
    ///
    /// Gives `error` back if the future was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::TaskError;
    /// let (promise, future) = parallel::promise::<u8>();
    /// promise.set_error(TaskError::panicked("no connection")).unwrap();
    /// assert_eq!(future.result().unwrap_err().panic_message(), Some("no connection"));
    /// ```
    pub fn set_error(self, error: TaskError) -> Result<(), TaskError> {
        self.complete(Err(error)).map_err(|outcome| match outcome {
            Err(error) => error,
            Ok(_) => unreachable!("the error comes back as it went in"),
        })
    }

    /// Completes the future with `outcome`.
    ///
    /// # Errors
    ///
    /// Gives `outcome` back if the future was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, future) = parallel::promise::<u8>();
    /// promise.complete(Ok(7)).unwrap();
    /// assert_eq!(future.result(), Ok(7));
    /// ```
    pub fn complete(mut self, outcome: Result<T, TaskError>) -> Result<(), Result<T, TaskError>> {
        let cell = self.cell.take().expect("a live promise has its cell");
        finish(&cell.core, outcome)
    }
}

/// Completes `core` from whichever stage the promise left it in (pending or running). Only
/// the promise moves a promise's stage forward (besides a cancel, which only leaves PENDING),
/// so if both attempts fail the future was cancelled.
fn finish<T>(core: &Core<T>, outcome: Result<T, TaskError>) -> Result<(), Result<T, TaskError>> {
    let from = if core.is_running() {
        FROM_RUNNING
    } else {
        FROM_PENDING
    };
    core.complete(from, outcome)
}

impl<T> Drop for Promise<T> {
    fn drop(&mut self) {
        if let Some(cell) = self.cell.take() {
            // Loses harmlessly to a cancel.
            let _ = finish(&cell.core, Err(TaskError::Abandoned));
        }
    }
}

impl<T> fmt::Debug for Promise<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Promise")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

/// What a promise and its future share: only the core, since no pool runs anything.
struct PromiseCell<T> {
    core: Core<T>,
}

impl<T: Send> Completion for PromiseCell<T> {
    fn state(&self) -> &dyn CoreState {
        &self.core
    }
}

impl<T: Send> Handle<T> for PromiseCell<T> {
    fn core(&self) -> &Core<T> {
        &self.core
    }

    fn as_completion(&self) -> &dyn Completion {
        self
    }

    fn cancel(&self) -> bool {
        self.core.cancel()
    }
}
