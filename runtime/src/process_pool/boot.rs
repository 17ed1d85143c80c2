//! `Boot`: whether a process pool's workers are up, for [`ProcessPool::wait_ready`]
//! (mpi4py's `bootup(wait=True)`).
//!
//! [`ProcessPool::wait_ready`]: super::ProcessPool::wait_ready

use std::time::Instant;

use crate::error::TaskError;
use crate::sync::{lock, wait_until, Condvar, Mutex};

/// How many of a pool's drivers have had a worker up, and how many ended without one.
pub(crate) struct Boot {
    /// Invariant: changed only under this lock, and each change is followed by a
    /// `notify_all` of `changed`. A waiter checks its condition and sleeps under the lock, so
    /// no change slips between its check and its sleep.
    state: Mutex<State>,
    /// Notified on every change of `state`, and by `wake` when the pool breaks.
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// Drivers whose first worker sent `READY`; each counts once.
    up: usize,
    /// Drivers that ended before any worker of theirs was up (the pool's workers were
    /// terminated or killed first, or a driver thread ended by a panic).
    gone: usize,
}

impl Boot {
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        }
    }

    /// A driver's first worker is up (its `READY` came). Call once per driver.
    pub(crate) fn up(&self) {
        lock(&self.state).up += 1;
        self.changed.notify_all();
    }

    /// A driver ended without ever having a worker up.
    pub(crate) fn gone(&self) {
        lock(&self.state).gone += 1;
        self.changed.notify_all();
    }

    /// Wakes the waiters to look at the pool again: call after breaking it. Taking the lock
    /// first orders this after any waiter's check of `broken` (the invariant on `state`).
    pub(crate) fn wake(&self) {
        drop(lock(&self.state));
        self.changed.notify_all();
    }

    /// Waits until `workers` drivers have had a worker up (`Ok(true)`), or until `deadline`
    /// (`Ok(false)`). `Err` if `broken` says the pool is broken (no worker will start), or with
    /// `ShutDown` if some drivers ended without a worker.
    pub(crate) fn wait(
        &self,
        workers: usize,
        deadline: Option<Instant>,
        broken: impl Fn() -> Option<TaskError>,
    ) -> Result<bool, TaskError> {
        let mut state = lock(&self.state);
        loop {
            if let Some(error) = broken() {
                return Err(error);
            }
            if state.up >= workers {
                return Ok(true);
            }
            if state.up + state.gone >= workers {
                return Err(TaskError::ShutDown);
            }
            let (guard, expired) = wait_until(&self.changed, state, deadline);
            if expired {
                return Ok(false);
            }
            state = guard;
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Barrier};
    use std::thread;
    use std::time::Duration;

    use super::*;

    fn never_broken() -> Option<TaskError> {
        None
    }

    #[test]
    fn waits_for_every_driver_and_gives_up_at_the_deadline() {
        let boot = Boot::new();
        boot.up();
        let soon = Instant::now() + Duration::from_millis(10);
        assert_eq!(boot.wait(2, Some(soon), never_broken), Ok(false));
        boot.up();
        assert_eq!(boot.wait(2, None, never_broken), Ok(true));
    }

    #[test]
    fn a_driver_gone_without_a_worker_is_shut_down() {
        let boot = Boot::new();
        boot.up();
        boot.gone();
        assert_eq!(boot.wait(2, None, never_broken), Err(TaskError::ShutDown));
    }

    #[test]
    fn a_waiter_wakes_for_each_change_made_on_another_thread() {
        for _ in 0..100 {
            let boot = Arc::new(Boot::new());
            let broken = Arc::new(AtomicBool::new(false));
            let barrier = Arc::new(Barrier::new(2));
            let breaker = {
                let (boot, broken, barrier) = (boot.clone(), broken.clone(), barrier.clone());
                thread::spawn(move || {
                    barrier.wait();
                    boot.up();
                    broken.store(true, Ordering::Release);
                    boot.wake();
                })
            };
            barrier.wait();
            let outcome = boot.wait(2, None, || {
                broken
                    .load(Ordering::Acquire)
                    .then(|| TaskError::broken("no worker"))
            });
            assert_eq!(outcome, Err(TaskError::broken("no worker")));
            breaker.join().unwrap();
        }
    }
}
