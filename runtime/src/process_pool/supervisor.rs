//! The pool side of the workers: one driver thread per worker slot starts a worker, feeds it
//! tasks, finishes their futures from its replies, and replaces it when it dies, overruns a
//! task's deadline, sends garbage, or has run its `max_tasks_per_child`. The protocol is in
//! `README.md` beside this file.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, TryRecvError};

use super::registry::Call;
use super::spare::SpareInputs;
use super::spawn::{Launch, Worker};
use super::task::ProcessJob;
use super::wire::{kind, RecvError, TaskPayload};
use crate::error::TaskError;
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
}

/// What a process pool and its drivers share.
pub(crate) struct Shared {
    pub(crate) settings: Settings,
    /// Invariant: `None` once shut down; submitters send while holding the lock (as in the
    /// thread pool), so no job lands in a queue that no driver serves.
    pub(crate) sender: Mutex<Option<Sender<Arc<dyn ProcessJob>>>>,
    pub(crate) receiver: Receiver<Arc<dyn ProcessJob>>,
    /// Set once, when a worker cannot start or its initializer fails; from then on every
    /// task fails with this reason instead of starting workers in a loop.
    pub(crate) broken: OnceLock<String>,
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
    /// The pool is shut down and its queue is empty.
    Stop,
}

/// The body of a driver thread.
pub(crate) fn drive(shared: Arc<Shared>) {
    let _alive = Alive(&shared);
    // Tasks this driver claimed whose worker died before starting them: sent again first.
    let mut retry: VecDeque<Arc<dyn ProcessJob>> = VecDeque::new();
    let mut next_id = 0u64;
    loop {
        if let Some(error) = shared.broken_error() {
            return fail_all(&shared, retry, &error);
        }
        let launch = Launch {
            max_frame: shared.settings.max_frame,
            initializer: shared.settings.initializer,
        };
        let mut worker = match Worker::spawn(&launch)
            .map_err(|error| error.to_string())
            .and_then(|mut worker| {
                handshake(&mut worker)?;
                Ok(worker)
            }) {
            Ok(worker) => worker,
            Err(reason) => {
                shared.break_pool(reason);
                continue;
            }
        };
        match serve(&shared, &mut worker, &mut retry, &mut next_id) {
            Next::Replace => {}
            Next::Stop => {
                worker.retire();
                return;
            }
        }
    }
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

/// Feeds `worker` until it has to be replaced or the pool is done.
fn serve(
    shared: &Shared,
    worker: &mut Worker,
    retry: &mut VecDeque<Arc<dyn ProcessJob>>,
    next_id: &mut u64,
) -> Next {
    let limit = shared.settings.max_tasks_per_child;
    let mut in_flight: VecDeque<Sent> = VecDeque::new();
    let mut busy = Busy {
        shared,
        counted: false,
    };
    let mut sent = 0usize;
    loop {
        busy.set(!in_flight.is_empty());
        // Top up: the retried tasks first, then the queue; block only when idle.
        while in_flight.len() < DEPTH && limit.is_none_or_under(sent) {
            if !in_flight.is_empty() && !busy.everyone() {
                break; // an idle worker can take the next task at once
            }
            let job = match retry.pop_front() {
                Some(job) => job,
                None => match next_job(shared, in_flight.is_empty()) {
                    Some(job) => job,
                    None if in_flight.is_empty() => return Next::Stop,
                    None => break,
                },
            };
            if let Some(error) = shared.broken_error() {
                job.finish(Err(error));
                continue;
            }
            let request = job.request();
            let header = TaskPayload::header(call_code(request.call), request.name);
            let len = header.len() + request.input.len();
            if len > shared.settings.max_frame {
                // The channel would refuse it, and a refused send means a dead worker below.
                job.finish(Err(TaskError::codec(format!(
                    "the arguments take {len} bytes, over the pool's frame limit of {} bytes",
                    shared.settings.max_frame
                ))));
                continue;
            }
            if !in_flight.is_empty() && request.input.len() > PIPELINE_LIMIT {
                retry.push_front(job);
                break;
            }
            *next_id += 1;
            if worker
                .channel
                .send(kind::TASK, *next_id, &[&header, &request.input])
                .is_err()
            {
                // The worker is gone; this task never reached it.
                retry.push_front(job);
                return replace_dead(worker, &mut in_flight, retry);
            }
            let started = in_flight.is_empty().then(Instant::now);
            in_flight.push_back(Sent {
                job,
                id: *next_id,
                started,
            });
            busy.set(true);
            sent += 1;
        }
        let Some(front) = in_flight.front() else {
            // Idle with the limit reached: let this worker go, start a fresh one.
            worker.retire();
            return Next::Replace;
        };
        let deadline = front
            .started
            .zip(front.job.timeout())
            .and_then(|(start, timeout)| start.checked_add(timeout));
        match worker.channel.recv(deadline) {
            Ok(frame) if frame.id == front.id => {
                let done = in_flight.pop_front().expect("the front exists");
                let input = done.job.take_input();
                done.job
                    .finish(reply(frame.kind, frame.payload, worker.pid()));
                if let Some(input) = input.and_then(Arc::into_inner) {
                    shared.spare_inputs.give(input);
                }
                if let Some(next) = in_flight.front_mut() {
                    next.started = Some(Instant::now());
                }
            }
            Ok(frame) => {
                let reason = format!(
                    "the worker answered task {} while running task {}",
                    frame.id, front.id
                );
                return replace_broken(worker, &mut in_flight, retry, TaskError::codec(reason));
            }
            Err(RecvError::TimedOut) => {
                return replace_broken(worker, &mut in_flight, retry, TaskError::TimedOut);
            }
            Err(RecvError::Corrupt(reason)) => {
                return replace_broken(worker, &mut in_flight, retry, TaskError::codec(reason));
            }
            Err(RecvError::Closed | RecvError::Truncated | RecvError::Io) => {
                return replace_dead(worker, &mut in_flight, retry);
            }
        }
    }
}

/// The next job from the queue, claimed; waits for one only if `block`. `None` when there is
/// none (or, when blocking, when the pool is shut down and its queue empty).
fn next_job(shared: &Shared, block: bool) -> Option<Arc<dyn ProcessJob>> {
    loop {
        let job = if block {
            shared.receiver.recv().ok()?
        } else {
            match shared.receiver.try_recv() {
                Ok(job) => job,
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return None,
            }
        };
        // A job cancelled while queued is skipped.
        if job.claim() {
            return Some(job);
        }
    }
}

/// The outcome a reply frame carries.
fn reply(kind: u8, payload: Vec<u8>, pid: u32) -> Result<Vec<u8>, TaskError> {
    let text = || String::from_utf8_lossy(&payload).into_owned();
    match kind {
        kind::DONE => Ok(payload),
        kind::PANICKED => Err(TaskError::panicked(format!(
            "{} (in worker process {pid})",
            text()
        ))),
        kind::CODEC => Err(TaskError::codec(text())),
        kind::UNKNOWN => Err(TaskError::codec(format!(
            "the worker process has no function registered as `{}`",
            text()
        ))),
        other => Err(TaskError::codec(format!(
            "the worker sent a frame of kind {other} as a reply"
        ))),
    }
}

/// The worker died: the task it was running fails with how it ended; those it had not
/// started go to the next worker.
fn replace_dead(
    worker: &mut Worker,
    in_flight: &mut VecDeque<Sent>,
    retry: &mut VecDeque<Arc<dyn ProcessJob>>,
) -> Next {
    let exit = worker.reap();
    settle(in_flight, retry, TaskError::worker_died(exit));
    Next::Replace
}

/// The worker must go (a deadline passed, or it broke the protocol): it is killed, the task it
/// was running fails with `error`, and those it had not started go to the next worker.
fn replace_broken(
    worker: &mut Worker,
    in_flight: &mut VecDeque<Sent>,
    retry: &mut VecDeque<Arc<dyn ProcessJob>>,
    error: TaskError,
) -> Next {
    worker.kill();
    worker.reap();
    settle(in_flight, retry, error);
    Next::Replace
}

/// Fails the task being run with `error` and puts the rest, in order, before the retries.
fn settle(
    in_flight: &mut VecDeque<Sent>,
    retry: &mut VecDeque<Arc<dyn ProcessJob>>,
    error: TaskError,
) {
    if let Some(running) = in_flight.pop_front() {
        running.job.finish(Err(error));
    }
    for waiting in in_flight.drain(..).rev() {
        retry.push_front(waiting.job);
    }
}

/// A broken pool: fails this driver's retries, then every job that reaches the queue, until
/// the pool is shut down. Drivers stay to do this so that nothing waits forever.
fn fail_all(shared: &Shared, retry: VecDeque<Arc<dyn ProcessJob>>, error: &TaskError) {
    for job in retry {
        job.finish(Err(error.clone()));
    }
    while let Ok(job) = shared.receiver.recv() {
        job.fail(error.clone());
    }
}

fn call_code(call: Call) -> u8 {
    match call {
        Call::One => 0,
        Call::Batch => 1,
        Call::Init => 2,
    }
}

/// `Option<usize>` as a limit: `None` is no limit.
trait Limit {
    fn is_none_or_under(&self, count: usize) -> bool;
}

impl Limit for Option<usize> {
    fn is_none_or_under(&self, count: usize) -> bool {
        self.map_or(true, |limit| count < limit)
    }
}
