//! [`Scope`]: tasks and maps that borrow from the caller, with futures, on a thread pool.
//!
//! # Why it is sound
//!
//! A scoped task's closure (and its result, and its done-callbacks) may borrow anything that
//! outlives the scope, so no thread may touch them once [`scope`] returns. Two things keep it
//! so, and neither is a destructor, so `std::mem::forget` of anything a scope hands out cannot
//! break them:
//!
//! - *The user's side.* A [`ScopedFuture`] or [`ScopedMap`] carries the scope's lifetime, so
//!   the borrow checker ends its life (or its leak) inside the scope's closure, before
//!   `scope` waits. Whatever a user thread does with a task (wait on it, run it inline while
//!   waiting, cancel it, drop its value) happens through one of them, so within the scope.
//! - *The pool's side.* Every job the pool queues for a scope is counted in the scope's
//!   [`ScopeCounter`] from before it is queued until the pool drops its last reference to it
//!   (the invariant on `QueuedJob`), after running, cancelling or failing it. `scope` returns
//!   only once the count is zero, whether its closure returned or panicked.
//!
//! Between the two, the task's closure has run or been dropped, its value was taken or
//! dropped, and its callbacks were called, all before the scope returns; a leaked handle
//! leaks a task that holds none of them any more. That is also why the lifetime that the
//! task's type says it has (`'static`, in the pool's queue) is never relied upon.
//!
//! # No deadlock
//!
//! A task that waits on another task of the same pool runs it if it is still queued (as any
//! waiting worker does, `Completion::help`). A scope opened on a pool by one of that pool's
//! own workers (a nested scope) runs queued jobs of the pool while it waits at its end, so a
//! pool of one worker still finishes it.

pub(crate) mod counter;
mod future;
mod map;

use std::marker::PhantomData;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use self::counter::ScopeCounter;
pub use self::future::ScopedFuture;
pub use self::map::{Indexed, ScopedMap};
use crate::future::task::current_pool;
use crate::thread_pool::{default_pool, ThreadPool};

/// Opens a scope on the [default pool](crate::default_pool): tasks submitted through it may
/// borrow local data, and it returns only when every one of them has finished.
///
/// Inside, [`Scope::submit`] gives a [`ScopedFuture`] with the whole future API (`result`,
/// `result_timeout`, `cancel`, callbacks, `as_completed`, `wait`, `.await`), and
/// [`Scope::map`] maps over borrowed items in place. `scope` returns `f`'s value once the last
/// task has finished; if `f` panics, the panic goes on only after that.
///
/// A panic in a task is that task's error, as for any future.
///
/// # Examples
///
/// ```
/// let words = vec!["apple", "banana", "cherry"];
/// let lengths = vec![5, 6, 6];
/// let total = parallel::scope(|s| {
///     let first = s.submit(|| words[0].len() + lengths[0]);
///     let rest = s.submit(|| words[1..].iter().map(|w| w.len()).sum::<usize>());
///     first.result().unwrap() + rest.result().unwrap()
/// });
/// assert_eq!(total, 22);
/// ```
pub fn scope<'env, F, R>(f: F) -> R
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> R,
{
    default_pool().scope(f)
}

impl ThreadPool {
    /// Opens a scope on this pool: tasks submitted through it may borrow local data, and it
    /// returns only when every one of them has finished. See [`scope`](crate::scope).
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::ThreadPool;
    ///
    /// let pool = ThreadPool::builder().workers(2).build().unwrap();
    /// let data: Vec<u64> = (1..=100).collect();
    /// let (low, high) = data.split_at(50);
    /// let sum = pool.scope(|s| {
    ///     let a = s.submit(|| low.iter().sum::<u64>());
    ///     let b = s.submit(|| high.iter().sum::<u64>());
    ///     a.result().unwrap() + b.result().unwrap()
    /// });
    /// assert_eq!(sum, 5050);
    /// ```
    pub fn scope<'env, F, R>(&'env self, f: F) -> R
    where
        F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> R,
    {
        let scope = Scope {
            pool: self,
            counter: ScopeCounter::new(),
            scope: PhantomData,
            env: PhantomData,
        };
        let previous = scope.counter.enter_closure();
        let outcome = catch_unwind(AssertUnwindSafe(|| f(&scope)));
        scope.wait_for_tasks(previous);
        match outcome {
            Ok(value) => value,
            Err(payload) => resume_unwind(payload),
        }
    }
}

/// A scope's handle, given to the closure of [`scope`] or [`ThreadPool::scope`]: submits tasks
/// and maps that may borrow anything living longer than the scope (`'env`).
///
/// `'scope` is the scope's own lifetime: everything it hands out carries it, so nothing can
/// outlive the scope.
///
/// # Examples
///
/// ```
/// let mut counts = [0u32; 3];
/// let text = "a scope borrows";
/// parallel::scope(|s| {
///     for (slot, letter) in counts.iter_mut().zip(['a', 'o', 's']) {
///         drop(s.submit(move || *slot = text.matches(letter).count() as u32));
///     }
/// });
/// assert_eq!(counts, [1, 3, 2]);
/// ```
pub struct Scope<'scope, 'env: 'scope> {
    pool: &'env ThreadPool,
    counter: ScopeCounter,
    /// Invariant in `'scope` and `'env`, as `std::thread::Scope` is, so that neither can be
    /// shortened or stretched to let a borrow escape.
    scope: PhantomData<&'scope mut &'scope ()>,
    env: PhantomData<&'env mut &'env ()>,
}

impl<'scope, 'env> Scope<'scope, 'env> {
    /// Submits `task`, which may borrow anything that outlives the scope, and returns its
    /// future at once. The scope does not end before the task has finished.
    ///
    /// As [`ThreadPool::submit`]: a panic is the task's error; on a pool that was shut down
    /// the future is already failed with [`TaskError::ShutDown`](crate::TaskError::ShutDown).
    ///
    /// # Examples
    ///
    /// ```
    /// let names = vec!["ada".to_owned(), "grace".to_owned()];
    /// parallel::scope(|s| {
    ///     let longest = s.submit(|| names.iter().max_by_key(|n| n.len()).unwrap());
    ///     assert_eq!(*longest.result().unwrap(), "grace"); // a borrow of `names`, back
    /// });
    /// ```
    pub fn submit<F, T>(&'scope self, task: F) -> ScopedFuture<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        // SAFETY: the counter is `self.counter`, which lives until `scope` returns, and
        // `scope` returns only once the pool released every job counted in it. The task
        // borrows for `'scope`, which lasts until then.
        let future = unsafe { self.pool.submit_scoped(task, &self.counter) };
        ScopedFuture::new(future)
    }

    /// The pool this scope runs its tasks on.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::builder().workers(3).build().unwrap();
    /// pool.scope(|s| assert_eq!(s.pool().workers(), 3));
    /// ```
    pub fn pool(&self) -> &'env ThreadPool {
        self.pool
    }

    /// The counter of this scope's tasks, for the scoped maps.
    pub(crate) fn counter(&self) -> &ScopeCounter {
        &self.counter
    }

    /// Returns once the pool holds no task of this scope. A worker of the same pool runs the
    /// pool's queued jobs meanwhile, so that a pool whose every worker waits here still makes
    /// progress.
    fn wait_for_tasks(&self, previous: usize) {
        self.counter.begin_wait(previous);
        let helps = current_pool() == self.pool.id();
        while !self.counter.is_clear() {
            if helps && self.pool.run_one_queued() {
                continue;
            }
            self.counter.park();
        }
    }
}

impl std::fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope").field("pool", self.pool).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
