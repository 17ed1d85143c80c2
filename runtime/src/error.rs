//! `TaskError`: every way a task can fail to produce its value.

use std::any::Any;
use std::fmt;
use std::time::Duration;

/// Why a [`Future`](crate::Future) holds no value.
///
/// Each variant is a state the task ended in, with an `is_*()` helper, so code can ask
/// `err.is_timed_out()` without a `match`. New variants may be added (the enum is
/// `#[non_exhaustive]`).
///
/// # Examples
///
/// ```
/// use parallel::{TaskError, ThreadPool};
///
/// let pool = ThreadPool::new();
/// let err = pool.submit(|| -> u32 { panic!("bad input") }).result().unwrap_err();
/// assert!(err.is_panicked());
/// assert_eq!(err.panic_message(), Some("bad input"));
/// assert!(matches!(err, TaskError::Panicked { location: Some(_), process: None, .. }));
/// // "the task panicked at src/main.rs:5:40: bad input"
/// assert!(err.to_string().ends_with(": bad input"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskError {
    /// The task panicked. Nothing is printed when it happens (as Python keeps a task's
    /// exception in its future): the message and where it was raised are here.
    #[non_exhaustive]
    Panicked {
        /// The panic message (or a note that the payload was not a string).
        message: String,
        /// Where the panic was raised, `file:line:column`, when known.
        location: Option<String>,
        /// The id of the worker process the task panicked in; `None` for a thread.
        process: Option<u32>,
    },
    /// The task was cancelled before it started, by [`Future::cancel`](crate::Future::cancel),
    /// by `shutdown(.., cancel_futures = true)`, or by dropping a `map` iterator; or a running
    /// process task was stopped with [`Future::kill`](crate::Future::kill).
    Cancelled,
    /// A deadline passed; [`Deadline`] says which. After a wait gave up
    /// ([`Deadline::Wait`]) the future is still pending and can be waited on again.
    #[non_exhaustive]
    TimedOut {
        /// Which deadline passed.
        deadline: Deadline,
    },
    /// The worker process running the task died.
    #[non_exhaustive]
    WorkerDied {
        /// How it ended (the last one, if the task was retried).
        exit: WorkerExit,
        /// How many times the task was tried: 1, or more with `retries`.
        attempts: u32,
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
        /// What went wrong, with the message of the type's own `Serialize` or `Deserialize`
        /// if that is what failed.
        message: String,
    },
    /// The future's value was already taken by an earlier `result` call or `.await`.
    Taken,
    /// The [`Promise`](crate::Promise) of this future was dropped without completing it.
    Abandoned,
}

/// Which deadline passed, for [`TaskError::TimedOut`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use parallel::{Deadline, ThreadPool};
///
/// let pool = ThreadPool::new();
/// let (go, wait_for_go) = std::sync::mpsc::channel::<()>();
/// let future = pool.submit(move || wait_for_go.recv().is_ok());
/// let error = future.result_timeout(Duration::from_millis(10)).unwrap_err();
/// assert!(matches!(error, parallel::TaskError::TimedOut { deadline: Deadline::Wait, .. }));
/// go.send(()).unwrap();
/// assert_eq!(future.result(), Ok(true), "a wait that gave up leaves the future usable");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Deadline {
    /// A wait gave up (`result_timeout`): the task has not failed, it is still pending or
    /// running, and the future can be waited on again.
    Wait,
    /// The task ran longer than its own `timeout` (counted from when it started). A process
    /// task's worker was killed; a thread cannot be stopped, so its value is dropped.
    Task {
        /// The task's timeout.
        timeout: Duration,
    },
    /// A map's `timeout` (counted from the call) passed before its next item finished: the
    /// map ends there, as Python's `map` does, and the items it had not yielded are cancelled
    /// or left to finish unread.
    Map,
    /// The timeout of `as_completed` passed with futures still unfinished.
    AsCompleted {
        /// How many of the futures had not finished.
        unfinished: usize,
        /// How many futures `as_completed` was given (each counted once).
        total: usize,
    },
}

