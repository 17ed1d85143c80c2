//! What the expansions of `#[parallel]` and `pmap!` call: the runtime's glue, re-exported so
//! that expansions name only `::parallel`. Not part of the API: names here may change in any
//! release.

pub use parallel_runtime::__private::{
    keep, linkme, pmap, processes, registry, scoped, threads, LazyLock,
};

#[cfg(feature = "mpi")]
pub use parallel_runtime::__private::mpi;

// Named here too, so that compile errors about them can show a path users can read (the
// compiler does not look for one through the modules re-exported above).
pub use parallel_runtime::__private::processes::{
    ProcessArgument, ProcessArguments, ProcessItem, ProcessResult,
};
