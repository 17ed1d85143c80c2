//! [`ProcessPool`]: worker processes that run registered functions (Python's
//! `ProcessPoolExecutor`), with crash isolation, per-task deadlines that kill the worker, and
//! worker recycling. The protocol is in `README.md` beside this file.

mod boot;
mod child;
mod codec;
mod driver;
mod initializer;
mod os;
pub(crate) mod registry;
mod shared;
mod shm;
mod spare;
mod task;
mod wire;
mod worker;

use std::fmt;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

#[doc(hidden)]
pub use self::codec::{ProcessArgument, ProcessArguments, ProcessItem, ProcessResult};
use self::initializer::Initializer;
use self::os::Signal;
#[doc(hidden)]
pub use self::registry::{invoke, invoke_initializer, Call, Remote, RemoteEntry, REMOTE_FUNCTIONS};
use self::shared::{Settings, Shared};
pub(crate) use self::shm::Input;
#[cfg(all(feature = "mpi", target_os = "linux"))]
pub(crate) use self::spare::SpareInputs;
pub(crate) use self::task::{decode_batch, decode_value};
pub(crate) use self::task::{ProcessJob, ProcessTask};
use crate::error::TaskError;
use crate::future::Future;
use crate::map::{Chunk, Map, MapOptions, SubmitChunk};
use crate::pool::lifecycle::register_at_exit;

/// A function that worker processes can run, taking the argument tuple `Args`: every
/// non-generic `#[parallel(processes)]` function is one.
///
/// Workers find it by a name registered at compile time (its module path, name and
/// signature), never by address, so it works however the program was built or started. A
/// `#[parallel(processes)]` function is an ordinary `fn` returning a [`Future`]; the pool
/// finds its registered name by the type of the function item.
///
/// # Examples
///
/// ```
/// use parallel::{parallel, ProcessPool};
///
/// #[parallel(processes = 1)]
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// // `square` runs on its own pool when called, or on any pool through `submit`.
/// let pool = ProcessPool::builder().workers(2).build().unwrap();
/// assert_eq!(pool.submit(square, (7,)).result(), Ok(49));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a function that worker processes can run with the arguments `{Args}`",
    label = "expected a `#[parallel(processes)]` function, passed by name",
    note = "workers find a function by the name registered for it at compile time, and a closure or a plain `fn` has none: put the body in a `#[parallel(processes)] fn double(x: u64) -> u64` and pass its name, `pool.submit(double, (21,))`; to map a closure in worker processes, use `pmap!(|x: u64| .., items; processes)`"
)]
pub trait RemoteFn<Args>: Copy + Send + Sync + 'static {
    /// The result.
    type Output: ProcessResult;
    /// The name workers find the function by; `None` if it is not registered.
    #[doc(hidden)]
    fn name(&self) -> Option<&'static str>;
}

/// A pool of worker processes (Python's `ProcessPoolExecutor`), for CPU-bound work.
///
/// Workers are this program started again: they enter worker mode before `main` runs, so
/// there is nothing to set up (no `init()` call, no `if __name__ == "__main__"` guard). They
/// run functions marked `#[parallel(processes)]` (see [`RemoteFn`]); arguments and results
/// travel encoded with serde. On Linux and Windows an encoding over 64 KiB travels in shared
/// memory made for the pool (a sealed `memfd` handed to the worker over its channel on Linux,
/// an unnamed section whose handle the other side takes from the sender's process on
/// Windows: neither has a path or name any other process could open), and a whole argument
/// or result that is a `Vec` of numbers (`Vec<f64>`, `Vec<u8>`, ...) is one copy each way; on
/// macOS every payload goes through the channel.
///
/// A worker that crashes (a panic with `panic = "abort"`, a segfault, `exit`, a kill) fails
/// only the task it was running, with [`TaskError::WorkerDied`]; the pool starts a
/// replacement and every other task completes. A task past its deadline gets
/// [`TaskError::TimedOut`] and its worker is killed and replaced. Workers exit when the pool
/// is dropped and within moments if the program dies.
///
/// # Examples
///
/// ```
/// use parallel::{parallel, ProcessPool};
///
/// #[parallel(processes = 1)]
/// fn digits(n: u64) -> usize {
///     n.to_string().len()
/// }
///
/// let pool = ProcessPool::builder().workers(2).build().unwrap();
/// let futures: Vec<_> = [5, 50, 500].map(|n| pool.submit(digits, (n,))).into();
/// let counts: Vec<usize> = futures.iter().map(|f| f.result().unwrap()).collect();
/// assert_eq!(counts, [1, 2, 3]);
/// ```
pub struct ProcessPool {
    shared: Arc<Shared>,
    task_timeout: Option<Duration>,
}

/// The id of this process's parent: in a worker process, the program whose pool started it.
/// [`std::process::id`] gives this process's own id; std gives the parent's on Unix only
/// (`std::os::unix::process::parent_id`), where Python has `os.getppid()` everywhere.
///
/// Windows records a process's parent id when it starts, but does not follow the parent: the id
/// may name a process that has ended, or another that has its id since. `0` if the system
/// does not say.
///
/// # Examples
///
/// ```
/// use parallel::parallel;
///
/// #[parallel(processes = 1)]
/// fn parent() -> u32 {
///     parallel::parent_id()
/// }
///
/// assert_eq!(parent().result(), Ok(std::process::id()));
/// ```
#[doc(alias = "getppid")]
pub fn parent_id() -> u32 {
    os::parent_id()
}

