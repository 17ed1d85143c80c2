//! The worker thread's loop, and the state the pool shares with its workers.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use super::builder::Initializer;
use super::queue::Queue;
use crate::error::{panic_message, TaskError};
use crate::future::task::enter_pool;
use crate::sync::lock;

/// What a pool and its workers share. The shutdown protocol is in `README.md` beside this file.
pub(crate) struct Shared {
    pub(crate) id: usize,
    pub(crate) workers: usize,
    /// The jobs, closed by `shutdown`: every job is either queued before that (and then run
    /// or cancelled) or refused; none can slip into a queue nobody serves.
    pub(crate) queue: Queue,
    /// Set once, when an initializer panics; from then on no task runs.
    pub(crate) broken: OnceLock<String>,
    /// Workers that have not finished their loop; `exited` is notified as it drops.
    pub(crate) alive: Mutex<usize>,
    pub(crate) exited: Condvar,
}

impl Shared {
    /// Marks the pool broken and fails every queued task. Workers fail the tasks that arrive
    /// later, so nothing waits forever on a broken pool.
    fn break_pool(&self, reason: String) {
        let reason = self.broken.get_or_init(|| reason);
        for job in self.queue.drain() {
            job.fail(TaskError::broken(reason.clone()));
        }
    }
}

/// Counts a worker out of `alive` when its loop ends, however it ends.
struct Alive<'a>(&'a Shared);

impl Drop for Alive<'_> {
    fn drop(&mut self) {
        *lock(&self.0.alive) -= 1;
        self.0.exited.notify_all();
    }
}

/// The body of a worker thread: initialize, then run jobs until the queue is closed and empty.
pub(crate) fn run(shared: Arc<Shared>, initializer: Option<Initializer>) {
    let _alive = Alive(&shared);
    enter_pool(shared.id);
    if let Some(initializer) = initializer {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| initializer())) {
            shared.break_pool(format!(
                "a worker's initializer panicked: {}",
                panic_message(payload.as_ref())
            ));
        }
    }
    while let Some(job) = shared.queue.pop() {
        match shared.broken.get() {
            Some(reason) => job.fail(TaskError::broken(reason.clone())),
            None => job.run(),
        }
    }
}
