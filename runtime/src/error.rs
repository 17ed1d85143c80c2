//! `TaskError`: every way a task can fail to produce its value.

use std::any::Any;
use std::fmt;

/// Why a [`Future`](crate::Future) holds no value.
///
/// Each variant is a state the task ended in, with an `is_*()` helper, so code can ask
/// `err.is_timed_out()` without a `match`. New variants may be added (the enum is
/// `#[non_exhaustive]`).
///
/// # Examples
///
/// ```
/// use parallel_runtime::{TaskError, ThreadPool};
///
/// let pool = ThreadPool::new();
/// let err = pool.submit(|| -> u32 { panic!("bad input") }).result().unwrap_err();
/// assert!(err.is_panicked());
/// assert_eq!(err.to_string(), "the task panicked: bad input");
/// assert!(matches!(err, TaskError::Panicked { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskError {
    /// The task panicked. `message` is the panic's message (or a note that the payload
    /// was not a string).
    #[non_exhaustive]
    Panicked {
        /// The panic message.
        message: String,
    },
    /// The task was cancelled before it started, by [`Future::cancel`](crate::Future::cancel),
    /// by `shutdown(.., cancel_futures = true)`, or by dropping a `map` iterator.
    Cancelled,
    /// A deadline passed: the wait's (`result_timeout`, `as_completed`, a map's timeout) or the
    /// task's own. After a wait's timeout the future is still pending and can be waited on
    /// again; check [`Future::is_done`](crate::Future::is_done) to tell the two apart.
    TimedOut,
    /// The worker process running the task died.
    #[non_exhaustive]
    WorkerDied {
        /// How it ended.
        exit: WorkerExit,
    },
    /// The pool was shut down before the task could be submitted or started.
    ShutDown,
    /// The pool is broken: a worker's initializer panicked, so no task will run on it
    /// (Python's `BrokenThreadPool`).
    #[non_exhaustive]
    Broken {
        /// Why the pool broke.
        reason: String,
    },
    /// An argument or result could not be encoded or decoded on its way to or from a worker
    /// process.
    #[non_exhaustive]
    Codec {
        /// What went wrong.
        message: String,
    },
    /// The future's value was already taken by an earlier `result` call or `.await`.
    Taken,
}

/// How a worker process ended, for [`TaskError::WorkerDied`].
///
/// # Examples
///
/// ```
/// use parallel_runtime::WorkerExit;
///
/// assert_eq!(WorkerExit::Signal(9).to_string(), "killed by signal 9 (SIGKILL)");
/// assert_eq!(WorkerExit::Code(3).to_string(), "exited with code 3");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WorkerExit {
    /// It exited with this code.
    Code(i32),
    /// It was killed by this signal.
    Signal(i32),
}

impl TaskError {
    /// Builds `Panicked` from a panic payload as caught by `catch_unwind`.
    pub(crate) fn from_panic(payload: Box<dyn Any + Send>) -> Self {
        Self::Panicked {
            message: panic_message(payload.as_ref()),
        }
    }

    /// `Panicked` with the given message.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = parallel_runtime::TaskError::panicked("boom");
    /// assert_eq!(err.to_string(), "the task panicked: boom");
    /// ```
    pub fn panicked(message: impl Into<String>) -> Self {
        Self::Panicked {
            message: message.into(),
        }
    }

    /// `WorkerDied` with the given exit.
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel_runtime::{TaskError, WorkerExit};
    /// assert!(TaskError::worker_died(WorkerExit::Code(1)).is_worker_died());
    /// ```
    pub fn worker_died(exit: WorkerExit) -> Self {
        Self::WorkerDied { exit }
    }

    /// `Broken` with the given reason.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(parallel_runtime::TaskError::broken("init failed").is_broken());
    /// ```
    pub fn broken(reason: impl Into<String>) -> Self {
        Self::Broken {
            reason: reason.into(),
        }
    }

    /// `Codec` with the given message.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(parallel_runtime::TaskError::codec("truncated frame").is_codec());
    /// ```
    pub fn codec(message: impl Into<String>) -> Self {
        Self::Codec {
            message: message.into(),
        }
    }

    /// Whether the task panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(parallel_runtime::TaskError::panicked("x").is_panicked());
    /// ```
    pub fn is_panicked(&self) -> bool {
        matches!(self, Self::Panicked { .. })
    }

    /// Whether the task was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(parallel_runtime::TaskError::Cancelled.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Self::Cancelled)
    }

    /// Whether a deadline passed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(parallel_runtime::TaskError::TimedOut.is_timed_out());
    /// ```
    pub fn is_timed_out(&self) -> bool {
        matches!(self, Self::TimedOut)
    }

    /// Whether the worker process died.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!parallel_runtime::TaskError::ShutDown.is_worker_died());
    /// ```
    pub fn is_worker_died(&self) -> bool {
        matches!(self, Self::WorkerDied { .. })
    }

    /// Whether the pool was shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(parallel_runtime::TaskError::ShutDown.is_shut_down());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        matches!(self, Self::ShutDown)
    }

    /// Whether the pool is broken.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!parallel_runtime::TaskError::Cancelled.is_broken());
    /// ```
    pub fn is_broken(&self) -> bool {
        matches!(self, Self::Broken { .. })
    }

    /// Whether encoding or decoding failed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!parallel_runtime::TaskError::TimedOut.is_codec());
    /// ```
    pub fn is_codec(&self) -> bool {
        matches!(self, Self::Codec { .. })
    }

    /// Whether the value had already been taken.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(parallel_runtime::TaskError::Taken.is_taken());
    /// ```
    pub fn is_taken(&self) -> bool {
        matches!(self, Self::Taken)
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Panicked { message } => write!(f, "the task panicked: {message}"),
            Self::Cancelled => f.write_str("the task was cancelled before it started"),
            Self::TimedOut => f.write_str("the deadline passed before the task finished"),
            Self::WorkerDied { exit } => write!(f, "the worker process running the task {exit}"),
            Self::ShutDown => f.write_str("the pool was shut down before the task could run"),
            Self::Broken { reason } => write!(f, "the pool is broken: {reason}"),
            Self::Codec { message } => {
                write!(f, "could not move data to or from a worker: {message}")
            }
            Self::Taken => f.write_str("the future's value was already taken"),
        }
    }
}

impl std::error::Error for TaskError {}

impl fmt::Display for WorkerExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Code(code) => write!(f, "exited with code {code}"),
            Self::Signal(signal) => match signal_name(signal) {
                Some(name) => write!(f, "killed by signal {signal} ({name})"),
                None => write!(f, "killed by signal {signal}"),
            },
        }
    }
}

/// The conventional name of the signals a worker is likely to die of.
fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        _ => return None,
    })
}

/// The message of a panic payload: `panic!` produces `&str` or `String`.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a payload that is not a string".to_owned()
    }
}
