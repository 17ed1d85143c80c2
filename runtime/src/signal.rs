//! `Signal`: one place where many futures report that they are done, so `as_completed`,
//! `wait` and an unordered `map` can sleep on all of them at once (the waiter objects of
//! CPython's `concurrent.futures._base`, here a queue of tokens).

use std::collections::VecDeque;
use std::time::Instant;

use crate::sync::{lock, wait_until, Arc, Condvar, Mutex};

/// A queue of tokens sent by finishing futures, with a condition variable to sleep on.
///
/// Lock order: a future's listeners lock may be held while sending to a signal; a signal's
/// lock is never held while touching a future.
#[derive(Debug)]
pub struct Signal {
    queue: Mutex<Queue>,
    cond: Condvar,
}

#[derive(Debug, Default)]
struct Queue {
    ready: VecDeque<usize>,
    sleeping: bool,
}

impl Signal {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            queue: Mutex::new(Queue::default()),
            cond: Condvar::new(),
        })
    }

    /// Sends `token`; wakes the sleeper, if any.
    pub(crate) fn notify(&self, token: usize) {
        let mut queue = lock(&self.queue);
        queue.ready.push_back(token);
        if queue.sleeping {
            self.cond.notify_one();
        }
    }

    /// The oldest token not yet received, without blocking.
    pub(crate) fn try_recv(&self) -> Option<usize> {
        lock(&self.queue).ready.pop_front()
    }

    /// The oldest token not yet received, waiting for one until `deadline`; `None` if it
    /// passed first.
    pub(crate) fn recv(&self, deadline: Option<Instant>) -> Option<usize> {
        let mut queue = lock(&self.queue);
        loop {
            if let Some(token) = queue.ready.pop_front() {
                return Some(token);
            }
            queue.sleeping = true;
            let (guard, expired) = wait_until(&self.cond, queue, deadline);
            queue = guard;
            queue.sleeping = false;
            if expired {
                return queue.ready.pop_front();
            }
        }
    }
}
