//! [`MpiPool`]: the same futures on the ranks of an MPI job (mpi4py's `MPIPoolExecutor`),
//! with nothing to set up: run the program under `mpirun -n N`, and rank 0 runs `main` while
//! the other ranks serve. The protocol, the roles and the faults are in `README.md` beside
//! this file.

#[cfg(target_os = "linux")]
mod comm;
#[cfg(target_os = "linux")]
mod driver;
#[cfg(target_os = "linux")]
pub(crate) mod launch;
#[cfg(target_os = "linux")]
mod wire;
#[cfg(target_os = "linux")]
mod worker;

use std::fmt;
use std::sync::{Arc, Once};
use std::time::Duration;

#[cfg(target_os = "linux")]
use self::driver::{Engine, Job, PoolState};
use crate::error::TaskError;
use crate::future::Future;
use crate::map::{Map, MapOptions};
use crate::process_pool::{Enqueue, Input, ProcessArguments, ProcessPool, ProcessTask, RemoteFn};

/// A pool of the worker ranks of an MPI job (mpi4py's `MPIPoolExecutor`), with the crate's
/// own [`Future`]s, so that [`as_completed`](crate::as_completed) and [`wait`](crate::wait)
/// mix them with thread and process futures.
///
/// Start the program with an MPI launcher: `mpirun -n 4 ./app` (or `mpiexec`, or
/// `srun --mpi=pmix`). Rank 0 runs `main`; ranks 1 to 3 become workers before `main` and
/// never reach it: there is nothing to set up, no guard to write. Tasks are the functions
/// marked `#[parallel(mpi)]` or `#[parallel(processes)]` (see [`RemoteFn`]); arguments and
/// results travel encoded with serde, as to worker processes.
///
/// Started without a launcher (or with `-n 1`), the pool runs its tasks in local worker
/// processes instead, with a one-line notice on stderr; with `PARALLEL_MPI=require` in the
/// environment that is an error instead: every task fails with [`TaskError::Broken`], saying
/// why.
///
/// # Faults
///
/// A task that panics fails with [`TaskError::Panicked`], and one whose arguments or result
/// cannot be encoded with [`TaskError::Codec`]; the rank goes on serving. But MPI is
/// fail-stop: a rank that dies (a crash, `abort`, `exit`, a kill, the OOM killer) ends the
/// whole job, root included; the launcher reports it and exits with a non-zero status. No
/// future can outlive that, so there is no `WorkerDied` and no `retries` here. A task that
/// may crash belongs in a [`ProcessPool`] (which an MPI task may use on its rank); a long job
/// that must survive should checkpoint. A `timeout` stops waiting (the future fails with
/// [`TaskError::TimedOut`]) but cannot stop the rank running the task, which finishes it and
/// only then takes the next one.
///
/// # Ranks and cores
///
/// Each worker rank runs one task at a time; the root keeps several in flight per rank, so
/// a rank never waits for the root between tasks. An idle rank waits inside MPI's receive,
/// which OpenMPI and MPICH implement by polling: it keeps its core busy while the job runs,
/// as MPI programs do, so give the job a core per rank. Rank 0's driver polls only while
/// tasks are in flight, backing off to a nap of at most a millisecond, and sleeps when there
/// are none.
///
/// # The end of the job
///
/// When `main` returns, the work submitted to the pools is waited for (as for every pool of
/// the crate), then the worker ranks are told to stop and `MPI_Finalize` runs, on the main
/// thread, which initialised MPI. `std::process::exit` from another thread does the same on
/// that thread (OpenMPI and MPICH accept it). Called from a done-callback of an MPI future,
/// which runs on the pool's driver thread, it ends rank 0 without `MPI_Finalize`: the
/// launcher then reports the job as failed.
///
/// # Platforms
///
/// MPI runs on Linux. On other targets the feature builds no MPI (the binding is a Linux-only
/// dependency): the pool always runs its tasks in local worker processes, with the notice
/// (or, with `PARALLEL_MPI=require`, fails them with [`TaskError::Broken`]), and
/// [`comm_executor`](Self::comm_executor) returns an error. A launcher there starts copies
/// of the program that know nothing of each other: each runs `main` on its own.
///
/// # Examples
///
/// ```
/// use parallel::{as_completed, parallel, MpiPool};
///
/// #[parallel(mpi)]
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// let pool = MpiPool::world(); // without `mpirun`: local worker processes
/// let futures: Vec<_> = (1..=4).map(|x| pool.submit(square, (x,))).collect();
/// let mut total = 0;
/// for future in as_completed(&futures) {
///     total += future.result().unwrap();
/// }
/// assert_eq!(total, 30);
/// ```
pub struct MpiPool {
    shared: Arc<Shared>,
}

