//! Python's `concurrent.futures`, for Rust: put `#[parallel]` on a function and calling it
//! runs it on a thread pool or in worker processes, returning a [`Future`] at once.
//!
//! ```
//! use parallel::{as_completed, parallel};
//! use std::time::Duration;
//!
//! #[parallel(threads = 3)]
//! fn download(file: String) -> String {
//!     std::thread::sleep(Duration::from_millis(20)); // stands for the network
//!     format!("{file} downloaded")
//! }
//!
//! let files = ["a.pdf", "b.pdf", "c.pdf"];
//! let futures = files.map(|file| (file, download(file.into()))); // all three start now
//! for (file, future) in as_completed(futures) {
//!     println!("{file}: {}", future.result().unwrap());
//! }
//! ```
//!
//! Misuse is a compile error that points at the mistake and says what to write instead: a
//! borrowed argument, a type that cannot cross to another thread or process, an unknown or
//! contradictory argument. Python finds these at run time.
//!
//! # Borrowing and sharing
//!
//! A task submitted to a pool may run after the function that submitted it returns, so it
//! must own what it uses (`'static`). A [`scope`] lifts that: tasks and maps submitted
//! through it may borrow local data, because the scope returns only once every one of them
//! has finished. Its futures ([`ScopedFuture`]) have the whole future API, and its maps read
//! slices in place, with no copy of the items.
//!
//! ```
//! use parallel::pmap;
//!
//! let data: Vec<u64> = (1..=1000).collect();
//! let factor = 2;
//! let (largest, doubled_sum) = parallel::scope(|s| {
//!     // A task that borrows `data` and returns a borrow of it.
//!     let largest = s.submit(|| data.iter().max());
//!     // A map over the slice, read in place; `sum` adds on the workers.
//!     let doubled_sum = s.map(|x: &u64| x * factor, &data).sum::<Result<u64, _>>();
//!     (largest.result().unwrap(), doubled_sum.unwrap())
//! });
//! assert_eq!((largest, doubled_sum), (Some(&1000), 1_001_000));
//!
//! // `pmap!` takes the scope as an option.
//! let total: u64 = parallel::scope(|s| pmap!(|x| x * factor, &data; scope = s).map(Result::unwrap).sum());
//! assert_eq!(total, 1_001_000);
//! ```
//!
//! Forgetting a scoped future or map (`std::mem::forget`) cannot let a task outlive the data:
//! the scope waits for the pool to finish with every task it started, whatever became of
//! their handles. For data shared with tasks that do outlive the caller (a pool's `submit`,
//! a `#[parallel]` function), share ownership with an [`Arc`](std::sync::Arc) instead:
//!
//! ```
//! use std::sync::Arc;
//!
//! let table = Arc::new(vec![10, 20, 30]);
//! let pool = parallel::ThreadPool::new();
//! let futures: Vec<_> = (0..3)
//!     .map(|i| {
//!         let table = Arc::clone(&table);
//!         pool.submit(move || table[i] + 1)
//!     })
//!     .collect();
//! assert_eq!(futures.iter().map(|f| f.result().unwrap()).sum::<i32>(), 63);
//! ```
//!
//! Process maps take borrowed items without a scope:
//! [`ProcessPool::map`](ProcessPool::map) over `data.iter()`, or `pmap!(f, &data; processes)`
//! for a function taking owned values. Each batch is encoded from the borrows on the calling
//! thread and only its bytes go to a worker, so no other thread ever holds a borrow.
//!
//! # `pmap!`: a parallel map
//!
//! [`pmap!`] maps a function over one or more iterables and yields one
//! `Result<T, TaskError>` per item, in input order. Items are batched, so an item costs a
//! few nanoseconds of overhead however cheap it is, and only a bounded number are in flight.
//!
//! ```
//! use parallel::pmap;
//!
//! fn square(x: u64) -> u64 {
//!     x * x
//! }
//!
//! // `collect_vec` gathers the results, or the first error: `collect::<Result<Vec<_>, _>>()`,
//! // faster (each batch is moved in one copy).
//! let squares: Vec<u64> = pmap!(square, 1..=4).collect_vec().unwrap();
//! assert_eq!(squares, [1, 4, 9, 16]);
//!
//! let sums: Vec<i32> = pmap!(|a, b| a + b, 0..10, std::iter::repeat(1))
//!     .collect::<Result<_, _>>()
//!     .unwrap();
//! assert_eq!(sums, (1..=10).collect::<Vec<_>>());
//! ```
//!
//! # Processes
//!
//! `#[parallel(processes)]` runs a function in worker processes: the program's own
//! executable, started again, entering worker mode before `main`. There is no set-up to write
//! (no `if __name__ == "__main__"`). Arguments and results travel encoded with serde. A worker
//! that crashes fails only the call it was running, the pool replaces it, and a call past its
//! `timeout` has its worker killed.
//!
//! ```
//! use parallel::{parallel, pmap};
//!
//! #[parallel(processes = 2)]
//! fn digit_sum(n: u64) -> u64 {
//!     n.to_string().bytes().map(|b| u64::from(b - b'0')).sum()
//! }
//!
//! assert_eq!(digit_sum(1234).result(), Ok(10));
//! let sums: Vec<u64> = pmap!(digit_sum, [19, 28, 37]).map(Result::unwrap).collect();
//! assert_eq!(sums, [10, 10, 10]);
//! ```
//!
//! # Many machines
//!
//! With the `mpi` feature, `#[parallel(mpi)]`, `pmap!(f, items; mpi)` and `MpiPool` run the
//! same calls on the ranks of an MPI job, returning the same futures. Start the program with
//! a launcher, `mpirun -n 4 ./app` (or `mpiexec`, or `srun --mpi=pmix`): rank 0 runs `main`,
//! the other ranks serve before `main`, with nothing to set up. Without a launcher the calls
//! run in local worker processes. MPI is fail-stop: a rank that dies ends the whole job.
//!
//! ```text
//! #[parallel(mpi)]
//! fn simulate(seed: u64) -> f64 { /* … */ }
//!
//! let total: f64 = pmap!(simulate, 0..10_000).map(Result::unwrap).sum();
//! ```
//!
//! # Pools, without macros
//!
//! [`ThreadPool`] and [`ProcessPool`] are Python's `ThreadPoolExecutor` and
//! `ProcessPoolExecutor`: `submit`, `map`, `shutdown(wait, cancel_futures)`, and dropping a
//! pool waits for its work like leaving a `with` block. [`default_pool`] is the pool that
//! `#[parallel]` and `pmap!` use when told nothing else.
//!
//! ```
//! use parallel::{wait, ReturnWhen, ThreadPool};
//!
//! let pool = ThreadPool::builder().workers(4).name_prefix("worker").build().unwrap();
//! let futures: Vec<_> = (1..=5).map(|n| pool.submit(move || n * 10)).collect();
//! let waited = wait(&futures, None, ReturnWhen::AllCompleted);
//! assert_eq!(waited.done.len(), 5);
//! let total: i32 = futures.iter().map(|f| f.result().unwrap()).sum();
//! assert_eq!(total, 150);
//! ```
//!
//! A process pool's workers can run a setup function first
//! ([`ProcessPoolBuilder::initializer`]), and [`ProcessPool::wait_ready`] returns once they
//! are all up.
//!
//! # Observing the pools
//!
//! With the `tracing` feature (off by default), each task is a `tracing` span (`task`, or
//! `batch` for a map's batch, under the target `parallel::task`) with its pool, function and
//! id, made where it is submitted; worker processes' starts, deaths, replacements and
//! recycling are events under `parallel::worker`. Without the feature nothing of it is built.
//!
//! # Futures
//!
//! A [`Future`] gives its value with [`result`](Future::result) (waits),
//! [`result_timeout`](Future::result_timeout) (waits at most so long; the future stays
//! usable) or [`try_result`](Future::try_result) (never waits), and can be
//! [cancelled](Future::cancel) while still queued, given
//! [done-callbacks](Future::add_done_callback), and `.await`ed from any async runtime.
//! [`as_completed`] yields futures as they finish and [`wait`] waits for the first, the
//! first failure, or all. Every failure is a [`TaskError`]: panicked, cancelled, timed out,
//! worker died, shut down, broken pool, or (for processes) encoding. A task's panic prints
//! nothing (Python keeps an exception in its future): its message and location are in the
//! error.
//!
//! `result` moves the value out once; [`result_ref`](Future::result_ref) and
//! [`result_cloned`](Future::result_cloned) read it as often as wanted.
//! [`kill`](Future::kill) stops even a running process task. [`promise`] makes a future that
//! code of its own completes.
//!
//! ```
//! let pool = parallel::ThreadPool::new();
//! let mut future = pool.submit(|| "report".to_owned());
//! assert_eq!(future.result_ref().unwrap(), "report");
//! assert_eq!(future.result_cloned().unwrap(), "report"); // read again
//!
//! let (promise, promised) = parallel::promise::<u32>();
//! promise.set_result(7).unwrap();
//! assert_eq!(promised.result(), Ok(7));
//! ```
//!
//! ## At exit
//!
//! As in Python, work already submitted finishes before the program ends, even if its
//! future was dropped: when `main` returns, every pool still alive stops taking work and is
//! waited for. [`wait_at_exit(false)`](wait_at_exit) ends the program at once instead.
//!
//! ## Blocking or `.await`?
//!
//! A `Future` works both ways. In ordinary (synchronous) code, call `result`: the calling
//! thread sleeps until the value is ready. In async code, `.await` it: the async task yields
//! instead of blocking its executor's thread, and the pool's thread wakes it when the value is
//! ready, whichever runtime runs it (tokio, async-std, `futures::executor`). Dropping an
//! awaited future does not cancel the work or affect other futures.
//!
//! ```
//! # use parallel::parallel;
//! #[parallel]
//! fn add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! let blocking = add(1, 2).result();
//! let awaited = futures::executor::block_on(async { add(20, 22).await });
//! assert_eq!((blocking, awaited), (Ok(3), Ok(42)));
//! ```
//!
//! See [`coming_from_python`] for each `concurrent.futures` and `multiprocessing` name and
//! its counterpart here.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub mod coming_from_python;

