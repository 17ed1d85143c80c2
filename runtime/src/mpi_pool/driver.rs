//! The root's driver: one thread that makes every MPI call of the root (so
//! `MPI_THREAD_SERIALIZED` is enough), sends the queued tasks to the worker ranks, several in
//! flight per rank, and finishes each task's future as its reply arrives, in the order replies
//! come. The protocol is in `README.md` beside this file.

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::{self, JoinHandle, ThreadId};
use std::time::{Duration, Instant};

use super::comm::{Comm, Incoming, Sending, TO_ROOT, TO_WORKER};
use super::wire;
use crate::error::{Deadline, TaskError};
use crate::pool::lifecycle::Lifecycle;
use crate::process_pool::{ProcessJob, SpareInputs};
use crate::spin::{spin_until, SPIN_FOR};
use crate::sync::lock;

/// What an `MpiPool` handle shares with the tasks it queued: its id, whether it is broken
/// (its initializer failed on a rank), the tasks queued or in flight (counted as the
/// lifecycle's live workers, so `shutdown(wait)` waits for them), and its initializer.
pub(crate) struct PoolState {
    pub(crate) lifecycle: Lifecycle,
    pub(crate) initializer: Option<&'static str>,
}

/// A task queued for the worker ranks.
pub(crate) struct Job {
    pub(crate) task: Arc<dyn ProcessJob>,
    pub(crate) pool: Arc<PoolState>,
    /// The rank it must run on (an initializer's run), or `None` for any.
    pub(crate) rank: Option<i32>,
}

impl Job {
    /// The task left the driver's hands: count it out of its pool.
    fn settle(self) {
        self.pool.lifecycle.count_out();
    }
}

/// How the driver reaches the ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The program was launched as an MPI job and the crate took it over: `MPI_COMM_WORLD`
    /// is ours alone.
    Owned,
    /// The program uses MPI itself: the driver works on a duplicate of `MPI_COMM_WORLD`, so
    /// its messages never meet the program's.
    Shared,
}

/// The root's side of the worker ranks: the queue that submitters push to and the driver
/// thread that serves it.
pub(crate) struct Engine {
    queue: Mutex<Queue>,
    /// How many jobs are queued, kept beside the queue (written under its lock), so that an
    /// idle driver can poll for work without taking the lock.
    queued: AtomicUsize,
    /// The driver sleeps here when it has nothing to do, or between polls.
    wake: Condvar,
    /// The worker ranks (every rank but the root), in order.
    ranks: Vec<i32>,
    /// Buffers of finished large inputs, for the next ones (`process_pool/spare.rs`).
    pub(crate) spare_inputs: SpareInputs,
    thread: Mutex<Option<JoinHandle<()>>>,
    thread_id: OnceLock<ThreadId>,
}

struct Queue {
    jobs: VecDeque<Job>,
    open: bool,
    /// The driver is waiting on `wake`: a push must notify it.
    sleeping: bool,
}

