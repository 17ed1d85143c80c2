//! [`ThreadPool`]: worker threads, started as work arrives, running submitted closures
//! (Python's `ThreadPoolExecutor`).

mod builder;
mod demand;
mod timeout;
mod worker;

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

pub use self::builder::ThreadPoolBuilder;
use self::demand::DemandQueue;
use self::worker::Shared;
use crate::error::TaskError;
use crate::future::task::{Handle, Job, QueuedJob, Task};
use crate::future::Future;
use crate::map::{Chunk, EachItem, Map, MapOptions, RunBatch, SubmitChunk};
use crate::pool::lifecycle::{register_at_exit, Lifecycle};
use crate::scope::counter::ScopeCounter;
use crate::sync::lock;
use crate::trace::{self, TaskSpan};

/// A pool of worker threads that run submitted closures (Python's `ThreadPoolExecutor`).
///
/// [`submit`](Self::submit) returns a [`Future`] at once; [`map`](Self::map) runs a function
/// over an iterator. Dropping the pool waits for the work already submitted, like leaving a
/// Python `with` block; [`shutdown`](Self::shutdown) gives Python's other choices.
///
/// Threads start as tasks arrive, as in Python: a submit starts one only when no idle worker is
/// waiting for a job and fewer than [`workers`](Self::workers) are running, so an idle worker
/// is always reused first and a pool that is never used starts none. Once started, a thread
/// stays until shutdown.
///
/// A task may wait on other tasks of its own pool, even on a pool of one worker: a worker that
/// waits on a task still queued runs it itself (Python deadlocks here).
///
/// # Examples
///
/// ```
/// use parallel::ThreadPool;
///
/// let pool = ThreadPool::builder().workers(4).build().unwrap();
/// let futures: Vec<_> = (1..=4).map(|x| pool.submit(move || x * x)).collect();
/// let squares: Vec<i32> = futures.iter().map(|f| f.result().unwrap()).collect();
/// assert_eq!(squares, [1, 4, 9, 16]);
/// ```
pub struct ThreadPool {
    shared: Arc<Shared>,
}

impl ThreadPool {
    /// A pool with the default settings (see [`ThreadPoolBuilder`]). No thread starts until
    /// a task is submitted.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::new();
    /// assert_eq!(pool.submit(|| "hi").result(), Ok("hi"));
    /// ```
    pub fn new() -> Self {
        ThreadPoolBuilder::new()
            .build()
            .expect("the default settings are valid")
    }

    /// Settings for a new pool.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::builder().workers(2).build().unwrap();
    /// assert_eq!(pool.workers(), 2);
    /// ```
    pub fn builder() -> ThreadPoolBuilder {
        ThreadPoolBuilder::new()
    }

    /// A pool with `settings`, which `ThreadPoolBuilder::build` has checked. Starts no thread:
    /// `enqueue` does, when a job needs one.
    fn with_settings(settings: ThreadPoolBuilder) -> Self {
        let lifecycle = Lifecycle::new();
        let id = lifecycle.id();
        let workers = settings.worker_count();
        let shared = Arc::new(Shared {
            lifecycle,
            workers,
            queue: DemandQueue::new(workers),
            prefix: settings.name_prefix.unwrap_or_else(|| format!("pool-{id}")),
            stack_size: settings.stack_size,
            initializer: settings.initializer,
        });
        if !settings.leave_at_exit {
            register_at_exit(&shared);
        }
        Self { shared }
    }

    /// The most worker threads the pool starts (Python's `max_workers`). Threads start as
    /// tasks need them, so fewer may be running.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::builder().workers(3).build().unwrap();
    /// assert_eq!(pool.workers(), 3);
    /// ```
    pub fn workers(&self) -> usize {
        self.shared.workers
    }