/// Settings for a [`ProcessPool`], from [`ProcessPool::builder`].
///
/// | setting | default | Python |
/// |---|---|---|
/// | [`workers`](Self::workers) | available parallelism | `max_workers` |
/// | [`max_tasks_per_child`](Self::max_tasks_per_child) | none | `max_tasks_per_child` |
/// | [`task_timeout`](Self::task_timeout) | none | (pebble's `timeout`) |
/// | [`max_frame`](Self::max_frame) | 1 GiB | |
/// | [`retries`](Self::retries) | 0 | (dask's and Ray's `retries`) |
/// | [`idle_timeout`](Self::idle_timeout) | none | (loky's `timeout`) |
/// | [`initializer`](Self::initializer) | none | `initializer`, `initargs` |
/// | [`wait_ready`](Self::wait_ready) | no | (mpi4py's `bootup(wait=True)`) |
///
/// # Examples
///
/// ```
/// let pool = parallel::ProcessPool::builder().workers(2).max_tasks_per_child(100).build().unwrap();
/// assert_eq!(pool.workers(), 2);
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ProcessPoolBuilder {
    workers: Option<usize>,
    /// `Err` says why the initializer given cannot run (`build` refuses it).
    initializer: Option<Result<Initializer, String>>,
    max_tasks_per_child: Option<usize>,
    task_timeout: Option<Duration>,
    max_frame: usize,
    retries: u32,
    idle_timeout: Option<Duration>,
    wait_at_exit: bool,
    wait_ready: bool,
}

impl Default for ProcessPoolBuilder {
    fn default() -> Self {
        Self {
            workers: None,
            initializer: None,
            max_tasks_per_child: None,
            task_timeout: None,
            max_frame: 1 << 30,
            retries: 0,
            idle_timeout: None,
            wait_at_exit: true,
            wait_ready: false,
        }
    }
}

