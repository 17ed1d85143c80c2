//! `DemandQueue`: the thread pool's job queue, the shared `pool::queue::Queue` with the rules
//! that start threads on demand layered on it: it counts the pool's threads and the workers
//! waiting or finishing a task, and decides under the queue's lock when a push needs one
//! more thread. The rule and why it strands no job are in `README.md` beside this file.

use crate::future::task::QueuedJob;
use crate::pool::lifecycle::Lifecycle;
use crate::pool::queue::{Arrival, Extension, Popped, Queue, Wait};
use crate::spin::{spin_until, SPIN_FOR};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The pool's FIFO of jobs, with its threads started as pushes need them.
pub(crate) struct DemandQueue {
    /// Its flag is `Threads::full`: nobody reads the idle counts then, so workers stop
    /// keeping them.
    queue: Queue<QueuedJob, Threads>,
}

/// The idle counts, beside the queue's hint on its cache line.
pub(crate) struct Idle {
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

/// The threads, under the queue's lock.
struct Threads {
    /// Threads asked for by `push` and not yet finished (or counted out by `start_failed`).
    ///
    /// Invariant: at most `limit`; raised only by `push`, which hands the caller the thread
    /// to start (and counts it in the pool's `Lifecycle` under the same lock), and lowered
    /// only by that thread's exit or its failure to start.
    threads: usize,
    /// Threads ever asked for: the next one's index, which names it.
    started: usize,
    /// The most threads the pool may start (`ThreadPool::workers`).
    limit: usize,
}

impl Extension for Threads {
    type Hot = Idle;

    /// Whether every thread the pool may have is started.
    fn flag(&self) -> bool {
        self.threads >= self.limit
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
struct Visit<'q> {
    idle: &'q Idle,
    waiting: bool,
    finishing: bool,
}

impl Arrival for Visit<'_> {
    /// The worker found no job: counts it as waiting (unless the pool is full), then no
    /// longer as finishing, in that order, so a pusher that sees it leave `finishing`
    /// (Acquire) also sees it in `waiting`.
    fn wait(&mut self, full: bool) {
        if !full && !self.waiting {
            self.idle.waiting.fetch_add(1, Ordering::Relaxed);
            self.waiting = true;
        }
        self.arrive();
    }

    /// The worker took a job or leaves: out of both counters. Called under the lock
    /// (invariant on `Idle::waiting`), after the job left the queue, so a pusher that sees
    /// `finishing` drop also sees the shorter queue.
    fn leave(&mut self) {
        if self.waiting {
            self.idle.waiting.fetch_sub(1, Ordering::Relaxed);
            self.waiting = false;
        }
        self.arrive();
    }
}

impl Visit<'_> {
    fn arrive(&mut self) {
        if self.finishing {
            self.idle.finishing.fetch_sub(1, Ordering::Release);
            self.finishing = false;
        }
    }
}

impl DemandQueue {
    /// An open, empty queue that may start up to `limit` threads.
    pub(crate) fn new(limit: usize) -> Self {
        let threads = Threads {
            threads: 0,
            started: 0,
            limit,
        };
        let idle = Idle {
            waiting: AtomicUsize::new(0),
            finishing: AtomicUsize::new(0),
        };
        Self {
            queue: Queue::with_extension(threads, idle),
        }
    }

    /// Queues `job`, waking an idle worker if one sleeps. Returns the index of a thread the
    /// caller must start (outside any lock) for the job to be served, already counted in
    /// `lifecycle`, or `None` when a waiting worker or a thread already started will take it.
    /// Gives the job back if the queue is closed.
    pub(crate) fn push(
        &self,
        job: QueuedJob,
        lifecycle: &Lifecycle,
    ) -> Result<Option<usize>, QueuedJob> {
        let decision = self.queue.push_with(job, |threads, queued| {
            self.decide(threads, queued, true, lifecycle)
        })?;
        Ok(match decision {
            Decision::Served => None,
            Decision::Start(index) => Some(index),
            Decision::Settle => self.settle(lifecycle),
        })
    }

