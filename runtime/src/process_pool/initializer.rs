//! `Initializer`: what a worker process runs before its first task, as the pool tells it.

use std::sync::Arc;

/// What a pool's workers run before their first task.
#[derive(Debug, Clone)]
pub(crate) enum Initializer {
    /// A `fn()` registered as an initializer under this name (what
    /// `#[parallel(processes, initializer = f)]` writes): the worker finds it through `ENV`
    /// and runs it as `Call::Init`.
    Named(&'static str),
    /// A `#[parallel(processes)]` function registered under `name`, with its encoded
    /// argument tuple (`ProcessPoolBuilder::initializer`): sent as the worker's first frame,
    /// a task of id 0, and run as a call before `READY`.
    Call {
        name: &'static str,
        input: Arc<Vec<u8>>,
    },
}
