//! What `pmap!` expands to call: its options, the zip of its iterables, the closure forms, and
//! the dispatch of a function path between a `#[parallel]` function (its own pool, its body
//! in batches) and any other function (the default pool).

use std::cell::Cell;
use std::ops::Deref;
use std::time::Duration;

use super::processes::ProcessFn;
use super::registry;
use super::threads::ThreadFn;
use crate::arity::arities;
use crate::future::Future;
use crate::map::{Map, MapOptions as Options};
use crate::process_pool::{Enqueue, Remote};
use crate::thread_pool::{default_pool, ThreadPool};

/// The options after `;` in `pmap!`: the map's own, and the pool `threads = N` or
/// `pool = P` chose, which the map borrows for `'p`.
#[derive(Debug, Clone, Copy)]
pub struct MapOptions<'p> {
    pool: Option<&'p ThreadPool>,
    map: Options,
}

impl MapOptions<'static> {
    /// No options: ordered, adaptive batches, no timeout, the function's own pool.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self {
            pool: None,
            map: Options::new(),
        }
    }
}

/// A pool that `pmap!(..; pool = P)` can run on: a [`ThreadPool`], or anything that
/// dereferences to one (`&ThreadPool`, `Arc<ThreadPool>`, a `LazyLock<ThreadPool>` static).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a thread pool that `pmap!(..; pool = ..)` can run on",
    label = "expected a `ThreadPool`",
    note = "`pool = P` takes a `ThreadPool` (or a reference to one, or a `static` `LazyLock<ThreadPool>`); for worker processes, write `processes` (a pool of the call site's own), or call `P.map(f, items)` on a `ProcessPool` with a `#[parallel(processes)]` function"
)]
pub trait GivenPool {
    /// The thread pool.
    fn thread_pool(&self) -> &ThreadPool;
}

// `do_not_recommend` on both impls: an error says what `pool = P` takes, without a list of
// impls.
#[diagnostic::do_not_recommend]
impl GivenPool for ThreadPool {
    fn thread_pool(&self) -> &ThreadPool {
        self
    }
}

#[diagnostic::do_not_recommend]
impl<P: Deref<Target = ThreadPool>> GivenPool for P {
    fn thread_pool(&self) -> &ThreadPool {
        self
    }
}

/// The thread pool of `pmap!(..; pool = P)`, given as `&P`.
pub fn given_pool<P: GivenPool + ?Sized>(pool: &P) -> &ThreadPool {
    pool.thread_pool()
}

impl<'p> MapOptions<'p> {
    /// `threads = N` (a pool of the call site's own) or `pool = P` (a pool the caller gave).
    pub fn pool<'q>(self, pool: &'q ThreadPool) -> MapOptions<'q> {
        MapOptions {
            pool: Some(pool),
            map: self.map,
        }
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

    /// The map's own options.
    pub(crate) fn map(self) -> Options {
        self.map
    }

    /// The pool `threads = N` or `pool = P` chose, or `default`.
    pub(crate) fn pool_or(self, default: &'static ThreadPool) -> &'p ThreadPool {
        self.pool.unwrap_or(default)
    }

    /// Maps a process (or MPI) function over `items` on its own pool, or its body on the
    /// threads that `threads = N` chose.
    fn on_own_pool<I, T, P: Enqueue>(
        self,
        function: &'static ProcessFn<I::Item, T, P>,
        items: I,
    ) -> Map<'p, I, T>
    where
        I: Iterator,
        I::Item: Send + 'static,
        T: Send + 'static,
    {
        match self.pool {
            Some(threads) => threads.map_batches(function.batch, items, self.map),
            None => function.map(items, self.map),
        }
    }

    /// Maps `func` over `items` on the chosen pool (the default pool unless `threads = N` or
    /// `pool = P`).
    fn run<F, I, T>(self, func: F, items: I) -> Map<'p, I, T>
    where
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        I: Iterator,
        I::Item: Send + 'static,
        T: Send + 'static,
    {
        self.pool_or(default_pool()).map_with(func, items, self.map)
    }
}

/// A function path and the zipped iterables of `pmap!(path, ..)`, waiting for the dispatch
/// between [`ViaRegistry`] (a `#[parallel]` function, which returns a future) and [`Direct`]
/// (any other function). The expansion calls `(&dispatch(f, items)).pmap(options)`: method
/// resolution tries `ViaRegistry`, whose receiver needs no auto-reference, first, and falls
/// back to `Direct` when its bounds do not hold (the function returns something else).
pub struct Dispatch<F, I> {
    func: Cell<Option<(F, I)>>,
}

/// The function and iterables of `pmap!(path, ..)`, for the dispatch.
pub fn dispatch<F, I>(func: F, items: I) -> Dispatch<F, I> {
    Dispatch {
        func: Cell::new(Some((func, items))),
    }
}

impl<F, I> Dispatch<F, I> {
    fn take(&self) -> (F, I) {
        self.func.take().expect("a `pmap!` dispatch runs once")
    }
}

/// `pmap!` of a function that returns a [`Future`]: a `#[parallel]` function, run in
/// batches of its original body on its own pool (or the pool that `pmap!`'s options chose).
pub trait ViaRegistry<'p> {
    /// The map.
    type Map;
    /// Maps.
    fn pmap(&self, options: MapOptions<'p>) -> Self::Map;
}