impl ProcessPoolBuilder {
    /// The default settings.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ProcessPoolBuilder::new().workers(1).build().unwrap();
    /// assert_eq!(pool.workers(), 1);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of worker processes; by default the machine's available parallelism.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ProcessPool::builder().workers(3).build().unwrap();
    /// assert_eq!(pool.workers(), 3);
    /// ```
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = Some(workers);
        self
    }

    /// Replaces a worker with a fresh process after it has run `tasks` tasks (Python's
    /// `max_tasks_per_child`), to bound what a leaky task can accumulate.
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{parallel, ProcessPool};
    ///
    /// #[parallel(processes = 1)]
    /// fn pid() -> u32 { std::process::id() }
    ///
    /// let pool = ProcessPool::builder().workers(1).max_tasks_per_child(1).build().unwrap();
    /// let first = pool.submit(pid, ()).result().unwrap();
    /// let second = pool.submit(pid, ()).result().unwrap();
    /// assert_ne!(first, second, "each task ran in a fresh worker");
    /// ```
    pub fn max_tasks_per_child(mut self, tasks: usize) -> Self {
        self.max_tasks_per_child = Some(tasks);
        self
    }

    /// Gives every task a deadline, counted from when its worker starts it: a task still
    /// running then fails with [`TaskError::TimedOut`], and its worker is killed and replaced.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use parallel::{parallel, ProcessPool};
    ///
    /// #[parallel(processes = 1)]
    /// fn nap(ms: u64) { std::thread::sleep(Duration::from_millis(ms)) }
    ///
    /// let pool = ProcessPool::builder().workers(1).task_timeout(Duration::from_millis(200)).build().unwrap();
    /// assert!(pool.submit(nap, (60_000,)).result().unwrap_err().is_timed_out());
    /// assert_eq!(pool.submit(nap, (0,)).result(), Ok(()), "a fresh worker took over");
    /// ```
    pub fn task_timeout(mut self, timeout: Duration) -> Self {
        self.task_timeout = Some(timeout);
        self
    }

    /// The largest frame (encoded arguments or result) accepted on a worker's channel; a
    /// larger one fails its task with [`TaskError::Codec`] rather than being allocated.
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{parallel, ProcessPool};
    ///
    /// #[parallel(processes = 1)]
    /// fn len(bytes: Vec<u8>) -> usize { bytes.len() }
    ///
    /// let pool = ProcessPool::builder().workers(1).max_frame(1024).build().unwrap();
    /// assert_eq!(pool.submit(len, (vec![0; 100],)).result(), Ok(100));
    /// assert!(pool.submit(len, (vec![0; 4096],)).result().unwrap_err().is_codec());
    /// ```
    pub fn max_frame(mut self, bytes: usize) -> Self {
        self.max_frame = bytes;
        self
    }

    /// Runs a task again, in a new worker, when the worker running it dies (a crash, `exit`,
    /// a kill from outside, the OOM killer), up to `retries` more times. No
    /// `concurrent.futures` executor does this (dask and Ray do). A task that panicked, timed
    /// out or was killed with [`Future::kill`](crate::Future::kill) is never retried: only the
    /// death of its worker counts. After the last try the task fails with
    /// [`TaskError::WorkerDied`], whose `attempts` says how many tries were made.
    ///
    /// Only use it for tasks that are safe to run more than once.
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{parallel, ProcessPool, TaskError};
    ///
    /// /// Dies the first two times (each try runs in a new worker process).
    /// #[parallel(processes = 1)]
    /// fn flaky(marker: String) -> String {
    ///     let tries = std::fs::read_to_string(&marker).map_or(0, |text| text.len());
    ///     std::fs::write(&marker, "x".repeat(tries + 1)).unwrap();
    ///     if tries < 2 {
    ///         std::process::abort();
    ///     }
    ///     "made it".to_owned()
    /// }
    ///
    /// let marker = std::env::temp_dir().join(format!("flaky-{}", std::process::id()));
    /// let marker = marker.to_string_lossy().into_owned();
    /// let pool = ProcessPool::builder().workers(1).retries(2).build().unwrap();
    /// assert_eq!(pool.submit(flaky, (marker.clone(),)).result().unwrap(), "made it");
    ///
    /// let _ = std::fs::remove_file(&marker);
    /// let once = ProcessPool::builder().workers(1).retries(1).build().unwrap();
    /// let error = once.submit(flaky, (marker.clone(),)).result().unwrap_err();
    /// assert!(matches!(error, TaskError::WorkerDied { attempts: 2, .. }));
    /// # let _ = std::fs::remove_file(&marker);
    /// ```
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// Lets a worker process exit after it has waited `timeout` for a task; a new one is
    /// started when work comes again (loky's `timeout`). A long-lived program then does not
    /// keep a process per core for a map it ran once.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use parallel::{parallel, ProcessPool};
    ///
    /// #[parallel(processes = 1)]
    /// fn pid() -> u32 { std::process::id() }
    ///
    /// let pool = ProcessPool::builder().workers(1).idle_timeout(Duration::from_millis(50)).build().unwrap();
    /// let first = pool.submit(pid, ()).result().unwrap();
    /// std::thread::sleep(Duration::from_millis(500));
    /// let second = pool.submit(pid, ()).result().unwrap();
    /// assert_ne!(first, second, "the idle worker left; a new one took the task");
    /// ```
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// Whether the program, when it ends, waits for the work submitted to this pool (default:
    /// yes, as Python does; see [`wait_at_exit`](crate::wait_at_exit)). Matters for a pool
    /// that is never dropped, such as one in a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ProcessPool::builder().workers(1).wait_at_exit(false).build().unwrap();
    /// assert_eq!(pool.workers(), 1);
    /// ```
    pub fn wait_at_exit(mut self, wait: bool) -> Self {
        self.wait_at_exit = wait;
        self
    }

    /// Runs the initializer registered as `name` once in each worker before its first task
    /// (written by `#[parallel(processes, initializer = f)]`). If it fails, the pool is
    /// broken: every task fails with [`TaskError::Broken`] and no further workers start.
    #[doc(hidden)]
    pub fn initializer_named(mut self, name: &'static str) -> Self {
        self.initializer = Some(Ok(Initializer::Named(name)));
        self
    }

    /// Runs `function(args)` once in each worker process before its first task (Python's
    /// `initializer` and `initargs`), to set up what every task of the worker uses: a
    /// connection, a loaded model, a global setting.
    ///
    /// `function` is a `#[parallel(processes)]` function returning `()`: a worker is this
    /// program started again, and finds functions by the name registered for them, so a
    /// closure cannot be one (see [`RemoteFn`]). Using it here does not start its own pool.
    /// `args` are encoded once, here, and every worker gets a copy, including the workers
    /// that replace dead or recycled ones.
    ///
    /// If it panics (or its arguments cannot be decoded, or the worker dies in it), the
    /// pool is broken: every task fails with [`TaskError::Broken`], whose reason carries the
    /// panic's message and location, and no further workers start, so a failing initializer
    /// never becomes a loop of new processes. [`ProcessPool::wait_ready`] reports the same
    /// error as soon as it happens.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use parallel::{parallel, ProcessPool};
    ///
    /// static SCALE: AtomicU64 = AtomicU64::new(1);
    ///
    /// #[parallel(processes = 1)]
    /// fn set_scale(scale: u64) {
    ///     SCALE.store(scale, Ordering::Relaxed);
    /// }
    ///
    /// #[parallel(processes = 1)]
    /// fn scaled(x: u64) -> u64 {
    ///     x * SCALE.load(Ordering::Relaxed)
    /// }
    ///
    /// let pool = ProcessPool::builder().workers(2).initializer(set_scale, (10,)).build().unwrap();
    /// assert_eq!(pool.submit(scaled, (4,)).result(), Ok(40));
    /// ```
    ///
    /// An initializer that panics breaks the pool, with its message:
    ///
    /// ```
    /// use parallel::{parallel, ProcessPool};
    ///
    /// #[parallel(processes = 1)]
    /// fn connect(url: String) {
    ///     panic!("cannot reach {url}");
    /// }
    ///
    /// #[parallel(processes = 1)]
    /// fn query() -> u32 { 7 }
    ///
    /// let pool = ProcessPool::builder().workers(1).initializer(connect, ("db:5432".to_owned(),)).build().unwrap();
    /// let error = pool.submit(query, ()).result().unwrap_err();
    /// assert!(error.is_broken());
    /// assert!(error.to_string().contains("cannot reach db:5432"), "{error}");
    /// ```
    ///
    /// The function must return `()`, so that a failure cannot pass unnoticed as an ignored
    /// `Err`: panic instead.
    ///
    /// ```compile_fail
    /// use parallel::{parallel, ProcessPool};
    ///
    /// #[parallel(processes = 1)]
    /// fn connect() -> Result<(), String> { Ok(()) }
    ///
    /// let pool = ProcessPool::builder().initializer(connect, ()).build();
    /// ```
    #[doc(alias = "initargs")]
    pub fn initializer<Args, F>(mut self, function: F, args: Args) -> Self
    where
        Args: ProcessArguments,
        F: RemoteFn<Args, Output = ()>,
    {
        let initializer = match (function.name(), args.encode()) {
            (Some(name), Ok(input)) => Ok(Initializer::Call {
                name,
                input: Arc::new(input),
            }),
            (None, _) => Err(format!(
                "the initializer `{}` is not a `#[parallel(processes)]` function, so no worker \
                 can find it",
                std::any::type_name::<F>()
            )),
            (Some(name), Err(message)) => Err(format!(
                "the arguments of the initializer `{name}` cannot be encoded: {message}"
            )),
        };
        self.initializer = Some(initializer);
        self
    }

    /// Whether [`build`](Self::build) returns only once every worker process is up, and its
    /// initializer has run (mpi4py's `bootup(wait=True)`); default: no, `build` returns at
    /// once and the workers start in the background. See [`ProcessPool::wait_ready`], which
    /// waits the same way at any later time.
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{parallel, ProcessPool};
    ///
    /// #[parallel(processes = 1)]
    /// fn pid() -> u32 { std::process::id() }
    ///
    /// // The first task meets a worker that is ready: no start-up in its time.
    /// let pool = ProcessPool::builder().workers(2).wait_ready(true).build().unwrap();
    /// assert_ne!(pool.submit(pid, ()).result().unwrap(), std::process::id());
    /// ```
    #[doc(alias = "bootup")]
    pub fn wait_ready(mut self, wait: bool) -> Self {
        self.wait_ready = wait;
        self
    }

    /// Starts the workers.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `workers` or `max_tasks_per_child` is 0, or the
    /// [`initializer`](Self::initializer) is not a `#[parallel(processes)]` function or its
    /// arguments cannot be encoded or take more than [`max_frame`](Self::max_frame); the
    /// operating system's error if a driver thread cannot be started. With [`wait_ready`](Self::wait_ready), an error of kind `Other` if a worker
    /// cannot start (its inner error is the [`TaskError`] that
    /// [`ProcessPool::wait_ready`] gives).
    ///
    /// # Examples
    ///
    /// ```
    /// let error = parallel::ProcessPool::builder().workers(0).build().unwrap_err();
    /// assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    pub fn build(self) -> io::Result<ProcessPool> {
        let invalid = |message: &str| {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                message.to_owned(),
            ))
        };
        if self.workers == Some(0) {
            return invalid("a pool with no workers never runs anything; ask for 1 worker or more");
        }
        if self.max_tasks_per_child == Some(0) {
            return invalid(
                "a worker that may run no task never runs anything; allow 1 task or more",
            );
        }
        match &self.initializer {
            Some(Err(message)) => return invalid(message),
            Some(Ok(Initializer::Call { name, input })) => {
                // The frame that carries it: the call byte, the name's length and the name.
                let len = 3 + name.len() + input.len();
                if len > self.max_frame {
                    return invalid(&format!(
                        "the initializer's arguments take {len} bytes, over the pool's frame \
                         limit of {} bytes (`max_frame`)",
                        self.max_frame
                    ));
                }
            }
            _ => {}
        }
        let wait_ready = self.wait_ready;
        let pool = ProcessPool::start(self)?;
        if wait_ready {
            pool.wait_ready().map_err(io::Error::other)?;
        }
        Ok(pool)
    }
}