pub use parallel_macros::parallel;
pub use parallel_macros::pmap;

pub use parallel_runtime::as_completed;
pub use parallel_runtime::default_pool;
/// The MPI binding (rsmpi) under the `mpi` backend (feature `mpi`, Linux only), for a program
/// that drives MPI itself in the manual mode ([`mpi_manual_mode!`]): initialising MPI through
/// it initialises the MPI that [`MpiPool::comm_executor`] serves on.
///
/// # Examples
///
/// ```
/// use parallel::mpi::Threading;
///
/// // The pool's driver calls MPI from a thread of its own: `Serialized` at least.
/// assert!(Threading::Multiple > Threading::Serialized);
/// // Without a launcher, nothing has initialised MPI.
/// assert!(!parallel::mpi::is_initialized());
/// ```
#[cfg(all(feature = "mpi", target_os = "linux"))]
pub use parallel_runtime::mpi;
pub use parallel_runtime::parent_id;
pub use parallel_runtime::promise;
pub use parallel_runtime::scope;
pub use parallel_runtime::wait;
pub use parallel_runtime::wait_at_exit;
pub use parallel_runtime::AsCompleted;
pub use parallel_runtime::AsCompletedTimeout;
pub use parallel_runtime::Deadline;
pub use parallel_runtime::Future;
pub use parallel_runtime::Indexed;
pub use parallel_runtime::Map;
pub use parallel_runtime::MapOptions;
#[cfg(feature = "mpi")]
pub use parallel_runtime::MpiPool;
#[cfg(feature = "mpi")]
pub use parallel_runtime::MpiPoolBuilder;
pub use parallel_runtime::ProcessArgument;
pub use parallel_runtime::ProcessPool;
pub use parallel_runtime::ProcessPoolBuilder;
pub use parallel_runtime::ProcessResult;
#[cfg(feature = "progress")]
pub use parallel_runtime::Progress;
#[cfg(feature = "progress")]
pub use parallel_runtime::ProgressHandle;
pub use parallel_runtime::Promise;
pub use parallel_runtime::RemoteFn;
pub use parallel_runtime::ReturnWhen;
pub use parallel_runtime::Scope;
pub use parallel_runtime::ScopedFuture;
pub use parallel_runtime::ScopedMap;
pub use parallel_runtime::TaskError;
pub use parallel_runtime::ThreadPool;
pub use parallel_runtime::ThreadPoolBuilder;
pub use parallel_runtime::Waitable;
pub use parallel_runtime::Waited;
pub use parallel_runtime::WorkerExit;