impl<'p, F, I, T> ViaRegistry<'p> for Dispatch<F, I>
where
    F: Remote<I::Item, Output = Future<T>> + Send + Sync + 'static,
    I: Iterator,
    I::Item: Send + 'static,
    T: Send + 'static,
{
    type Map = Map<'p, I, T>;

    fn pmap(&self, options: MapOptions<'p>) -> Self::Map {
        let (func, items) = self.take();
        if let Some(function) = registry::find::<F, ThreadFn<I::Item, T>>() {
            let pool = options.pool_or((function.pool)());
            return pool.map_batches(function.batch, items, options.map());
        }
        if let Some(function) = registry::find::<F, ProcessFn<I::Item, T>>() {
            return options.on_own_pool(function, items);
        }
        #[cfg(feature = "mpi")]
        if let Some(function) = super::mpi::find::<F, I::Item, T>() {
            return options.on_own_pool(function, items);
        }
        // A function that returns a future but is not a registered `#[parallel]` one (a
        // generic `#[parallel]` function, or a plain function): call it for each item and
        // wait for its future there.
        options.run(
            move |args| match func.call(args).result() {
                Ok(value) => value,
                Err(error) => panic!("{error}"),
            },
            items,
        )
    }
}

/// `pmap!` of any function that does not return a [`Future`]: on the default pool (or the
/// one `pmap!`'s options chose).
pub trait Direct<'p> {
    /// The map.
    type Map;
    /// Maps.
    fn pmap(&self, options: MapOptions<'p>) -> Self::Map;
}

impl<'p, F, I, R> Direct<'p> for &Dispatch<F, I>
where
    F: Remote<I::Item, Output = R> + Send + Sync + 'static,
    I: Iterator,
    I::Item: Send + 'static,
    R: Send + 'static,
{
    type Map = Map<'p, I, R>;

    fn pmap(&self, options: MapOptions<'p>) -> Self::Map {
        let (func, items) = self.take();
        options.run(move |args| func.call(args), items)
    }
}

/// `a0.into_iter().zip(a1).zip(a2)…`, its items flattened to `(a0, a1, a2, …)`. Made of
/// std's adapters rather than an iterator of our own, because std's keep `TrustedLen`: a
/// slice or range source still says its exact length through them, so `Vec::extend` fills
/// each map batch in one tight loop instead of item by item (`pmap!` over a slice of cheap
/// items took 2.7 times as long as `map` over the same slice before).
macro_rules! zip_flat_items {
    ($first:ident $(, $rest:ident)*) => {
        $first
            .into_iter()
            $(.zip($rest))*
            .map(|nested_pairs!($first; $($rest)*)| ($first, $($rest,)*))
    };
}

pub(crate) use zip_flat_items as zip_flat;

/// The pattern of `zip_flat!`'s nested pairs: `nested_pairs!(a0; a1 a2)` is `((a0, a1), a2)`.
macro_rules! nested_pairs {
    ($acc:tt;) => { $acc };
    ($acc:tt; $next:ident $($rest:ident)*) => { nested_pairs!(($acc, $next); $($rest)*) };
}

pub(crate) use nested_pairs;

/// For each arity from the arity table (but 0: `pmap!` needs an iterable): the zip of the
/// iterables, and the function `pmap!` calls for a closure (which needs a direct `Fn` bound
/// to infer its argument types).
macro_rules! pmap_fns {
    (0 [$submit:ident $zip:ident $pmap:ident] (); $($rest:tt)*) => { pmap_fns!($($rest)*); };
    ($($n:literal [$submit:ident $zip:ident $pmap:ident] ($($iter:ident $arg:ident),+);)*) => {$(
        /// Zips the iterables of a `pmap!` call: their items side by side, up to the
        /// shortest.
        // One parameter per iterable, like Python's `map(f, *iterables)`.
        #[allow(clippy::too_many_arguments, non_snake_case)]
        pub fn $zip<$($iter: IntoIterator),+>(
            $($arg: $iter),+
        ) -> impl Iterator<Item = ($($iter::Item,)+)> {
            zip_flat!($($arg),+)
        }

        /// `pmap!` with a closure of this arity, on the default pool unless options choose.
        #[allow(clippy::too_many_arguments, non_snake_case)]
        pub fn $pmap<'p, Func, $($iter,)+ R>(
            func: Func,
            $($arg: $iter,)+
            options: MapOptions<'p>,
        ) -> Map<'p, impl Iterator<Item = ($($iter::Item,)+)>, R>
        where
            Func: Fn($($iter::Item),+) -> R + Send + Sync + 'static,
            $($iter: IntoIterator, $iter::Item: Send + 'static,)+
            R: Send + 'static,
        {
            options.run(move |($($arg,)+)| func($($arg),+), $zip($($arg),+))
        }
    )*};
}

arities!(pmap_fns);

/// What a `pmap!` with a mistake expands to, after its errors: a value of whatever type the
/// code around it expects, so that the mistake is reported once. Never runs (the build
/// fails); it returns rather than being `!`, which would make the code after the call
/// unreachable and add a warning to the error.
pub fn stand_in<T>() -> T {
    unreachable!("a `pmap!` with a compile error never runs")
}

/// `pmap!(..; progress)`: a progress bar on stderr while the map yields.
#[cfg(feature = "progress")]
pub fn progress<M: Iterator>(map: M) -> crate::progress::Progress<M> {
    crate::progress::Progress::new(map)
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
