//! The pool side of the workers: one driver thread per worker slot starts a worker, feeds it
//! tasks, finishes their futures from its replies, and replaces it when it dies, overruns a
//! task's deadline, sends garbage, has run its `max_tasks_per_child`, or a task it runs is
//! killed. The protocol is in `README.md` beside this file.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};

use super::registry::Call;
use super::spare::SpareInputs;
use super::spawn::{Launch, Signaller, Worker};
use super::task::ProcessJob;
use super::wire::{self, kind, Frame, RecvError, TaskPayload};
use crate::error::{Deadline, TaskError};
use crate::exit::AtExit;
use crate::future::task::{current_pool, enter_pool};
use crate::sync::lock;

/// How many tasks a worker holds at once: the one it runs and the next, so that it never
/// waits for the round trip between two tasks. The second is handed over only while every
/// worker is busy: a task queued behind another would otherwise wait while a worker idles.
const DEPTH: usize = 2;

/// Inputs larger than this are sent only to an idle worker. A worker writing a large reply
/// and the pool writing a large task could otherwise each wait for the other to read.
const PIPELINE_LIMIT: usize = 64 << 10;

/// The settings a pool's drivers share.
pub(crate) struct Settings {
    pub(crate) workers: usize,
    pub(crate) initializer: Option<&'static str>,
    pub(crate) max_tasks_per_child: Option<usize>,
    pub(crate) max_frame: usize,
    /// How many more times a task whose worker died is run, each time in a new worker.
    pub(crate) retries: u32,
    /// How long a worker may wait for a task before it is let go (started again on demand).
    pub(crate) idle_timeout: Option<Duration>,
}

/// What a process pool and its drivers share.
pub(crate) struct Shared {
    /// The pool's id (see `future::task::new_pool_id`): its drivers are marked with it, so a
    /// shutdown from one of them does not wait for itself.
    pub(crate) id: usize,
    pub(crate) settings: Settings,
    /// Invariant: `None` once shut down; submitters send while holding the lock (as in the
    /// thread pool), so no job lands in a queue that no driver serves.
    pub(crate) sender: Mutex<Option<Sender<Arc<dyn ProcessJob>>>>,
    pub(crate) receiver: Receiver<Arc<dyn ProcessJob>>,
    /// Set once, when a worker cannot start or its initializer fails; from then on every
    /// task fails with this reason instead of starting workers in a loop.
    pub(crate) broken: OnceLock<String>,
    /// Set once by `terminate_workers` / `kill_workers`: workers that die are not replaced
    /// and the tasks they had not finished are cancelled, not retried.
    pub(crate) stopping: AtomicBool,
    /// The workers running now, for `terminate_workers` / `kill_workers`.
    pub(crate) live: Mutex<Vec<Arc<Signaller>>>,
    /// Drivers whose worker has a task; see `DEPTH`.
    pub(crate) busy: AtomicUsize,
    /// Buffers of finished large inputs, for the next ones.
    pub(crate) spare_inputs: SpareInputs,
    /// Drivers still running; `exited` is notified as each ends.
    pub(crate) alive: Mutex<usize>,
    pub(crate) exited: Condvar,
}

impl Shared {
    fn break_pool(&self, reason: String) {
        self.broken.get_or_init(|| reason);
    }

    fn broken_error(&self) -> Option<TaskError> {
        self.broken
            .get()
            .map(|reason| TaskError::broken(reason.clone()))
    }

    fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Refuses later submits, and cancels the queued tasks if asked.
    pub(crate) fn close(&self, cancel_futures: bool) {
        drop(lock(&self.sender).take());
        if cancel_futures {
            while let Ok(job) = self.receiver.try_recv() {
                job.cancel();
            }
        }
    }

    /// Waits until every driver has ended (but the calling thread, if it is one), or until
    /// `deadline`. Returns whether they all ended.
    pub(crate) fn wait_for_drivers(&self, deadline: Option<Instant>) -> bool {
        let own = usize::from(current_pool() == self.id);
        let mut alive = lock(&self.alive);
        while *alive > own {
            alive = match deadline {
                None => self
                    .exited
                    .wait(alive)
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return false;
                    }
                    self.exited
                        .wait_timeout(alive, left)
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .0
                }
            };
        }
        true
    }

    /// Sends `signal` to every running worker.
    pub(crate) fn signal_workers(&self, signal: i32) {
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
        self.wait_for_drivers(None);
    }
}

/// Counts a driver out of `alive` when it ends, however it ends.
struct Alive<'a>(&'a Shared);

impl Drop for Alive<'_> {
    fn drop(&mut self) {
        *lock(&self.0.alive) -= 1;
        self.0.exited.notify_all();
    }
}