/// Opts this program out of the MPI takeover (feature `mpi`), for a program that drives MPI
/// itself: under a launcher, every rank then runs `main`, and the program calls
/// [`MpiPool::comm_executor`] once it has initialised MPI. Write it once, at item level,
/// anywhere in the program; the crate's constructor sees it before `main` (the linker gathers
/// it, no code runs to register it). `PARALLEL_MPI=manual` in the environment does the same.
///
/// # Examples
///
/// ```
/// parallel::mpi_manual_mode!();
///
/// fn main() {
///     // Without a launcher nothing changes; under `mpirun`, every rank gets here.
///     # #[cfg(target_os = "linux")]
///     # if std::env::var_os("OMPI_COMM_WORLD_RANK").is_some() {
///     let (_universe, _) = parallel::mpi::initialize_with_threading(parallel::mpi::Threading::Multiple).unwrap();
///     if let Some(pool) = parallel::MpiPool::comm_executor().unwrap() {
///         println!("rank 0, with {} workers", pool.num_workers());
///     } // the other ranks served until rank 0's pool was dropped
///     # }
/// }
/// ```
#[cfg(feature = "mpi")]
#[macro_export]
macro_rules! mpi_manual_mode {
    () => {
        const _: () = {
            #[::parallel::__private::linkme::distributed_slice(::parallel::__private::mpi::MANUAL)]
            #[linkme(crate = ::parallel::__private::linkme)]
            static MANUAL: &'static str = ::core::module_path!();
        };
    };
}

/// The names most programs need: `use parallel::prelude::*;`.
///
/// # Examples
///
/// ```
/// use parallel::prelude::*;
///
/// #[parallel]
/// fn double(x: u32) -> u32 {
///     x * 2
/// }
///
/// let doubled: Vec<u32> = pmap!(double, 1..=3).map(Result::unwrap).collect();
/// assert_eq!(doubled, [2, 4, 6]);
/// assert_eq!(double(5).result(), Ok(10));
/// ```
pub mod prelude {
    pub use crate::{
        as_completed, parallel, pmap, wait, Future, ProcessPool, ReturnWhen, TaskError, ThreadPool,
    };
}
