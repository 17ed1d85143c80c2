//! What the expansions of `#[parallel]` and `pmap!` call. Not part of the API: names here
//! may change in any release.

use std::ops::Deref;
use std::time::Duration;

pub use std::sync::LazyLock;

use parallel_runtime::{default_pool, Future, Map, ThreadPool};

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
pub trait ThreadArgument {}

impl<T: Send + 'static> ThreadArgument for T {}

/// The return type of a `#[parallel]` function: it must be able to come back from a worker.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot come back from a worker thread",
    label = "the result must be `Send` and own its data",
    note = "a `#[parallel]` function runs on another thread: return `Arc` instead of `Rc`, owned values instead of borrows"
)]
pub trait ThreadResult {}

impl<T: Send + 'static> ThreadResult for T {}

/// Fails to compile, naming `T`, unless `T` can be a thread argument.
pub fn thread_argument<T: ThreadArgument>() {}

/// Fails to compile, naming `T`, unless `T` can be a thread result.
pub fn thread_result<T: ThreadResult>() {}

/// The options after `;` in `pmap!`.
#[derive(Debug, Clone, Copy)]
pub struct MapOptions {
    pool: Option<&'static ThreadPool>,
    chunksize: Option<usize>,
    ordered: bool,
    timeout: Option<Duration>,
}

impl MapOptions {
    /// No options: ordered, adaptive batches, no timeout, the function's own pool.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self {
            pool: None,
            chunksize: None,
            ordered: true,
            timeout: None,
        }
    }

    /// `threads = N`: a pool of the call site's own.
    pub fn pool(mut self, pool: &'static ThreadPool) -> Self {
        self.pool = Some(pool);
        self
    }

    /// `chunksize = N`
    pub fn chunksize(mut self, size: usize) -> Self {
        self.chunksize = Some(size);
        self
    }

    /// `ordered = false`
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.ordered = ordered;
        self
    }

    /// `timeout = ".."`
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Maps `func` over `items` on the chosen pool (`default` unless `threads = N` chose one).
    pub fn run<F, I, T>(self, default: &'static ThreadPool, func: F, items: I) -> Map<'static, I, T>
    where
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        I: Iterator,
        I::Item: Send + 'static,
        T: Send + 'static,
    {
        let mut map = self
            .pool
            .unwrap_or(default)
            .map(func, items)
            .ordered(self.ordered);
        if let Some(size) = self.chunksize {
            map = map.chunksize(size);
        }
        if let Some(timeout) = self.timeout {
            map = map.timeout(timeout);
        }
        map
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

/// For each arity: a blanket `Mappable` impl for functions, a zipping iterator, and the
/// function `pmap!` calls for closures (which need a direct `Fn` bound to infer their
/// argument types).
macro_rules! arities {
    ($($zip:ident $zip_fn:ident $pmap:ident ($($iter:ident $item:ident $arg:ident),+);)+) => {$(
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

        /// The items of several iterables, side by side, up to the shortest.
        #[derive(Debug, Clone)]
        pub struct $zip<$($iter),+> {
            $($arg: $iter,)+
        }

        impl<$($iter: Iterator),+> Iterator for $zip<$($iter),+> {
            type Item = ($($iter::Item,)+);

            #[inline]
            fn next(&mut self) -> Option<Self::Item> {
                Some(($(self.$arg.next()?,)+))
            }

            fn size_hint(&self) -> (usize, Option<usize>) {
                let hints = [$(self.$arg.size_hint()),+];
                let low = hints.iter().map(|hint| hint.0).min().unwrap_or(0);
                let high = hints.iter().filter_map(|hint| hint.1).min();
                (low, high)
            }
        }

        /// Zips the iterables of a `pmap!` call.
        // One parameter per iterable, like Python's `map(f, *iterables)`.
        #[allow(clippy::too_many_arguments)]
        pub fn $zip_fn<$($iter: IntoIterator),+>($($arg: $iter),+) -> $zip<$($iter::IntoIter),+> {
            $zip { $($arg: $arg.into_iter(),)+ }
        }

        /// `pmap!` with a closure of this arity, on the default pool unless options choose.
        #[allow(clippy::too_many_arguments)]
        pub fn $pmap<Func, $($iter,)+ R>(
            func: Func,
            $($arg: $iter,)+
            options: MapOptions,
        ) -> Map<'static, $zip<$($iter::IntoIter),+>, R>
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
    Zip1 zip1 pmap1 (A0 T0 a0);
    Zip2 zip2 pmap2 (A0 T0 a0, A1 T1 a1);
    Zip3 zip3 pmap3 (A0 T0 a0, A1 T1 a1, A2 T2 a2);
    Zip4 zip4 pmap4 (A0 T0 a0, A1 T1 a1, A2 T2 a2, A3 T3 a3);
    Zip5 zip5 pmap5 (A0 T0 a0, A1 T1 a1, A2 T2 a2, A3 T3 a3, A4 T4 a4);
    Zip6 zip6 pmap6 (A0 T0 a0, A1 T1 a1, A2 T2 a2, A3 T3 a3, A4 T4 a4, A5 T5 a5);
    Zip7 zip7 pmap7 (A0 T0 a0, A1 T1 a1, A2 T2 a2, A3 T3 a3, A4 T4 a4, A5 T5 a5, A6 T6 a6);
    Zip8 zip8 pmap8 (A0 T0 a0, A1 T1 a1, A2 T2 a2, A3 T3 a3, A4 T4 a4, A5 T5 a5, A6 T6 a6, A7 T7 a7);
}
