//! What the expansions of `#[parallel]` and `pmap!` call. Not part of the API: names here
//! may change in any release.

use std::ops::Deref;
use std::time::Duration;

pub use std::sync::LazyLock;

pub use parallel_runtime::__linkme as linkme;
pub use parallel_runtime::{
    invoke, invoke_initializer, Call, ProcessArgument, ProcessArguments, ProcessResult, Remote,
    RemoteEntry, RemoteHandle, REMOTE_FUNCTIONS,
};

use parallel_runtime::{default_pool, Future, Map, ProcessPool, RemoteFn, ThreadPool};

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
/// If the operating system refuses to start the threads.
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
        .unwrap_or_else(|error| panic!("could not start the `{name}` thread pool: {error}"))
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

/// Starts the pool of a `#[parallel(processes ..)]` function or a `pmap!(..; processes ..)`
/// call site.
///
/// # Panics
///
/// If the operating system refuses to start the pool's threads.
pub fn process_pool(
    workers: Option<usize>,
    initializer: Option<&'static str>,
    max_tasks_per_child: Option<usize>,
    retries: u32,
) -> ProcessPool {
    let mut builder = ProcessPool::builder().retries(retries);
    if let Some(workers) = workers {
        builder = builder.workers(workers);
    }
    if let Some(name) = initializer {
        builder = builder.initializer_named(name);
    }
    if let Some(tasks) = max_tasks_per_child {
        builder = builder.max_tasks_per_child(tasks);
    }
    builder
        .build()
        .unwrap_or_else(|error| panic!("could not start a process pool: {error}"))
}

/// What a registered function's entry point returns: the encoded output, or a message about
/// input or output that could not be encoded.
pub type Reply = Result<Vec<u8>, String>;

/// The worker-side entry point of a `#[parallel(processes)]` function: its companion's
/// `RemoteFn` impl supplies the (already checked) types.
pub fn invoke_remote<F>(function: F, call: Call, input: &[u8]) -> Reply
where
    F: RemoteFn + Remote<<F as RemoteFn>::Args, Output = <F as RemoteFn>::Output>,
{
    invoke::<F, F::Args, <F as RemoteFn>::Output>(function, call, input)
}

/// Submits a call of a `#[parallel(processes)]` function (its companion `function`) with
/// `args`, on `pool`, with the function's `timeout` if it has one.
pub fn process_submit<F: RemoteFn>(
    pool: &ProcessPool,
    function: F,
    timeout: Option<Duration>,
    args: F::Args,
) -> Future<F::Output> {
    pool.submit_with_timeout(function, args, timeout)
}

/// `pmap!(f, items; processes ..)` for a function path or closure registered at the call
/// site as `name`; `f` only gives the types.
pub fn pmap_process<Args, R, F, I>(
    _types_of: F,
    name: &'static str,
    pool: &'static ProcessPool,
    items: I,
    options: MapOptions,
) -> Map<'static, I, R>
where
    F: Remote<Args, Output = R>,
    Args: ProcessArguments,
    R: ProcessResult,
    I: Iterator<Item = Args>,
{
    options.run_remote(pool, RemoteHandle::<Args, R>::new(name), items)
}

/// `pmap!(..; progress)`: a progress bar on stderr while the map yields.
#[cfg(feature = "progress")]
pub fn progress<I: Iterator, T>(
    map: Map<'static, I, T>,
) -> parallel_runtime::Progress<Map<'static, I, T>> {
    map.progress()
}

/// `pmap!(..; progress)` without the feature: a compile error that says how to enable it.
#[cfg(not(feature = "progress"))]
pub fn progress<M: ProgressFeature>(map: M) -> M {
    map
}

/// Implemented by nothing: `pmap!(..; progress)` needs the `progress` feature.
#[cfg(not(feature = "progress"))]
#[diagnostic::on_unimplemented(
    message = "`pmap!(..; progress)` needs the `progress` feature of `parallel`",
    label = "progress bars are not compiled in",
    note = "enable it in Cargo.toml: `parallel = {{ version = \"0.1\", features = [\"progress\"] }}`"
)]
pub trait ProgressFeature {}

/// `Self` is `T`: lets the `Mappable` impl of a `#[parallel]` function be generic over its
/// item types, so that their bounds are checked where `pmap!` uses it, not where the
/// function is defined.
#[diagnostic::on_unimplemented(
    message = "this `#[parallel]` function takes `{T}`, but `pmap!` gives it `{Self}`",
    label = "expected `{T}`"
)]
pub trait Is<T> {
    /// `self`, as `T`.
    fn into_is(self) -> T;
}

