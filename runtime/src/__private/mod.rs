//! What the expansions of `#[parallel]` and `pmap!` call, by concept: a function on threads,
//! a function in processes, `pmap!`, and the registry that finds a `#[parallel]` function by
//! its item type. The facade re-exports this module as `parallel::__private`, which is all
//! that expansions name. Not part of the API: names here may change in any release.

#[cfg(feature = "mpi")]
pub mod mpi;
pub mod pmap;
pub mod processes;
pub mod registry;
pub mod scoped;
pub mod threads;

pub use std::sync::LazyLock;

/// The registration crate, for the expansions' `#[distributed_slice]` elements.
pub use linkme;

/// Keeps one registry element (a `#[distributed_slice]` static of the caller's) in the
/// program on `*-windows-gnu`. Its linker (`ld --gc-sections`) drops every section that
/// nothing refers to, and nothing refers to a `linkme` element, so without this every
/// registry is empty there (dtolnay/linkme#25). A C runtime initializer refers to the element:
/// a function in `.CRT$XCU`, a section the MinGW linker script always keeps (as `ctor` does),
/// which the C runtime calls once at start-up and which does nothing. Elsewhere the macro
/// expands to nothing that is compiled.
#[doc(hidden)]
#[macro_export]
macro_rules! __parallel_keep {
    ($element:ident) => {
        #[cfg(all(windows, target_env = "gnu"))]
        #[used]
        #[link_section = ".CRT$XCU"]
        static __PARALLEL_KEEP: extern "C" fn() = {
            extern "C" fn keep() {
                ::core::hint::black_box(&$element);
            }
            keep
        };
    };
}

pub use crate::__parallel_keep as keep;