impl ProcessPool {
    /// A pool with the default settings (see [`ProcessPoolBuilder`]).
    ///
    /// # Panics
    ///
    /// If the operating system refuses to start a thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ProcessPool::new();
    /// assert!(pool.workers() >= 1);
    /// ```
    pub fn new() -> Self {
        ProcessPoolBuilder::new()
            .build()
            .expect("the operating system refused to start a driver thread")
    }

    /// Settings for a new pool.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ProcessPool::builder().workers(2).build().unwrap();
    /// assert_eq!(pool.workers(), 2);
    /// ```
    pub fn builder() -> ProcessPoolBuilder {
        ProcessPoolBuilder::new()
    }

    fn start(settings: ProcessPoolBuilder) -> io::Result<Self> {
        let workers = settings
            .workers
            .unwrap_or_else(|| thread::available_parallelism().map_or(1, usize::from));
        let shared = Arc::new(Shared::new(Settings {
            workers,
            initializer: settings.initializer.and_then(Result::ok),
            max_tasks_per_child: settings.max_tasks_per_child,
            max_frame: settings.max_frame,
            retries: settings.retries,
            idle_timeout: settings.idle_timeout,
        }));
        if settings.wait_at_exit {
            register_at_exit(&shared);
        }
        let pool = Self {
            shared,
            task_timeout: settings.task_timeout,
        };
        for index in 0..workers {
            let shared = Arc::clone(&pool.shared);
            pool.shared.lifecycle.count_in();
            let spawned = thread::Builder::new()
                .name(format!("parallel-process-{index}"))
                .spawn(move || driver::drive(shared, index));
            if let Err(error) = spawned {
                pool.shared.lifecycle.count_out();
                return Err(error); // dropping `pool` stops the drivers already started
            }
        }
        Ok(pool)
    }

