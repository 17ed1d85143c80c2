//! `ProcessTask`: a task for a worker process: the registered function's name, the encoded
//! input, and the `Core` its `Future` reads.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::bounds::ProcessResult;
use super::registry::Call;
use crate::error::TaskError;
use crate::future::core::{Core, FROM_PENDING, FROM_RUNNING};
use crate::future::task::{Completion, Handle};
use crate::map::Chunk;
use crate::signal::Signal;
use crate::sync::lock;

/// What a driver sends to a worker for one task.
pub(crate) struct Request {
    pub(crate) name: &'static str,
    pub(crate) call: Call,
    pub(crate) input: Arc<Vec<u8>>,
}

/// A pool's view of a queued process task.
pub(crate) trait ProcessJob: Send + Sync {
    /// PENDING -> RUNNING: the caller (a driver) takes the task.
    fn claim(&self) -> bool;
    /// What to send; call after `claim`.
    fn request(&self) -> Request;
    /// The encoded input, taken from a task its worker has answered (so that its buffer can
    /// serve another task); `None` if already taken or dropped.
    fn take_input(&self) -> Option<Arc<Vec<u8>>>;
    /// The task's deadline, counted from when its worker starts it.
    fn timeout(&self) -> Option<Duration>;
    /// Finishes a claimed task with the worker's encoded output, or an error.
    fn finish(&self, outcome: Result<Vec<u8>, TaskError>);
    /// Finishes a task that was never claimed with `error` (a broken pool).
    fn fail(&self, error: TaskError);
    /// Cancels the task if it has not been claimed.
    fn cancel(&self) -> bool;
}

pub(crate) struct ProcessTask<T> {
    core: Core<T>,
    name: &'static str,
    call: Call,
    /// The encoded input; dropped once the task is done. Kept until then because a task
    /// whose worker dies before starting it is sent again.
    input: Mutex<Option<Arc<Vec<u8>>>>,
    decode: fn(Vec<u8>) -> Result<T, TaskError>,
    timeout: Option<Duration>,
}

impl<T: Send> ProcessTask<T> {
    pub(crate) fn new(
        name: &'static str,
        call: Call,
        input: Vec<u8>,
        decode: fn(Vec<u8>) -> Result<T, TaskError>,
        timeout: Option<Duration>,
    ) -> Self {
        Self {
            core: Core::new(),
            name,
            call,
            input: Mutex::new(Some(Arc::new(input))),
            decode,
            timeout,
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

    fn take_input(&self) -> Option<Arc<Vec<u8>>> {
        lock(&self.input).take()
    }

    fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    fn finish(&self, outcome: Result<Vec<u8>, TaskError>) {
        lock(&self.input).take();
        let _ = self
            .core
            .complete(FROM_RUNNING, outcome.and_then(self.decode));
    }

    fn fail(&self, error: TaskError) {
        lock(&self.input).take();
        let _ = self.core.complete(FROM_PENDING, Err(error));
    }

    fn cancel(&self) -> bool {
        let cancelled = self.core.cancel();
        if cancelled {
            lock(&self.input).take();
        }
        cancelled
    }
}

impl<T: Send> Completion for ProcessTask<T> {
    fn is_done(&self) -> bool {
        self.core.is_done()
    }

    fn is_failed(&self) -> bool {
        self.core.is_failed()
    }

    fn subscribe(&self, signal: &crate::sync::Arc<Signal>, token: usize) -> bool {
        self.core.subscribe(signal, token)
    }

    fn unsubscribe(&self, signal: &crate::sync::Arc<Signal>) {
        self.core.unsubscribe(signal);
    }

    /// A process task runs only in a worker process: there is nothing to help with here.
    fn help(&self) -> bool {
        false
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
}

/// Decodes a worker's output for one call.
pub(crate) fn decode_value<T: ProcessResult>(bytes: Vec<u8>) -> Result<T, TaskError> {
    T::decode(&bytes).map_err(TaskError::codec)
}

/// Decodes a worker's output for a batch.
pub(crate) fn decode_batch<T: ProcessResult>(bytes: Vec<u8>) -> Result<Chunk<T>, TaskError> {
    let (values, failures, nanos) = T::decode_batch(&bytes).map_err(TaskError::codec)?;
    let failures = failures
        .into_iter()
        .map(|(position, message)| (position as usize, TaskError::panicked(message)))
        .collect();
    Ok(Chunk::from_parts(
        values,
        failures,
        Duration::from_nanos(nanos),
    ))
}
