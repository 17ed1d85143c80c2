//! `Queue`: the pool's FIFO of jobs, which also records whether the pool still accepts work
//! and how many threads serve it, and decides when a push needs one more.
//!
//! One lock guards the jobs, the open flag and the thread count together, so a job is either
//! queued while the pool is open (and then run or cancelled) or refused, none can be queued
//! after the workers were told to leave, and the decision to start a thread sees the very
//! queue it is made for. The rule and why it strands no job are in `README.md` beside this
//! file. The buffer is a `VecDeque` that keeps its capacity, so queueing a job allocates
//! nothing in the steady state. (A linked channel allocates blocks on the submitting thread
//! and frees them on the workers, and on this runtime's benchmark that cross-thread freeing
//! contended on the allocator's lock with every submit.)

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use crate::future::task::Job;
use crate::spin::{spin_until, SPIN_FOR};
use crate::sync::lock;

/// Set in `Hot::hint` once the queue is closed.
const CLOSED: usize = 1 << (usize::BITS - 1);
/// Set in `Hot::hint` while every thread the pool may have is started: nobody reads the idle
/// counts then, so workers stop keeping them.
const FULL: usize = 1 << (usize::BITS - 2);
/// The bits of `Hot::hint` that count the queued jobs.
const JOBS: usize = FULL - 1;

pub(crate) struct Queue {
    hot: Hot,
    state: Mutex<State>,
    /// Idle workers sleep here; counted in `State::sleeping`.
    available: Condvar,
    /// `wait_for_threads` sleeps here; notified whenever `State::threads` drops.
    exited: Condvar,
    /// The most threads the pool may start (`ThreadPool::workers`).
    limit: usize,
}

/// What workers and pushers read and write without the lock. Aligned so that the three never
/// straddle two cache lines: every push already writes `hint`, so a counter beside it costs no
/// extra line transfer.
#[repr(C, align(32))]
struct Hot {
    /// The number of queued jobs, with `CLOSED` once closed and `FULL` while every thread is
    /// started: a copy of `state` stored at the end of every critical section that changes
    /// it, for idle workers to poll without taking the lock. Only a hint: decisions are made
    /// under the lock.
    hint: AtomicUsize,
    /// Workers counted as waiting for a job: from entering `pop` on a queue that looked empty
    /// to taking a job. Incremented without the lock.
    ///
    /// Invariant: decremented only under the lock, by a worker that incremented it, so a
    /// pusher reading it under the lock never sees more than the workers really waiting.
    waiting: AtomicUsize,
    /// Workers whose popped task has returned (its result about to be published, see
    /// `worker::Finish`) and that have not yet arrived back in `pop`. A pusher whose job only
    /// such a worker could take waits briefly for it rather than starting a thread at once.
    finishing: AtomicUsize,
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
    /// Threads asked for by `push` and not yet finished (or counted out by `start_failed`):
    /// what `shutdown` waits for.
    ///
    /// Invariant: at most `Queue::limit`; raised only by `push`, which hands the caller the
    /// thread to start, and lowered only by that thread's exit or its failure to start.
    threads: usize,
    /// Threads ever asked for: the next one's index, which names it.
    started: usize,
}

impl State {
    fn full(&self, limit: usize) -> bool {
        self.threads >= limit
    }
}

/// What a push decided about threads, under the lock.
enum Decision {
    /// Some waiting worker or started thread will take the job (or no more may start).
    Served,
    /// Only a worker finishing its task could take the job: wait for it, then decide again.
    Settle,
    /// Start thread number `index`.
    Start(usize),
}

/// A worker's accounting during one `pop`: which counters it is in, so it leaves exactly
/// those it entered.
struct Arrival<'q> {
    hot: &'q Hot,
    waiting: bool,
    finishing: bool,
}