    /// The number of worker processes.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ProcessPool::builder().workers(2).build().unwrap();
    /// assert_eq!(pool.workers(), 2);
    /// ```
    pub fn workers(&self) -> usize {
        self.shared.settings.workers
    }

    /// Waits until every worker process is up: started, its initializer run, and ready for
    /// tasks (mpi4py's `bootup(wait=True)`). Workers start when the pool is built, in the
    /// background; a benchmark or a program that must answer its first request quickly waits
    /// here, so that no task pays for a start-up.
    ///
    /// Each worker counts once, when the first process of its slot is ready: a worker that
    /// later dies, is recycled or leaves when idle, and its replacement, are not waited for.
    ///
    /// # Errors
    ///
    /// [`TaskError::Broken`] with the reason if a worker could not start (the system refused
    /// the process, it died while starting, or its [initializer] failed): the pool is broken,
    /// and so is every task on it. [`TaskError::ShutDown`] if the workers were stopped
    /// ([`terminate_workers`](Self::terminate_workers), [`kill_workers`](Self::kill_workers))
    /// before they were all up.
    ///
    /// [initializer]: ProcessPoolBuilder::initializer
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{parallel, ProcessPool};
    ///
    /// #[parallel(processes = 1)]
    /// fn square(x: u64) -> u64 { x * x }
    ///
    /// let pool = ProcessPool::builder().workers(2).build().unwrap();
    /// pool.wait_ready().unwrap();
    /// assert_eq!(pool.submit(square, (9,)).result(), Ok(81));
    /// ```
    ///
    /// A worker that dies while starting is an error here, not a hang:
    ///
    /// ```
    /// use parallel::{parallel, ProcessPool};
    ///
    /// #[parallel(processes = 1)]
    /// fn leave() { std::process::exit(3) }
    ///
    /// let pool = ProcessPool::builder().workers(2).initializer(leave, ()).build().unwrap();
    /// let error = pool.wait_ready().unwrap_err();
    /// assert!(error.is_broken(), "{error}");
    /// ```
    #[doc(alias = "bootup")]
    pub fn wait_ready(&self) -> Result<(), TaskError> {
        self.boot(None).map(|_| ())
    }

    /// As [`wait_ready`](Self::wait_ready), waiting at most `timeout`: `Ok(true)` once every
    /// worker is up, `Ok(false)` if some are still starting when the time is out (call again
    /// to wait more).
    ///
    /// # Errors
    ///
    /// As [`wait_ready`](Self::wait_ready).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = parallel::ProcessPool::builder().workers(1).build().unwrap();
    /// while !pool.wait_ready_timeout(Duration::from_millis(10)).unwrap() {
    ///     // Do something else meanwhile.
    /// }
    /// ```
    #[doc(alias = "bootup")]
    pub fn wait_ready_timeout(&self, timeout: Duration) -> Result<bool, TaskError> {
        self.boot(Instant::now().checked_add(timeout))
    }

    fn boot(&self, deadline: Option<Instant>) -> Result<bool, TaskError> {
        let shared = &self.shared;
        shared.boot.wait(shared.settings.workers, deadline, || {
            shared.lifecycle.broken_error()
        })
    }

    /// Submits a call of `function` with `args` (a tuple) and returns its [`Future`] at once.
    ///
    /// Arguments that cannot be encoded fail the future with [`TaskError::Codec`]. After
    /// [`shutdown`](Self::shutdown) the future is already failed with
    /// [`TaskError::ShutDown`].
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{parallel, ProcessPool};
    ///
    /// #[parallel(processes = 1)]
    /// fn add(a: i64, b: i64) -> i64 { a + b }
    ///
    /// let pool = ProcessPool::builder().workers(1).build().unwrap();
    /// assert_eq!(pool.submit(add, (40, 2)).result(), Ok(42));
    /// ```
    pub fn submit<Args, F>(&self, function: F, args: Args) -> Future<F::Output>
    where
        Args: ProcessArguments,
        F: RemoteFn<Args>,
    {
        self.submit_with_timeout(function, args, self.task_timeout)
    }

