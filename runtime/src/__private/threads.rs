//! What a `#[parallel]` function on threads expands to call: its pool, its submission, the
//! bounds that name an argument or result that cannot cross threads, and what `pmap!` finds
//! of it in the registry.

use std::ops::Deref;
use std::time::Duration;

use crate::arity::arities;
use crate::future::Future;
use crate::map::{Chunk, RunBatch};
use crate::thread_pool::ThreadPool;

/// Submits `task` to `pool`, with the function's `timeout` if it has one.
pub fn submit<F, T>(pool: &ThreadPool, timeout: Option<Duration>, task: F) -> Future<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match timeout {
        Some(timeout) => pool.submit_with_timeout(task, timeout),
        None => pool.submit(task),
    }
}

/// Starts the pool of a `#[parallel(threads ..)]` function or of a `pmap!(..; threads = N)`
/// call site.
///
/// # Panics
///
/// If the settings are refused (none are: counts were checked at compile time).
pub fn thread_pool(workers: Option<usize>, name: &str, initializer: Option<fn()>) -> ThreadPool {
    let mut builder = ThreadPool::builder().name_prefix(name);
    if let Some(workers) = workers {
        builder = builder.workers(workers);
    }
    if let Some(initializer) = initializer {
        builder = builder.initializer(initializer);
    }
    builder
        .build()
        .unwrap_or_else(|error| panic!("could not make the `{name}` thread pool: {error}"))
}

/// A pool declared by the user for `#[parallel(pool = PATH)]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a thread pool that `#[parallel(pool = ..)]` can use",
    label = "expected a static thread pool",
    note = "declare one as `static POOL: LazyLock<ThreadPool> = LazyLock::new(ThreadPool::new);`"
)]
pub trait DeclaredPool {
    /// The pool.
    fn thread_pool(&'static self) -> &'static ThreadPool;
}

impl<P: Deref<Target = ThreadPool>> DeclaredPool for P {
    fn thread_pool(&'static self) -> &'static ThreadPool {
        self
    }
}

/// The pool behind `pool = PATH`.
pub fn pool_of<P: DeclaredPool>(pool: &'static P) -> &'static ThreadPool {
    pool.thread_pool()
}

/// An argument type of a `#[parallel]` function: it must be able to move to a worker thread.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be moved to a worker thread",
    label = "this argument must be `Send` and own its data",
    note = "a `#[parallel]` function runs on another thread: use `Arc` instead of `Rc`, `String` instead of `&str`, and add `Send + 'static` bounds to generic types"
)]
pub trait ThreadArgument: Send + 'static {}

impl<T: Send + 'static> ThreadArgument for T {}

/// The return type of a `#[parallel]` function: it must be able to come back from a worker.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot come back from a worker thread",
    label = "the result must be `Send` and own its data",
    note = "a `#[parallel]` function runs on another thread: return `Arc` instead of `Rc`, owned values instead of borrows"
)]
pub trait ThreadResult: Send + 'static {}

impl<T: Send + 'static> ThreadResult for T {}

// One `submitN` per number of arguments, from the arity table. The expansion names the
// argument and result types explicitly, with the user's spans, so a type that cannot cross
// threads is reported once, on that type, with the messages above.
macro_rules! submit_fns {
    ($($n:literal [$submit:ident $zip:ident $pmap:ident] ($($ty:ident $arg:ident),*);)*) => {$(
        #[doc = concat!("Submits a call of a `#[parallel]` function of ", $n, " arguments.")]
        #[allow(clippy::too_many_arguments, non_snake_case)]
        pub fn $submit<$($ty: ThreadArgument,)* R: ThreadResult, Func>(
            pool: &ThreadPool,
            timeout: Option<Duration>,
            func: Func,
            $($arg: $ty,)*
        ) -> Future<R>
        where
            Func: FnOnce($($ty),*) -> R + Send + 'static,
        {
            submit(pool, timeout, move || func($($arg),*))
        }
    )*};
}

arities!(submit_fns);

/// What `pmap!` finds in the registry for a non-generic `#[parallel]` function on threads:
/// its pool, and its body as a batch runner compiled in the user's crate (so the body is
/// inlined into the loop over a batch, and a batch costs one indirect call, not an item).
pub struct ThreadFn<Args, T> {
    /// The function's own pool (or its declared or the default one).
    pub pool: fn() -> &'static ThreadPool,
    /// Runs the original body over a batch (see [`run_batch`]).
    pub batch: fn(Vec<Args>, Vec<T>) -> Batch<Args, T>,
    /// The original body, for a worker that serves a `pmap!(f, ..; processes)` call site.
    pub call: fn(Args) -> T,
}

/// A batch that ran: its results and the emptied item buffer (opaque to expansions).
pub struct Batch<Args, T> {
    pub(crate) chunk: Chunk<T>,
    pub(crate) items: Vec<Args>,
}

/// Runs `body` over `items` into `values`, each item's panic its own error: what a
/// [`ThreadFn::batch`] does, instantiated in the user's crate with the body inlined.
#[inline]
pub fn run_batch<Args, T>(
    body: impl Fn(Args) -> T,
    items: Vec<Args>,
    values: Vec<T>,
) -> Batch<Args, T> {
    let (chunk, items) = Chunk::run(&body, items, values);
    Batch { chunk, items }
}

impl<Args: 'static, T: 'static> RunBatch<Args, T> for fn(Vec<Args>, Vec<T>) -> Batch<Args, T> {
    fn run(&self, items: Vec<Args>, values: Vec<T>) -> (Chunk<T>, Vec<Args>) {
        let batch = self(items, values);
        (batch.chunk, batch.items)
    }
}