    /// Submits `task` and returns its [`Future`] at once.
    ///
    /// A panic in the task becomes its [`TaskError::Panicked`]; the worker survives. After
    /// [`shutdown`](Self::shutdown) the future is already failed with [`TaskError::ShutDown`],
    /// and on a broken pool with [`TaskError::Broken`].
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::new();
    /// let future = pool.submit(|| "a.pdf downloaded".to_owned());
    /// assert_eq!(future.result().unwrap(), "a.pdf downloaded");
    ///
    /// pool.shutdown(true, false);
    /// assert!(pool.submit(|| 1).result().unwrap_err().is_shut_down());
    /// ```
    pub fn submit<F, T>(&self, task: F) -> Future<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let function = std::any::type_name::<F>();
        self.submit_traced(task, TaskSpan::thread(self.id(), function))
    }

    /// Submits `task`, which runs inside `span`.
    fn submit_traced<F, T>(&self, task: F, span: TaskSpan) -> Future<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.shared.lifecycle.id();
        let task = trace::in_span(span, task);
        self.enqueue(Arc::new(Task::new(worker::counted(task), pool)))
    }

    /// Submits `task`, which may borrow for `'a`, counted in a scope's `counter`.
    ///
    /// # Safety
    /// `counter` must outlive every job counted in it, and nothing `task` borrows may end
    /// before the counter reads zero: the caller (a `Scope`) waits for that before it lets
    /// `'a` end (see `scope/mod.rs`).
    pub(crate) unsafe fn submit_scoped<'a, F, T>(
        &self,
        task: F,
        counter: &ScopeCounter,
    ) -> Future<T>
    where
        F: FnOnce() -> T + Send + 'a,
        T: Send + 'a,
    {
        let pool = self.shared.lifecycle.id();
        let span = TaskSpan::thread(pool, std::any::type_name::<F>());
        let task = Arc::new(Task::new(worker::counted(trace::in_span(span, task)), pool));
        let handle: Arc<dyn Handle<T> + 'a> = task.clone();
        // SAFETY: on the caller's promise, the handle is used only inside the scope (it goes
        // into a `ScopedFuture` or a scoped map, which carry the scope's lifetime).
        let future = unsafe { Future::from_scoped(handle) };
        if let Some(error) = self.shared.lifecycle.broken_error() {
            // Never queued: fail it here, on the caller's thread.
            task.fail(error);
            return future;
        }
        let job: Arc<dyn Job + 'a> = task;
        // SAFETY: only the lifetime bound changes (the same vtable). The pool may hold the job
        // as if it were `'static` because the job is counted in `counter` until the pool drops
        // it, and the caller does not let `'a` end before the count is zero.
        let job = unsafe { std::mem::transmute::<Arc<dyn Job + 'a>, Arc<dyn Job>>(job) };
        counter.enter();
        // SAFETY: counted just above; `counter` outlives the job (the caller's promise).
        let queued = unsafe { QueuedJob::scoped(job, counter) };
        match self.shared.queue.push(queued, &self.shared.lifecycle) {
            Ok(Some(index)) => worker::start(&self.shared, index),
            Ok(None) => {}
            // Dropping the refused job fails the task with `ShutDown` and releases its count.
            Err(refused) => drop(refused),
        }
        future
    }

    /// The pool's id (unique among pools).
    pub(crate) fn id(&self) -> usize {
        self.shared.lifecycle.id()
    }

    /// Runs one queued job on this thread, if there is one; returns whether it did. For a
    /// worker of this pool that waits at the end of a scope.
    pub(crate) fn run_one_queued(&self) -> bool {
        let Some(job) = self.shared.queue.try_pop() else {
            return false;
        };
        match self.shared.lifecycle.broken_error() {
            Some(error) => job.fail(error),
            None => job.run(),
        }
        true
    }

    /// Queues `task` unless the pool is broken or shut down, starting a thread for it if the
    /// queue asks for one, and returns its future. `task`'s function must be wrapped in
    /// `worker::counted`, so that its worker is counted as idle before its result is seen.
    fn enqueue<F, T>(&self, task: Arc<Task<F, T>>) -> Future<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        if let Some(error) = self.shared.lifecycle.broken_error() {
            return Future::failed(error);
        }
        let job: Arc<dyn Job> = task.clone();
        match self
            .shared
            .queue
            .push(QueuedJob::new(job), &self.shared.lifecycle)
        {
            Ok(start) => {
                if let Some(index) = start {
                    worker::start(&self.shared, index);
                }
                Future::new(task)
            }
            Err(_) => Future::failed(TaskError::ShutDown),
        }
    }

    /// Runs `func` over `items` on this pool, yielding one `Result` per item in input order
    /// (Python's `Executor.map`, without its stop at the first error).
    ///
    /// Items are batched so that an item costs a few nanoseconds of overhead however cheap it
    /// is, only a bounded number are in flight, and the returned [`Map`] has options for completion
    /// order, batch size, a timeout and the look-ahead. For several inputs, zip them.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::new();
    /// let add = |(a, b): (i32, i32)| a + b;
    /// let sums: Vec<i32> = pool
    ///     .map(add, (0..10).zip(std::iter::repeat(1)))
    ///     .collect::<Result<_, _>>()
    ///     .unwrap();
    /// assert_eq!(sums, (1..=10).collect::<Vec<_>>());
    /// ```
    pub fn map<F, I, T>(&self, func: F, items: I) -> Map<'_, I::IntoIter, T>
    where
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        I: IntoIterator,
        I::Item: Send + 'static,
        T: Send + 'static,
    {
        self.map_with(func, items, MapOptions::new())
    }

    /// As [`map`](Self::map), with `options` (batch size, order, timeout, look-ahead), which
    /// hold from the first item since the map starts at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{MapOptions, ThreadPool};
    ///
    /// let pool = ThreadPool::builder().workers(2).build().unwrap();
    /// let options = MapOptions::new().chunksize(250);
    /// let total: u64 = pool.map_with(|x: u64| x * x, 0..1000, options).map(Result::unwrap).sum();
    /// assert_eq!(total, 332_833_500);
    /// ```
    pub fn map_with<F, I, T>(
        &self,
        func: F,
        items: I,
        options: MapOptions,
    ) -> Map<'_, I::IntoIter, T>
    where
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        I: IntoIterator,
        I::Item: Send + 'static,
        T: Send + 'static,
    {
        self.map_batches(EachItem(func), items.into_iter(), options)
    }

    /// Maps with batches that `batch` runs: each item through a function (`EachItem`), or a
    /// registered `#[parallel]` function's batch runner.
    pub(crate) fn map_batches<B, I, T>(
        &self,
        batch: B,
        items: I,
        options: MapOptions,
    ) -> Map<'_, I, T>
    where
        B: RunBatch<I::Item, T>,
        I: Iterator,
        I::Item: Send + 'static,
        T: Send + 'static,
    {
        let submit = ThreadChunks {
            pool: self,
            shared: Arc::new((batch, Mutex::new(VecDeque::new()))),
        };
        Map::new(Box::new(submit), items, self.workers(), options)
    }

    /// Stops accepting work (Python's `Executor.shutdown`).
    ///
    /// - `cancel_futures`: cancel the tasks still queued (their futures get
    ///   [`TaskError::Cancelled`]); otherwise they all still run.
    /// - `wait`: return only when every worker started has finished; otherwise return at once
    ///   while the workers finish in the background. A pool that never started a thread
    ///   returns at once.
    ///
    /// Later submits fail with [`TaskError::ShutDown`]. Calling it again is harmless. Called
    /// from one of the pool's own tasks with `wait`, it waits for the other workers only.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use parallel::ThreadPool;
    ///
    /// let pool = ThreadPool::builder().workers(1).build().unwrap();
    /// let (started, on_start) = mpsc::channel();
    /// let (go, wait_for_go) = mpsc::channel::<()>();
    /// let running = pool.submit(move || {
    ///     started.send(()).unwrap();
    ///     wait_for_go.recv().is_ok()
    /// });
    /// let queued = pool.submit(|| "never runs");
    /// on_start.recv().unwrap();
    /// pool.shutdown(false, true);
    /// assert!(queued.result().unwrap_err().is_cancelled());
    /// go.send(()).unwrap();
    /// assert_eq!(running.result(), Ok(true));
    /// ```
    pub fn shutdown(&self, wait: bool, cancel_futures: bool) {
        self.shared.queue.close();
        if cancel_futures {
            for job in self.shared.queue.drain() {
                job.cancel();
            }
        }
        if wait {
            self.shared.lifecycle.wait_for_workers(None);
        }
    }

    /// Shuts down as [`shutdown`](Self::shutdown) with `wait`, but waits at most `timeout`
    /// (pebble's `join(timeout)`). Returns whether every worker finished in time; if not,
    /// they go on in the background (a thread cannot be stopped from outside).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::{sync::mpsc, time::Duration};
    ///
    /// let pool = parallel::ThreadPool::builder().workers(1).build().unwrap();
    /// let (go, wait_for_go) = mpsc::channel::<()>();
    /// let busy = pool.submit(move || wait_for_go.recv().is_ok());
    /// assert!(!pool.shutdown_timeout(Duration::from_millis(50), false), "still busy");
    /// go.send(()).unwrap();
    /// assert!(pool.shutdown_timeout(Duration::from_secs(30), false));
    /// assert_eq!(busy.result(), Ok(true));
    /// ```
    pub fn shutdown_timeout(&self, timeout: Duration, cancel_futures: bool) -> bool {
        self.shutdown(false, cancel_futures);
        self.shared
            .lifecycle
            .wait_for_workers(Instant::now().checked_add(timeout))
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::new();
    /// pool.shutdown(false, false);
    /// assert!(pool.is_shut_down());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        !self.shared.queue.is_open()
    }
}