/// How a worker process ended, for [`TaskError::WorkerDied`].
///
/// # Examples
///
/// ```
/// use parallel::WorkerExit;
///
/// assert_eq!(WorkerExit::Signal(9).to_string(), "was killed by signal 9 (SIGKILL)");
/// assert_eq!(WorkerExit::Code(3).to_string(), "exited with code 3");
/// // On Windows, a crash is an exit code too: an `NTSTATUS`, named when it is a common one.
/// assert_eq!(
///     WorkerExit::Code(0xC000_0005_u32 as i32).to_string(),
///     "exited with code 0xC0000005 (STATUS_ACCESS_VIOLATION)"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WorkerExit {
    /// It exited with this code. On Windows this is also how a crash ends (an `NTSTATUS`
    /// such as `0xC0000005`, stored as its bits in an `i32`), and how a kill does:
    /// `TerminateProcess` sets the code the killer chose (`0x00010000` when the pool killed
    /// it, `1` for most tools and for std's `Child::kill`).
    Code(i32),
    /// It was killed by this signal (Unix only).
    Signal(i32),
}

/// The exit code a pool gives `TerminateProcess` when it kills one of its workers on Windows
/// (a timeout, `Future::kill`, `terminate_workers`, `kill_workers`): Python's
/// `multiprocessing` uses the same. No Unix exit code (0 to 255) and no `NTSTATUS` is this.
#[cfg_attr(not(windows), allow(dead_code))]
pub(crate) const KILLED_BY_POOL: u32 = 0x0001_0000;

impl TaskError {
    /// `Panicked` with the given message, no location, on a thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = parallel::TaskError::panicked("boom");
    /// assert_eq!(err.to_string(), "the task panicked: boom");
    /// ```
    pub fn panicked(message: impl Into<String>) -> Self {
        Self::Panicked {
            message: message.into(),
            location: None,
            process: None,
        }
    }

    /// `Panicked` with all its parts.
    pub(crate) fn panicked_at(
        message: String,
        location: Option<String>,
        process: Option<u32>,
    ) -> Self {
        Self::Panicked {
            message,
            location,
            process,
        }
    }

    /// `TimedOut` for the given deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{Deadline, TaskError};
    /// let err = TaskError::timed_out(Deadline::AsCompleted { unfinished: 2, total: 4 });
    /// assert!(err.is_timed_out());
    /// assert!(err.to_string().contains("2 (of 4) futures unfinished"));
    /// ```
    pub fn timed_out(deadline: Deadline) -> Self {
        Self::TimedOut { deadline }
    }

    /// `WorkerDied` with the given exit, after one attempt.
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{TaskError, WorkerExit};
    /// assert!(TaskError::worker_died(WorkerExit::Code(1)).is_worker_died());
    /// ```
    pub fn worker_died(exit: WorkerExit) -> Self {
        Self::WorkerDied { exit, attempts: 1 }
    }

    /// `WorkerDied` after `attempts` tries, the last ending with `exit`.
    pub(crate) fn worker_died_after(exit: WorkerExit, attempts: u32) -> Self {
        Self::WorkerDied { exit, attempts }
    }

    /// The panic message of a `Panicked` error; `None` for any other error.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::new();
    /// let err = pool.submit(|| -> u8 { panic!("bad input") }).result().unwrap_err();
    /// assert_eq!(err.panic_message(), Some("bad input"));
    /// ```
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            Self::Panicked { message, .. } => Some(message),
            _ => None,
        }
    }

    /// `Broken` with the given reason.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(parallel::TaskError::broken("init failed").is_broken());
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
    /// assert!(parallel::TaskError::codec("truncated frame").is_codec());
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
    /// assert!(parallel::TaskError::panicked("x").is_panicked());
    /// ```
    pub fn is_panicked(&self) -> bool {
        matches!(self, Self::Panicked { .. })
    }

    /// Whether the task was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(parallel::TaskError::Cancelled.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Self::Cancelled)
    }

    /// Whether a deadline passed.
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{Deadline, TaskError};
    /// assert!(TaskError::timed_out(Deadline::Wait).is_timed_out());
    /// ```
    pub fn is_timed_out(&self) -> bool {
        matches!(self, Self::TimedOut { .. })
    }

    /// Whether the worker process died.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!parallel::TaskError::ShutDown.is_worker_died());
    /// ```
    pub fn is_worker_died(&self) -> bool {
        matches!(self, Self::WorkerDied { .. })
    }

    /// Whether the pool was shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(parallel::TaskError::ShutDown.is_shut_down());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        matches!(self, Self::ShutDown)
    }

    /// Whether the pool is broken.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!parallel::TaskError::Cancelled.is_broken());
    /// ```
    pub fn is_broken(&self) -> bool {
        matches!(self, Self::Broken { .. })
    }

    /// Whether encoding or decoding failed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!parallel::TaskError::Cancelled.is_codec());
    /// ```
    pub fn is_codec(&self) -> bool {
        matches!(self, Self::Codec { .. })
    }

    /// Whether the promise of this future was dropped without completing it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, future) = parallel::promise::<u8>();
    /// drop(promise);
    /// assert!(future.result().unwrap_err().is_abandoned());
    /// ```
    pub fn is_abandoned(&self) -> bool {
        matches!(self, Self::Abandoned)
    }

    /// Whether the value had already been taken.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(parallel::TaskError::Taken.is_taken());
    /// ```
    pub fn is_taken(&self) -> bool {
        matches!(self, Self::Taken)
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Panicked {
                message,
                location,
                process,
            } => {
                f.write_str("the task panicked")?;
                if let Some(pid) = process {
                    write!(f, " in worker process {pid}")?;
                }
                if let Some(location) = location {
                    write!(f, " at {location}")?;
                }
                write!(f, ": {message}")
            }
            Self::Cancelled => f.write_str("the task was cancelled"),
            Self::TimedOut { deadline } => deadline.fmt(f),
            Self::WorkerDied { exit, attempts } => {
                write!(f, "the worker process running the task {exit}")?;
                if *attempts > 1 {
                    write!(
                        f,
                        " (the last of {attempts} attempts, each in a new worker)"
                    )?;
                }
                Ok(())
            }
            Self::ShutDown => f.write_str("the pool was shut down before the task could run"),
            Self::Broken { reason } => write!(f, "the pool is broken: {reason}"),
            Self::Codec { message } => {
                write!(f, "could not move data to or from a worker: {message}")
            }
            Self::Taken => f.write_str("the future's value was already taken"),
            Self::Abandoned => f.write_str("the promise was dropped without completing its future"),
        }
    }
}

