//! [`ThreadPoolBuilder`]: the settings of a [`ThreadPool`].

use std::fmt;
use std::io;
use std::sync::Arc;

use super::ThreadPool;

/// A worker initializer, shared by all workers of a pool.
pub(crate) type Initializer = Arc<dyn Fn() + Send + Sync>;

/// Settings for a [`ThreadPool`], from [`ThreadPool::builder`].
///
/// | setting | default | Python's `ThreadPoolExecutor` |
/// |---|---|---|
/// | [`workers`](Self::workers) | `min(32, available_parallelism + 4)` | `max_workers` |
/// | [`name_prefix`](Self::name_prefix) | `"pool-<n>"` | `thread_name_prefix` |
/// | [`initializer`](Self::initializer) | none | `initializer`, `initargs` |
/// | [`stack_size`](Self::stack_size) | std's default (2 MiB) | `threading.stack_size` |
///
/// # Examples
///
/// ```
/// use parallel::ThreadPool;
///
/// let pool = ThreadPool::builder()
///     .workers(2)
///     .name_prefix("download")
///     .initializer(|| println!("worker ready"))
///     .build()
///     .unwrap();
/// let name = pool.submit(|| std::thread::current().name().map(str::to_owned));
/// assert!(name.result().unwrap().unwrap().starts_with("download-"));
/// ```
#[derive(Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ThreadPoolBuilder {
    pub(crate) workers: Option<usize>,
    pub(crate) name_prefix: Option<String>,
    pub(crate) stack_size: Option<usize>,
    pub(crate) initializer: Option<Initializer>,
    /// Set by `wait_at_exit(false)` (so that `Default` means waiting).
    pub(crate) leave_at_exit: bool,
}

impl ThreadPoolBuilder {
    /// The default settings.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPoolBuilder::new().build().unwrap();
    /// assert!(pool.workers() >= 5);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The most worker threads the pool starts (Python's `max_workers`). The default,
    /// `min(32, available_parallelism + 4)`, is Python's: enough threads to overlap waiting
    /// (I/O, sleeps) on a small machine.
    ///
    /// Threads start as tasks arrive, not all at once: a submit starts one only when no idle
    /// worker is waiting for a job and fewer than `workers` are running. So tasks submitted one
    /// after another's result run on one thread, and a burst of tasks that block starts
    /// `workers` threads.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::builder().workers(3).build().unwrap();
    /// assert_eq!(pool.workers(), 3);
    /// ```
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = Some(workers);
        self
    }

    /// The prefix of worker thread names: workers are named `"<prefix>-0"`, `"<prefix>-1"`, ….
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::builder().workers(1).name_prefix("io").build().unwrap();
    /// let name = pool.submit(|| std::thread::current().name().unwrap().to_owned());
    /// assert_eq!(name.result().unwrap(), "io-0");
    /// ```
    pub fn name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.name_prefix = Some(prefix.into());
        self
    }

    /// The stack size of each worker thread, in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::builder().stack_size(8 << 20).build().unwrap();
    /// assert_eq!(pool.submit(|| 1).result(), Ok(1));
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Runs `initializer` once in each worker thread, when the thread starts and before its
    /// first task (threads start as tasks need them). If it panics, the pool is broken: every pending and later task fails with [`TaskError::Broken`]
    /// (Python's `BrokenThreadPool`).
    ///
    /// [`TaskError::Broken`]: crate::TaskError::Broken
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    ///
    /// thread_local!(static CONNECTION: Cell<u32> = const { Cell::new(0) });
    ///
    /// let pool = parallel::ThreadPool::builder()
    ///     .initializer(|| CONNECTION.with(|c| c.set(7)))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(pool.submit(|| CONNECTION.with(Cell::get)).result(), Ok(7));
    /// ```
    pub fn initializer<F>(mut self, initializer: F) -> Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.initializer = Some(Arc::new(initializer));
        self
    }

    /// Whether the program, when it ends, waits for the work submitted to this pool (default:
    /// yes, as Python does; see [`wait_at_exit`](crate::wait_at_exit)). Matters for a pool
    /// that is never dropped, such as one in a `static`, whose tasks might never end.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::builder().wait_at_exit(false).build().unwrap();
    /// assert_eq!(pool.submit(|| 1).result(), Ok(1));
    /// ```
    pub fn wait_at_exit(mut self, wait: bool) -> Self {
        self.leave_at_exit = !wait;
        self
    }

    /// Makes the pool. It starts no thread: threads start as submitted tasks need them (see
    /// [`workers`](Self::workers)). If the system then refuses to start a thread, the workers
    /// already running serve its task; if none is, the pool is broken and its tasks fail with
    /// [`TaskError::Broken`], naming the system's error.
    ///
    /// [`TaskError::Broken`]: crate::TaskError::Broken
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `workers` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = parallel::ThreadPool::builder().workers(0).build().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    pub fn build(self) -> io::Result<ThreadPool> {
        if self.workers == Some(0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a pool with no workers never runs anything; ask for 1 worker or more",
            ));
        }
        Ok(ThreadPool::with_settings(self))
    }
}

impl fmt::Debug for ThreadPoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPoolBuilder")
            .field("workers", &self.workers)
            .field("name_prefix", &self.name_prefix)
            .field("stack_size", &self.stack_size)
            .field("initializer", &self.initializer.as_ref().map(|_| "Fn()"))
            .field("wait_at_exit", &!self.leave_at_exit)
            .finish()
    }
}

impl ThreadPoolBuilder {
    /// The most threads the pool starts: as set, or Python's default, `min(32, cpu_count +
    /// 4)`.
    pub(crate) fn worker_count(&self) -> usize {
        self.workers.unwrap_or_else(|| {
            let cpus = std::thread::available_parallelism().map_or(1, usize::from);
            (cpus + 4).min(32)
        })
    }
}
