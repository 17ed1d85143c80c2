//! The runtime of [`parallel`](https://docs.rs/parallel): thread pools, futures,
//! `as_completed`, `wait` and an ordered parallel `map`, usable without any macro.
//!
//! Most users depend on the `parallel` crate, which re-exports all of this.
//!
//! # Examples
//!
//! ```
//! use parallel::{as_completed, ThreadPool};
//!
//! let pool = ThreadPool::builder().workers(3).build().unwrap();
//! let futures: Vec<_> = (1..=5).map(|n| pool.submit(move || n * 10)).collect();
//! let mut total = 0;
//! for future in as_completed(&futures) {
//!     total += future.result().unwrap();
//! }
//! assert_eq!(total, 150);
//! ```
#![warn(missing_docs)]

// Worker processes, the exit handler and the registry of process functions are written for
// these two families (`process_pool/os/`); elsewhere say so, rather than fail on a missing
// system call somewhere inside.
#[cfg(not(any(unix, windows)))]
compile_error!(
    "parallel supports the Unix and Windows families of targets (Linux, macOS, the BSDs, \
     Windows); this target is neither"
);

#[doc(hidden)]
pub mod __private;
mod arity;
mod as_completed;
mod deadline;
mod error;
mod exit;
mod future;
mod map;
#[cfg(feature = "mpi")]
mod mpi_pool;
mod panic;
mod pool;
mod process_pool;
#[cfg(feature = "progress")]
mod progress;
mod scope;
mod signal;
mod spin;
mod sync;
mod thread_pool;
mod trace;
mod wait;
mod waitable;
mod watch;

pub use crate::as_completed::{as_completed, AsCompleted, AsCompletedTimeout};
pub use crate::error::{Deadline, TaskError, WorkerExit};
pub use crate::exit::wait_at_exit;
pub use crate::future::promise::{promise, Promise};
#[doc(hidden)]
pub use crate::future::task::Completion;
pub use crate::future::Future;
pub use crate::map::{Map, MapOptions};
#[cfg(feature = "mpi")]
pub use crate::mpi_pool::{MpiPool, MpiPoolBuilder};
pub use crate::process_pool::{
    parent_id, ProcessArgument, ProcessPool, ProcessPoolBuilder, ProcessResult, RemoteFn,
};
#[cfg(feature = "progress")]
pub use crate::progress::{Progress, ProgressHandle};
pub use crate::scope::{scope, Indexed, Scope, ScopedFuture, ScopedMap};
pub use crate::thread_pool::{default_pool, ThreadPool, ThreadPoolBuilder};
pub use crate::wait::{wait, ReturnWhen, Waited};
pub use crate::waitable::Waitable;
/// The MPI binding (rsmpi) that the `mpi` backend runs on, for a program that drives MPI
/// itself (see [`MpiPool::comm_executor`]): initialising MPI through it initialises the MPI
/// the pool uses.
#[cfg(all(feature = "mpi", target_os = "linux"))]
pub use mpi;
