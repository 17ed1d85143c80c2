//! `Shared`: what a process pool and its driver threads share: its settings, lifecycle and
//! queue, the workers running now, and the spare input buffers.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::boot::Boot;
use super::initializer::Initializer;
use super::os::Signal;
use super::spare::SpareInputs;
use super::task::ProcessJob;
use super::worker::Signaller;
use crate::exit::AtExit;
use crate::pool::lifecycle::Lifecycle;
use crate::pool::queue::Queue;
use crate::sync::lock;

/// The settings a pool's drivers share.
pub(crate) struct Settings {
    pub(crate) workers: usize,
    pub(crate) initializer: Option<Initializer>,
    pub(crate) max_tasks_per_child: Option<usize>,
    pub(crate) max_frame: usize,
    /// How many more times a task whose worker died is run, each time in a new worker.
    pub(crate) retries: u32,
    /// How long a worker may wait for a task before it is let go (started again on demand).
    pub(crate) idle_timeout: Option<Duration>,
}

/// What a process pool and its drivers share.
pub(crate) struct Shared {
    pub(crate) settings: Settings,
    /// The pool's id (its drivers are marked with it), whether it is broken (a worker could
    /// not start or its initializer failed: from then on every task fails with the reason
    /// instead of starting workers in a loop), and the drivers alive.
    pub(crate) lifecycle: Lifecycle,
    /// The tasks not yet taken by a driver; closed by shutdown, under the lock submitters push
    /// under (as in the thread pool), so no job lands in a queue that no driver serves.
    pub(crate) queue: Queue<Arc<dyn ProcessJob>>,
    /// Set once by `terminate_workers` / `kill_workers`: workers that die are not replaced
    /// and the tasks they had not finished are cancelled, not retried.
    pub(crate) stopping: AtomicBool,
    /// The workers running now, for `terminate_workers` / `kill_workers`.
    pub(crate) live: Mutex<Vec<Arc<Signaller>>>,
    /// Drivers whose worker has a task; see `driver::DEPTH`.
    pub(crate) busy: AtomicUsize,
    /// Buffers of finished large inputs, for the next ones.
    pub(crate) spare_inputs: SpareInputs,
    /// How many drivers have had a worker up, for `ProcessPool::wait_ready`.
    pub(crate) boot: Boot,
}

impl Shared {
    /// A pool's shared state, with an open queue and no driver yet.
    pub(crate) fn new(settings: Settings) -> Self {
        Self {
            settings,
            lifecycle: Lifecycle::new(),
            queue: Queue::new(),
            stopping: AtomicBool::new(false),
            live: Mutex::new(Vec::new()),
            busy: AtomicUsize::new(0),
            spare_inputs: SpareInputs::for_processes(),
            boot: Boot::new(),
        }
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Refuses later submits, and cancels the queued tasks if asked.
    pub(crate) fn close(&self, cancel_futures: bool) {
        self.queue.close();
        if cancel_futures {
            for job in self.queue.drain() {
                job.cancel();
            }
        }
    }

    /// Sends `signal` to every running worker.
    pub(crate) fn signal_workers(&self, signal: Signal) {
        for worker in lock(&self.live).iter() {
            worker.signal(signal);
        }
    }
}

impl AtExit for Shared {
    fn close(&self) {
        Shared::close(self, false);
    }

    fn wait(&self) {
        self.lifecycle.wait_for_workers(None);
    }
}
