//! What a `#[parallel(mpi)]` function and `pmap!(..; mpi)` expand to call of their own: the
//! pool (made on first use) and the registry's description of an MPI function. The rest is
//! the process backend's (`processes.rs`: the types' checks, `submit`, `pmap`, the workers'
//! entry points): a worker rank runs the same registered functions as a worker process.

use super::processes::ProcessFn;
use super::registry;
use crate::mpi_pool::{MpiPool, MpiPoolBuilder};

/// The marker of the manual mode, for `parallel::mpi_manual_mode!()`.
pub use crate::mpi_pool::MANUAL;

/// Starts the pool of a `#[parallel(mpi ..)]` function or a `pmap!(..; mpi ..)` call site.
pub fn mpi_pool(initializer: Option<&'static str>) -> MpiPool {
    let builder = MpiPoolBuilder::new();
    match initializer {
        Some(name) => builder.initializer_named(name),
        None => builder,
    }
    .build()
}

/// What the registry holds for a non-generic `#[parallel(mpi)]` function.
pub type MpiFn<Args, T> = ProcessFn<Args, T, MpiPool>;

/// The description of the `#[parallel(mpi)]` function whose item type is `F`.
pub(crate) fn find<F: 'static, Args: 'static, T: 'static>() -> Option<&'static MpiFn<Args, T>> {
    registry::find::<F, MpiFn<Args, T>>()
}