impl Engine {
    /// Starts the driver for the worker ranks `ranks` (every rank but `root`), returning once
    /// it has its communicator.
    pub(crate) fn start(mode: Mode, ranks: Vec<i32>) -> std::io::Result<Arc<Self>> {
        let engine = Arc::new(Self {
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                open: true,
                sleeping: false,
            }),
            queued: AtomicUsize::new(0),
            wake: Condvar::new(),
            ranks,
            spare_inputs: SpareInputs::default(),
            thread: Mutex::new(None),
            thread_id: OnceLock::new(),
        });
        let (ready, started) = mpsc::channel();
        let driver = Arc::clone(&engine);
        let handle = thread::Builder::new()
            .name("parallel-mpi".into())
            .spawn(move || {
                // User code the driver runs (decoding, callbacks, late values' `Drop`) is
                // caught where it runs; a panic here is the crate's own bug, and a root that
                // can no longer serve its ranks must not leave them, or the launcher, waiting.
                let driven = panic::catch_unwind(AssertUnwindSafe(|| drive(&driver, mode, &ready)));
                if driven.is_err() {
                    fatal("the driver thread panicked");
                }
            })?;
        let _ = engine.thread_id.set(handle.thread().id());
        *lock(&engine.thread) = Some(handle);
        // The driver duplicates the communicator (collective with the worker ranks) before
        // this thread may make MPI calls of its own again.
        let _ = started.recv();
        Ok(engine)
    }

    /// The number of worker ranks.
    pub(crate) fn workers(&self) -> usize {
        self.ranks.len()
    }

    /// The worker ranks.
    pub(crate) fn ranks(&self) -> &[i32] {
        &self.ranks
    }

    /// Queues `job`; gives it back once the engine is stopped.
    pub(crate) fn push(&self, job: Job) -> Result<(), Job> {
        let mut queue = lock(&self.queue);
        if !queue.open {
            return Err(job);
        }
        queue.jobs.push_back(job);
        self.queued.store(queue.jobs.len(), Ordering::Release);
        if queue.sleeping {
            queue.sleeping = false;
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Cancels the queued tasks of the pool `pool` (they are skipped when their turn comes).
    pub(crate) fn cancel_queued(&self, pool: usize) {
        let tasks: Vec<_> = lock(&self.queue)
            .jobs
            .iter()
            .filter(|job| job.pool.lifecycle.id() == pool)
            .map(|job| Arc::clone(&job.task))
            .collect();
        // Outside the lock: cancelling runs done-callbacks, which may submit.
        for task in tasks {
            task.cancel();
        }
    }

    /// Whether this is the driver's own thread (a done-callback runs there).
    pub(crate) fn is_driver_thread(&self) -> bool {
        self.thread_id.get() == Some(&thread::current().id())
    }

    /// Refuses new tasks, cancels the queued ones, and waits until the driver has the replies
    /// of those in flight and has told every worker rank to stop. From the driver's own thread
    /// it cannot wait: the driver then stops when the callback returns.
    pub(crate) fn stop(&self) {
        let queued: Vec<_> = {
            let mut queue = lock(&self.queue);
            queue.open = false;
            self.wake.notify_one();
            queue.jobs.iter().map(|job| Arc::clone(&job.task)).collect()
        };
        for task in queued {
            task.cancel();
        }
        if self.is_driver_thread() {
            return;
        }
        if let Some(handle) = lock(&self.thread).take() {
            let _ = handle.join();
        }
    }

    /// Takes the next job if it can be sent now: a pinned one always, another if some rank
    /// has room.
    fn next_job(&self, room: bool) -> Option<Job> {
        let mut queue = lock(&self.queue);
        let job = match queue.jobs.front() {
            Some(job) if job.rank.is_some() || room => queue.jobs.pop_front(),
            _ => None,
        };
        self.queued.store(queue.jobs.len(), Ordering::Release);
        job
    }

    /// With nothing in flight: sleeps until a job comes (`true`) or the engine is stopped and
    /// drained (`false`). It polls for a job first, briefly (`spin.rs`): a caller that takes
    /// one result and submits the next task then costs no wake-up.
    fn idle(&self) -> bool {
        if spin_until(SPIN_FOR, || self.queued.load(Ordering::Acquire) > 0) {
            return true;
        }
        let mut queue = lock(&self.queue);
        loop {
            if !queue.jobs.is_empty() {
                return true;
            }
            if !queue.open {
                return false;
            }
            queue.sleeping = true;
            queue = self
                .wake
                .wait(queue)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// Sleeps up to `nap`, or until a job comes if `room` says one could be sent.
    fn nap(&self, nap: Duration, room: bool) {
        let mut queue = lock(&self.queue);
        if room && !queue.jobs.is_empty() {
            return;
        }
        queue.sleeping = room;
        let (mut queue, _) = self
            .wake
            .wait_timeout(queue, nap)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        queue.sleeping = false;
    }
}

/// A task sent to a rank, waiting for its reply.
struct InFlight {
    id: u64,
    job: Job,
    /// When the rank started it: when it was sent to an idle rank, or when the reply before
    /// it arrived. `None` while the rank is on an earlier task.
    started: Option<Instant>,
}

/// A worker rank, as the driver sees it.
struct Rank {
    rank: i32,
    /// In the order sent, which is the order the rank runs and answers them.
    in_flight: VecDeque<InFlight>,
    /// Smoothed time a task takes on this rank, from reply to reply.
    service: Option<Duration>,
}

/// Tasks in flight per rank while tasks take long (or nothing is known yet): one running,
/// one waiting behind it, so the rank never waits for the root between two tasks, while a
/// long task holds up little behind it.
const SHALLOW: usize = 2;
/// Tasks in flight per rank while tasks are short (under `SHORT`): enough to cover the round
/// trip between the root and the rank many times over (2.3 µs per task with 32, measured).
const DEEP: usize = 32;
const SHORT: Duration = Duration::from_micros(100);

impl Rank {
    fn room(&self) -> bool {
        let depth = match self.service {
            Some(service) if service < SHORT => DEEP,
            _ => SHALLOW,
        };
        self.in_flight.len() < depth
    }

    /// Learns from a reply that came at `now` for the task that started at `started`.
    fn observe(&mut self, started: Option<Instant>, now: Instant) {
        let Some(started) = started else { return };
        let sample = now.saturating_duration_since(started);
        self.service = Some(match self.service {
            None => sample,
            Some(old) => (old + sample) / 2,
        });
    }
}

/// The driver's loop: send what can be sent, take what has arrived, expire deadlines, and
/// wait (idle: on the queue; busy: a poll that spins briefly, then backs off) when nothing
/// moved. When the engine is stopped and nothing is in flight, tell every rank to stop.
fn drive(engine: &Engine, mode: Mode, ready: &mpsc::Sender<()>) {
    let world = Comm::world();
    let comm = match mode {
        Mode::Owned => world,
        Mode::Shared => world.duplicate(),
    };
    let _ = ready.send(());
    let mut ranks: Vec<Rank> = engine
        .ranks
        .iter()
        .map(|&rank| Rank {
            rank,
            in_flight: VecDeque::new(),
            service: None,
        })
        .collect();
    let mut sends: Vec<Sending> = Vec::new();
    let mut next_id = 1u64;
    let mut backoff = Backoff::default();
    loop {
        let mut moved = dispatch(engine, &comm, &mut ranks, &mut sends, &mut next_id);
        sends.retain_mut(|sending| !sending.is_done());
        while let Some(incoming) = comm.poll(TO_ROOT) {
            take_reply(engine, &comm, incoming, &mut ranks);
            moved = true;
        }
        expire(&ranks, Instant::now());
        if moved {
            backoff.reset();
            continue;
        }
        let busy = !sends.is_empty() || ranks.iter().any(|rank| !rank.in_flight.is_empty());
        if !busy {
            if !engine.idle() {
                break;
            }
            backoff.reset();
            continue;
        }
        backoff.wait(engine, ranks.iter().any(Rank::room));
    }
    let stop = wire::stop();
    for rank in &ranks {
        comm.send(&stop, rank.rank, TO_WORKER);
    }
    drop(sends);
    comm.free();
}

/// Sends queued tasks while a rank has room, the least loaded rank first (an idle one before
/// any busy one). Returns whether it sent anything.
fn dispatch(
    engine: &Engine,
    comm: &Comm,
    ranks: &mut [Rank],
    sends: &mut Vec<Sending>,
    next_id: &mut u64,
) -> bool {
    let mut sent = false;
    loop {
        let room = ranks.iter().any(Rank::room);
        let Some(job) = engine.next_job(room) else {
            return sent;
        };
        if !job.task.claim() {
            job.settle(); // cancelled while queued
            continue;
        }
        let index = match job.rank {
            Some(pinned) => ranks.iter().position(|rank| rank.rank == pinned),
            None => ranks
                .iter()
                .enumerate()
                .filter(|(_, rank)| rank.room())
                .min_by_key(|(_, rank)| rank.in_flight.len())
                .map(|(index, _)| index),
        }
        .expect("a pinned job names a worker rank, and `room` found one with room");
        let rank = &mut ranks[index];
        let id = *next_id;
        *next_id += 1;
        let request = job.task.request();
        let header = wire::task_header(
            id,
            request.call,
            request.name,
            job.pool.initializer,
            request.input.len(),
        );
        sends.extend(wire::send(
            comm,
            header,
            request.input.to_buffer(),
            rank.rank,
            TO_WORKER,
        ));
        let started = rank.in_flight.is_empty().then(Instant::now);
        rank.in_flight.push_back(InFlight { id, job, started });
        sent = true;
    }
}

/// Takes one reply and finishes its task. Ranks answer in the order they were sent tasks, so
/// a reply for any other task is a broken protocol, which no task can be blamed for: the job
/// ends (`fatal`).
fn take_reply(engine: &Engine, comm: &Comm, incoming: Incoming, ranks: &mut [Rank]) {
    let source = incoming.source;
    let bytes = wire::receive(comm, incoming, TO_ROOT).unwrap_or_else(|problem| fatal(&problem));
    let (id, outcome) = wire::reply(bytes).unwrap_or_else(|problem| fatal(&problem));
    let Some(rank) = ranks.iter_mut().find(|rank| rank.rank == source) else {
        fatal(&format!(
            "a reply from rank {source}, which is no worker rank"
        ))
    };
    let Some(done) = rank.in_flight.pop_front().filter(|front| front.id == id) else {
        fatal(&format!(
            "rank {source} answered task {id}, which it was not running"
        ))
    };
    let now = Instant::now();
    rank.observe(done.started, now);
    if let Some(next) = rank.in_flight.front_mut() {
        next.started = Some(now);
    }
    if let Err(TaskError::Broken { reason }) = &outcome {
        done.job.pool.lifecycle.break_pool(|| reason.clone());
    }
    let input = done.job.task.take_input();
    match outcome {
        Ok((bytes, pid)) => done.job.task.finish(Ok((&bytes, pid))),
        Err(error) => done.job.task.finish(Err(error)),
    }
    done.job.settle();
    // The send finished before the reply came, so this is the last reference, unless the
    // `Sending` that held it has not been reaped yet (then the buffer is simply dropped).
    if let Some(input) = input {
        engine.spare_inputs.give_input(input);
    }
}

/// Fails each running task whose deadline has passed. Its rank runs on (MPI cannot stop
/// one task on another rank); its late reply finds the task done and is dropped.
fn expire(ranks: &[Rank], now: Instant) {
    for front in ranks.iter().filter_map(|rank| rank.in_flight.front()) {
        let (Some(started), Some(timeout)) = (front.started, front.job.task.timeout()) else {
            continue;
        };
        if !front.job.task.is_done() && now.saturating_duration_since(started) >= timeout {
            let error = TaskError::timed_out(Deadline::Task { timeout });
            front.job.task.finish(Err(error));
        }
    }
}

/// The wait between polls while tasks are in flight: spin (yielding the core) for
/// `SPIN_FOR`, then sleep for a time that doubles from `FIRST_NAP` up to
/// `LAST_NAP`, starting again from a spin as soon as anything moves.
///
/// This is the backoff of a poll, not synchronisation: MPI has no way to wake a thread that
/// waits for a message other than the thread's own blocking call, and a blocking call cannot
/// also wait for our submitters. So the driver polls (`MPI_Improbe`, `MPI_Test`); correctness
/// never depends on the timing (every message is found by the next poll, and a submission
/// wakes a napping driver at once); the backoff only bounds what polling costs: an idle root
/// does not burn its core, and a reply waits at most about `LAST_NAP` to be seen.
#[derive(Default)]
struct Backoff {
    since: Option<Instant>,
    nap: Duration,
}

const FIRST_NAP: Duration = Duration::from_micros(10);
const LAST_NAP: Duration = Duration::from_millis(1);

impl Backoff {
    fn reset(&mut self) {
        self.since = None;
    }

    fn wait(&mut self, engine: &Engine, room: bool) {
        let since = *self.since.get_or_insert_with(|| {
            self.nap = FIRST_NAP;
            Instant::now()
        });
        if since.elapsed() < SPIN_FOR {
            thread::yield_now();
            return;
        }
        engine.nap(self.nap, room);
        self.nap = (self.nap * 2).min(LAST_NAP);
    }
}

/// Ends the whole job: the root's view of the ranks no longer matches theirs.
fn fatal(problem: &str) -> ! {
    eprintln!("parallel: the MPI protocol broke ({problem}); ending the job");
    super::comm::abort(70)
}