impl<T> Is<T> for T {
    #[inline]
    fn into_is(self) -> T {
        self
    }
}

// One `submitN` per number of arguments. The expansion names the argument and result types
// explicitly, with the user's spans, so a type that cannot cross threads is reported once, on
// that type, with the messages above. (Written out rather than generated by `macro_rules!`
// so that the compiler's "required by a bound" note shows a plain signature.)

/// Submits a call of a `#[parallel]` function of 0 arguments.
pub fn submit0<R: ThreadResult, Func>(
    pool: &ThreadPool,
    timeout: Option<Duration>,
    func: Func,
) -> Future<R>
where
    Func: FnOnce() -> R + Send + 'static,
{
    submit(pool, timeout, func)
}

/// Submits a call of a `#[parallel]` function of 1 argument.
pub fn submit1<A0: ThreadArgument, R: ThreadResult, Func>(
    pool: &ThreadPool,
    timeout: Option<Duration>,
    func: Func,
    a0: A0,
) -> Future<R>
where
    Func: FnOnce(A0) -> R + Send + 'static,
{
    submit(pool, timeout, move || func(a0))
}

/// Submits a call of a `#[parallel]` function of 2 arguments.
pub fn submit2<A0: ThreadArgument, A1: ThreadArgument, R: ThreadResult, Func>(
    pool: &ThreadPool,
    timeout: Option<Duration>,
    func: Func,
    a0: A0,
    a1: A1,
) -> Future<R>
where
    Func: FnOnce(A0, A1) -> R + Send + 'static,
{
    submit(pool, timeout, move || func(a0, a1))
}

/// Submits a call of a `#[parallel]` function of 3 arguments.
pub fn submit3<A0: ThreadArgument, A1: ThreadArgument, A2: ThreadArgument, R: ThreadResult, Func>(
    pool: &ThreadPool,
    timeout: Option<Duration>,
    func: Func,
    a0: A0,
    a1: A1,
    a2: A2,
) -> Future<R>
where
    Func: FnOnce(A0, A1, A2) -> R + Send + 'static,
{
    submit(pool, timeout, move || func(a0, a1, a2))
}

/// Submits a call of a `#[parallel]` function of 4 arguments.
pub fn submit4<
    A0: ThreadArgument,
    A1: ThreadArgument,
    A2: ThreadArgument,
    A3: ThreadArgument,
    R: ThreadResult,
    Func,
>(
    pool: &ThreadPool,
    timeout: Option<Duration>,
    func: Func,
    a0: A0,
    a1: A1,
    a2: A2,
    a3: A3,
) -> Future<R>
where
    Func: FnOnce(A0, A1, A2, A3) -> R + Send + 'static,
{
    submit(pool, timeout, move || func(a0, a1, a2, a3))
}

/// Submits a call of a `#[parallel]` function of 5 arguments.
#[allow(clippy::too_many_arguments)]
pub fn submit5<
    A0: ThreadArgument,
    A1: ThreadArgument,
    A2: ThreadArgument,
    A3: ThreadArgument,
    A4: ThreadArgument,
    R: ThreadResult,
    Func,
>(
    pool: &ThreadPool,
    timeout: Option<Duration>,
    func: Func,
    a0: A0,
    a1: A1,
    a2: A2,
    a3: A3,
    a4: A4,
) -> Future<R>
where
    Func: FnOnce(A0, A1, A2, A3, A4) -> R + Send + 'static,
{
    submit(pool, timeout, move || func(a0, a1, a2, a3, a4))
}

/// Submits a call of a `#[parallel]` function of 6 arguments.
#[allow(clippy::too_many_arguments)]
pub fn submit6<
    A0: ThreadArgument,
    A1: ThreadArgument,
    A2: ThreadArgument,
    A3: ThreadArgument,
    A4: ThreadArgument,
    A5: ThreadArgument,
    R: ThreadResult,
    Func,
>(
    pool: &ThreadPool,
    timeout: Option<Duration>,
    func: Func,
    a0: A0,
    a1: A1,
    a2: A2,
    a3: A3,
    a4: A4,
    a5: A5,
) -> Future<R>
where
    Func: FnOnce(A0, A1, A2, A3, A4, A5) -> R + Send + 'static,
{
    submit(pool, timeout, move || func(a0, a1, a2, a3, a4, a5))
}

