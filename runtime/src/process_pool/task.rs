//! `ProcessTask`: a task for a worker process: the registered function's name, the encoded
//! input, and the `Core` its `Future` reads.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::codec::ProcessResult;
use super::registry::Call;
use super::shm::Input;
use super::worker::Signaller;
use crate::error::TaskError;
use crate::future::core::{Core, CoreState, FROM_PENDING, FROM_RUNNING};
use crate::future::task::{Completion, Handle};
use crate::map::Chunk;
use crate::panic;
use crate::sync::lock;
use crate::trace::TaskSpan;

/// What a driver sends to a worker for one task.
pub(crate) struct Request {
    pub(crate) name: &'static str,
    pub(crate) call: Call,
    pub(crate) input: Input,
}

/// A pool's view of a queued process task.
pub(crate) trait ProcessJob: Send + Sync {
    /// PENDING -> RUNNING: the caller (a driver) takes the task.
    fn claim(&self) -> bool;
    /// What to send; call after `claim`.
    fn request(&self) -> Request;
    /// The encoded input, taken from a task its worker has answered (so that its buffer can
    /// serve another task); `None` if already taken or dropped.
    fn take_input(&self) -> Option<Input>;
    /// The task's deadline, counted from when its worker starts it.
    fn timeout(&self) -> Option<Duration>;
    /// Records that the worker behind `signaller` is running the task now, and counts the
    /// attempt. Returns `false` (recording nothing) if the task was killed: its driver must
    /// then stop that worker.
    fn start(&self, signaller: &Arc<Signaller>) -> bool;
    /// How many times a worker has started the task.
    fn attempts(&self) -> u32;
    /// Whether the task is done (finished, failed, cancelled or killed): a driver skips it.
    fn is_done(&self) -> bool;
    /// Finishes a claimed task with the encoded output of worker process `pid`, or an
    /// error. Decoding runs the result type's `Deserialize`: a panic there fails the task
    /// with `Codec`.
    fn finish(&self, outcome: Result<(&[u8], u32), TaskError>);
    /// Ends a claimed task that will not be run (its pool is being stopped) as cancelled.
    fn stop(&self);
    /// Finishes a task that was never claimed with `error` (a broken pool).
    fn fail(&self, error: TaskError);
    /// Cancels the task if it has not been claimed.
    fn cancel(&self) -> bool;
    /// The task's span (feature `tracing`; nothing without it).
    fn span(&self) -> &TaskSpan;
}

pub(crate) struct ProcessTask<T> {
    core: Core<T>,
    name: &'static str,
    call: Call,
    /// The encoded input; dropped once the task is done. Kept until then because a task
    /// whose worker dies before starting it is sent again.
    input: Mutex<Option<Input>>,
    decode: fn(&[u8], u32) -> Result<T, TaskError>,
    timeout: Option<Duration>,
    /// Whether `Future::kill` was called, and which worker runs the task right now.
    kill: Mutex<Kill>,
    /// Starts on a worker so far (more than one after retries). Only the driver that claimed
    /// the task changes it.
    attempts: AtomicU32,
    /// Made where the task is submitted; entered by its driver (see `trace/mod.rs`).
    span: TaskSpan,
}

/// The state `Future::kill` and the task's driver share.
///
/// Invariant: `runner` is `Some` exactly while a worker is running the task (set by `start`,
/// cleared by `finish` before the task completes), so `kill` signals only the worker running
/// this very task, never the next task of the same worker.
#[derive(Default)]
struct Kill {
    killed: bool,
    runner: Option<Arc<Signaller>>,
}

impl<T: Send> ProcessTask<T> {
    pub(crate) fn new(
        name: &'static str,
        call: Call,
        input: Input,
        decode: fn(&[u8], u32) -> Result<T, TaskError>,
        timeout: Option<Duration>,
    ) -> Self {
        Self {
            core: Core::new(),
            name,
            call,
            input: Mutex::new(Some(input)),
            decode,
            timeout,
            kill: Mutex::new(Kill::default()),
            attempts: AtomicU32::new(0),
            span: TaskSpan::process(name, call == Call::Batch),
        }
    }

    /// Decodes a worker's output, catching a panic in the result type's `Deserialize`.
    fn decode(&self, bytes: &[u8], pid: u32) -> Result<T, TaskError> {
        match panic::catch_parts(|| (self.decode)(bytes, pid)) {
            Ok(outcome) => outcome,
            Err((message, location)) => {
                let at = location.map(|at| format!(" at {at}")).unwrap_or_default();
                Err(TaskError::codec(format!(
                    "decoding the result panicked{at}: {message}"
                )))
            }
        }
    }

