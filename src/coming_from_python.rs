//! For Python programmers: each `concurrent.futures` and `multiprocessing` name, and what to
//! write here. (This module holds documentation only.)
//!
//! # `concurrent.futures`
//!
//! | Python | `parallel` | notes |
//! |---|---|---|
//! | `ThreadPoolExecutor(max_workers=4)` | [`ThreadPool::builder().workers(4).build()`](crate::ThreadPoolBuilder) | default workers `min(32, cpus + 4)`, as Python's |
//! | `thread_name_prefix="dl"` | [`.name_prefix("dl")`](crate::ThreadPoolBuilder::name_prefix) | threads are named `dl-0`, `dl-1`, … |
//! | `initializer=f, initargs=(a,)` | [`.initializer(move \|\| f(a))`](crate::ThreadPoolBuilder::initializer) | a panicking initializer breaks the pool: `TaskError::Broken` (`BrokenThreadPool`) |
//! | `ProcessPoolExecutor(max_workers=2)` | [`ProcessPool::builder().workers(2).build()`](crate::ProcessPoolBuilder), or `#[parallel(processes = 2)]` | no `if __name__ == "__main__"` guard |
//! | `max_tasks_per_child=10` | [`.max_tasks_per_child(10)`](crate::ProcessPoolBuilder::max_tasks_per_child), `#[parallel(processes, max_tasks_per_child = 10)]` | |
//! | `executor.submit(fn, *args)` | [`pool.submit(move \|\| f(a))`](crate::ThreadPool::submit), [`pool.submit(f, (a,))`](crate::ProcessPool::submit), or just `f(a)` on a `#[parallel]` function | |
//! | `executor.map(fn, *iterables, timeout=, chunksize=)` | [`pmap!(f, xs, ys; timeout = "5s", chunksize = 100)`](crate::pmap), [`pool.map(f, items)`](crate::ThreadPool::map), [`pool.map_with(f, items, MapOptions::new().chunksize(100))`](crate::MapOptions) | starts at the call, as Python's; one `Result` per item, so a failed item does not end the map; batches are sized automatically; at its timeout the map yields `TimedOut` and ends |
//! | `Executor.map(..., buffersize=n)` (3.14) | [`MapOptions::lookahead(n)`](crate::MapOptions::lookahead) | bounded by default |
//! | `multiprocessing.Pool.imap_unordered` | `pmap!(f, xs; ordered = false)`, [`.ordered(false)`](crate::Map::ordered) | |
//! | `executor.shutdown(wait=True, cancel_futures=False)` | [`pool.shutdown(true, false)`](crate::ThreadPool::shutdown) | dropping a pool is `shutdown(wait=True)`, as leaving `with` |
//! | pebble's `pool.join(timeout)` | [`pool.shutdown_timeout(d, false)`](crate::ProcessPool::shutdown_timeout) | returns whether everything finished |
//! | `executor.terminate_workers()`, `kill_workers()` (3.14) | [`pool.terminate_workers()`](crate::ProcessPool::terminate_workers), [`kill_workers()`](crate::ProcessPool::kill_workers) | running tasks fail with `WorkerDied`, queued ones are cancelled |
//! | loky's `timeout=` (idle workers exit) | [`.idle_timeout(d)`](crate::ProcessPoolBuilder::idle_timeout) | |
//! | dask's and Ray's `retries=` | [`.retries(n)`](crate::ProcessPoolBuilder::retries), `#[parallel(processes, retries = 2)]`, `pmap!(..; processes, retries = 2)` | only when a worker died, never after a panic or a timeout |
//! | the interpreter waiting for executors' work at exit | the same: work submitted to pools still alive finishes before the program ends | opt out with [`wait_at_exit(false)`](crate::wait_at_exit), or per pool with the builder's `wait_at_exit(false)` |
//! | `with ThreadPoolExecutor() as executor:` | `{ let pool = ThreadPool::new(); … }` | the pool waits for its work when dropped |
//! | `future.result(timeout=None)` | [`future.result()`](crate::Future::result) | moves the value out; errors stay |
//! | `future.result()` called again | [`future.result_ref()`](crate::Future::result_ref) (a reference, as often as wanted), [`future.result_cloned()`](crate::Future::result_cloned) | Rust moves values: `result()` hands it over once, these leave it in the future |
//! | `future.result(timeout=2)` | [`future.result_timeout(Duration::from_secs(2))`](crate::Future::result_timeout) | `TaskError::TimedOut`; the future stays usable |
//! | `future.exception()` | [`future.error()`](crate::Future::error) | |
//! | `future.done()`, `running()`, `cancelled()` | [`is_done()`](crate::Future::is_done), [`is_running()`](crate::Future::is_running), [`is_cancelled()`](crate::Future::is_cancelled) | |
//! | `future.cancel()` | [`future.cancel()`](crate::Future::cancel) | succeeds only while queued, as in Python |
//! | pebble's `future.cancel()` on a running process task | [`future.kill()`](crate::Future::kill) | its worker process is killed and replaced; the task fails with `Cancelled` |
//! | `Future()`, `set_result`, `set_exception`, `set_running_or_notify_cancel` | [`promise()`](crate::promise), [`Promise::set_result`](crate::Promise::set_result), [`set_error`](crate::Promise::set_error), [`set_running`](crate::Promise::set_running) | completing consumes the promise, so a second `set_result` does not compile; a promise dropped unfulfilled fails the future with `Abandoned` |
//! | `future.add_done_callback(fn)` | [`future.add_done_callback(\|outcome\| …)`](crate::Future::add_done_callback) | the callback gets `Result<&T, &TaskError>` rather than the future |
//! | `await asyncio.wrap_future(future)` | `future.await` | any async runtime |
//! | `as_completed(fs, timeout=None)` | [`as_completed(fs)`](crate::as_completed), [`.timeout(d)`](crate::AsCompleted::timeout) | at the timeout: `TimedOut`, saying "2 (of 4) futures unfinished" as Python does |
//! | `futures[future]` (a dict keyed by future) | `as_completed(pairs)` with `(key, future)` pairs, or a `HashMap<Future<T>, K>` | see [`Waitable`](crate::Waitable) |
//! | `wait(fs, timeout, return_when=FIRST_COMPLETED)` | [`wait(fs, timeout, ReturnWhen::FirstCompleted)`](crate::wait) | also `FirstException`, `AllCompleted` |
//! | `CancelledError`, `TimeoutError` | [`TaskError::Cancelled`](crate::TaskError::Cancelled), [`TaskError::TimedOut`](crate::TaskError::TimedOut) | `TimedOut` says which deadline passed ([`Deadline`](crate::Deadline)): a wait that gave up (the task goes on), the task's own, a map's, `as_completed`'s |
//! | `BrokenThreadPool`, `BrokenProcessPool` | [`TaskError::Broken`](crate::TaskError::Broken), [`TaskError::WorkerDied`](crate::TaskError::WorkerDied) | a dead worker fails only its own task; the pool goes on |
//! | a pickling error at run time | a compile error naming the type | derive `Serialize`, `Deserialize` |
//! | an exception raised in the task | [`TaskError::Panicked`](crate::TaskError::Panicked) with the message, where it was raised, and the worker's process id | as in Python, nothing is printed when a task panics: it is all in the error |
//!
//! # `mpi4py.futures`
//!
//! With the `mpi` feature (`MpiPool` and `#[parallel(mpi)]`; run the
//! program as `mpirun -n N ./app`):
//!
//! | mpi4py | `parallel` | notes |
//! |---|---|---|
//! | `python -m mpi4py.futures script.py` | `mpirun -n N ./app`, nothing else | the crate takes the job over before `main` under any launcher (`mpirun`, `mpiexec`, `srun --mpi=pmix`): rank 0 runs `main`, the others serve; no guard to write |
//! | `MPIPoolExecutor()` | `MpiPool::world()`, or `#[parallel(mpi)]` on a function | the worker ranks of the job; without a launcher, local worker processes with a notice (`PARALLEL_MPI=require` makes that an error) |
//! | `MPICommExecutor(comm, root)` | `mpi_manual_mode!()` (or `PARALLEL_MPI=manual`), then `MpiPool::comm_executor()` | for a program that drives MPI itself: the pool on rank 0, `None` on the others once rank 0 is done; on a duplicate of `MPI_COMM_WORLD`, root 0 (another communicator or root: later) |
//! | `executor.submit(fn, *args)` | `pool.submit(f, (a,))`, or `f(a)` on a `#[parallel(mpi)]` function | a [`Future`](crate::Future) like any other: `as_completed` and `wait` mix it with thread and process futures |
//! | `executor.map(fn, *its, timeout=, chunksize=, buffersize=, unordered=)` | `pmap!(f, xs, ys; mpi, timeout = "5s", chunksize = 100, ordered = false)`, `pool.map_with(f, items, MapOptions::new().chunksize(100).lookahead(8).ordered(false))` | one `Result` per item; batches are sized automatically without `chunksize` (mpi4py sends one item per message by default) |
//! | `executor.starmap(fn, iterable)` | `pool.map(f, tuples)` | items are argument tuples already |
//! | `executor.shutdown(wait=True, cancel_futures=False)` | `pool.shutdown(true, false)` | the ranks serve on until the program ends; the manual mode's pool ends them |
//! | `executor.num_workers` | `pool.num_workers()` | |
//! | `executor.bootup(wait=True)` | nothing to write | the worker ranks serve before `main` starts |
//! | `with MPIPoolExecutor() as executor:` | `{ let pool = MpiPool::world(); … }` | dropping the pool is `shutdown(wait=True)` |
//! | `MPIPoolExecutor(max_workers=n)`, `MPI4PY_FUTURES_MAX_WORKERS` | `mpirun -n N` (N − 1 worker ranks), `pool.num_workers()` | the job's size is the launcher's: every rank but 0 serves |
//! | `initializer=f, initargs=(a,)` | `#[parallel(mpi, initializer = f)]` | once on every worker rank; one that panics breaks the pool (`TaskError::Broken`); `f` takes no arguments (it may read a `static` or the environment) |
//! | `timeout=` | `#[parallel(mpi, timeout = "2s")]`, `MpiPool::builder().task_timeout(d)` | stops waiting; the rank cannot be stopped and finishes the task first |
//! | `MPIPoolExecutor(max_workers=, python_exe=, mpi_info=)`, `bootup()` (spawned workers) | not offered | static launch only: `MPI_Comm_spawn` measured about 10× slower per task, and hangs its parent when a worker dies |
//! | `get_comm_workers()` | later | a communicator over the worker ranks, for collectives inside tasks |
//! | `MPIPoolExecutor(globals=, main=, path=, wdir=, env=)` | not needed | every rank runs this same program, in the directory and environment the launcher gives it (`mpirun -wdir DIR -x NAME`) |
//! | `use_pkl5=True`, `MPI4PY_FUTURES_USE_PKL5` | nothing to write | a message over 2³¹ − 1 bytes is always split in parts |
//! | `backoff=`, `MPI4PY_FUTURES_BACKOFF` | nothing to write | rank 0's driver spins briefly, then backs off to naps of at most 1 ms while tasks are in flight, and sleeps when none are; worker ranks wait inside MPI |
//! | `python -m mpi4py.futures.server` (client and server jobs) | not offered | one job: rank 0 is the client |
//! | `mpi4py.futures.ThreadPoolExecutor`, `ProcessPoolExecutor` (its aliases of `MPIPoolExecutor`) | `MpiPool` | the crate's [`ThreadPool`](crate::ThreadPool) and [`ProcessPool`](crate::ProcessPool) are local, as in `concurrent.futures` |
//! | `Future`, `wait`, `as_completed`, `FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED` | [`Future`](crate::Future), [`wait`](crate::wait), [`as_completed`](crate::as_completed), [`ReturnWhen`](crate::ReturnWhen) | the same as for threads and processes (above) |
//! | `CancelledError`, `TimeoutError`, `BrokenExecutor` | [`TaskError::Cancelled`](crate::TaskError::Cancelled), [`TaskError::TimedOut`](crate::TaskError::TimedOut), [`TaskError::Broken`](crate::TaskError::Broken) | `Broken`: a failed initializer, or `PARALLEL_MPI=require` with no MPI job |
//! | `InvalidStateError` | none | a [`Promise`](crate::Promise) is consumed by completing it, so a second completion does not compile |
//! | `mpi4py.futures.collect(fs)` | [`wait(&fs, None, ReturnWhen::AllCompleted)`](crate::wait), then each `result()`; or `.await` each | |
//! | `mpi4py.futures.compose(future, resulthook, excepthook)` | [`future.add_done_callback(\|outcome\| …)`](crate::Future::add_done_callback), or `.await` and map the `Result` | a callback of an MPI future runs on the pool's driver thread: keep it short |
//! | a worker that dies | the job ends, non-zero | MPI is fail-stop, in mpi4py too; `retries` is refused with `mpi` |
//!
//! # Decorators
//!
//! | Python | `parallel` |
//! |---|---|
//! | a function submitted to a `ThreadPoolExecutor` each call | `#[parallel(threads = 4)] fn f(..)` |
//! | pebble's `@concurrent.process(timeout=2)` | `#[parallel(processes, timeout = "2s")] fn f(..)` |
//! | calling the undecorated function | `f::sync(..)` |
//!
//! # Differences worth knowing
//!
//! - A task that waits on another task of its own thread pool runs it itself if it is still
//!   queued, so it cannot deadlock the pool (Python's does).
//! - Arguments are moved into the task: a borrowed argument (`&str`) is a compile error that
//!   says to take the owned type (`String`).
//! - A process-pool function must not be generic or capture variables: workers find it by
//!   name. `pmap!` with processes takes a function path, or a closure with typed arguments.
//! - A map starts at the call, as Python's `map` does, so its options (`chunksize`,
//!   `lookahead`) go with the call: [`pool.map_with(f, items, options)`](crate::MapOptions)
//!   or `pmap!`'s options after `;`.
//! - `result()` moves the value out of the future (Rust has no shared references by default):
//!   read it again with `result_ref()` or `result_cloned()`.
//! - **Borrowing.** Python needs none of this: every object is shared by reference and kept
//!   alive by the garbage collector as long as any task still uses it. Rust frees a local
//!   when its function returns, and a pool's task may run after that, so the compiler refuses
//!   a task that borrows a local (`argument requires that data is borrowed for 'static`).
//!   Three ways out: [`parallel::scope`](crate::scope), whose tasks and maps may borrow
//!   because it returns only when they have all finished; an
//!   [`Arc`](std::sync::Arc), shared ownership that keeps the data alive as Python's
//!   references do; or moving (or cloning) the data into the task. Process maps take
//!   borrowed items as they are (each batch is encoded on the calling thread).
//!
//!   ```
//!   let scores = vec![3, 1, 4, 1, 5];
//!   // Python: executor.submit(max, scores)
//!   let best = parallel::scope(|s| s.submit(|| scores.iter().max().copied()).result());
//!   assert_eq!(best, Ok(Some(5)));
//!   ```
//!
//! # Examples
//!
//! The seeds' `ThreadPoolExecutor` example, `squares = executor.map(square, [1, 2, 3, 4])`:
//!
//! ```
//! use parallel::pmap;
//!
//! fn square(x: u64) -> u64 {
//!     x * x
//! }
//!
//! let squares: Vec<u64> = pmap!(square, [1, 2, 3, 4]).map(Result::unwrap).collect();
//! assert_eq!(squares, [1, 4, 9, 16]);
//! ```