/// Submits a call of a `#[parallel]` function of 7 arguments.
#[allow(clippy::too_many_arguments)]
pub fn submit7<
    A0: ThreadArgument,
    A1: ThreadArgument,
    A2: ThreadArgument,
    A3: ThreadArgument,
    A4: ThreadArgument,
    A5: ThreadArgument,
    A6: ThreadArgument,
    R: ThreadResult,
    Func,
>(
    pool: &ThreadPool,
    timeout: Option<Duration>,
    func: Func,
    a0: A0,
    a1: A1,
    a2: A2,
    a3: A3,
    a4: A4,
    a5: A5,
    a6: A6,
) -> Future<R>
where
    Func: FnOnce(A0, A1, A2, A3, A4, A5, A6) -> R + Send + 'static,
{
    submit(pool, timeout, move || func(a0, a1, a2, a3, a4, a5, a6))
}

/// Submits a call of a `#[parallel]` function of 8 arguments.
#[allow(clippy::too_many_arguments)]
pub fn submit8<
    A0: ThreadArgument,
    A1: ThreadArgument,
    A2: ThreadArgument,
    A3: ThreadArgument,
    A4: ThreadArgument,
    A5: ThreadArgument,
    A6: ThreadArgument,
    A7: ThreadArgument,
    R: ThreadResult,
    Func,
>(
    pool: &ThreadPool,
    timeout: Option<Duration>,
    func: Func,
    a0: A0,
    a1: A1,
    a2: A2,
    a3: A3,
    a4: A4,
    a5: A5,
    a6: A6,
    a7: A7,
) -> Future<R>
where
    Func: FnOnce(A0, A1, A2, A3, A4, A5, A6, A7) -> R + Send + 'static,
{
    submit(pool, timeout, move || func(a0, a1, a2, a3, a4, a5, a6, a7))
}

/// Submits a call of a `#[parallel]` function of 9 arguments.
#[allow(clippy::too_many_arguments)]
pub fn submit9<
    A0: ThreadArgument,
    A1: ThreadArgument,
    A2: ThreadArgument,
    A3: ThreadArgument,
    A4: ThreadArgument,
    A5: ThreadArgument,
    A6: ThreadArgument,
    A7: ThreadArgument,
    A8: ThreadArgument,
    R: ThreadResult,
    Func,
>(
    pool: &ThreadPool,
    timeout: Option<Duration>,
    func: Func,
    a0: A0,
    a1: A1,
    a2: A2,
    a3: A3,
    a4: A4,
    a5: A5,
    a6: A6,
    a7: A7,
    a8: A8,
) -> Future<R>
where
    Func: FnOnce(A0, A1, A2, A3, A4, A5, A6, A7, A8) -> R + Send + 'static,
{
    submit(pool, timeout, move || {
        func(a0, a1, a2, a3, a4, a5, a6, a7, a8)
    })
}

/// Submits a call of a `#[parallel]` function of 10 arguments.
#[allow(clippy::too_many_arguments)]
pub fn submit10<
    A0: ThreadArgument,
    A1: ThreadArgument,
    A2: ThreadArgument,
    A3: ThreadArgument,
    A4: ThreadArgument,
    A5: ThreadArgument,
    A6: ThreadArgument,
    A7: ThreadArgument,
    A8: ThreadArgument,
    A9: ThreadArgument,
    R: ThreadResult,
    Func,
>(
    pool: &ThreadPool,
    timeout: Option<Duration>,
    func: Func,
    a0: A0,
    a1: A1,
    a2: A2,
    a3: A3,
    a4: A4,
    a5: A5,
    a6: A6,
    a7: A7,
    a8: A8,
    a9: A9,
) -> Future<R>
where
    Func: FnOnce(A0, A1, A2, A3, A4, A5, A6, A7, A8, A9) -> R + Send + 'static,
{
    submit(pool, timeout, move || {
        func(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9)
    })
}

/// Submits a call of a `#[parallel]` function of 11 arguments.
#[allow(clippy::too_many_arguments)]
pub fn submit11<
    A0: ThreadArgument,
    A1: ThreadArgument,
    A2: ThreadArgument,
    A3: ThreadArgument,
    A4: ThreadArgument,
    A5: ThreadArgument,
    A6: ThreadArgument,
    A7: ThreadArgument,
    A8: ThreadArgument,
    A9: ThreadArgument,
    A10: ThreadArgument,
    R: ThreadResult,
    Func,