impl fmt::Display for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Wait => f.write_str(
                "gave up waiting: the task has not finished yet and goes on (its future can be waited on again)",
            ),
            Self::Task { timeout } => {
                write!(f, "the task ran longer than its timeout of {timeout:?}")
            }
            Self::Map => f.write_str(
                "the map's timeout passed before its next item finished, so the map ends here",
            ),
            Self::AsCompleted { unfinished, total } => write!(
                f,
                "{unfinished} (of {total}) futures unfinished when the timeout of `as_completed` passed"
            ),
        }
    }
}

impl std::error::Error for TaskError {}

impl fmt::Display for WorkerExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Code(code) => match exit_code_name(code as u32) {
                Some(name) => write!(f, "exited with code 0x{:08X} ({name})", code as u32),
                // An `NTSTATUS` (its severity bits make it negative): hexadecimal, as Windows
                // writes them.
                None if code < 0 => write!(f, "exited with code 0x{:08X}", code as u32),
                None => write!(f, "exited with code {code}"),
            },
            Self::Signal(signal) => match signal_name(signal) {
                Some(name) => write!(f, "was killed by signal {signal} ({name})"),
                None => write!(f, "was killed by signal {signal}"),
            },
        }
    }
}

/// The name of the Windows exit codes a worker is likely to end with: the `NTSTATUS` of a crash
/// (what an unhandled exception ends a process with), and the code of a pool's kill. None of
/// them is a Unix exit code (0 to 255).
fn exit_code_name(code: u32) -> Option<&'static str> {
    Some(match code {
        KILLED_BY_POOL => "killed by its pool",
        0x4000_0015 => "STATUS_FATAL_APP_EXIT",
        0x8000_0003 => "STATUS_BREAKPOINT",
        0xC000_0005 => "STATUS_ACCESS_VIOLATION",
        0xC000_0006 => "STATUS_IN_PAGE_ERROR",
        0xC000_0017 => "STATUS_NO_MEMORY",
        0xC000_001D => "STATUS_ILLEGAL_INSTRUCTION",
        0xC000_008E => "STATUS_FLOAT_DIVIDE_BY_ZERO",
        0xC000_0094 => "STATUS_INTEGER_DIVIDE_BY_ZERO",
        0xC000_0096 => "STATUS_PRIVILEGED_INSTRUCTION",
        0xC000_00FD => "STATUS_STACK_OVERFLOW",
        0xC000_0135 => "STATUS_DLL_NOT_FOUND",
        0xC000_013A => "STATUS_CONTROL_C_EXIT",
        0xC000_0142 => "STATUS_DLL_INIT_FAILED",
        0xC000_0374 => "STATUS_HEAP_CORRUPTION",
        0xC000_0409 => "STATUS_STACK_BUFFER_OVERRUN",
        0xC000_0420 => "STATUS_ASSERTION_FAILURE",
        _ => return None,
    })
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
