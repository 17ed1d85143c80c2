//! What the expansions of `#[parallel]` and `pmap!` call, by concept: a function on threads,
//! a function in processes, `pmap!`, and the registry that finds a `#[parallel]` function by
//! its item type. The facade re-exports this module as `parallel::__private`, which is all
//! that expansions name. Not part of the API: names here may change in any release.

pub mod pmap;
pub mod processes;
pub mod registry;
pub mod scoped;
pub mod threads;

pub use std::sync::LazyLock;

/// The registration crate, for the expansions' `#[distributed_slice]` elements.
pub use linkme;
