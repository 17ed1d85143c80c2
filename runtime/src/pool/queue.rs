//! `Queue`: a pool's closable FIFO of jobs (first in, first out, as Python's executors), which
//! its workers share. Generic over the job (`Arc<dyn Job>` for threads, `Arc<dyn ProcessJob>`
//! for processes), and over what else a pool keeps under the same lock (`Extension`: the
//! thread pool's threads on demand; nothing for processes).
//!
//! One lock guards the jobs and the open flag together, so a job is either queued while the
//! queue is open (and then popped or drained) or refused: none can be queued after the
//! workers were told to leave. The buffer is a `VecDeque` that keeps its capacity, so queueing
//! allocates nothing once warm. (A linked channel allocates blocks on the submitting thread
//! and frees them on the workers; on the submit benchmark that cross-thread freeing contended
//! on the allocator's lock with every submit.) The protocol is in `README.md` beside this file.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::spin::{spin_until, SPIN_FOR};
use crate::sync::{lock, wait_until, Condvar, Mutex, MutexGuard};

/// Set in `Hot::hint` once the queue is closed.
const CLOSED: usize = 1 << (usize::BITS - 1);
/// Set in `Hot::hint` while the extension's `flag` says so.
const FLAG: usize = 1 << (usize::BITS - 2);
/// The bits of `Hot::hint` that count the queued jobs.
const JOBS: usize = FLAG - 1;

/// What a pool keeps beside its queue: state under the queue's lock (`Self`), and counters
/// beside the lock-free hint (`Hot`), on its cache line.
pub(crate) trait Extension {
    /// Counters read and written without the lock, kept on the hint's cache line (every
    /// push writes the hint, so a counter there costs no extra line transfer).
    type Hot: Send + Sync;
    /// Whether the hint's flag is set; read under the lock at each store of the hint.
    fn flag(&self) -> bool;
}

/// No extension: the queue alone.
impl Extension for () {
    type Hot = ();

    fn flag(&self) -> bool {
        false
    }
}

/// What a worker does as it goes through `pop`, for an extension that counts idle workers.
pub(crate) trait Arrival {
    /// The queue looked empty and the worker is about to wait for a job (spinning, then
    /// sleeping); `flagged`: the hint's flag as it decided so.
    fn wait(&mut self, flagged: bool);
    /// The worker leaves `pop`, with a job or without. Called under the lock, after the job
    /// left the queue.
    fn leave(&mut self);
}

/// A worker that nobody counts.
impl Arrival for () {
    fn wait(&mut self, _flagged: bool) {}

    fn leave(&mut self) {}
}

/// How long `pop` waits for a job.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Wait {
    /// Not at all.
    No,
    /// Until this instant.
    Until(Instant),
    /// Until a job comes or the queue is closed.
    Forever,
}

/// What `pop` found.
#[derive(Debug)]
pub(crate) enum Popped<J> {
    Job(J),
    /// Nothing queued (only with `Wait::No`).
    Empty,
    /// The deadline passed (only with `Wait::Until`).
    TimedOut,
    /// The queue is closed and empty.
    Closed,
}

/// A closable FIFO of `J`, with a pool's `X` under its lock.
pub(crate) struct Queue<J, X: Extension = ()> {
    hot: Hot<X::Hot>,
    state: Mutex<State<J, X>>,
    /// Idle workers sleep here; counted in `State::sleeping`.
    available: Condvar,
}

/// What workers and pushers read and write without the lock. Aligned so that the hint and
/// the extension's counters never straddle two cache lines.
#[repr(C, align(32))]
struct Hot<H> {
    /// The number of queued jobs, with `CLOSED` once closed and `FLAG` while the extension
    /// says so: a copy of `state` stored at the end of every critical section that changes
    /// it, for idle workers to poll without taking the lock. Only a hint: decisions are made
    /// under the lock.
    hint: AtomicUsize,
    extension: H,
}

struct State<J, X> {
    jobs: VecDeque<J>,
    /// Invariant: `false` from `close` on; no job is pushed after that.
    open: bool,
    /// Workers asleep on `available`.
    sleeping: usize,
    /// Wake-ups sent and not yet taken by a waking worker, so a burst of pushes wakes each
    /// sleeper once instead of calling into the kernel for every job.
    waking: usize,
    extension: X,
}

impl<J> Queue<J> {
    /// An open, empty queue with no extension.
    pub(crate) fn new() -> Self {
        Self::with_extension((), ())
    }
}

impl<J, X: Extension> Queue<J, X> {
    /// An open, empty queue, with `extension` under its lock and `hot` beside its hint.
    pub(crate) fn with_extension(extension: X, hot: X::Hot) -> Self {
        Self {
            hot: Hot {
                hint: AtomicUsize::new(0),
                extension: hot,
            },
            state: Mutex::new(State {
                jobs: VecDeque::new(),
                open: true,
                sleeping: 0,
                waking: 0,
                extension,
            }),
            available: Condvar::new(),
        }
    }

    /// The extension's counters beside the hint.
    pub(crate) fn hot(&self) -> &X::Hot {
        &self.hot.extension
    }