    /// Completes the core, dropping a late outcome (one that lost to a kill or a deadline)
    /// under `catch`, so that a panicking `Drop` of the user's value cannot end the driver.
    fn complete(&self, from: u32, outcome: Result<T, TaskError>) {
        if let Err(late) = self.core.complete(from, outcome) {
            panic::drop_quietly("a task's late result", late);
        }
    }
}

impl<T: Send> ProcessJob for ProcessTask<T> {
    fn claim(&self) -> bool {
        self.core.claim()
    }

    fn request(&self) -> Request {
        let input = lock(&self.input).clone().unwrap_or_default();
        Request {
            name: self.name,
            call: self.call,
            input,
        }
    }

    fn take_input(&self) -> Option<Input> {
        lock(&self.input).take()
    }

    fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    fn start(&self, signaller: &Arc<Signaller>) -> bool {
        let mut kill = lock(&self.kill);
        if kill.killed {
            return false;
        }
        kill.runner = Some(Arc::clone(signaller));
        self.attempts.fetch_add(1, Ordering::Relaxed);
        true
    }

    fn attempts(&self) -> u32 {
        self.attempts.load(Ordering::Relaxed)
    }

    fn is_done(&self) -> bool {
        self.core.is_done()
    }

    fn finish(&self, outcome: Result<(&[u8], u32), TaskError>) {
        lock(&self.input).take();
        // Before completing: a `kill` from now on finds no runner, so it cannot reach the
        // worker's next task (invariant on `Kill`).
        lock(&self.kill).runner = None;
        if self.core.is_done() {
            return; // killed meanwhile: the outcome is not decoded for nobody
        }
        let outcome = outcome.and_then(|(bytes, pid)| self.decode(bytes, pid));
        self.complete(FROM_RUNNING, outcome);
    }

    fn stop(&self) {
        lock(&self.input).take();
        lock(&self.kill).runner = None;
        self.core.stop();
    }

    fn fail(&self, error: TaskError) {
        lock(&self.input).take();
        self.complete(FROM_PENDING, Err(error));
    }

    fn cancel(&self) -> bool {
        let cancelled = self.core.cancel();
        if cancelled {
            lock(&self.input).take();
        }
        cancelled
    }

    fn span(&self) -> &TaskSpan {
        &self.span
    }
}

impl<T: Send> Completion for ProcessTask<T> {
    fn state(&self) -> &dyn CoreState {
        &self.core
    }
}

impl<T: Send> Handle<T> for ProcessTask<T> {
    fn core(&self) -> &Core<T> {
        &self.core
    }

    fn as_completion(&self) -> &dyn Completion {
        self
    }

    fn cancel(&self) -> bool {
        ProcessJob::cancel(self)
    }

    /// Cancels a queued task; stops a claimed one: it fails with `Cancelled` at once, and the
    /// worker running it (if one is) is killed; its driver replaces it. A task claimed but
    /// not started yet is stopped by its driver when its worker gets to it (`start` refuses).
    fn kill(&self) -> bool {
        if ProcessJob::cancel(self) {
            return true;
        }
        // Stopped under the lock, so that `finish` (which clears the runner under it first)
        // either completes the task before this or finds it stopped.
        let (stopped, runner) = {
            let mut kill = lock(&self.kill);
            if self.core.is_done() {
                return self.core.is_cancelled();
            }
            kill.killed = true;
            (self.core.stop(), kill.runner.take())
        };
        if let Some(runner) = runner {
            // The worker may have finished this task a moment ago and begun its next one;
            // `Signaller::kill_for_task` tells the driver so, and it gives that task to the
            // next worker instead of failing it.
            runner.kill_for_task();
        }
        stopped || self.core.is_cancelled()
    }
}

/// Decodes a worker's output for one call.
pub(crate) fn decode_value<T: ProcessResult>(bytes: &[u8], _pid: u32) -> Result<T, TaskError> {
    T::decode(bytes).map_err(TaskError::codec)
}

/// Decodes the output of worker process `pid` for a batch.
pub(crate) fn decode_batch<T: ProcessResult>(
    bytes: &[u8],
    pid: u32,
) -> Result<Chunk<T>, TaskError> {
    let (values, failures, nanos) = T::decode_batch(bytes).map_err(TaskError::codec)?;
    let failures = failures
        .into_iter()
        .map(|(position, message, location)| {
            let error = TaskError::panicked_at(message, location, Some(pid));
            (position as usize, error)
        })
        .collect();
    Ok(Chunk::from_parts(
        values,
        failures,
        Duration::from_nanos(nanos),
    ))
}