    /// As [`submit`](Self::submit), with this task's own deadline (`None`: the pool's).
    #[doc(hidden)]
    pub fn submit_with_timeout<Args, F: RemoteFn<Args>>(
        &self,
        function: F,
        args: Args,
        timeout: Option<Duration>,
    ) -> Future<F::Output>
    where
        Args: ProcessArguments,
    {
        self.submit_fn(function, args, timeout)
    }

    /// Runs `function` over `items` in worker processes, yielding one `Result` per item in
    /// input order, with the same options as the thread pool's
    /// [`map`](crate::ThreadPool::map). Items travel to workers in batches, sized by
    /// measuring them as for threads.
    ///
    /// An item is the function's argument tuple, or the same borrowed: `&T` for a function
    /// of one `T` (so a map over `data.iter()` needs no clone), or a tuple of references.
    /// Borrowed items need no scope: each batch is encoded from the borrows on this thread,
    /// as it is submitted, and only its bytes go to a worker, so no other thread ever holds
    /// a borrow, and the map's lifetime keeps the data alive while it runs.
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{parallel, ProcessPool};
    ///
    /// #[parallel(processes = 1)]
    /// fn square(x: u64) -> u64 { x * x }
    ///
    /// #[parallel(processes = 1)]
    /// fn length(text: String) -> usize { text.len() }
    ///
    /// let pool = ProcessPool::builder().workers(2).build().unwrap();
    /// let squares: Vec<u64> = pool.map(square, (1..=4).map(|x| (x,))).collect::<Result<_, _>>().unwrap();
    /// assert_eq!(squares, [1, 4, 9, 16]);
    ///
    /// let words = vec!["apple".to_owned(), "fig".to_owned()];
    /// let lengths: Vec<usize> = pool.map(length, words.iter()).map(Result::unwrap).collect();
    /// assert_eq!(lengths, [5, 3]);
    /// ```
    pub fn map<'a, Args, F, I>(&'a self, function: F, items: I) -> Map<'a, I::IntoIter, F::Output>
    where
        Args: ProcessArguments,
        F: RemoteFn<Args>,
        I: IntoIterator,
        I::Item: ProcessItem<Args> + 'a,
    {
        self.map_with(function, items, MapOptions::new())
    }

    /// As [`map`](Self::map), with `options` (batch size, order, timeout, look-ahead), which
    /// hold from the first item since the map starts at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{parallel, MapOptions, ProcessPool};
    ///
    /// #[parallel(processes = 1)]
    /// fn square(x: u64) -> u64 { x * x }
    ///
    /// let pool = ProcessPool::builder().workers(2).build().unwrap();
    /// let options = MapOptions::new().chunksize(50);
    /// let total: u64 = pool.map_with(square, (0..100).map(|x| (x,)), options).map(Result::unwrap).sum();
    /// assert_eq!(total, 328_350);
    /// ```
    pub fn map_with<'a, Args, F, I>(
        &'a self,
        function: F,
        items: I,
        options: MapOptions,
    ) -> Map<'a, I::IntoIter, F::Output>
    where
        Args: ProcessArguments,
        F: RemoteFn<Args>,
        I: IntoIterator,
        I::Item: ProcessItem<Args> + 'a,
    {
        self.map_fn(function, items, options)
    }

    /// Stops accepting work, with Python's meaning (see
    /// [`ThreadPool::shutdown`](crate::ThreadPool::shutdown)). With `wait`, returns when
    /// every worker has finished its tasks and exited. Called from one of the pool's own
    /// threads (a done-callback runs on one), it does not wait for that thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ProcessPool::builder().workers(1).build().unwrap();
    /// pool.shutdown(true, false);
    /// assert!(pool.is_shut_down());
    /// ```
    pub fn shutdown(&self, wait: bool, cancel_futures: bool) {
        self.close(cancel_futures);
        if wait {
            self.wait_for_drivers(None);
        }
    }

    /// Shuts down as [`shutdown`](Self::shutdown) with `wait`, but waits at most `timeout`
    /// (pebble's `join(timeout)`). Returns whether every worker finished and exited in time;
    /// if not, they go on finishing in the background (call again to wait more, or
    /// [`kill_workers`](Self::kill_workers) to stop them).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use parallel::{parallel, ProcessPool};
    ///
    /// #[parallel(processes = 1)]
    /// fn nap(ms: u64) { std::thread::sleep(Duration::from_millis(ms)) }
    ///
    /// let pool = ProcessPool::builder().workers(1).build().unwrap();
    /// let long = pool.submit(nap, (60_000,));
    /// while !long.is_running() { std::thread::yield_now(); }
    /// assert!(!pool.shutdown_timeout(Duration::from_millis(100), false), "still busy");
    /// pool.kill_workers();
    /// assert!(pool.shutdown_timeout(Duration::from_secs(30), false));
    /// ```
    pub fn shutdown_timeout(&self, timeout: Duration, cancel_futures: bool) -> bool {
        self.close(cancel_futures);
        self.wait_for_drivers(Instant::now().checked_add(timeout))
    }

    /// Sends SIGTERM to every worker process at once, fails the tasks they were running, cancels
    /// the queued ones, and shuts the pool down without waiting (Python 3.14's
    /// `terminate_workers()`). A worker that handles SIGTERM may take its time;
    /// [`kill_workers`](Self::kill_workers) cannot be refused.
    ///
    /// The running tasks fail with [`TaskError::WorkerDied`] (the signal), the queued ones
    /// with [`TaskError::Cancelled`]; none is retried and no worker is replaced.
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{parallel, ProcessPool};
    ///
    /// #[parallel(processes = 1)]
    /// fn forever() { loop { std::thread::park() } }
    ///
    /// let pool = ProcessPool::builder().workers(1).build().unwrap();
    /// let running = pool.submit(forever, ());
    /// let queued = pool.submit(forever, ());
    /// while !running.is_running() { std::thread::yield_now(); }
    /// pool.terminate_workers();
    /// assert!(running.result().unwrap_err().is_worker_died());
    /// assert!(queued.result().unwrap_err().is_cancelled());
    /// assert!(pool.is_shut_down());
    /// ```
    pub fn terminate_workers(&self) {
        self.stop_workers(Signal::Terminate);
    }

    /// Kills every worker process at once (SIGKILL), as
    /// [`terminate_workers`](Self::terminate_workers) otherwise (Python 3.14's
    /// `kill_workers()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{parallel, ProcessPool};
    ///
    /// #[parallel(processes = 1)]
    /// fn forever() { loop { std::thread::park() } }
    ///
    /// let pool = ProcessPool::builder().workers(1).build().unwrap();
    /// let running = pool.submit(forever, ());
    /// while !running.is_running() { std::thread::yield_now(); }
    /// pool.kill_workers();
    /// assert!(running.result().unwrap_err().is_worker_died());
    /// ```
    pub fn kill_workers(&self) {
        self.stop_workers(Signal::Kill);
    }

    fn stop_workers(&self, signal: Signal) {
        self.shared.stopping.store(true, Ordering::Release);
        self.close(true);
        self.shared.signal_workers(signal);
    }

    fn close(&self, cancel_futures: bool) {
        self.shared.close(cancel_futures);
    }

    fn wait_for_drivers(&self, deadline: Option<Instant>) -> bool {
        self.shared.lifecycle.wait_for_workers(deadline)
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ProcessPool::builder().workers(1).build().unwrap();
    /// assert!(!pool.is_shut_down());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        !self.shared.queue.is_open()
    }
}

