//! Token building for `#[parallel]` and `pmap!`, one helper per piece of output; this file
//! dispatches on the backend the settings chose. Input reaching here has passed `validate`:
//! nothing here discovers a user mistake, converts a value or `expect`s.
//!
//! A `#[parallel] fn name(..) -> R` becomes a real function `fn name(..) -> Future<R>` (so it
//! is usable wherever a function is, and rustdoc shows it as one), and a companion
//! `struct name {}` (hidden; a braced struct lives only in the type namespace, beside the
//! function) whose `name::sync` is the original body, with the pool and the other pieces of
//! the backend. A non-generic function is also registered by the type of its function item,
//! so `pmap!(name, ..)` finds its pool and body (see the runtime's `__private::registry`).
//!
//! A backend is one `Backend` variant (`parse`) and one file here (`mpi.rs`, the last one
//! added, builds on `processes.rs`).

mod mpi;
mod parts;
mod processes;
mod scoped;
mod threads;

use proc_macro2::TokenStream;
use quote::quote;

use crate::parse::{Backend, ParallelFn, Pmap, Settings};

/// The expansion of `#[parallel(settings)] func`.
pub(crate) fn attribute(settings: &Settings, func: &ParallelFn) -> TokenStream {
    let expansion = match settings.backend() {
        Backend::Processes(workers) => processes::attribute(settings, workers, func),
        Backend::Mpi => mpi::attribute(settings, func),
        backend => threads::attribute(settings, &backend, func),
    };
    let checks = parts::count_checks(settings, Some(func.name()));
    let cfgs = &func.cfgs;
    if checks.is_empty() {
        return expansion;
    }
    let checks = checks.iter().map(|check| quote! { #(#cfgs)* #check });
    quote! {
        #expansion
        #(#checks)*
    }
}

/// The expansion of `pmap!(func, iterables..; settings)`.
pub(crate) fn pmap(input: &Pmap, settings: &Settings) -> TokenStream {
    let map = match settings.backend() {
        Backend::Processes(workers) => processes::pmap(input, settings, workers),
        Backend::Mpi => mpi::pmap(input, settings),
        Backend::Scoped(scope) => scoped::pmap(input, settings, scope),
        _ => threads::pmap(input, settings),
    };
    let map = parts::with_progress(settings, map);
    let checks = parts::count_checks(settings, None);
    if checks.is_empty() {
        return map;
    }
    let items = parts::count_items(settings, false);
    quote! {{ #items #(#checks)* #map }}
}

/// What callers see of a function whose attribute has an error: the signature they expect
/// (returning `Future<T>`, and `name::sync`), so the mistake is reported once, not again at
/// every call site.
pub(crate) fn stand_in(settings: &Settings, func: &ParallelFn) -> TokenStream {
    parts::stand_in(settings, func)
}
