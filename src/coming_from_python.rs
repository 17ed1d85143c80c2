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
//! | `ProcessPoolExecutor(initializer=f, initargs=(a,))` | [`ProcessPool::builder().initializer(f, (a,))`](crate::ProcessPoolBuilder::initializer), or `#[parallel(processes, initializer = f)]` for a function's own pool (there `f` takes no arguments) | `f` is a `#[parallel(processes)]` function; it runs once in each worker before its first task; one that panics breaks the pool (`TaskError::Broken`) |
//! | `ProcessPoolExecutor(mp_context=...)` | nothing to write | one way to start workers on every system: the program runs itself again as a worker (no `fork` of a threaded parent, no pickling of `__main__`) |
//! | `max_tasks_per_child=10` | [`.max_tasks_per_child(10)`](crate::ProcessPoolBuilder::max_tasks_per_child), `#[parallel(processes, max_tasks_per_child = 10)]` | |
//! | `executor.submit(fn, *args)` | [`pool.submit(move \|\| f(a))`](crate::ThreadPool::submit), [`pool.submit(f, (a,))`](crate::ProcessPool::submit), or just `f(a)` on a `#[parallel]` function | |
//! | `executor.map(fn, *iterables, timeout=, chunksize=)` | [`pmap!(f, xs, ys; timeout = "5s", chunksize = 100)`](crate::pmap), [`pool.map(f, items)`](crate::ThreadPool::map), [`pool.map_with(f, items, MapOptions::new().chunksize(100))`](crate::MapOptions) | starts at the call, as Python's; one `Result` per item, so a failed item does not end the map; batches are sized automatically; at its timeout the map yields `TimedOut` and ends |
//! | `Executor.map(..., buffersize=n)` (3.14) | [`MapOptions::lookahead(n)`](crate::MapOptions::lookahead) | bounded by default |
//! | `multiprocessing.Pool.imap_unordered` | `pmap!(f, xs; ordered = false)`, [`.ordered(false)`](crate::Map::ordered) | |
//! | `executor.shutdown(wait=True, cancel_futures=False)` | [`pool.shutdown(true, false)`](crate::ThreadPool::shutdown) | dropping a pool is `shutdown(wait=True)`, as leaving `with` |
//! | pebble's `pool.join(timeout)` | [`pool.shutdown_timeout(d, false)`](crate::ProcessPool::shutdown_timeout) | returns whether everything finished |
//! | `executor.terminate_workers()`, `kill_workers()` (3.14) | [`pool.terminate_workers()`](crate::ProcessPool::terminate_workers), [`kill_workers()`](crate::ProcessPool::kill_workers) | running tasks fail with `WorkerDied`, queued ones are cancelled |
//! | mpi4py's `executor.bootup(wait=True)` | [`pool.wait_ready()`](crate::ProcessPool::wait_ready), [`.wait_ready(true)`](crate::ProcessPoolBuilder::wait_ready) on the builder | returns once every worker is up, or why one cannot start |
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
//! | `FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED` | [`ReturnWhen::FirstCompleted`](crate::ReturnWhen::FirstCompleted), [`FirstException`](crate::ReturnWhen::FirstException), [`AllCompleted`](crate::ReturnWhen::AllCompleted) | |
//! | `BrokenExecutor` | [`TaskError::Broken`](crate::TaskError::Broken) | |
//! | `InvalidStateError` | none | a [`Promise`](crate::Promise) is consumed by completing it, so completing it twice does not compile |
//! | `Executor` (the base class) | [`ThreadPool`](crate::ThreadPool), [`ProcessPool`](crate::ProcessPool) | no common trait: the two take different functions (any closure, or a named function a worker can find); both give the same [`Future`](crate::Future), so `wait` and `as_completed` mix them |
//! | `InterpreterPoolExecutor` (3.14) | not offered | Rust has no interpreter lock: [`ThreadPool`](crate::ThreadPool) runs CPU-bound work in parallel already |
//!
//! # `multiprocessing.Pool`
//!
//! `multiprocessing.pool.ThreadPool` has the same names on threads: read
//! [`ThreadPool`](crate::ThreadPool) for [`ProcessPool`](crate::ProcessPool) below, with a
//! closure instead of a named function.
//!
//! | Python | `parallel` | notes |
//! |---|---|---|
//! | `Pool(processes=4)` | [`ProcessPool::builder().workers(4).build()`](crate::ProcessPoolBuilder::workers), `#[parallel(processes = 4)]` | default: one worker per CPU, as Python's |
//! | `Pool(initializer=f, initargs=(a,))` | [`.initializer(f, (a,))`](crate::ProcessPoolBuilder::initializer) | as for `ProcessPoolExecutor` above |
//! | `Pool(maxtasksperchild=10)` | [`.max_tasks_per_child(10)`](crate::ProcessPoolBuilder::max_tasks_per_child) | |
//! | `Pool(context=...)` | nothing to write | as `mp_context` above |
//! | `pool.apply(f, (a,))` | [`pool.submit(f, (a,)).result()`](crate::ProcessPool::submit), or `f(a).result()` on a `#[parallel(processes)]` function | |
//! | `pool.apply_async(f, (a,), callback=, error_callback=)` | [`pool.submit(f, (a,))`](crate::ProcessPool::submit), then [`add_done_callback`](crate::Future::add_done_callback) | one callback gets `Ok(&value)` or `Err(&error)`; no keyword arguments in Rust, so no `kwds` |
//! | `AsyncResult.get(timeout)` | [`future.result()`](crate::Future::result), [`result_timeout(d)`](crate::Future::result_timeout) | |
//! | `AsyncResult.wait(timeout)` | [`future.wait()`](crate::Future::wait), [`wait_timeout(d)`](crate::Future::wait_timeout) | `wait_timeout` returns whether it finished |
//! | `AsyncResult.ready()` | [`future.is_done()`](crate::Future::is_done) | |
//! | `AsyncResult.successful()` | `future.is_done() && future.error().is_none()` | Python raises if it is not ready; this is `false` then |
//! | `pool.map(f, items, chunksize)` | [`pool.map(f, items).collect_vec()`](crate::Map::collect_vec), `pmap!(f, items; processes, chunksize = 100).collect_vec()` | all values or the first error, in input order |
//! | `pool.map_async(f, items, callback=)` | [`pool.map(f, items)`](crate::ProcessPool::map) | the map runs from the call; take the results when wanted (`collect_vec()` is `.get()`). No callback for a whole map: iterate it on a thread of your own, or `submit` each item with a callback |
//! | `pool.imap(f, items, chunksize)` | [`pool.map(f, items)`](crate::ProcessPool::map), `pmap!(f, items; processes)` | both yield lazily; Python's submits every item at once, this one keeps a bounded number of batches ahead of the consumer ([`lookahead`](crate::MapOptions::lookahead)) |
//! | `pool.imap_unordered(f, items)` | `pmap!(f, items; processes, ordered = false)`, [`.ordered(false)`](crate::Map::ordered) | |
//! | `pool.starmap(f, [(a, b), …])` | [`pool.map(f, pairs)`](crate::ProcessPool::map), `pmap!(f, xs, ys; processes)` | a process map's items are argument tuples already; `pmap!` zips several iterables |
//! | `pool.starmap_async(...)` | as `map_async` | |
//! | `pool.close()` | [`pool.shutdown(false, false)`](crate::ProcessPool::shutdown) | no new tasks; those submitted finish |
//! | `pool.join()` | [`pool.shutdown(true, false)`](crate::ProcessPool::shutdown), [`shutdown_timeout(d, false)`](crate::ProcessPool::shutdown_timeout) | Python needs `close()` first; here one call does both |
//! | `pool.terminate()` | [`pool.terminate_workers()`](crate::ProcessPool::terminate_workers) | running tasks fail with `WorkerDied`, queued ones are cancelled |
//! | `with Pool() as pool:` | `{ let pool = ProcessPool::new(); … }` | **differs**: leaving Python's block calls `terminate()`, dropping this pool waits for its work (as `ProcessPoolExecutor`'s `with` does) |
//! | `multiprocessing.TimeoutError` | [`TaskError::TimedOut`](crate::TaskError::TimedOut) | |
//!
//! The rest of `multiprocessing`:
//!
//! | Python | `parallel` |
//! |---|---|
//! | `Process(target=f).start()`, `.join()` | not offered: `submit` to a pool of one worker, or [`std::process::Command`] for another program |
//! | `Queue`, `Pipe`, `SimpleQueue` | between threads, [`std::sync::mpsc`]; between processes not offered: a task's arguments and result are its messages |
//! | `Manager()`, `Value`, `Array`, `shared_memory.SharedMemory` | between threads, [`Arc`](std::sync::Arc) with a [`Mutex`](std::sync::Mutex) or atomics, or borrowing in a [`scope`](crate::scope); between processes not offered as a type. Large arguments and results (over 64 KiB) already travel through shared memory on Linux and Windows, with no code to write |
//! | `Lock`, `Event`, `Semaphore`, `Barrier` | between threads, [`std::sync`]; between processes not offered |
//! | `cpu_count()` | [`std::thread::available_parallelism`] |
//! | `current_process()`, `parent_process()` | [`std::process::id`], [`parent_id()`](crate::parent_id) |
//! | `set_start_method`, `get_context`, `freeze_support` | nothing to write |
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
//! - **Laziness.** A map starts at the call, but only a bounded number of batches run ahead
//!   of the consumer (4 per worker by default, [`lookahead`](crate::MapOptions::lookahead)):
//!   a map nobody reads stops there, where Python's `Executor.map` submits every item at
//!   once. So a map over an endless iterator works, and its memory stays flat. Dropping a map
//!   cancels what has not started. `pmap!` and `map` return an iterator: nothing is
//!   collected unless you collect it ([`collect_vec()`](crate::Map::collect_vec) is the
//!   quick way).
//! - **A map's timeout ends the map.** As in Python, at its timeout the map yields one
//!   `TimedOut` error and ends: three inputs may give two results and an error, and the
//!   batches not started are cancelled.
//! - **Reading a result twice.** `result()` moves the value out of the future (Rust values
//!   have one owner): a second `result()` gives [`TaskError::Taken`](crate::TaskError::Taken).
//!   Read it as often as wanted with `result_ref()` or `result_cloned()`. Errors stay, so
//!   `result()` after a failure gives the same error again.
//! - **At exit.** As in Python, work submitted to pools still alive finishes before the
//!   program ends, and worker processes never outlive it (they exit when their parent does,
//!   even when it is killed). [`wait_at_exit(false)`](crate::wait_at_exit) drops unfinished
//!   work at exit instead.
//! - **`with` blocks.** A block that owns the pool is the `with`: dropping the pool waits for
//!   its work, as leaving `with ProcessPoolExecutor()` does. `multiprocessing.Pool`'s `with`
//!   terminates its workers instead; write [`terminate_workers()`](crate::ProcessPool::terminate_workers)
//!   for that. A pool of `#[parallel]` functions lives as long as the program.
//! - **Errors are values.** Every failure (a panic, a timeout, a dead worker, a cancel) is a
//!   [`TaskError`](crate::TaskError) in a `Result`; nothing is raised and nothing is printed.
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
//! Python's `squares = list(executor.map(square, [1, 2, 3, 4]))`:
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
//!
//! `multiprocessing.Pool`'s `apply_async`, `starmap` and `map`, on worker processes:
//!
//! ```
//! use parallel::{parallel, ProcessPool};
//!
//! #[parallel(processes)]
//! fn add(a: u64, b: u64) -> u64 {
//!     a + b
//! }
//!
//! let pool = ProcessPool::builder().workers(2).build().unwrap();
//! // pool.apply_async(add, (2, 3)).get()
//! let pending = pool.submit(add, (2, 3));
//! assert_eq!(pending.result(), Ok(5));
//! // pool.starmap(add, [(1, 2), (3, 4)])
//! let sums = pool.map(add, [(1, 2), (3, 4)]).collect_vec().unwrap();
//! assert_eq!(sums, [3, 7]);
//! // with Pool() as pool: ... (here: the pool waits for its work when dropped)
//! drop(pool);
//! ```
