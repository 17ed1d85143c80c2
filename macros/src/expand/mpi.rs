//! The MPI backend: `#[parallel(mpi ..)]` and `pmap!(..; mpi ..)`. A worker rank runs the
//! same registered functions as a worker process, so this is the process backend's expansion
//! (`processes.rs`: `Signature`, the workers' registry, the entry points) with an `MpiPool`,
//! made on first use, in place of a `ProcessPool`. Without an MPI job the pool runs on local
//! worker processes, the same registrations serving them.

use proc_macro2::TokenStream;
use quote::quote;

use super::processes::{self, RemotePool};
use crate::parse::{ParallelFn, Pmap, Settings};

/// The expansion of `#[parallel(mpi ..)] func` (never generic: `validate` refused it).
pub(crate) fn attribute(settings: &Settings, func: &ParallelFn) -> TokenStream {
    let initializer = processes::initializer(settings, func);
    processes::remote_attribute(settings, func, &pool(initializer))
}

/// The expansion of `pmap!(func, iterables..; mpi ..)`.
pub(crate) fn pmap(input: &Pmap, settings: &Settings) -> TokenStream {
    processes::remote_pmap(
        input,
        settings,
        &pool(quote! { ::core::option::Option::None }),
    )
}

/// An `MpiPool` with `initializer` (an `Option` of its registered name).
fn pool(initializer: TokenStream) -> RemotePool {
    RemotePool {
        ty: quote! { ::parallel::MpiPool },
        make: quote! { ::parallel::__private::mpi::mpi_pool(#initializer) },
    }
}
