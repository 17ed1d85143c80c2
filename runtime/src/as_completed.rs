//! [`as_completed`]: futures in the order they finish.

use std::iter::FusedIterator;
use std::time::{Duration, Instant};

use crate::error::{Deadline, TaskError};
use crate::waitable::{distinct, Waitable};
use crate::watch::Watch;

/// Yields the given futures as they finish, those already done first (Python's
/// `concurrent.futures.as_completed`).
///
/// Accepts anything [`Waitable`]: futures, references to futures, or `(key, future)` pairs,
/// and yields the items themselves, so the key tells which input finished. A future given
/// twice comes out once. For an overall deadline, chain [`.timeout(..)`](AsCompleted::timeout).
///
/// On a pool's worker thread, futures still queued on that same pool are run inline rather
/// than waited for, so a task iterating over its own sub-tasks cannot deadlock the pool.
///
/// # Examples
///
/// ```
/// use parallel::{as_completed, ThreadPool};
/// use std::time::Duration;
///
/// let pool = ThreadPool::new();
/// let jobs = [30, 10, 20].map(|ms| {
///     (ms, pool.submit(move || std::thread::sleep(Duration::from_millis(ms))))
/// });
/// let mut finished = Vec::new();
/// for (ms, future) in as_completed(jobs) {
///     future.result().unwrap();
///     finished.push(ms);
/// }
/// finished.sort();
/// assert_eq!(finished, [10, 20, 30]);
/// ```
pub fn as_completed<I>(futures: I) -> AsCompleted<I::Item>
where
    I: IntoIterator,
    I::Item: Waitable,
{
    let started = Instant::now();
    let watch = Watch::new(distinct(futures));
    AsCompleted {
        left: watch.len(),
        watch,
        started,
    }
}

/// The iterator returned by [`as_completed`]: each future once, as it finishes.
///
/// # Examples
///
/// ```
/// use parallel::{as_completed, ThreadPool};
///
/// let pool = ThreadPool::new();
/// let futures: Vec<_> = (0..3).map(|i| pool.submit(move || i)).collect();
/// let finished = as_completed(&futures);
/// assert_eq!(finished.len(), 3);
/// let mut values: Vec<i32> = finished.map(|future| future.result().unwrap()).collect();
/// values.sort();
/// assert_eq!(values, [0, 1, 2]);
/// ```
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct AsCompleted<W: Waitable> {
    watch: Watch<W>,
    left: usize,
    started: Instant,
}

impl<W: Waitable> AsCompleted<W> {
    /// Gives up waiting `timeout` after the call to [`as_completed`] (Python's `timeout=`):
    /// the iterator then yields `Err(TaskError::TimedOut)` once and ends. The futures that
    /// were not yielded are returned by [`AsCompletedTimeout::into_pending`].
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{as_completed, ThreadPool};
    /// use std::{sync::mpsc, time::Duration};
    ///
    /// let pool = ThreadPool::new();
    /// let (go, wait_for_go) = mpsc::channel::<()>();
    /// let stuck = pool.submit(move || wait_for_go.recv().is_ok());
    /// let quick = pool.submit(|| true);
    /// let mut it = as_completed([&quick, &stuck]).timeout(Duration::from_millis(50));
    /// assert_eq!(it.next().unwrap().unwrap(), &quick);
    /// assert!(it.next().unwrap().unwrap_err().is_timed_out());
    /// assert!(it.next().is_none());
    /// assert_eq!(it.into_pending(), [&stuck]);
    /// go.send(()).unwrap();
    /// ```
    pub fn timeout(self, timeout: Duration) -> AsCompletedTimeout<W> {
        AsCompletedTimeout {
            deadline: self.started.checked_add(timeout),
            inner: self,
            expired: false,
        }
    }

    fn next_until(&mut self, deadline: Option<Instant>) -> Option<Option<W>> {
        if self.left == 0 {
            return Some(None);
        }
        let index = self.watch.next_done(deadline)?;
        self.left -= 1;
        Some(Some(self.watch.take(index)))
    }
}

impl<W: Waitable> Iterator for AsCompleted<W> {
    type Item = W;

    fn next(&mut self) -> Option<W> {
        self.next_until(None)
            .expect("waiting without a deadline always ends with an item")
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<W: Waitable> ExactSizeIterator for AsCompleted<W> {}
impl<W: Waitable> FusedIterator for AsCompleted<W> {}

/// The iterator returned by [`AsCompleted::timeout`]: futures as they finish, then
/// `Err(TaskError::TimedOut)` if the deadline passes first.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use parallel::{as_completed, ThreadPool};
///
/// let pool = ThreadPool::new();
/// let futures: Vec<_> = (0..3).map(|i| pool.submit(move || i)).collect();
/// // Everything finishes well within the deadline: no error comes out.
/// let all: Result<Vec<_>, _> = as_completed(&futures).timeout(Duration::from_secs(30)).collect();
/// assert_eq!(all.unwrap().len(), 3);
/// ```
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct AsCompletedTimeout<W: Waitable> {
    inner: AsCompleted<W>,
    deadline: Option<Instant>,
    expired: bool,
}

impl<W: Waitable> AsCompletedTimeout<W> {
    /// The futures not yielded yet, in input order.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::{sync::mpsc, time::Duration};
    /// use parallel::{as_completed, ThreadPool};
    ///
    /// let pool = ThreadPool::new();
    /// let (go, wait_for_go) = mpsc::channel::<()>();
    /// let stuck = pool.submit(move || wait_for_go.recv().is_ok());
    /// let mut it = as_completed([("stuck", &stuck)]).timeout(Duration::from_millis(20));
    /// assert!(it.next().unwrap().is_err());
    /// let pending = it.into_pending();
    /// assert_eq!(pending[0].0, "stuck");
    /// go.send(()).unwrap();
    /// ```
    pub fn into_pending(self) -> Vec<W> {
        self.inner.watch.into_rest()
    }
}

impl<W: Waitable> Iterator for AsCompletedTimeout<W> {
    type Item = Result<W, TaskError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.expired {
            return None;
        }
        match self.inner.next_until(self.deadline) {
            Some(item) => item.map(Ok),
            None => {
                self.expired = true;
                Some(Err(TaskError::timed_out(Deadline::AsCompleted {
                    unfinished: self.inner.left,
                    total: self.inner.watch.len(),
                })))
            }
        }
    }
}

impl<W: Waitable> FusedIterator for AsCompletedTimeout<W> {}