/// Counts a driver in `busy` while its worker has a task.
struct Busy<'a> {
    shared: &'a Shared,
    counted: bool,
}

impl Busy<'_> {
    fn set(&mut self, busy: bool) {
        if busy != self.counted {
            self.counted = busy;
            if busy {
                self.shared.busy.fetch_add(1, Ordering::Relaxed);
            } else {
                self.shared.busy.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// Whether every worker of the pool has a task.
    fn everyone(&self) -> bool {
        self.shared.busy.load(Ordering::Relaxed) >= self.shared.settings.workers
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.set(false);
    }
}

/// A task sent to the current worker and not yet answered.
struct Sent {
    job: Arc<dyn ProcessJob>,
    id: u64,
    /// When the worker started it: set for the first task in line, since workers run their
    /// tasks in the order sent.
    started: Option<Instant>,
}

/// How the time with one worker ended.
enum Next {
    /// Start another worker and go on.
    Replace,
    /// The worker waited longer than the idle timeout: let it go, start one when work comes.
    Idle,
    /// The pool is shut down and its queue is empty.
    Stop,
}

/// What waiting for the next job found.
enum Got {
    Job(Arc<dyn ProcessJob>),
    /// Nothing queued right now (only when not waiting).
    Empty,
    /// The idle timeout passed.
    Idle,
    /// The pool is shut down and its queue is empty.
    Closed,
}

/// The body of a driver thread.
pub(crate) fn drive(shared: Arc<Shared>) {
    let _alive = Alive(&shared);
    enter_pool(shared.id);
    Driver {
        shared: &shared,
        retry: VecDeque::new(),
        next_id: 0,
    }
    .run();
}

/// One driver: its pool, and the tasks it claimed that must go to its next worker.
struct Driver<'a> {
    shared: &'a Shared,
    /// Tasks this driver claimed whose worker died before finishing them: sent again first.
    retry: VecDeque<Arc<dyn ProcessJob>>,
    next_id: u64,
}

impl Driver<'_> {
    fn run(&mut self) {
        loop {
            if let Some(error) = self.shared.broken_error() {
                return self.fail_all(&error);
            }
            if self.shared.is_stopping() {
                return self.stop_retries();
            }
            let Some(mut worker) = self.start_worker() else {
                continue; // the pool is broken now
            };
            let next = self.serve(&mut worker);
            lock(&self.shared.live).retain(|live| !Arc::ptr_eq(live, &worker.signaller));
            match next {
                Next::Replace => {}
                Next::Idle => {
                    worker.retire();
                    if !self.wait_for_work() {
                        return;
                    }
                }
                Next::Stop => return worker.retire(),
            }
        }
    }

    /// Starts a worker and waits for its `READY`; breaks the pool if that fails.
    fn start_worker(&mut self) -> Option<Worker> {
        let launch = Launch {
            max_frame: self.shared.settings.max_frame,
            initializer: self.shared.settings.initializer,
        };
        let started = Worker::spawn(&launch)
            .map_err(|error| error.to_string())
            .and_then(|mut worker| {
                handshake(&mut worker)?;
                Ok(worker)
            });
        match started {
            Ok(worker) => {
                lock(&self.shared.live).push(Arc::clone(&worker.signaller));
                Some(worker)
            }
            Err(reason) => {
                self.shared.break_pool(reason);
                None
            }
        }
    }

    /// Waits without a worker until a task comes (then keeps it for the next worker);
    /// `false` if the pool was shut down first.
    fn wait_for_work(&mut self) -> bool {
        if !self.retry.is_empty() {
            return true;
        }
        match next_job(self.shared, Wait::Forever) {
            Got::Job(job) => {
                self.retry.push_back(job);
                true
            }
            Got::Closed | Got::Idle | Got::Empty => false,
        }
    }

    /// Feeds `worker` until it has to be replaced or the pool is done.
    fn serve(&mut self, worker: &mut Worker) -> Next {
        let mut line = Line {
            in_flight: VecDeque::new(),
            busy: Busy {
                shared: self.shared,
                counted: false,
            },
            sent: 0,
        };
        loop {
            line.busy.set(!line.in_flight.is_empty());
            if let Some(next) = self.top_up(worker, &mut line) {
                return next;
            }
            let Some(front) = line.in_flight.front() else {
                // Idle with the limit reached: let this worker go, start a fresh one.
                worker.retire();
                return Next::Replace;
            };
            let deadline = front
                .started
                .zip(front.job.timeout())
                .and_then(|(start, timeout)| start.checked_add(timeout));
            let received = worker.channel.recv(deadline);
            if let Some(next) = self.on_receive(worker, &mut line.in_flight, received) {
                return next;
            }
        }
    }

    /// Sends tasks until `DEPTH` are in flight: the retried ones first, then the queue;
    /// waits for one only when the worker is idle. `Some` when the worker's time is over.
    fn top_up(&mut self, worker: &mut Worker, line: &mut Line<'_>) -> Option<Next> {
        let limit = self.shared.settings.max_tasks_per_child;
        while line.in_flight.len() < DEPTH && limit.map_or(true, |limit| line.sent < limit) {
            let idle = line.in_flight.is_empty();
            if !idle && !line.busy.everyone() {
                break; // an idle worker can take the next task at once
            }
            let job = match self.retry.pop_front() {
                Some(job) => job,
                None => {
                    let wait = match (idle, self.shared.settings.idle_timeout) {
                        (false, _) => Wait::No,
                        (true, None) => Wait::Forever,
                        (true, Some(idle)) => Wait::For(idle),
                    };
                    match next_job(self.shared, wait) {
                        Got::Job(job) => job,
                        Got::Empty => break,
                        Got::Idle => return Some(Next::Idle),
                        Got::Closed if idle => return Some(Next::Stop),
                        Got::Closed => break,
                    }
                }
            };
            if job.is_done() {
                continue; // killed while waiting to be sent again
            }
            if let Some(error) = self.shared.broken_error() {
                job.finish(Err(error));
                continue;
            }
            let request = job.request();
            let header = TaskPayload::header(call_code(request.call), request.name);
            let len = header.len() + request.input.len();
            if len > self.shared.settings.max_frame {
                // The channel would refuse it, and a refused send means a dead worker below.
                job.finish(Err(TaskError::codec(format!(
                    "the arguments take {len} bytes, over the pool's frame limit of {} bytes",
                    self.shared.settings.max_frame
                ))));
                continue;
            }
            if !idle && request.input.len() > PIPELINE_LIMIT {
                self.retry.push_front(job);
                break;
            }
            self.next_id += 1;
            if worker
                .channel
                .send(kind::TASK, self.next_id, &[&header, &request.input])
                .is_err()
            {
                // The worker is gone; this task never reached it.
                self.retry.push_front(job);
                return Some(self.replace_dead(worker, &mut line.in_flight));
            }
            line.in_flight.push_back(Sent {
                job,
                id: self.next_id,
                started: idle.then(Instant::now),
            });
            line.busy.set(true);
            line.sent += 1;
            if idle && !self.begin_front(worker, &line.in_flight) {
                return Some(self.replace_broken(
                    worker,
                    &mut line.in_flight,
                    TaskError::Cancelled,
                ));
            }
        }
        None
    }

    /// Records that the worker now runs the front task; `false` if that task was killed, so
    /// the worker (already running it) must be stopped.
    fn begin_front(&self, worker: &Worker, in_flight: &VecDeque<Sent>) -> bool {
        in_flight
            .front()
            .map_or(true, |front| front.job.start(&worker.signaller))
    }

    /// Handles what the worker's channel gave while waiting for the front task's reply.
    fn on_receive(
        &mut self,
        worker: &mut Worker,
        in_flight: &mut VecDeque<Sent>,
        received: Result<Frame, RecvError>,
    ) -> Option<Next> {
        let front = in_flight
            .front()
            .expect("a reply is awaited for the front task");
        let error = match received {
            Ok(frame) if frame.id == front.id => return self.on_reply(worker, in_flight, frame),
            Ok(frame) => TaskError::codec(format!(
                "the worker answered task {} while running task {}",
                frame.id, front.id
            )),
            Err(RecvError::TimedOut) => {
                let timeout = front
                    .job
                    .timeout()
                    .expect("only a task with a timeout times out");
                TaskError::timed_out(Deadline::Task { timeout })
            }
            Err(RecvError::Corrupt(reason)) => TaskError::codec(reason),
            Err(RecvError::Closed | RecvError::Truncated | RecvError::Io) => {
                return Some(self.replace_dead(worker, in_flight));
            }
        };
        Some(self.replace_broken(worker, in_flight, error))
    }

    /// The front task's reply: finish its future, and the worker moves on to the next.
    fn on_reply(
        &mut self,
        worker: &mut Worker,
        in_flight: &mut VecDeque<Sent>,
        frame: Frame,
    ) -> Option<Next> {
        let done = in_flight.pop_front().expect("the front exists");
        let input = done.job.take_input();
        done.job
            .finish(wire::reply(frame.kind, frame.payload, worker.pid()));
        if let Some(input) = input.and_then(Arc::into_inner) {
            self.shared.spare_inputs.give(input);
        }
        if let Some(next) = in_flight.front_mut() {
            next.started = Some(Instant::now());
        }
        if !self.begin_front(worker, in_flight) {
            return Some(self.replace_broken(worker, in_flight, TaskError::Cancelled));
        }
        None
    }

    /// The worker died. The task it was running fails with how it ended, unless it may be
    /// retried (`retries`) or the worker was killed to stop another task (then it was not
    /// this task's fault); those it had not started go to the next worker.
    fn replace_dead(&mut self, worker: &mut Worker, in_flight: &mut VecDeque<Sent>) -> Next {
        let exit = worker.reap();
        let running = in_flight.pop_front();
        self.requeue(in_flight);
        if let Some(running) = running.filter(|running| !running.job.is_done()) {
            let attempts = running.job.attempts();
            let retry = !self.shared.is_stopping()
                && (worker.signaller.was_killed_for_task()
                    || attempts <= self.shared.settings.retries);
            if retry {
                self.retry.push_front(running.job);
            } else {
                running
                    .job
                    .finish(Err(TaskError::worker_died_after(exit, attempts)));
            }
        }
        Next::Replace
    }

    /// The worker must go (a deadline passed, it broke the protocol, or its task was killed):
    /// it is killed, the task it was running fails with `error`, and those it had not started
    /// go to the next worker.
    fn replace_broken(
        &mut self,
        worker: &mut Worker,
        in_flight: &mut VecDeque<Sent>,
        error: TaskError,
    ) -> Next {
        worker.kill();
        worker.reap();
        if let Some(running) = in_flight.pop_front() {
            running.job.finish(Err(error));
        }
        self.requeue(in_flight);
        Next::Replace
    }

    /// Puts the tasks of `in_flight` (none of them started), in order, before the retries.
    fn requeue(&mut self, in_flight: &mut VecDeque<Sent>) {
        for waiting in in_flight.drain(..).rev() {
            self.retry.push_front(waiting.job);
        }
    }

    /// A broken pool: fails this driver's retries, then every job that reaches the queue,
    /// until the pool is shut down. Drivers stay to do this so that nothing waits forever.
    fn fail_all(&mut self, error: &TaskError) {
        for job in self.retry.drain(..) {
            job.finish(Err(error.clone()));
        }
        while let Ok(job) = self.shared.receiver.recv() {
            job.fail(error.clone());
        }
    }

    /// A pool whose workers were terminated: what this driver holds is cancelled.
    fn stop_retries(&mut self) {
        for job in self.retry.drain(..) {
            job.stop();
        }
    }
}

