//! `parallel`: Python's `concurrent.futures` for Rust.
//!
//! ```
//! use parallel::ThreadPool;
//!
//! let pool = ThreadPool::new();
//! let squares: Vec<u64> = pool.map(|x: u64| x * x, 1..=4).collect::<Result<_, _>>().unwrap();
//! assert_eq!(squares, [1, 4, 9, 16]);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use parallel_macros::parallel;
pub use parallel_macros::pmap;

pub use parallel_runtime::as_completed;
pub use parallel_runtime::default_pool;
pub use parallel_runtime::wait;
pub use parallel_runtime::AsCompleted;
pub use parallel_runtime::AsCompletedTimeout;
pub use parallel_runtime::Future;
pub use parallel_runtime::Map;
pub use parallel_runtime::ProcessPool;
pub use parallel_runtime::ProcessPoolBuilder;
pub use parallel_runtime::RemoteFn;
pub use parallel_runtime::ReturnWhen;
pub use parallel_runtime::TaskError;
pub use parallel_runtime::ThreadPool;
pub use parallel_runtime::ThreadPoolBuilder;
pub use parallel_runtime::Waitable;
pub use parallel_runtime::Waited;
pub use parallel_runtime::WorkerExit;

/// The names most programs need: `use parallel::prelude::*;`.
pub mod prelude {
    pub use crate::{as_completed, wait, Future, ReturnWhen, TaskError, ThreadPool};
}