    /// Whether the queue now holds more jobs than waiting workers can take, and a thread may
    /// still start; if so, and `may_settle` and some worker is finishing its task, says to
    /// wait for it; otherwise counts the new thread in (the queue then stores the hint, whose
    /// flag may have changed).
    fn decide(
        &self,
        threads: &mut Threads,
        queued: usize,
        may_settle: bool,
        lifecycle: &Lifecycle,
    ) -> Decision {
        if threads.flag() {
            return Decision::Served;
        }
        let idle = self.queue.hot();
        // `finishing` first: a finisher leaves it (Release) only after entering `waiting` or
        // taking its job, so if this sees it gone, the next load sees where it went.
        let finishing = idle.finishing.load(Ordering::Acquire);
        if queued <= idle.waiting.load(Ordering::Relaxed) {
            return Decision::Served;
        }
        if may_settle && finishing > 0 {
            return Decision::Settle;
        }
        threads.threads += 1;
        lifecycle.count_in();
        let index = threads.started;
        threads.started += 1;
        Decision::Start(index)
    }

    /// Waits, for about as long as starting a thread takes, for the workers finishing their
    /// tasks to come back or for the queue to need no new thread; then decides for good. A
    /// worker is back within a microsecond unless it runs user code after its result (a
    /// done-callback, a waker, a drop) or was descheduled, and then a thread should start.
    fn settle(&self, lifecycle: &Lifecycle) -> Option<usize> {
        let idle = self.queue.hot();
        spin_until(SPIN_FOR, || {
            idle.finishing.load(Ordering::Acquire) == 0
                || self.queue.queued_hint() <= idle.waiting.load(Ordering::Acquire)
        });
        self.queue.update(|threads, jobs| {
            match self.decide(threads, jobs.len(), false, lifecycle) {
                Decision::Start(index) => Some(index),
                Decision::Served | Decision::Settle => None,
            }
        })
    }

    /// The next job, polling briefly before sleeping; `None` once the queue is closed and
    /// empty. `finishing`: the caller was counted in `Idle::finishing` by `task_returned`
    /// and is arriving back now.
    pub(crate) fn pop(&self, finishing: bool) -> Option<QueuedJob> {
        let mut visit = Visit {
            idle: self.queue.hot(),
            waiting: false,
            finishing,
        };
        match self.queue.pop(Wait::Forever, &mut visit) {
            Popped::Job(job) => Some(job),
            Popped::Closed | Popped::Empty | Popped::TimedOut => None,
        }
    }

    /// A queued job, if there is one, for a worker that waits at the end of a scope and runs
    /// queued work meanwhile (`Scope`): taken as `pop` takes it, without waiting and without
    /// counting the caller as idle (it is busy with the task that opened the scope).
    pub(crate) fn try_pop(&self) -> Option<QueuedJob> {
        match self.queue.pop(Wait::No, &mut ()) {
            Popped::Job(job) => Some(job),
            Popped::Closed | Popped::Empty | Popped::TimedOut => None,
        }
    }

    /// Whether every thread the pool may have is started, from the hint (so possibly stale,
    /// which costs at most a thread started that was not needed).
    pub(crate) fn is_full(&self) -> bool {
        self.queue.flagged_hint()
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
        self.queue.hot().finishing.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Refuses every later `push` and wakes the idle workers so they can leave once the queue
    /// is empty. Returns whether this call closed it.
    pub(crate) fn close(&self) -> bool {
        self.queue.close()
    }

    pub(crate) fn is_open(&self) -> bool {
        self.queue.is_open()
    }

    /// Takes every queued job, for the caller to cancel or fail outside the lock.
    pub(crate) fn drain(&self) -> VecDeque<QueuedJob> {
        self.queue.drain()
    }

    /// A thread that `push` asked for did not start. If it was to be the only thread and jobs
    /// are queued, nobody would run them: hands them back for the caller to fail and keeps the
    /// thread counted, so `shutdown` waits until they are; the caller calls again. Otherwise
    /// counts the thread out (here; the caller counts it out of its `Lifecycle`) and returns
    /// `None`.
    pub(crate) fn start_failed(&self) -> Option<VecDeque<QueuedJob>> {
        self.queue.update(|threads, jobs| {
            if threads.threads == 1 && !jobs.is_empty() {
                return Some(std::mem::take(jobs));
            }
            threads.threads -= 1;
            None
        })
    }

    /// A worker thread finished its loop (or unwound out of it); it counts itself out of its
    /// `Lifecycle` after this.
    pub(crate) fn thread_exited(&self) {
        self.queue.update(|threads, _| threads.threads -= 1);
    }
}
