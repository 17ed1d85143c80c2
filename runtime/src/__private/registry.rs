//! The `#[parallel]` functions of the program, found by the type of the function item, so
//! that `pmap!(square, ..)`, `ProcessPool::submit(square, ..)` and a worker process can reach
//! a function's own pool and original body although `square` is a plain `fn` that returns a
//! future.
//!
//! Each non-generic `#[parallel]` function adds a [`ParallelEntry`] to a `linkme` slice (the
//! linker gathers them, so the registry is complete before any code runs): the `TypeId` of
//! its function item, and a description of it ([`ThreadFn`](super::threads::ThreadFn) or
//! [`ProcessFn`](super::processes::ProcessFn)) behind `dyn Any`. A lookup finds the entry by
//! `TypeId` and downcasts the description to the types the caller expects, so a wrong guess
//! is a `None`, never a wrong call. The index is built once; a lookup is one hash probe.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::OnceLock;

/// A `#[parallel]` function, as registered.
pub struct ParallelEntry {
    /// The `TypeId` of the function item (see [`type_id_of`]).
    pub type_id: fn() -> TypeId,
    /// A `ThreadFn<Args, T>` or `ProcessFn<Args, T>`.
    pub function: &'static (dyn Any + Send + Sync),
}

/// Every registered `#[parallel]` function, gathered by the linker from all the program's
/// crates.
#[linkme::distributed_slice]
pub static PARALLEL_FUNCTIONS: [ParallelEntry];

/// The `TypeId` of the type of `value` (a function item, whose type cannot be named).
pub fn type_id_of<F: 'static>(_value: &F) -> TypeId {
    TypeId::of::<F>()
}

/// The description of the `#[parallel]` function whose item type is `F`, if `F` is one and
/// its description is a `D`.
pub(crate) fn find<F: 'static, D: 'static>() -> Option<&'static D> {
    static INDEX: OnceLock<HashMap<TypeId, &'static (dyn Any + Send + Sync)>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            PARALLEL_FUNCTIONS
                .iter()
                .map(|entry| ((entry.type_id)(), entry.function))
                .collect()
        })
        .get(&TypeId::of::<F>())
        .and_then(|function| function.downcast_ref::<D>())
}
