//! `Lifecycle`: what a pool's life is made of, whether threads or processes run its work:
//! whether it is broken (and why), how many of its workers are alive, waiting for them to
//! end, and the exit handler that waits for a pool that is never dropped.

use std::sync::{Arc, OnceLock, Weak};
use std::time::Instant;

use crate::error::TaskError;
use crate::exit::{self, AtExit};
use crate::future::task::{current_pool, enter_pool, new_pool_id};
use crate::sync::{lock, wait_until, Condvar, Mutex};

/// A pool's id, broken state and live workers (worker threads, or a process pool's driver
/// threads). The protocol is in `README.md` beside this file.
pub(crate) struct Lifecycle {
    /// The pool's id (see `future::task::new_pool_id`): its workers are marked with it, so a
    /// shutdown from one of them does not wait for itself.
    id: usize,
    /// Set once, with the reason, when the pool cannot run work any more (an initializer
    /// failed, no worker could start); from then on every task fails with it.
    broken: OnceLock<String>,
    /// Workers counted in and not yet out: what shutdown waits for.
    ///
    /// Invariant: raised (`count_in`) before the worker can run, by whoever decides to start
    /// it, and lowered exactly once for each: by its `Alive` guard when it ends, or by
    /// `count_out` when it could not start.
    alive: Mutex<usize>,
    /// Notified whenever `alive` drops.
    exited: Condvar,
}

impl Lifecycle {
    /// A pool that is not broken and has no worker yet, with a new id.
    pub(crate) fn new() -> Self {
        Self {
            id: new_pool_id(),
            broken: OnceLock::new(),
            alive: Mutex::new(0),
            exited: Condvar::new(),
        }
    }

    pub(crate) fn id(&self) -> usize {
        self.id
    }

    /// Breaks the pool, unless it is broken already; returns the reason that stands (the
    /// first one given).
    pub(crate) fn break_pool(&self, reason: impl FnOnce() -> String) -> &str {
        self.broken.get_or_init(reason)
    }

    /// Why the pool is broken, if it is.
    pub(crate) fn broken(&self) -> Option<&str> {
        self.broken.get().map(String::as_str)
    }

    /// The error a task gets from a broken pool.
    pub(crate) fn broken_error(&self) -> Option<TaskError> {
        self.broken().map(TaskError::broken)
    }

    /// Counts in a worker about to start. Call before it can run, so a shutdown that sees
    /// the work it is started for also waits for it.
    pub(crate) fn count_in(&self) {
        *lock(&self.alive) += 1;
    }

    /// Counts out a worker that was counted in: it could not start, or it has ended.
    pub(crate) fn count_out(&self) {
        *lock(&self.alive) -= 1;
        self.exited.notify_all();
    }

    /// Called first on a worker's own thread: marks the thread as the pool's, and returns
    /// the guard that counts the worker out when it ends, however it ends (even by a panic).
    pub(crate) fn enter(&self) -> Alive<'_> {
        enter_pool(self.id);
        Alive(self)
    }

    /// Waits until every worker has ended (but the calling thread, if it is one), or until
    /// `deadline`. Returns whether they all ended.
    pub(crate) fn wait_for_workers(&self, deadline: Option<Instant>) -> bool {
        let own = usize::from(current_pool() == self.id);
        let mut alive = lock(&self.alive);
        while *alive > own {
            let (guard, expired) = wait_until(&self.exited, alive, deadline);
            if expired {
                return false;
            }
            alive = guard;
        }
        true
    }
}

/// Counts a worker out of its pool's `alive` when dropped; see [`Lifecycle::enter`].
pub(crate) struct Alive<'a>(&'a Lifecycle);

impl Drop for Alive<'_> {
    fn drop(&mut self) {
        self.0.count_out();
    }
}

/// Registers `pool` with the exit handler (`exit.rs`), which closes it and waits for its
/// workers when the program ends. Keeps only a weak reference: a dropped pool is skipped.
pub(crate) fn register_at_exit<P: AtExit + 'static>(pool: &Arc<P>) {
    let weak: Weak<P> = Arc::downgrade(pool);
    exit::register(weak);
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn breaking_keeps_the_first_reason() {
        let lifecycle = Lifecycle::new();
        assert!(lifecycle.broken().is_none());
        assert_eq!(lifecycle.break_pool(|| "first".into()), "first");
        assert_eq!(lifecycle.break_pool(|| "second".into()), "first");
        assert_eq!(lifecycle.broken_error(), Some(TaskError::broken("first")));
    }

    #[test]
    fn waiting_ends_when_the_last_worker_leaves_or_the_deadline_passes() {
        let lifecycle = Arc::new(Lifecycle::new());
        assert!(lifecycle.wait_for_workers(None), "no worker: at once");
        lifecycle.count_in();
        let soon = Instant::now() + Duration::from_millis(10);
        assert!(!lifecycle.wait_for_workers(Some(soon)));
        let worker = {
            let lifecycle = Arc::clone(&lifecycle);
            std::thread::spawn(move || {
                let _alive = lifecycle.enter();
                assert!(lifecycle.wait_for_workers(None), "not waiting for itself");
            })
        };
        assert!(lifecycle.wait_for_workers(None));
        worker.join().unwrap();
    }
}