struct Shared {
    backend: Backend,
    task_timeout: Option<Duration>,
    /// Whether shutting this pool down ends the manual mode's engine (the pool that
    /// `comm_executor` returned).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    ends_engine: bool,
}

enum Backend {
    /// The worker ranks, through the root's engine.
    #[cfg(target_os = "linux")]
    Ranks {
        engine: Arc<Engine>,
        state: Arc<PoolState>,
        /// Cleared by `shutdown`, under this lock, which submitters count their task in under.
        open: std::sync::Mutex<bool>,
    },
    /// No MPI job to run on: local worker processes.
    Local(ProcessPool),
    /// No MPI job, and running locally is not allowed (or MPI cannot serve): why.
    Unusable(String),
}

/// Settings for an [`MpiPool`], from [`MpiPool::builder`].
///
/// | setting | default | mpi4py |
/// |---|---|---|
/// | [`task_timeout`](Self::task_timeout) | none | (`timeout` of `map`, per task here) |
/// | [`wait_at_exit`](Self::wait_at_exit) | yes | (`shutdown(wait=True)` at exit) |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let pool = parallel::MpiPool::builder().task_timeout(Duration::from_secs(60)).build();
/// assert!(pool.num_workers() >= 1);
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct MpiPoolBuilder {
    initializer: Option<&'static str>,
    task_timeout: Option<Duration>,
    wait_at_exit: bool,
}

impl Default for MpiPoolBuilder {
    fn default() -> Self {
        Self {
            initializer: None,
            task_timeout: None,
            wait_at_exit: true,
        }
    }
}

impl MpiPoolBuilder {
    /// The default settings: no task timeout, waited for at exit.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::MpiPoolBuilder::new().build();
    /// assert!(pool.num_workers() >= 1);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Gives every task a deadline, counted from when its rank starts it: past it the future
    /// fails with [`TaskError::TimedOut`]. The rank cannot be stopped: it finishes the task,
    /// whose value is dropped, before it takes the next.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use parallel::{parallel, MpiPool};
    ///
    /// #[parallel(mpi)]
    /// fn nap(ms: u64) -> u64 {
    ///     std::thread::sleep(Duration::from_millis(ms));
    ///     ms
    /// }
    ///
    /// let pool = MpiPool::builder().task_timeout(Duration::from_millis(100)).build();
    /// assert!(pool.submit(nap, (5_000,)).result().unwrap_err().is_timed_out());
    /// assert_eq!(pool.submit(nap, (1,)).result(), Ok(1));
    /// ```
    pub fn task_timeout(mut self, timeout: Duration) -> Self {
        self.task_timeout = Some(timeout);
        self
    }

    /// Whether the program, when it ends, waits for the work submitted to this pool (default:
    /// yes, as Python does; see [`wait_at_exit`](crate::wait_at_exit)).
    ///
    /// # Examples
    ///
    /// ```
    /// // A pool whose queued work the program's end need not wait for.
    /// let pool = parallel::MpiPool::builder().wait_at_exit(false).build();
    /// assert!(!pool.is_shut_down());
    /// ```
    pub fn wait_at_exit(mut self, wait: bool) -> Self {
        self.wait_at_exit = wait;
        self
    }

