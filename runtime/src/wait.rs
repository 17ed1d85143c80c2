//! [`wait`]: block until some or all of a set of futures are done.

use std::time::{Duration, Instant};

use crate::waitable::{distinct, Waitable};
use crate::watch::Watch;

/// When [`wait`] returns (Python's `FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED`).
///
/// # Examples
///
/// ```
/// use parallel::{wait, ReturnWhen, ThreadPool};
///
/// let pool = ThreadPool::new();
/// let futures: Vec<_> = (0..4).map(|i| pool.submit(move || i)).collect();
/// let waited = wait(&futures, None, ReturnWhen::AllCompleted);
/// assert_eq!(waited.done.len(), 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as any future is done (or cancelled).
    FirstCompleted,
    /// As soon as any future fails with an error other than cancellation; if none does,
    /// when all are done.
    FirstException,
    /// When every future is done.
    AllCompleted,
}

/// The futures given to [`wait`], split by whether they were done when it returned. Both
/// keep input order.
///
/// # Examples
///
/// ```
/// use parallel::{wait, ReturnWhen, ThreadPool};
///
/// let pool = ThreadPool::new();
/// let futures = [("one", pool.submit(|| 1)), ("two", pool.submit(|| 2))];
/// let waited = wait(futures, None, ReturnWhen::AllCompleted);
/// assert!(waited.not_done.is_empty());
/// let keys: Vec<&str> = waited.done.iter().map(|(key, _)| *key).collect();
/// assert_eq!(keys, ["one", "two"]);
/// ```
#[derive(Debug)]
pub struct Waited<W> {
    /// Finished, failed or cancelled.
    pub done: Vec<W>,
    /// Still pending or running.
    pub not_done: Vec<W>,
}

/// Waits until `return_when` holds for `futures`, or until `timeout` passes (`None`: no
/// limit), and splits them into done and not done (Python's `concurrent.futures.wait`).
///
/// Takes anything [`Waitable`]: futures, references, or `(key, future)` pairs. A future given
/// twice is counted and returned once. On a pool's worker thread, futures still queued on that
/// same pool are run inline rather than waited for.
///
/// # Examples
///
/// ```
/// use parallel::{wait, ReturnWhen, ThreadPool};
/// use std::{sync::mpsc, time::Duration};
///
/// let pool = ThreadPool::new();
/// let (go, wait_for_go) = mpsc::channel::<()>();
/// let slow = pool.submit(move || wait_for_go.recv().is_ok());
/// let fast = pool.submit(|| true);
/// let waited = wait([("slow", &slow), ("fast", &fast)], None, ReturnWhen::FirstCompleted);
/// assert_eq!(waited.done[0].0, "fast");
/// assert_eq!(waited.not_done[0].0, "slow");
/// go.send(()).unwrap();
/// ```
pub fn wait<I>(futures: I, timeout: Option<Duration>, return_when: ReturnWhen) -> Waited<I::Item>
where
    I: IntoIterator,
    I::Item: Waitable,
{
    let deadline = timeout.and_then(|timeout| Instant::now().checked_add(timeout));
    let mut watch = Watch::new(distinct(futures));
    let total = watch.len();
    let (mut finished, mut failed) = (0, false);
    loop {
        let satisfied = match return_when {
            ReturnWhen::FirstCompleted => finished > 0,
            ReturnWhen::FirstException => failed || finished == total,
            ReturnWhen::AllCompleted => finished == total,
        };
        if satisfied || finished == total {
            break;
        }
        let Some(index) = watch.next_done(deadline) else {
            break;
        };
        finished += 1;
        failed |= watch
            .get(index)
            .is_some_and(|item| item.completion().is_failed());
    }
    let (done, not_done) = watch
        .into_rest()
        .into_iter()
        .partition(|item| item.completion().is_done());
    Waited { done, not_done }
}
