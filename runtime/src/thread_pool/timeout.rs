//! `ThreadPool::submit_with_timeout`: a task whose future fails with `TimedOut` once it has
//! run for too long.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::{worker, ThreadPool};
use crate::deadline;
use crate::error::{Deadline, TaskError};
use crate::future::core::FROM_RUNNING;
use crate::future::task::{Handle, Task};
use crate::future::Future;
use crate::trace::{self, TaskSpan};

impl ThreadPool {
    /// Submits `task` with a deadline: if it has not finished `timeout` after it *started
    /// running*, its future fails with [`TaskError::TimedOut`] and waiters wake.
    ///
    /// A thread cannot be stopped from outside, so the task itself runs on to its end and its
    /// value is dropped; the worker is busy until then. (A process pool kills the worker
    /// instead.) Time spent queued does not count.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = parallel::ThreadPool::new();
    /// let slow = pool.submit_with_timeout(|| std::thread::sleep(Duration::from_secs(2)), Duration::from_millis(50));
    /// assert!(slow.result().unwrap_err().is_timed_out());
    /// let quick = pool.submit_with_timeout(|| 7, Duration::from_secs(5));
    /// assert_eq!(quick.result(), Ok(7));
    /// ```
    pub fn submit_with_timeout<F, T>(&self, task: F, timeout: Duration) -> Future<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let span = TaskSpan::thread(self.id(), std::any::type_name::<F>());
        let task = trace::in_span(span, task);
        let task = Arc::new_cyclic(|this: &Weak<Task<_, T>>| {
            let this: Weak<dyn Handle<T>> = this.clone();
            Task::new(
                worker::counted(move || {
                    if let Some(deadline) = Instant::now().checked_add(timeout) {
                        deadline::at(deadline, move || expire(&this, timeout));
                    }
                    task()
                }),
                self.shared.lifecycle.id(),
            )
        });
        self.enqueue(task)
    }
}

/// Fails the task with `TimedOut` if it is still running (the timer thread calls this).
fn expire<T>(task: &Weak<dyn Handle<T>>, timeout: Duration) {
    if let Some(task) = task.upgrade() {
        // Loses harmlessly to a task that already finished.
        let error = TaskError::timed_out(Deadline::Task { timeout });
        let _ = task.core().complete(FROM_RUNNING, Err(error));
    }
}