impl Default for ProcessPool {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for ProcessPool {
    /// `shutdown(wait = true, cancel_futures = false)`: submitted work finishes, then every
    /// worker exits and is reaped.
    fn drop(&mut self) {
        self.shutdown(true, false);
    }
}

impl fmt::Debug for ProcessPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessPool")
            .field("workers", &self.workers())
            .field("shut_down", &self.is_shut_down())
            .field("broken", &self.shared.lifecycle.broken().is_some())
            .finish()
    }
}

/// How a process map encodes a batch of argument tuples and decodes a batch's results: the
/// codec's functions for the map's types, as plain function pointers, so that a map can be
/// made where those types are known only to the crate that defined the function (a
/// registered `#[parallel(processes)]` function, found by `pmap!`).
pub(crate) struct BatchCodec<A, T> {
    pub(crate) encode: fn(&[A]) -> Result<Vec<u8>, String>,
    pub(crate) decode: fn(&[u8], u32) -> Result<Chunk<T>, TaskError>,
}

impl<A, T: ProcessResult> BatchCodec<A, T> {
    /// The codec's functions for items `A` of a function of `Args`: encoded from the items,
    /// which may borrow, as `Args` would be.
    pub(crate) fn for_items<Args>() -> Self
    where
        A: ProcessItem<Args>,
    {
        Self {
            encode: A::encode_items,
            decode: decode_batch::<T>,
        }
    }
}

impl<A: ProcessArguments, T: ProcessResult> BatchCodec<A, T> {
    /// The codec's functions for `A` and `T`.
    pub(crate) fn of() -> Self {
        Self {
            encode: A::encode_batch,
            decode: decode_batch::<T>,
        }
    }
}

/// Where encoded tasks go: a process pool's queue, or an MPI pool's, which runs the same
/// tasks (registered names, encoded inputs) on the ranks of a job.
pub(crate) trait Enqueue: Sync + Sized {
    /// Queues `task` unless the pool is broken or shut down, and returns its future.
    fn enqueue<T: Send + 'static>(&self, task: Arc<ProcessTask<T>>) -> Future<T>;
    /// The deadline of every task, counted from when it starts (`None`: none).
    fn task_timeout(&self) -> Option<Duration>;
    /// How many workers run tasks at once (what a map's look-ahead is sized by).
    fn width(&self) -> usize;

    /// Encodes an argument tuple into a buffer of its exact size, measured first (a spare
    /// buffer of an earlier task when one fits: `spare.rs`), or, when large and the pool
    /// can, into shared memory (`shm.rs`).
    fn encode_input<Args: ProcessArguments>(&self, args: &Args) -> Result<Input, String>;

