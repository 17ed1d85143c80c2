//! `Queue`: the pool's FIFO of jobs, which also records whether the pool still accepts work.
//!
//! One lock guards the jobs and the open flag together, so a job is either queued while the
//! pool is open (and then run or cancelled) or refused; none can be queued after the workers
//! were told to leave. The buffer is a `VecDeque` that keeps its capacity, so queueing a job
//! allocates nothing in the steady state. (A linked channel allocates blocks on the
//! submitting thread and frees them on the workers, and on this runtime's benchmark that
//! cross-thread freeing contended on the allocator's lock with every submit.)

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use crate::future::task::Job;
use crate::spin::{spin_until, SPIN_FOR};
use crate::sync::lock;

/// Set in `Queue::hint` once the queue is closed.
const CLOSED: usize = 1 << (usize::BITS - 1);

pub(crate) struct Queue {
    state: Mutex<State>,
    /// Idle workers sleep here; counted in `State::sleeping`.
    available: Condvar,
    /// The number of queued jobs, with `CLOSED` once closed: a copy of `state` stored at the
    /// end of every critical section that changes it, for idle workers to poll without
    /// taking the lock. Only a hint: decisions are made under the lock.
    hint: AtomicUsize,
}

struct State {
    jobs: VecDeque<Arc<dyn Job>>,
    /// Invariant: `false` from `close` on; no job is pushed after that.
    open: bool,
    /// Workers asleep on `available`.
    sleeping: usize,
    /// Wake-ups sent and not yet taken by a waking worker, so a burst of pushes wakes each
    /// sleeper once instead of calling into the kernel for every job.
    waking: usize,
}

impl State {
    fn hint(&self) -> usize {
        self.jobs.len() | if self.open { 0 } else { CLOSED }
    }
}

impl Queue {
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(State {
                jobs: VecDeque::new(),
                open: true,
                sleeping: 0,
                waking: 0,
            }),
            available: Condvar::new(),
            hint: AtomicUsize::new(0),
        }
    }

    /// Queues `job`, waking an idle worker if one sleeps. Gives the job back if the queue is
    /// closed.
    pub(crate) fn push(&self, job: Arc<dyn Job>) -> Result<(), Arc<dyn Job>> {
        let mut state = lock(&self.state);
        if !state.open {
            return Err(job);
        }
        state.jobs.push_back(job);
        self.hint.store(state.hint(), Ordering::Release);
        let wake = state.sleeping > state.waking;
        if wake {
            state.waking += 1;
        }
        drop(state);
        if wake {
            self.available.notify_one();
        }
        Ok(())
    }

    /// The next job, polling briefly before sleeping (see `spin.rs`); `None` once the queue is
    /// closed and empty.
    pub(crate) fn pop(&self) -> Option<Arc<dyn Job>> {
        spin_until(SPIN_FOR, || self.hint.load(Ordering::Acquire) != 0);
        let mut state = lock(&self.state);
        loop {
            if let Some(job) = state.jobs.pop_front() {
                self.hint.store(state.hint(), Ordering::Release);
                return Some(job);
            }
            if !state.open {
                return None;
            }
            state.sleeping += 1;
            state = self
                .available
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            state.sleeping -= 1;
            state.waking = state.waking.saturating_sub(1);
        }
    }

    /// Refuses every later `push` and wakes the idle workers so they can leave once the queue
    /// is empty. Returns whether this call closed it.
    pub(crate) fn close(&self) -> bool {
        let mut state = lock(&self.state);
        let was_open = std::mem::replace(&mut state.open, false);
        self.hint.store(state.hint(), Ordering::Release);
        drop(state);
        self.available.notify_all();
        was_open
    }

    pub(crate) fn is_open(&self) -> bool {
        lock(&self.state).open
    }

    /// Takes every queued job. The caller cancels or fails them outside the lock, since that
    /// runs their done-callbacks, which may submit.
    pub(crate) fn drain(&self) -> VecDeque<Arc<dyn Job>> {
        let mut state = lock(&self.state);
        let jobs = std::mem::take(&mut state.jobs);
        self.hint.store(state.hint(), Ordering::Release);
        jobs
    }
}