    /// Runs the initializer registered as `name` once on every worker rank, before the first
    /// task of this pool there (written by `#[parallel(mpi, initializer = f)]`). If it fails
    /// on a rank, the pool is broken: its tasks fail with [`TaskError::Broken`].
    #[doc(hidden)]
    pub fn initializer_named(mut self, name: &'static str) -> Self {
        self.initializer = Some(name);
        self
    }

    /// The pool: on the worker ranks if this program is rank 0 of an MPI job, else on local
    /// worker processes (or, with `PARALLEL_MPI=require`, a pool whose tasks fail with
    /// [`TaskError::Broken`], saying why).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::MpiPoolBuilder::new().build();
    /// assert!(!pool.is_shut_down());
    /// ```
    pub fn build(self) -> MpiPool {
        let backend = self.backend();
        self.with_backend(backend, false)
    }

    #[cfg(target_os = "linux")]
    fn backend(&self) -> Backend {
        use self::launch::Role;
        match launch::role() {
            Role::Root { workers: 0 } => self.local("the MPI job has only one rank"),
            Role::Root { .. } => match launch::engine() {
                Ok(engine) => self.ranks(engine),
                Err(reason) => Backend::Unusable(reason),
            },
            Role::Manual => match launch::running() {
                Some(engine) => self.ranks(engine),
                None => Backend::Unusable(
                    "the program drives MPI itself (the manual mode): call \
                     `MpiPool::comm_executor()` on every rank before using an MPI pool"
                        .to_owned(),
                ),
            },
            Role::Worker => Backend::Unusable(
                "this task runs on an MPI worker rank, which cannot submit to the ranks; call \
                 the function's `sync` version here instead"
                    .to_owned(),
            ),
            Role::Unusable(reason) => Backend::Unusable(reason.clone()),
            Role::Alone => {
                self.local("no MPI launcher (mpirun, mpiexec, srun) started this program")
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn backend(&self) -> Backend {
        self.local("the `mpi` backend runs on MPI on Linux only")
    }

    /// The worker ranks of `engine`, with this pool's initializer sent to each at once.
    #[cfg(target_os = "linux")]
    fn ranks(&self, engine: Arc<Engine>) -> Backend {
        let state = Arc::new(PoolState {
            lifecycle: crate::pool::lifecycle::Lifecycle::new(),
            initializer: self.initializer,
        });
        if let Some(name) = self.initializer {
            for &rank in engine.ranks() {
                let task = ProcessTask::new(
                    name,
                    crate::process_pool::Call::Init,
                    Input::default(),
                    |_, _| Ok(()),
                    None,
                );
                state.lifecycle.count_in();
                let job = Job {
                    task: Arc::new(task),
                    pool: Arc::clone(&state),
                    rank: Some(rank),
                };
                if engine.push(job).is_err() {
                    state.lifecycle.count_out();
                }
            }
        }
        Backend::Ranks {
            engine,
            state,
            open: std::sync::Mutex::new(true),
        }
    }

    /// Local worker processes, with a notice on stderr (once per program) saying `why`; or,
    /// with `PARALLEL_MPI=require`, no pool at all.
    fn local(&self, why: &str) -> Backend {
        if required() {
            return Backend::Unusable(format!(
                "PARALLEL_MPI=require is set, but {why}: start it with `mpirun -n N` (or \
                 `mpiexec`, or `srun --mpi=pmix`)"
            ));
        }
        static NOTICE: Once = Once::new();
        NOTICE.call_once(|| {
            eprintln!(
                "parallel: {why}, so `mpi` work runs in local worker processes \
                 (PARALLEL_MPI=require makes this an error)"
            );
        });
        let mut builder = ProcessPool::builder().wait_at_exit(self.wait_at_exit);
        if let Some(name) = self.initializer {
            builder = builder.initializer_named(name);
        }
        if let Some(timeout) = self.task_timeout {
            builder = builder.task_timeout(timeout);
        }
        match builder.build() {
            Ok(pool) => Backend::Local(pool),
            Err(error) => Backend::Unusable(format!("no local worker processes: {error}")),
        }
    }

    fn with_backend(self, backend: Backend, ends_engine: bool) -> MpiPool {
        let shared = Arc::new(Shared {
            backend,
            task_timeout: self.task_timeout,
            ends_engine,
        });
        #[cfg(target_os = "linux")]
        if self.wait_at_exit && matches!(shared.backend, Backend::Ranks { .. }) {
            crate::pool::lifecycle::register_at_exit(&shared);
        }
        MpiPool { shared }
    }
}

/// The linker-gathered marker of the manual mode: `parallel::mpi_manual_mode!()` adds one
/// element (the module that asked), which the constructor sees before any code runs.
#[linkme::distributed_slice]
pub static MANUAL: [&'static str];

/// The environment variable that chooses how `mpi` work runs: `require` (never locally: a
/// pool without an MPI job fails its tasks) or `manual` (the program drives MPI itself:
/// `comm_executor`).
const ENV: &str = "PARALLEL_MPI";

/// Whether `PARALLEL_MPI=require` forbids running `mpi` work locally.
fn required() -> bool {
    std::env::var_os(ENV).is_some_and(|value| value == "require")
}

impl MpiPool {
    /// The pool of this MPI job's worker ranks (every rank but 0), with the default settings;
    /// without an MPI job, local worker processes (see [`MpiPool`]). Every call returns a pool
    /// of its own (its own shutdown), all on the same ranks.
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{parallel, MpiPool};
    ///
    /// #[parallel(mpi)]
    /// fn add(a: i64, b: i64) -> i64 { a + b }
    ///
    /// let pool = MpiPool::world();
    /// assert_eq!(pool.submit(add, (40, 2)).result(), Ok(42));
    /// ```
    pub fn world() -> Self {
        MpiPoolBuilder::new().build()
    }

    /// Settings for a new pool (see [`MpiPoolBuilder`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = parallel::MpiPool::builder().task_timeout(Duration::from_secs(600)).build();
    /// assert!(pool.num_workers() >= 1);
    /// ```
    pub fn builder() -> MpiPoolBuilder {
        MpiPoolBuilder::new()
    }

    /// The number of worker ranks (the job's size less the root), or of local worker
    /// processes when there is no MPI job (mpi4py's `num_workers`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(parallel::MpiPool::world().num_workers() >= 1);
    /// ```
    pub fn num_workers(&self) -> usize {
        match &self.shared.backend {
            #[cfg(target_os = "linux")]
            Backend::Ranks { engine, .. } => engine.workers(),
            Backend::Local(pool) => pool.workers(),
            Backend::Unusable(_) => 0,
        }
    }

    /// This process's rank in the MPI job that the crate took over: `Some(0)` in `main` under
    /// `mpirun`, the worker's rank in a task running on a worker rank, `None` without a
    /// launcher (and in the manual mode, whose program knows its ranks itself).
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{parallel, MpiPool};
    ///
    /// #[parallel(mpi)]
    /// fn where_am_i() -> Option<usize> { MpiPool::current_rank() }
    ///
    /// // Without `mpirun` the task runs in a local worker process, which is no rank.
    /// assert_eq!(where_am_i().result(), Ok(None));
    /// ```
    pub fn current_rank() -> Option<usize> {
        #[cfg(target_os = "linux")]
        return launch::rank();
        #[cfg(not(target_os = "linux"))]
        None
    }

    /// Whether the pool runs its tasks on local worker processes, there being no MPI job (or
    /// a job of one rank).
    ///
    /// # Examples
    ///
    /// ```
    /// // Under `cargo test`, no launcher started the program.
    /// assert!(parallel::MpiPool::world().is_local());
    /// ```
    pub fn is_local(&self) -> bool {
        matches!(self.shared.backend, Backend::Local(_))
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
    /// use parallel::{parallel, MpiPool};
    ///
    /// #[parallel(mpi)]
    /// fn digits(n: u64) -> usize { n.to_string().len() }
    ///
    /// let pool = MpiPool::world();
    /// assert_eq!(pool.submit(digits, (12345,)).result(), Ok(5));
    /// ```
    pub fn submit<Args, F>(&self, function: F, args: Args) -> Future<F::Output>
    where
        Args: ProcessArguments,
        F: RemoteFn<Args>,
    {
        self.submit_fn(function, args, None)
    }

    /// Runs `function` over `items` (argument tuples) on the worker ranks, yielding one
    /// `Result` per item in input order (mpi4py's `map`, and with tuples its `starmap`),
    /// with the options of [`map_with`](Self::map_with). Items travel in batches, sized by
    /// measuring them.
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{parallel, MpiPool};
    ///
    /// #[parallel(mpi)]
    /// fn square(x: u64) -> u64 { x * x }
    ///
    /// let pool = MpiPool::world();
    /// let squares: Vec<u64> = pool.map(square, (1..=4).map(|x| (x,))).collect::<Result<_, _>>().unwrap();
    /// assert_eq!(squares, [1, 4, 9, 16]);
    /// ```
    pub fn map<Args, F, I>(&self, function: F, items: I) -> Map<'_, I::IntoIter, F::Output>
    where
        Args: ProcessArguments,
        F: RemoteFn<Args>,
        I: IntoIterator<Item = Args>,
    {
        self.map_with(function, items, MapOptions::new())
    }

    /// As [`map`](Self::map), with `options`: `chunksize` (mpi4py's `chunksize`),
    /// `ordered(false)` (its `unordered=True`), `timeout` (counted from the call, as its
    /// `timeout`) and `lookahead` (its `buffersize`).
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{parallel, MapOptions, MpiPool};
    ///
    /// #[parallel(mpi)]
    /// fn square(x: u64) -> u64 { x * x }
    ///
    /// let pool = MpiPool::world();
    /// let options = MapOptions::new().chunksize(50).ordered(false);
    /// let total: u64 = pool.map_with(square, (0..100).map(|x| (x,)), options).map(Result::unwrap).sum();
    /// assert_eq!(total, 328_350);
    /// ```
    pub fn map_with<Args, F, I>(
        &self,
        function: F,
        items: I,
        options: MapOptions,
    ) -> Map<'_, I::IntoIter, F::Output>
    where
        Args: ProcessArguments,
        F: RemoteFn<Args>,
        I: IntoIterator<Item = Args>,
    {
        self.map_fn(function, items, options)
    }

    /// Stops accepting work, with Python's meaning: with `wait`, returns when every task
    /// submitted to this pool is done; with `cancel_futures`, cancels those not yet sent to a
    /// rank. The ranks themselves serve on until the program ends (they are the job's), so
    /// other pools on them go on working; the pool of
    /// [`comm_executor`](Self::comm_executor) ends them, and so always waits.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::MpiPool::world();
    /// pool.shutdown(true, false);
    /// assert!(pool.is_shut_down());
    /// ```
    pub fn shutdown(&self, wait: bool, cancel_futures: bool) {
        self.shared.shutdown(wait, cancel_futures);
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::MpiPool::world();
    /// assert!(!pool.is_shut_down());
    /// pool.shutdown(false, false);
    /// assert!(pool.is_shut_down());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        match &self.shared.backend {
            #[cfg(target_os = "linux")]
            Backend::Ranks { open, .. } => !*crate::sync::lock(open),
            Backend::Local(pool) => pool.is_shut_down(),
            Backend::Unusable(_) => false,
        }
    }

    /// The manual mode, for a program that uses MPI itself (mpi4py's `MPICommExecutor`):
    /// call it on every rank after initialising MPI. On rank 0 it returns the pool of the
    /// other ranks at once; on every other rank it serves tasks until rank 0's pool is shut
    /// down or dropped, then returns `None`, and the program goes on there.
    ///
    /// The program must opt out of the takeover before `main`, which the crate's constructor
    /// otherwise does under a launcher: write `parallel::mpi_manual_mode!();` once in the
    /// program, or set `PARALLEL_MPI=manual` in the environment. The pool works on a
    /// duplicate of `MPI_COMM_WORLD`, so its messages never meet the program's own.
    ///
    /// Initialise MPI with `Threading::Multiple` if the program makes MPI calls of its own
    /// while the pool is in use (the pool's driver calls MPI from a thread of its own);
    /// `Threading::Serialized` is enough otherwise. Shut the pool down (or drop it) before
    /// MPI is finalised.
    ///
    /// # Errors
    ///
    /// If the program is not in the manual mode, MPI is not initialised (or already
    /// finalised), its threading level is below `Serialized`, or MPI is not supported on
    /// this system (it is on Linux).
    ///
    /// # Examples
    ///
    /// A whole program is in [`mpi_manual_mode!`](../parallel/macro.mpi_manual_mode.html).
    /// Outside the manual mode the crate owns MPI, and this refuses, saying what to do:
    ///
    /// ```
    /// let error = parallel::MpiPool::comm_executor().unwrap_err();
    /// # #[cfg(target_os = "linux")]
    /// assert!(error.to_string().contains("mpi_manual_mode!"), "{error}");
    /// ```
    pub fn comm_executor() -> std::io::Result<Option<MpiPool>> {
        #[cfg(target_os = "linux")]
        return manual::comm_executor();
        #[cfg(not(target_os = "linux"))]
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "the `mpi` backend runs on MPI on Linux only",
        ))
    }
}

#[cfg(target_os = "linux")]
mod manual {
    use std::io;

    use super::comm::{self, Comm};
    use super::{launch, worker, MpiPool, MpiPoolBuilder};

    pub(super) fn comm_executor() -> io::Result<Option<MpiPool>> {
        let refuse = |message: &str| Err(io::Error::other(message.to_owned()));
        if !matches!(launch::role(), launch::Role::Manual) {
            return refuse(
                "`MpiPool::comm_executor` is for the manual mode: write \
                 `parallel::mpi_manual_mode!();` in the program (or set PARALLEL_MPI=manual), \
                 or let the crate take the job over and use `MpiPool::world()`",
            );
        }
        if !mpi::is_initialized() || mpi::is_finalized() {
            return refuse(
                "initialise MPI first: `parallel::mpi::initialize_with_threading(Threading::Multiple)`",
            );
        }
        if !comm::is_serialized_or_more() {
            return refuse("the pool needs MPI initialised with `Threading::Serialized` or more");
        }
        let world = Comm::world();
        let (rank, size) = (world.rank(), world.size());
        let builder = MpiPoolBuilder::new();
        if size == 1 {
            let backend = builder.local("the MPI job has only one rank");
            return Ok(Some(builder.with_backend(backend, false)));
        }
        if rank != 0 {
            let comm = world.duplicate();
            worker::serve(&comm, 0);
            comm.free();
            return Ok(None);
        }
        let engine = launch::start_manual((1..size).collect()).map_err(io::Error::other)?;
        let backend = builder.ranks(engine);
        Ok(Some(builder.with_backend(backend, true)))
    }
}

impl Shared {
    /// The engine, this pool's state and its open flag, when it runs on ranks.
    #[cfg(target_os = "linux")]
    fn ranks(&self) -> Option<(&Engine, &Arc<PoolState>, &std::sync::Mutex<bool>)> {
        match &self.backend {
            Backend::Ranks {
                engine,
                state,
                open,
            } => Some((engine, state, open)),
            _ => None,
        }
    }

    /// Refuses new tasks; with `cancel_futures`, cancels those not yet sent to a rank.
    fn close(&self, cancel_futures: bool) {
        #[cfg(target_os = "linux")]
        if let Some((engine, state, open)) = self.ranks() {
            *crate::sync::lock(open) = false;
            if cancel_futures {
                engine.cancel_queued(state.lifecycle.id());
            }
        }
        if let Backend::Local(pool) = &self.backend {
            pool.shutdown(false, cancel_futures);
        }
    }

    /// Waits until every task of this pool is done (not from the driver's own thread, where
    /// a done-callback runs: the driver could not finish them meanwhile).
    fn wait(&self) {
        #[cfg(target_os = "linux")]
        if let Some((engine, state, _)) = self.ranks() {
            if !engine.is_driver_thread() {
                state.lifecycle.wait_for_workers(None);
            }
        }
        if let Backend::Local(pool) = &self.backend {
            pool.shutdown(true, false);
        }
    }

    fn shutdown(&self, wait: bool, cancel_futures: bool) {
        self.close(cancel_futures);
        if wait {
            self.wait();
        }
        #[cfg(target_os = "linux")]
        if self.ends_engine {
            launch::end_engine_now();
        }
    }
}

impl crate::exit::AtExit for Shared {
    fn close(&self) {
        Shared::close(self, false);
    }

    fn wait(&self) {
        Shared::wait(self);
    }
}

impl Enqueue for MpiPool {
    fn enqueue<T: Send + 'static>(&self, task: Arc<ProcessTask<T>>) -> Future<T> {
        match &self.shared.backend {
            #[cfg(target_os = "linux")]
            Backend::Ranks {
                engine,
                state,
                open,
            } => enqueue_on_ranks(engine, state, open, task),
            Backend::Local(pool) => pool.enqueue(task),
            Backend::Unusable(reason) => Future::failed(TaskError::broken(reason.clone())),
        }
    }

    fn encode_input<Args: ProcessArguments>(&self, args: &Args) -> Result<Input, String> {
        match &self.shared.backend {
            #[cfg(target_os = "linux")]
            Backend::Ranks { engine, .. } => engine
                .spare_inputs
                .encode(args)
                .map(|input| Input::Bytes(Arc::new(input))),
            Backend::Local(pool) => pool.encode_input(args),
            Backend::Unusable(_) => args.encode().map(|input| Input::Bytes(Arc::new(input))),
        }
    }

    fn task_timeout(&self) -> Option<Duration> {
        self.shared.task_timeout
    }

    fn width(&self) -> usize {
        self.num_workers().max(1)
    }
}

/// Queues `task` for the worker ranks, counted in its pool (`state`) unless the pool is
/// broken or shut down.
#[cfg(target_os = "linux")]
fn enqueue_on_ranks<T: Send + 'static>(
    engine: &Engine,
    state: &Arc<PoolState>,
    open: &std::sync::Mutex<bool>,
    task: Arc<ProcessTask<T>>,
) -> Future<T> {
    if let Some(error) = state.lifecycle.broken_error() {
        return Future::failed(error);
    }
    // Feature `tracing`: the task's span names its pool (nothing without the feature).
    crate::process_pool::ProcessJob::span(&*task).set_pool(state.lifecycle.id(), "mpi");
    {
        // Counted in under the lock that `shutdown` closes under, so a `shutdown(wait)` that
        // sees the pool open waits for this task.
        let open = crate::sync::lock(open);
        if !*open {
            return Future::failed(TaskError::ShutDown);
        }
        state.lifecycle.count_in();
    }
    let job = Job {
        task: task.clone(),
        pool: Arc::clone(state),
        rank: None,
    };
    match engine.push(job) {
        Ok(()) => Future::new(task),
        Err(_) => {
            state.lifecycle.count_out();
            Future::failed(TaskError::ShutDown)
        }
    }
}

impl Drop for MpiPool {
    /// `shutdown(wait = true, cancel_futures = false)`.
    fn drop(&mut self) {
        self.shutdown(true, false);
    }
}

impl fmt::Debug for MpiPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MpiPool")
            .field("workers", &self.num_workers())
            .field("local", &self.is_local())
            .field("shut_down", &self.is_shut_down())
            .finish()
    }
}