    /// Submits a call of `function` with `args`, with this task's own deadline (`None`: the
    /// pool's). A function that is not registered fails at once: no worker could find it.
    fn submit_fn<Args, F>(
        &self,
        function: F,
        args: Args,
        timeout: Option<Duration>,
    ) -> Future<F::Output>
    where
        Args: ProcessArguments,
        F: RemoteFn<Args>,
    {
        match function.name() {
            Some(name) => self.submit_args::<Args, F::Output>(name, args, timeout),
            None => Future::failed(TaskError::codec(format!(
                "`{}` is not a `#[parallel(processes)]` or `#[parallel(mpi)]` function, so no \
                 worker can find it",
                std::any::type_name::<F>()
            ))),
        }
    }

    /// Submits a call of the function registered as `name` with `args`, with this task's own
    /// deadline (`None`: the pool's).
    fn submit_args<Args, R>(
        &self,
        name: &'static str,
        args: Args,
        timeout: Option<Duration>,
    ) -> Future<R>
    where
        Args: ProcessArguments,
        R: ProcessResult,
    {
        self.submit_encoded(name, self.encode_input(&args), timeout)
    }

    /// Maps `function` over `items`: argument tuples, or borrowed ones (`ProcessItem`).
    fn map_fn<'a, Args, F, I>(
        &'a self,
        function: F,
        items: I,
        options: MapOptions,
    ) -> Map<'a, I::IntoIter, F::Output>
    where
        Args: ProcessArguments,
        F: RemoteFn<Args>,
        I: IntoIterator,
        I::Item: ProcessItem<Args> + 'a,
    {
        // An unregistered function's batches fail in the worker, which has no such name.
        let name = function.name().unwrap_or(
            "(a function that is neither `#[parallel(processes)]` nor `#[parallel(mpi)]`)",
        );
        self.map_encoded(
            name,
            BatchCodec::for_items::<Args>(),
            items.into_iter(),
            options,
        )
    }

    /// Submits a call of the function registered as `name` with its encoded `input` (or the
    /// message of an encoding that failed), with this task's own deadline (`None`: the
    /// pool's).
    fn submit_encoded<R: ProcessResult>(
        &self,
        name: &'static str,
        input: Result<Input, String>,
        timeout: Option<Duration>,
    ) -> Future<R> {
        let input = match input {
            Ok(input) => input,
            Err(message) => return Future::failed(TaskError::codec(message)),
        };
        let timeout = timeout.or(self.task_timeout());
        let task = ProcessTask::new(name, Call::One, input, decode_value::<R>, timeout);
        self.enqueue(Arc::new(task))
    }

    /// Maps the function registered as `name` over `items`, with `codec` for its types.
    fn map_encoded<'a, A: 'a, T, I>(
        &'a self,
        name: &'static str,
        codec: BatchCodec<A, T>,
        items: I,
        options: MapOptions,
    ) -> Map<'a, I, T>
    where
        T: Send + 'static,
        I: Iterator<Item = A>,
    {
        let submit = ProcessChunks {
            pool: self,
            name,
            codec,
        };
        Map::new(Box::new(submit), items, self.width(), options)
    }
}

impl Enqueue for ProcessPool {
    fn enqueue<T: Send + 'static>(&self, task: Arc<ProcessTask<T>>) -> Future<T> {
        if let Some(error) = self.shared.lifecycle.broken_error() {
            return Future::failed(error);
        }
        let job: Arc<dyn ProcessJob> = task.clone();
        job.span().set_pool(self.shared.lifecycle.id(), "processes");
        match self.shared.queue.push(job) {
            Ok(()) => Future::new(task),
            Err(_) => Future::failed(TaskError::ShutDown),
        }
    }

    fn task_timeout(&self) -> Option<Duration> {
        self.task_timeout
    }

    fn width(&self) -> usize {
        self.workers()
    }

    fn encode_input<Args: ProcessArguments>(&self, args: &Args) -> Result<Input, String> {
        self.shared.spare_inputs.encode_input(args)
    }
}

/// Runs map batches as process tasks, on `pool`.
struct ProcessChunks<'p, P, A, T> {
    pool: &'p P,
    name: &'static str,
    codec: BatchCodec<A, T>,
}

impl<P: Enqueue, A, T: Send + 'static> SubmitChunk<Vec<A>, T> for ProcessChunks<'_, P, A, T> {
    /// Encodes the batch here, on the map's thread; a batch's results are decoded into a new
    /// buffer, so `values` is not reused.
    fn submit(&self, items: Vec<A>, _values: Vec<T>) -> Future<Chunk<T>> {
        let input = match (self.codec.encode)(&items) {
            Ok(input) => Input::Bytes(Arc::new(input)),
            Err(message) => return Future::failed(TaskError::codec(message)),
        };
        let task = ProcessTask::new(
            self.name,
            Call::Batch,
            input,
            self.codec.decode,
            self.pool.task_timeout(),
        );
        self.pool.enqueue(Arc::new(task))
    }

    /// A batch costs a round trip between processes: tens of microseconds.
    fn target_batch(&self) -> Duration {
        Duration::from_millis(5)
    }
}
