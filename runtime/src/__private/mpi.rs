//! What a `#[parallel(mpi)]` function and `pmap!(..; mpi)` expand to call: the pool (made on
//! first use), the submission, the registry's description of an MPI function, and the map of
//! a call site. The types' checks and the workers' entry points are the process backend's
//! (`processes.rs`): a worker rank runs the same registered functions as a worker process.

use std::time::Duration;

use super::processes::{map_registered, ProcessFn, RemoteOutput, Signature};
use super::registry;
use crate::future::Future;
use crate::map::Map;
use crate::mpi_pool::{MpiPool, MpiPoolBuilder};
use crate::process_pool::{ProcessArguments, Remote};

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

/// Submits a call of the `#[parallel(mpi)]` function `S` with `args`, on `pool`, with the
/// function's `timeout` if it has one.
pub fn submit<S: Signature>(
    pool: &MpiPool,
    timeout: Option<Duration>,
    args: S::Args,
) -> Future<S::Output> {
    pool.submit_named::<S::Args, S::Output>(S::NAME, args, timeout)
}

/// What the registry holds for a non-generic `#[parallel(mpi)]` function.
pub type MpiFn<Args, T> = ProcessFn<Args, T, MpiPool>;

/// The description of the `#[parallel(mpi)]` function whose item type is `F`.
pub(crate) fn find<F: 'static, Args: 'static, T: 'static>() -> Option<&'static MpiFn<Args, T>> {
    registry::find::<F, MpiFn<Args, T>>()
}

/// `pmap!(f, items; mpi ..)` for a function path or closure registered at the call site as
/// `name`; `f` only gives the types.
pub fn pmap<F, Args, I>(
    types_of: F,
    name: &'static str,
    pool: &'static MpiPool,
    items: I,
    options: super::pmap::MapOptions,
) -> Map<'static, I, <F::Output as RemoteOutput<F, Args>>::Value>
where
    F: Remote<Args>,
    F::Output: RemoteOutput<F, Args>,
    Args: ProcessArguments,
    I: Iterator<Item = Args>,
{
    map_registered(types_of, name, pool, items, options)
}
