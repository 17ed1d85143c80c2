//! The worker thread's loop, and the state the pool shares with its workers.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use crossbeam_channel::{Receiver, Sender, TryRecvError};

use super::builder::Initializer;
use crate::error::{panic_message, TaskError};
use crate::future::task::{enter_pool, Job};
use crate::spin::{spin_until, SPIN_FOR};
use crate::sync::lock;

/// What a pool and its workers share. The shutdown protocol is in `README.md` beside this file.
pub(crate) struct Shared {
    pub(crate) id: usize,
    pub(crate) workers: usize,
    /// Invariant: `None` once the pool is shut down. A submitter sends while holding this
    /// lock, so every job is either queued before `shutdown` takes the sender (and then run
    /// or cancelled) or refused; none can slip into a queue nobody serves.
    pub(crate) sender: Mutex<Option<Sender<Arc<dyn Job>>>>,
    pub(crate) receiver: Receiver<Arc<dyn Job>>,
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
        while let Ok(job) = self.receiver.try_recv() {
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
    while let Some(job) = next_job(&shared.receiver) {
        match shared.broken.get() {
            Some(reason) => job.fail(TaskError::broken(reason.clone())),
            None => job.run(),
        }
    }
}

/// The next job, polling briefly before sleeping (see `spin`); `None` once the pool is shut
/// down and its queue is empty.
fn next_job(receiver: &Receiver<Arc<dyn Job>>) -> Option<Arc<dyn Job>> {
    let mut job = None;
    let mut closed = false;
    spin_until(SPIN_FOR, || match receiver.try_recv() {
        Ok(next) => {
            job = Some(next);
            true
        }
        Err(TryRecvError::Disconnected) => {
            closed = true;
            true
        }
        Err(TryRecvError::Empty) => false,
    });
    if job.is_some() || closed {
        return job;
    }
    receiver.recv().ok()
}
