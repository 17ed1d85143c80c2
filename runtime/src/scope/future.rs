//! [`ScopedFuture`]: a [`Future`] that cannot outlive its scope.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::ops::Deref;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::error::TaskError;
use crate::future::task::Completion;
use crate::future::Future;

/// The future of a task submitted with [`Scope::submit`](crate::Scope::submit): a
/// [`Future`] that carries its scope's lifetime, so it cannot outlive the scope.
///
/// It derefs to [`Future`], so every method of a future is here: [`result`](Future::result),
/// [`result_timeout`](Future::result_timeout), [`try_result`](Future::try_result),
/// [`cancel`](Future::cancel), [`is_done`](Future::is_done), …. It can be given to
/// [`as_completed`](crate::as_completed) and [`wait`](crate::wait), and `.await`ed. Its own
/// [`add_done_callback`](Self::add_done_callback) takes callbacks that borrow from the scope's
/// environment too.
///
/// The value may borrow from outside the scope (`T: 'scope`).
///
/// Kept past its scope (returned from the scope's closure, or stored in a variable that
/// outlives it), it is a compile error. The compiler says it as lifetimes: "returning this
/// value requires that `'1` must outlive `'2`", where `'1` is the scope's (`&'1 Scope<'1, _>`)
/// and `'2` the future's (`ScopedFuture<'2, T>`), or "`s` escapes the closure body here".
/// Read it as: the future cannot outlive the scope. Wait for it inside the scope instead.
///
/// # Examples
///
/// ```
/// use parallel::as_completed;
///
/// let pages = ["a", "bb", "ccc"];
/// let total = parallel::scope(|s| {
///     let futures: Vec<_> = pages.iter().map(|page| s.submit(move || page.len())).collect();
///     as_completed(&futures).map(|future| future.result().unwrap()).sum::<usize>()
/// });
/// assert_eq!(total, 6);
/// ```
#[must_use = "a future does nothing by itself: the task runs anyway, but its result and errors are lost"]
pub struct ScopedFuture<'scope, T> {
    future: Future<T>,
    /// Ties the future to its scope.
    scope: PhantomData<&'scope ()>,
}

impl<'scope, T> ScopedFuture<'scope, T> {
    /// Wraps the future of a task counted in a scope of lifetime `'scope`.
    pub(crate) fn new(future: Future<T>) -> Self {
        Self {
            future,
            scope: PhantomData,
        }
    }

    /// Waits for the task and returns a reference to its value, leaving it in the future (as
    /// [`Future::result_ref`]).
    ///
    /// # Errors
    ///
    /// As [`Future::result`].
    ///
    /// # Examples
    ///
    /// ```
    /// let text = String::from("borrowed");
    /// parallel::scope(|s| {
    ///     let mut upper = s.submit(|| text.to_uppercase());
    ///     assert_eq!(upper.result_ref().unwrap(), "BORROWED");
    ///     assert_eq!(upper.result_ref().unwrap().len(), 8, "read again");
    /// });
    /// ```
    pub fn result_ref(&mut self) -> Result<&T, TaskError> {
        self.future.result_ref()
    }

    /// Adds a callback that runs once the task is done, at once if it already is (as
    /// [`Future::add_done_callback`]); it may borrow anything that outlives the scope.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    ///
    /// let done = AtomicU32::new(0);
    /// parallel::scope(|s| {
    ///     let future = s.submit(|| 2 + 2);
    ///     future.add_done_callback(|outcome| {
    ///         done.fetch_add(*outcome.unwrap(), Ordering::Relaxed);
    ///     });
    /// });
    /// assert_eq!(done.load(Ordering::Relaxed), 4, "the scope waited for the callback too");
    /// ```
    pub fn add_done_callback<F>(&self, callback: F)
    where
        F: FnOnce(Result<&T, &TaskError>) + Send + 'scope,
    {
        // SAFETY: a callback is called (or dropped) when the task completes, or at once if
        // it already has, and a scoped task completes before the pool releases it, which is
        // before the scope ends (see `scope/mod.rs`).
        unsafe { self.future.add_done_callback_scoped(Box::new(callback)) }
    }
}

impl<T> Deref for ScopedFuture<'_, T> {
    type Target = Future<T>;

    fn deref(&self) -> &Future<T> {
        &self.future
    }
}

impl<T> std::future::Future for ScopedFuture<'_, T> {
    type Output = Result<T, TaskError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.get_mut().future).poll(cx)
    }
}

impl<T> crate::waitable::sealed::Sealed for ScopedFuture<'_, T> {}

impl<T> crate::Waitable for ScopedFuture<'_, T> {
    fn completion(&self) -> &dyn Completion {
        self.future.completion()
    }
}

impl<T> PartialEq for ScopedFuture<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.future == other.future
    }
}

impl<T> Eq for ScopedFuture<'_, T> {}

impl<T> Hash for ScopedFuture<'_, T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.future.hash(state);
    }
}

impl<T> fmt::Debug for ScopedFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.future, f)
    }
}