impl Default for ThreadPool {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for ThreadPool {
    /// `shutdown(wait = true, cancel_futures = false)`: the work submitted still runs.
    fn drop(&mut self) {
        self.shutdown(true, false);
    }
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPool")
            .field("id", &self.shared.lifecycle.id())
            .field("workers", &self.shared.workers)
            .field("shut_down", &self.is_shut_down())
            .field("broken", &self.shared.lifecycle.broken().is_some())
            .finish()
    }
}

/// Runs map batches as tasks of a thread pool.
struct ThreadChunks<'p, B, I> {
    pool: &'p ThreadPool,
    /// How a batch runs, and the item buffers that batches emptied, on their way back to the
    /// map for reuse (see `map/spare.rs`).
    shared: Arc<(B, Mutex<VecDeque<Vec<I>>>)>,
}

impl<B, I, T> SubmitChunk<Vec<I>, T> for ThreadChunks<'_, B, I>
where
    B: RunBatch<I, T>,
    I: Send + 'static,
    T: Send + 'static,
{
    fn submit(&self, items: Vec<I>, values: Vec<T>) -> Future<Chunk<T>> {
        let shared = Arc::clone(&self.shared);
        let span = TaskSpan::thread_batch(self.pool.id(), std::any::type_name::<B>(), items.len());
        self.pool.submit_traced(
            move || {
                let (batch, returned) = &*shared;
                let (chunk, items) = batch.run(items, values);
                // Before the batch's future completes, so the map finds the buffer once it sees
                // the batch done.
                lock(returned).push_back(items);
                chunk
            },
            span,
        )
    }

    fn returned(&self) -> Option<Vec<I>> {
        lock(&self.shared.1).pop_front()
    }
}

/// The process-wide default thread pool, made on first use with the default settings and
/// threads named `parallel-0`, `parallel-1`, … in the order they start (as tasks need them).
/// It lives for the rest of the program.
///
/// # Examples
///
/// ```
/// let future = parallel::default_pool().submit(|| 1 + 1);
/// assert_eq!(future.result(), Ok(2));
/// ```
pub fn default_pool() -> &'static ThreadPool {
    static POOL: OnceLock<ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        ThreadPool::builder()
            .name_prefix("parallel")
            .build()
            .expect("the default settings are valid")
    })
}