/// The tasks sent to one worker, and the counts that go with them.
struct Line<'a> {
    in_flight: VecDeque<Sent>,
    busy: Busy<'a>,
    /// Tasks sent to this worker, for `max_tasks_per_child`.
    sent: usize,
}

/// Waits for a new worker's `READY`; an error says why the pool cannot have workers.
fn handshake(worker: &mut Worker) -> Result<(), String> {
    match worker.channel.recv(None) {
        Ok(frame) if frame.kind == kind::READY => Ok(()),
        Ok(frame) if frame.kind == kind::INIT_FAILED => {
            let message = String::from_utf8_lossy(&frame.payload).into_owned();
            worker.reap();
            Err(format!("a worker's initializer failed: {message}"))
        }
        Ok(_) | Err(RecvError::Corrupt(_)) => {
            worker.kill();
            worker.reap();
            Err("a worker process sent garbage while starting".to_owned())
        }
        Err(_) => {
            let exit = worker.reap();
            Err(format!("a worker process {exit} while starting"))
        }
    }
}

/// How long `next_job` may wait.
enum Wait {
    No,
    For(Duration),
    Forever,
}

/// The next job from the queue, claimed (a job cancelled while queued is skipped).
fn next_job(shared: &Shared, wait: Wait) -> Got {
    let deadline = match wait {
        Wait::For(idle) => Instant::now().checked_add(idle),
        _ => None,
    };
    loop {
        let job = match (&wait, deadline) {
            (Wait::No, _) => match shared.receiver.try_recv() {
                Ok(job) => job,
                Err(TryRecvError::Empty) => return Got::Empty,
                Err(TryRecvError::Disconnected) => return Got::Closed,
            },
            (Wait::For(_), Some(deadline)) => match shared.receiver.recv_deadline(deadline) {
                Ok(job) => job,
                Err(RecvTimeoutError::Timeout) => return Got::Idle,
                Err(RecvTimeoutError::Disconnected) => return Got::Closed,
            },
            _ => match shared.receiver.recv() {
                Ok(job) => job,
                Err(_) => return Got::Closed,
            },
        };
        if job.claim() {
            return Got::Job(job);
        }
    }
}

fn call_code(call: Call) -> u8 {
    match call {
        Call::One => 0,
        Call::Batch => 1,
        Call::Init => 2,
    }
}