impl Arrival<'_> {
    /// The worker found no job: counts it as waiting (`count`: unless the pool is full), then
    /// no longer as finishing, in that order, so a pusher that sees it leave `finishing`
    /// (Acquire) also sees it in `waiting`.
    fn wait(&mut self, count: bool) {
        if count && !self.waiting {
            self.hot.waiting.fetch_add(1, Ordering::Relaxed);
            self.waiting = true;
        }
        self.arrive();
    }

    /// The worker took a job or leaves: out of both counters. Called under the lock
    /// (invariant on `Hot::waiting`), after the job left the queue, so a pusher that sees
    /// `finishing` drop also sees the shorter queue.
    fn leave(&mut self) {
        if self.waiting {
            self.hot.waiting.fetch_sub(1, Ordering::Relaxed);
            self.waiting = false;
        }
        self.arrive();
    }

    fn arrive(&mut self) {
        if self.finishing {
            self.hot.finishing.fetch_sub(1, Ordering::Release);
            self.finishing = false;
        }
    }
}

impl Queue {
    /// An open, empty queue that may start up to `limit` threads.
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            hot: Hot {
                hint: AtomicUsize::new(0),
                waiting: AtomicUsize::new(0),
                finishing: AtomicUsize::new(0),
            },
            state: Mutex::new(State {
                jobs: VecDeque::new(),
                open: true,
                sleeping: 0,
                waking: 0,
                threads: 0,
                started: 0,
            }),
            available: Condvar::new(),
            exited: Condvar::new(),
            limit,
        }
    }

    /// Stores the lock-free copy of `state`; called at the end of every critical section
    /// that changes what it copies.
    fn store_hint(&self, state: &State) {
        let mut hint = state.jobs.len();
        if !state.open {
            hint |= CLOSED;
        }
        if state.full(self.limit) {
            hint |= FULL;
        }
        self.hot.hint.store(hint, Ordering::Release);
    }

    /// Queues `job`, waking an idle worker if one sleeps. Returns the index of a thread the
    /// caller must start (outside any lock) for the job to be served, or `None` when a waiting
    /// worker or a thread already started will take it. Gives the job back if the queue is
    /// closed.
    pub(crate) fn push(&self, job: Arc<dyn Job>) -> Result<Option<usize>, Arc<dyn Job>> {
        let mut state = lock(&self.state);
        if !state.open {
            return Err(job);
        }
        state.jobs.push_back(job);
        let decision = self.decide(&mut state, true);
        self.store_hint(&state);
        let wake = state.sleeping > state.waking;
        if wake {
            state.waking += 1;
        }
        drop(state);
        if wake {
            self.available.notify_one();
        }
        Ok(match decision {
            Decision::Served => None,
            Decision::Start(index) => Some(index),
            Decision::Settle => self.settle(),
        })
    }

    /// Whether the queue now holds more jobs than waiting workers can take, and a thread may
    /// still start; if so, and `may_settle` and some worker is finishing its task, says to
    /// wait for it; otherwise counts the new thread in (the caller stores the hint, whose
    /// `FULL` bit may have changed).
    fn decide(&self, state: &mut State, may_settle: bool) -> Decision {
        if state.full(self.limit) {
            return Decision::Served;
        }
        // `finishing` first: a finisher leaves it (Release) only after entering `waiting` or
        // taking its job, so if this sees it gone, the next load sees where it went.
        let finishing = self.hot.finishing.load(Ordering::Acquire);
        if state.jobs.len() <= self.hot.waiting.load(Ordering::Relaxed) {
            return Decision::Served;
        }
        if may_settle && finishing > 0 {
            return Decision::Settle;
        }
        state.threads += 1;
        let index = state.started;
        state.started += 1;
        Decision::Start(index)
    }

    /// Waits, for about as long as starting a thread takes, for the workers finishing their
    /// tasks to come back or for the queue to need no new thread; then decides for good. A
    /// worker is back within a microsecond unless it runs user code after its result (a
    /// done-callback, a waker, a drop) or was descheduled, and then a thread should start.
    fn settle(&self) -> Option<usize> {
        spin_until(SPIN_FOR, || {
            let jobs = self.hot.hint.load(Ordering::Acquire) & JOBS;
            self.hot.finishing.load(Ordering::Acquire) == 0
                || jobs <= self.hot.waiting.load(Ordering::Acquire)
        });
        let mut state = lock(&self.state);
        match self.decide(&mut state, false) {
            Decision::Start(index) => {
                self.store_hint(&state);
                Some(index)
            }
            Decision::Served | Decision::Settle => None,
        }
    }

    /// The next job, polling briefly before sleeping (see `spin.rs`); `None` once the queue is
    /// closed and empty. `finishing`: the caller was counted in `Hot::finishing` by
    /// `task_returned` and is arriving back now.
    pub(crate) fn pop(&self, finishing: bool) -> Option<Arc<dyn Job>> {
        let mut arrival = Arrival {
            hot: &self.hot,
            waiting: false,
            finishing,
        };
        let hint = self.hot.hint.load(Ordering::Acquire);
        if hint & !FULL == 0 {
            arrival.wait(hint & FULL == 0);
            spin_until(SPIN_FOR, || {
                self.hot.hint.load(Ordering::Acquire) & !FULL != 0
            });
        }
        let mut state = lock(&self.state);
        loop {
            if let Some(job) = state.jobs.pop_front() {
                self.store_hint(&state);
                arrival.leave();
                return Some(job);
            }
            if !state.open {
                arrival.leave();
                return None;
            }
            arrival.wait(!state.full(self.limit));
            state.sleeping += 1;
            state = self
                .available
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            state.sleeping -= 1;
            state.waking = state.waking.saturating_sub(1);
        }
    }

    /// Whether every thread the pool may have is started, from the hint (so possibly stale,
    /// which costs at most a thread started that was not needed).
    pub(crate) fn is_full(&self) -> bool {
        self.hot.hint.load(Ordering::Relaxed) & FULL != 0
    }

    /// Called by a worker whose popped task just returned, before its result is published:
    /// counts it as finishing unless the pool is full. Returns whether it was counted, which
    /// the worker passes to its next `pop`.
    pub(crate) fn task_returned(&self) -> bool {
        if self.is_full() {
            return false;
        }
        // Relaxed: the publication that follows is a Release, so whoever sees the result and
        // then pushes reads this count (under the lock) or a later one.
        self.hot.finishing.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Refuses every later `push` and wakes the idle workers so they can leave once the queue
    /// is empty. Returns whether this call closed it.
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
    pub(crate) fn drain(&self) -> VecDeque<Arc<dyn Job>> {
        let mut state = lock(&self.state);
        let jobs = std::mem::take(&mut state.jobs);
        self.store_hint(&state);
        jobs
    }

    /// A thread that `push` asked for did not start. If it was to be the only thread and jobs
    /// are queued, nobody would run them: hands them back for the caller to fail and keeps the
    /// thread counted, so `shutdown` waits until they are; the caller calls again. Otherwise
    /// counts the thread out and returns `None`.
    pub(crate) fn start_failed(&self) -> Option<VecDeque<Arc<dyn Job>>> {
        let mut state = lock(&self.state);
        if state.threads == 1 && !state.jobs.is_empty() {
            let jobs = std::mem::take(&mut state.jobs);
            self.store_hint(&state);
            return Some(jobs);
        }
        self.count_out(state);
        None
    }

    /// A worker thread finished its loop (or unwound out of it).
    pub(crate) fn thread_exited(&self) {
        self.count_out(lock(&self.state));
    }

    fn count_out(&self, mut state: MutexGuard<'_, State>) {
        state.threads -= 1;
        self.store_hint(&state);
        drop(state);
        self.exited.notify_all();
    }

    /// Blocks until at most `own` threads are left (1 when called from one of them), or until
    /// `deadline`. Returns whether they are.
    pub(crate) fn wait_for_threads(&self, own: usize, deadline: Option<Instant>) -> bool {
        let mut state = lock(&self.state);
        while state.threads > own {
            state = match deadline {
                None => self
                    .exited
                    .wait(state)
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return false;
                    }
                    self.exited
                        .wait_timeout(state, left)
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .0
                }
            };
        }
        true
    }
}