>(
    pool: &ThreadPool,
    timeout: Option<Duration>,
    func: Func,
    a0: A0,
    a1: A1,
    a2: A2,
    a3: A3,
    a4: A4,
    a5: A5,
    a6: A6,
    a7: A7,
    a8: A8,
    a9: A9,
    a10: A10,
) -> Future<R>
where
    Func: FnOnce(A0, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10) -> R + Send + 'static,
{
    submit(pool, timeout, move || {
        func(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10)
    })
}

/// Submits a call of a `#[parallel]` function of 12 arguments.
#[allow(clippy::too_many_arguments)]
pub fn submit12<
    A0: ThreadArgument,
    A1: ThreadArgument,
    A2: ThreadArgument,
    A3: ThreadArgument,
    A4: ThreadArgument,
    A5: ThreadArgument,
    A6: ThreadArgument,
    A7: ThreadArgument,
    A8: ThreadArgument,
    A9: ThreadArgument,
    A10: ThreadArgument,
    A11: ThreadArgument,
    R: ThreadResult,
    Func,
>(
    pool: &ThreadPool,
    timeout: Option<Duration>,
    func: Func,
    a0: A0,
    a1: A1,
    a2: A2,
    a3: A3,
    a4: A4,
    a5: A5,
    a6: A6,
    a7: A7,
    a8: A8,
    a9: A9,
    a10: A10,
    a11: A11,
) -> Future<R>
where
    Func: FnOnce(A0, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11) -> R + Send + 'static,
{
    submit(pool, timeout, move || {
        func(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11)
    })
}

/// The options after `;` in `pmap!`: the map's own, and the pool `threads = N` chose.
#[derive(Debug, Clone, Copy)]
pub struct MapOptions {
    pool: Option<&'static ThreadPool>,
    map: parallel_runtime::MapOptions,
}

impl MapOptions {
    /// No options: ordered, adaptive batches, no timeout, the function's own pool.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self {
            pool: None,
            map: parallel_runtime::MapOptions::new(),
        }
    }

    /// `threads = N`: a pool of the call site's own.
    pub fn pool(mut self, pool: &'static ThreadPool) -> Self {
        self.pool = Some(pool);
        self
    }

    /// `chunksize = N`
    pub fn chunksize(mut self, size: usize) -> Self {
        self.map = self.map.chunksize(size);
        self
    }

    /// `ordered = false`
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.map = self.map.ordered(ordered);
        self
    }

    /// `timeout = ".."`
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.map = self.map.timeout(timeout);
        self
    }

    /// `run`, for the `Mappable` impl of a `#[parallel]` function: the expansion names `T`
    /// with the user's span, so a result that cannot cross threads is reported on its type.
    pub fn run_returning<T, F, I>(
        self,
        default: &'static ThreadPool,
        func: F,
        items: I,
    ) -> Map<'static, I, T>
    where
        T: ThreadResult,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        I: Iterator,
        I::Item: Send + 'static,
    {
        self.run(default, func, items)
    }

    /// Maps `func` over `items` on the chosen pool (`default` unless `threads = N` chose one).
    pub fn run<F, I, T>(self, default: &'static ThreadPool, func: F, items: I) -> Map<'static, I, T>
    where
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        I: Iterator,
        I::Item: Send + 'static,
        T: Send + 'static,
    {
        self.pool.unwrap_or(default).map_with(func, items, self.map)
    }

    /// Maps the registered `function` over `items` on `pool` (worker processes).
    pub fn run_remote<F, I>(
        self,
        pool: &'static ProcessPool,
        function: F,
        items: I,
    ) -> Map<'static, I, F::Output>
    where
        F: RemoteFn,
        I: Iterator<Item = F::Args>,
    {
        pool.map_with(function, items, self.map)
    }

    /// Maps a `#[parallel(processes)]` function over `items`: on the thread pool that
    /// `threads = N` chose (running `sync`), or else on the function's own processes.
    pub fn run_remote_fn<F, I>(
        self,
        own: &'static ProcessPool,
        function: F,
        items: I,
    ) -> Map<'static, I, <F as RemoteFn>::Output>
    where
        F: RemoteFn + Remote<<F as RemoteFn>::Args, Output = <F as RemoteFn>::Output>,
        I: Iterator<Item = F::Args>,
    {
        match self.pool {
            Some(threads) => threads.map_with(move |args| function.call(args), items, self.map),
            None => self.run_remote(own, function, items),
        }
    }
}

