//! Finishing submitted work when the program ends, as Python does: at exit, every pool still
//! alive stops taking work and the program waits until what was already submitted is done.
//!
//! Pools that live in statics (the default pool, a `#[parallel]` function's own pool, a
//! `pmap!` call site's pool, a user's `static LazyLock<ThreadPool>`) are never dropped, so
//! their `Drop` cannot wait for them. Each pool registers a weak reference here when it
//! starts; a C `atexit` handler, installed with the first registration, runs when `main`
//! returns or `std::process::exit` is called. It closes every pool first (so work that
//! several pools pass between them stops at the same moment, as Python's global shutdown
//! flag does), then waits for each.
//!
//! On Windows only a return from `main` runs the handler (the C runtime's `exit`):
//! `std::process::exit` is `ExitProcess`, which ends every other thread before anything else
//! runs, and runs no C `atexit` handler of the program's.
//!
//! A pool opts out with its builder's `wait_at_exit(false)`; the whole program with
//! [`wait_at_exit`]. A dropped pool's weak reference no longer upgrades, so registering
//! keeps nothing alive.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once, PoisonError, RwLock, RwLockReadGuard, Weak};

use crate::sync::lock;

/// What the exit handler needs from a pool.
pub(crate) trait AtExit: Send + Sync {
    /// Stops taking work; what is queued still runs.
    fn close(&self);
    /// Waits until the pool's threads are done, except the calling thread if it is one.
    fn wait(&self);
}

/// Whether the program waits at exit (see [`wait_at_exit`]).
static WAIT: AtomicBool = AtomicBool::new(true);

/// The pools to wait for, oldest first.
static POOLS: Mutex<Vec<Weak<dyn AtExit>>> = Mutex::new(Vec::new());

// The C runtime's `atexit`, which every platform's C library has. On Unix the `libc` crate
// declares it; on Windows the runtime has no other use for `libc`, so this one line does.
#[cfg(unix)]
use libc::atexit;
#[cfg(windows)]
extern "C" {
    fn atexit(function: extern "C" fn()) -> core::ffi::c_int;
}

/// What runs after every pool was waited for, in order of registration, whether or not the
/// program waits at exit: an MPI job's end (stopping the worker ranks, `MPI_Finalize`), which
/// must come after the last task that could use it.
static LAST: Mutex<Vec<fn()>> = Mutex::new(Vec::new());

/// Held, shared, while a worker process is being started (`process_pool/worker.rs`), and taken
/// for good by the exit handler, last: no worker process is in the middle of its start as the
/// program ends, and none starts after. On Windows a start cut short by the end of the program
/// could leave the worker behind: under Wine a process the job ends before it has attached to
/// the Wine server never goes away (the job ends every worker that has started). Only a return
/// from `main` (or `exit` on Unix) runs the handler: see the module's docs.
static STARTING: RwLock<()> = RwLock::new(());

/// Marks a worker process as starting until the guard is dropped; once the program has begun
/// to end, blocks until the end (the thread ends with the program). Installs the exit handler.
pub(crate) fn starting_a_process() -> RwLockReadGuard<'static, ()> {
    install();
    STARTING.read().unwrap_or_else(PoisonError::into_inner)
}

/// Installs the exit handler, once.
fn install() {
    static HANDLER: Once = Once::new();
    HANDLER.call_once(|| {
        // SAFETY: `atexit` only records the function pointer; `finish` is an `extern "C"` fn
        // that takes nothing, returns nothing, and never unwinds (see below).
        unsafe { atexit(finish) };
    });
}

/// Registers `last` to run when the program ends, after every pool was waited for.
#[cfg_attr(not(all(feature = "mpi", target_os = "linux")), allow(dead_code))]
pub(crate) fn register_last(last: fn()) {
    install();
    lock(&LAST).push(last);
}

/// Registers a pool to be waited for when the program ends.
pub(crate) fn register(pool: Weak<dyn AtExit>) {
    install();
    let mut pools = lock(&POOLS);
    pools.retain(|pool| pool.strong_count() > 0);
    pools.push(pool);
}

/// Sets whether the program, when it ends (`main` returns or `std::process::exit` is
/// called), first waits for the work already submitted to its pools, as Python does. On by
/// default. With `false` the program ends at once: queued tasks never run and running ones
/// are cut off (worker processes exit with the program).
///
/// On Windows the wait happens when `main` returns, not in `std::process::exit`, which ends
/// the program's other threads before any code could wait for them (it is `ExitProcess`).
///
/// One pool can opt out instead, with
/// [`ThreadPoolBuilder::wait_at_exit`](crate::ThreadPoolBuilder::wait_at_exit) or
/// [`ProcessPoolBuilder::wait_at_exit`](crate::ProcessPoolBuilder::wait_at_exit): a pool
/// whose tasks run for ever would otherwise keep the program from ending.
///
/// # Examples
///
/// ```
/// use parallel::parallel;
///
/// #[parallel]
/// fn log(line: String) {
///     println!("{line}");
/// }
///
/// fn main() {
///     drop(log("written before the program ends".into())); // the future is dropped: it still runs
///     parallel::wait_at_exit(true); // the default
/// }
/// # main();
/// ```
pub fn wait_at_exit(wait: bool) {
    WAIT.store(wait, Ordering::Relaxed);
}

/// The exit handler. It must not unwind into C: every panic is caught.
extern "C" fn finish() {
    let _ = std::panic::catch_unwind(|| {
        if WAIT.load(Ordering::Relaxed) {
            let pools: Vec<_> = lock(&POOLS).iter().filter_map(Weak::upgrade).collect();
            for pool in &pools {
                pool.close();
            }
            for pool in &pools {
                pool.wait();
            }
        }
        let last = std::mem::take(&mut *lock(&LAST));
        for last in last {
            last();
        }
        // After the pools were waited for (their work may need new workers): from here on no
        // worker process is starting. The guard is kept until the program has ended.
        std::mem::forget(STARTING.write().unwrap_or_else(PoisonError::into_inner));
    });
}