    /// The queued jobs, from the hint (Acquire: what was stored with it is visible).
    pub(crate) fn queued_hint(&self) -> usize {
        self.hot.hint.load(Ordering::Acquire) & JOBS
    }

    /// The extension's flag, from the hint (so possibly stale).
    pub(crate) fn flagged_hint(&self) -> bool {
        self.hot.hint.load(Ordering::Relaxed) & FLAG != 0
    }

    /// Stores the lock-free copy of `state`; called at the end of every critical section
    /// that changes what it copies.
    fn store_hint(&self, state: &State<J, X>) {
        let mut hint = state.jobs.len();
        if !state.open {
            hint |= CLOSED;
        }
        if state.extension.flag() {
            hint |= FLAG;
        }
        self.hot.hint.store(hint, Ordering::Release);
    }

    /// Queues `job`, waking an idle worker if one sleeps; gives the job back if the queue is
    /// closed.
    pub(crate) fn push(&self, job: J) -> Result<(), J> {
        self.push_with(job, |_, _| ())
    }

    /// As `push`, and runs `decide` under the same lock, after queueing, with the extension
    /// and the number of queued jobs; returns what it returned.
    pub(crate) fn push_with<R>(
        &self,
        job: J,
        decide: impl FnOnce(&mut X, usize) -> R,
    ) -> Result<R, J> {
        let mut state = lock(&self.state);
        if !state.open {
            return Err(job);
        }
        state.jobs.push_back(job);
        let queued = state.jobs.len();
        let decision = decide(&mut state.extension, queued);
        self.store_hint(&state);
        let wake = state.sleeping > state.waking;
        if wake {
            state.waking += 1;
        }
        drop(state);
        if wake {
            self.available.notify_one();
        }
        Ok(decision)
    }

    /// Runs `change` under the lock on the extension and the queued jobs, then stores the
    /// hint.
    pub(crate) fn update<R>(&self, change: impl FnOnce(&mut X, &mut VecDeque<J>) -> R) -> R {
        let mut state = lock(&self.state);
        let State {
            jobs, extension, ..
        } = &mut *state;
        let result = change(extension, jobs);
        self.store_hint(&state);
        result
    }

    /// The next job, waiting as `wait` says: polling briefly before sleeping (see
    /// `spin.rs`), and telling `arrival` when it starts waiting and when it leaves.
    pub(crate) fn pop(&self, wait: Wait, arrival: &mut impl Arrival) -> Popped<J> {
        let hint = self.hot.hint.load(Ordering::Acquire);
        if hint & !FLAG == 0 {
            if let Some(limit) = spin_limit(wait) {
                arrival.wait(hint & FLAG != 0);
                spin_until(limit, || self.hot.hint.load(Ordering::Acquire) & !FLAG != 0);
            }
        }
        let mut state = lock(&self.state);
        loop {
            let popped = match state.jobs.pop_front() {
                Some(job) => {
                    self.store_hint(&state);
                    Popped::Job(job)
                }
                None if !state.open => Popped::Closed,
                None => match wait {
                    Wait::No => Popped::Empty,
                    Wait::Until(deadline) if Instant::now() >= deadline => Popped::TimedOut,
                    Wait::Until(deadline) => {
                        state = self.sleep(state, Some(deadline), arrival);
                        continue;
                    }
                    Wait::Forever => {
                        state = self.sleep(state, None, arrival);
                        continue;
                    }
                },
            };
            arrival.leave();
            return popped;
        }
    }

    /// Sleeps on `available` until notified or `deadline`, counted in `sleeping`.
    fn sleep<'a>(
        &self,
        mut state: MutexGuard<'a, State<J, X>>,
        deadline: Option<Instant>,
        arrival: &mut impl Arrival,
    ) -> MutexGuard<'a, State<J, X>> {
        arrival.wait(state.extension.flag());
        state.sleeping += 1;
        let (mut state, _) = wait_until(&self.available, state, deadline);
        state.sleeping -= 1;
        state.waking = state.waking.saturating_sub(1);
        state
    }

    /// Refuses every later push and wakes the idle workers, so they can leave once the
    /// queue is empty. Returns whether this call closed it.
    pub(crate) fn close(&self) -> bool {
        let mut state = lock(&self.state);
        let was_open = std::mem::replace(&mut state.open, false);
        self.store_hint(&state);
        drop(state);
        self.available.notify_all();
        was_open
    }

    pub(crate) fn is_open(&self) -> bool {
        lock(&self.state).open
    }

    /// Takes every queued job. The caller cancels or fails them outside the lock, since that
    /// runs their done-callbacks, which may submit.
    pub(crate) fn drain(&self) -> VecDeque<J> {
        self.update(|_, jobs| std::mem::take(jobs))
    }
}

/// How long `pop` polls before it sleeps: `SPIN_FOR`, or less before a deadline; `None`
/// when it must not wait at all.
fn spin_limit(wait: Wait) -> Option<std::time::Duration> {
    match wait {
        Wait::No => None,
        Wait::Until(deadline) => {
            Some(SPIN_FOR.min(deadline.saturating_duration_since(Instant::now())))
        }
        Wait::Forever => Some(SPIN_FOR),
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