/// What `pmap!` can map: any function or closure (on the default pool), and every
/// non-generic `#[parallel]` function (on its own pool, through an impl the attribute writes).
/// `Args` is the tuple of one item from each iterable.
pub trait Mappable<Args> {
    /// What the function returns.
    type Output;

    /// Maps over `items` with `options`.
    fn pmap<I>(self, items: I, options: MapOptions) -> Map<'static, I, Self::Output>
    where
        I: Iterator<Item = Args>;
}

/// `a0.into_iter().zip(a1).zip(a2)…`, its items flattened to `(a0, a1, a2, …)`. Made of
/// std's adapters rather than an iterator of our own, because std's keep `TrustedLen`: a
/// slice or range source still says its exact length through them, so `Vec::extend` fills
/// each map batch in one tight loop instead of item by item (`pmap!` over a slice of cheap
/// items took 2.7 times as long as `map` over the same slice before).
macro_rules! zip_flat {
    ($first:ident $(, $rest:ident)*) => {
        $first
            .into_iter()
            $(.zip($rest))*
            .map(|nested!($first; $($rest)*)| ($first, $($rest,)*))
    };
}

/// The pattern of `zip_flat!`'s nested pairs: `nested!(a0; a1 a2)` is `((a0, a1), a2)`.
macro_rules! nested {
    ($acc:tt;) => { $acc };
    ($acc:tt; $next:ident $($rest:ident)*) => { nested!(($acc, $next); $($rest)*) };
}

/// For each arity: a blanket `Mappable` impl for functions, the zip of the iterables, and
/// the function `pmap!` calls for closures (which need a direct `Fn` bound to infer their
/// argument types).
macro_rules! arities {
    ($($zip_fn:ident $pmap:ident ($($iter:ident $item:ident $arg:ident),+);)+) => {$(
        impl<Func, $($item,)+ R> Mappable<($($item,)+)> for Func
        where
            Func: Fn($($item),+) -> R + Send + Sync + 'static,
            $($item: Send + 'static,)+
            R: Send + 'static,
        {
            type Output = R;

            fn pmap<I>(self, items: I, options: MapOptions) -> Map<'static, I, R>
            where
                I: Iterator<Item = ($($item,)+)>,
            {
                options.run(default_pool(), move |($($arg,)+)| self($($arg),+), items)
            }
        }

        /// Zips the iterables of a `pmap!` call: their items side by side, up to the
        /// shortest.
        // One parameter per iterable, like Python's `map(f, *iterables)`.
        #[allow(clippy::too_many_arguments)]
        pub fn $zip_fn<$($iter: IntoIterator),+>(
            $($arg: $iter),+
        ) -> impl Iterator<Item = ($($iter::Item,)+)> {
            zip_flat!($($arg),+)
        }

        /// `pmap!` with a closure of this arity, on the default pool unless options choose.
        #[allow(clippy::too_many_arguments)]
        pub fn $pmap<Func, $($iter,)+ R>(
            func: Func,
            $($arg: $iter,)+
            options: MapOptions,
        ) -> Map<'static, impl Iterator<Item = ($($iter::Item,)+)>, R>
        where
            Func: Fn($($iter::Item),+) -> R + Send + Sync + 'static,
            $($iter: IntoIterator, $iter::Item: Send + 'static,)+
            R: Send + 'static,
        {
            options.run(default_pool(), move |($($arg,)+)| func($($arg),+), $zip_fn($($arg),+))
        }
    )+};
}

arities! {
    zip1 pmap1 (A0 T0 a0);
    zip2 pmap2 (A0 T0 a0, A1 T1 a1);
    zip3 pmap3 (A0 T0 a0, A1 T1 a1, A2 T2 a2);
    zip4 pmap4 (A0 T0 a0, A1 T1 a1, A2 T2 a2, A3 T3 a3);
    zip5 pmap5 (A0 T0 a0, A1 T1 a1, A2 T2 a2, A3 T3 a3, A4 T4 a4);
    zip6 pmap6 (A0 T0 a0, A1 T1 a1, A2 T2 a2, A3 T3 a3, A4 T4 a4, A5 T5 a5);
    zip7 pmap7 (A0 T0 a0, A1 T1 a1, A2 T2 a2, A3 T3 a3, A4 T4 a4, A5 T5 a5, A6 T6 a6);
    zip8 pmap8 (A0 T0 a0, A1 T1 a1, A2 T2 a2, A3 T3 a3, A4 T4 a4, A5 T5 a5, A6 T6 a6, A7 T7 a7);
}
