//! Scoped maps: [`Scope::map`] over anything [`Indexed`], read in place by the workers, and
//! [`Scope::map_iter`] over any iterator, whose items may borrow.

use std::collections::VecDeque;
use std::iter::{Product, Sum};
use std::ops::{Range, RangeInclusive};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::counter::ScopeCounter;
use super::Scope;
use crate::error::TaskError;
use crate::future::Future;
use crate::map::engine::Engine;
use crate::map::feed::IndexFeed;
use crate::map::{Chunk, Map, MapOptions, SubmitChunk};
use crate::sync::lock;
use crate::thread_pool::ThreadPool;

/// Items that a scoped map's workers read in place, by index: slices, vectors, arrays and
/// ranges of integers. A map over one copies no item and allocates nothing per item; each
/// worker reads its range of indices where the items are.
///
/// Implement it for a collection of your own to map over it the same way.
///
/// # Examples
///
/// ```
/// use parallel::Indexed;
///
/// /// Every `step`-th number below `end`.
/// struct Steps { end: u64, step: u64 }
///
/// impl Indexed for Steps {
///     type Item = u64;
///     fn item_count(&self) -> usize { self.end.div_ceil(self.step) as usize }
///     fn item(&self, index: usize) -> u64 { index as u64 * self.step }
/// }
///
/// let evens = Steps { end: 10, step: 2 };
/// let halves: Vec<u64> = parallel::scope(|s| {
///     s.map(|x| x / 2, evens).collect::<Result<_, _>>().unwrap()
/// });
/// assert_eq!(halves, [0, 1, 2, 3, 4]);
/// ```
#[diagnostic::on_unimplemented(
    message = "a scoped map cannot read `{Self}` in place",
    label = "not a slice, vector, array or range",
    note = "`Scope::map` reads slices, vectors, arrays and integer ranges by index; for any other iterator, use `Scope::map_iter`"
)]
pub trait Indexed: Sync {
    /// What the map's function is given for each index.
    type Item;

    /// The number of items. (Not `len`, so that it never competes with a `len` method the
    /// type already has.)
    fn item_count(&self) -> usize;

    /// The item at `index`, which is below `item_count()`.
    fn item(&self, index: usize) -> Self::Item;

    /// Appends `func` of each item of `range`, in order, to `out`; the map's inner loop.
    /// The default calls `item` for each index; slices override it with one bounds check for
    /// the whole range. An override must append exactly one value per item, in order (a
    /// panic in `func` may stop it part way).
    #[doc(hidden)]
    fn map_range<T>(&self, range: Range<usize>, func: &impl Fn(Self::Item) -> T, out: &mut Vec<T>) {
        out.extend(range.map(|index| func(self.item(index))));
    }
}

impl<'a, T: Sync> Indexed for &'a [T] {
    type Item = &'a T;

    fn item_count(&self) -> usize {
        <[T]>::len(self)
    }

    fn item(&self, index: usize) -> &'a T {
        &self[index]
    }

    fn map_range<R>(&self, range: Range<usize>, func: &impl Fn(&'a T) -> R, out: &mut Vec<R>) {
        let items: &'a [T] = self;
        out.extend(items[range].iter().map(func));
    }
}

/// Forwards to the slice.
macro_rules! indexed_as_slice {
    ($($(#[$attr:meta])* [$($generics:tt)*] $ty:ty;)*) => {$(
        $(#[$attr])*
        impl<'a, $($generics)*> Indexed for &'a $ty {
            type Item = &'a T;

            fn item_count(&self) -> usize {
                self.as_slice().len()
            }

            fn item(&self, index: usize) -> &'a T {
                &self.as_slice()[index]
            }

            fn map_range<R>(&self, range: Range<usize>, func: &impl Fn(&'a T) -> R, out: &mut Vec<R>) {
                self.as_slice().map_range(range, func, out);
            }
        }
    )*};
}

indexed_as_slice! {
    [T: Sync] Vec<T>;
    [T: Sync, const N: usize] [T; N];
}

/// Ranges of integers: each index is a number of the range.
macro_rules! indexed_ranges {
    ($($int:ty)*) => {$(
        impl Indexed for Range<$int> {
            type Item = $int;

            fn item_count(&self) -> usize {
                range_len(i128::from(self.start), i128::from(self.end))
            }

            fn item(&self, index: usize) -> $int {
                assert!(index < Indexed::item_count(self), "index {index} out of the range");
                // In range, so it fits: `start + index < end`.
                (i128::from(self.start) + index as i128) as $int
            }
        }

        impl Indexed for RangeInclusive<$int> {
            type Item = $int;

            fn item_count(&self) -> usize {
                if self.is_empty() {
                    return 0;
                }
                range_len(i128::from(*self.start()), i128::from(*self.end()) + 1)
            }

            fn item(&self, index: usize) -> $int {
                assert!(index < Indexed::item_count(self), "index {index} out of the range");
                (i128::from(*self.start()) + index as i128) as $int
            }
        }
    )*};
}

indexed_ranges!(u8 u16 u32 u64 i8 i16 i32 i64);

impl Indexed for Range<usize> {
    type Item = usize;

    fn item_count(&self) -> usize {
        ExactSizeIterator::len(self)
    }

    fn item(&self, index: usize) -> usize {
        assert!(
            index < Indexed::item_count(self),
            "index {index} out of the range"
        );
        self.start + index
    }
}

/// The number of integers in `start..end`.
///
/// # Panics
///
/// If there are more than `usize::MAX`.
fn range_len(start: i128, end: i128) -> usize {
    usize::try_from((end - start).max(0)).expect("a range of more than usize::MAX items")
}

/// The iterator returned by [`Scope::map`]: one `Result<T, TaskError>` per item, in order
/// (or as they complete, with [`ordered(false)`](Self::ordered)), from a map whose workers
/// read the items in place.
///
/// Like [`Map`], it starts at the call, keeps a bounded number of batches in flight, yields a
/// failed item's error and goes on, and cancels what has not started when dropped. While it
/// waits for a batch, the thread iterating it runs batches still queued instead. It carries
/// the scope's lifetime, so it cannot outlive the scope; the scope waits for the batches it
/// started even if it is leaked.
///
/// [`sum`](Self::sum) and [`product`](Self::product) reduce on the workers: each sums its
/// own range and only the partial sums come back.
///
/// # Examples
///
/// ```
/// let data: Vec<u64> = (1..=1000).collect();
/// let factor = 3;
/// let total: u64 = parallel::scope(|s| {
///     s.map(|x: &u64| x * factor, &data).map(Result::unwrap).sum()
/// });
/// assert_eq!(total, 3 * 500_500);
/// ```
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct ScopedMap<'scope, S, F, T> {
    engine: Engine<'scope, IndexFeed, T>,
    /// The function and the items, shared with the batches.
    shared: Arc<(F, S)>,
    pool: &'scope ThreadPool,
    counter: &'scope ScopeCounter,
}

impl<'scope, S, F, T> ScopedMap<'scope, S, F, T>
where
    S: Indexed + Send + 'scope,
    F: Fn(S::Item) -> T + Send + Sync + 'scope,
    T: Send + 'scope,
{
    /// Yields results in input order (`true`, the default) or as they complete (`false`;
    /// items of one batch stay together), as [`Map::ordered`].
    ///
    /// # Panics
    ///
    /// If the map has already yielded.
    ///
    /// # Examples
    ///
    /// ```
    /// let data = [1, 2, 3, 4];
    /// let mut got: Vec<i32> = parallel::scope(|s| {
    ///     s.map(|x: &i32| x * 10, &data).ordered(false).map(Result::unwrap).collect()
    /// });
    /// got.sort();
    /// assert_eq!(got, [10, 20, 30, 40]);
    /// ```
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.engine.set_ordered(ordered);
        self
    }

    /// Gives the whole map `timeout`, counted from the `map` call, as [`Map::timeout`]: an
    /// item not done by then yields `Err(TaskError::TimedOut)` and the map ends there.
    ///
    /// # Panics
    ///
    /// If the map has already yielded.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = parallel::ThreadPool::builder().workers(1).build().unwrap();
    /// let pauses = [0, 500];
    /// let results: Vec<_> = pool.scope(|s| {
    ///     s.map(|ms: &u64| std::thread::sleep(Duration::from_millis(*ms)), &pauses)
    ///         .timeout(Duration::from_millis(100))
    ///         .collect()
    ///     // The scope still waits for the item that is running.
    /// });
    /// assert!(results[0].is_ok());
    /// assert!(results[1].as_ref().unwrap_err().is_timed_out());
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.engine.set_timeout(timeout);
        self
    }

    /// Sums the results, as [`Iterator::sum`] does, but on the workers: each batch is summed
    /// where it ran and only the partial sums come back. `R` is what `Iterator::sum` would
    /// give: `Result<u64, TaskError>` (the first failed item's error, by position, or the
    /// total), or anything else that sums `Result<T, TaskError>` and its own partial sums.
    ///
    /// The partial sums are added in input order, so an associative sum (integers) is the
    /// same as a sequential one; floating-point rounding may differ from a sequential sum,
    /// as in any parallel sum. A map with a [`timeout`](Self::timeout) sums on this thread,
    /// item by item, so that it stops where the timeout stops it.
    ///
    /// # Examples
    ///
    /// ```
    /// let data: Vec<u64> = (0..1_000_000).collect();
    /// let total = parallel::scope(|s| s.map(|x: &u64| x * x, &data).sum::<Result<u64, _>>());
    /// assert_eq!(total, Ok(333_332_833_333_500_000));
    /// ```
    pub fn sum<R>(self) -> R
    where
        R: Sum<Result<T, TaskError>> + Sum<R> + Send + 'scope,
    {
        self.reduce::<R, Summing>()
    }

    /// Collects the results into a `Vec`, or gives the first failure: what
    /// `.collect::<Result<Vec<T>, TaskError>>()` gives, faster (each batch's values are moved
    /// in one copy, into room reserved once). As [`Map::collect_vec`](crate::Map::collect_vec).
    ///
    /// # Examples
    ///
    /// ```
    /// let data: Vec<u64> = (0..1_000).collect();
    /// let squares = parallel::scope(|s| s.map(|x: &u64| x * x, &data).collect_vec()).unwrap();
    /// assert_eq!(squares[999], 998_001);
    /// ```
    pub fn collect_vec(mut self) -> Result<Vec<T>, TaskError> {
        self.engine.collect_vec()
    }

    /// Multiplies the results, on the workers, as [`sum`](Self::sum) adds them.
    ///
    /// # Examples
    ///
    /// ```
    /// let data = [1u64, 2, 3, 4, 5];
    /// let product = parallel::scope(|s| s.map(|x: &u64| x + 1, &data).product::<Result<u64, _>>());
    /// assert_eq!(product, Ok(720));
    /// ```
    pub fn product<R>(self) -> R
    where
        R: Product<Result<T, TaskError>> + Product<R> + Send + 'scope,
    {
        self.reduce::<R, Multiplying>()
    }

    /// Reduces with `M`: the batches already in flight on this thread, the rest of the items
    /// in pieces on the workers (this thread runs the pieces still queued when it gets to
    /// them), then the partial results in input order.
    fn reduce<R, M>(mut self) -> R
    where
        R: Send + 'scope,
        M: Reducer<R, Result<T, TaskError>>,
    {
        if self.engine.has_deadline() {
            return M::items(self.by_ref());
        }
        let rest = self.engine.feed_mut().take_rest();
        let workers = self.pool.workers().max(1);
        let piece = rest.len().div_ceil(4 * workers).max(REDUCE_BLOCK);
        let pieces: Vec<Future<R>> = (rest.start..rest.end)
            .step_by(piece)
            .map(|start| {
                let range = start..(start + piece).min(rest.end);
                let shared = Arc::clone(&self.shared);
                let task = move || {
                    let (func, items) = &*shared;
                    reduce_range::<_, _, _, R, M>(func, items, range)
                };
                // SAFETY: the scope's counter outlives its jobs; the task borrows for
                // `'scope`, and its future stays in this function, inside the scope.
                unsafe { self.pool.submit_scoped(task, self.counter) }
            })
            .collect();
        let first = M::items(self.by_ref());
        let rest = pieces.iter().enumerate().map(|(at, piece)| {
            // Run the pieces nobody has started, newest first, rather than wait.
            while !piece.is_done() {
                let later = &pieces[at..];
                if !later.iter().rev().any(|p| p.completion().run_here()) {
                    break;
                }
            }
            piece
                .result()
                .unwrap_or_else(|error| M::items(std::iter::once(Err(error))))
        });
        M::parts(std::iter::once(first).chain(rest))
    }
}

/// The most items a reduction writes into its buffer before reducing them: few enough that
/// the buffer stays in the core's first-level cache.
const REDUCE_BLOCK: usize = 4096;

/// How a scoped map reduces: over its items, and over partial results.
trait Reducer<R, A> {
    fn items<I: Iterator<Item = A>>(items: I) -> R;
    fn parts<I: Iterator<Item = R>>(parts: I) -> R;
}

/// `Iterator::sum`.
enum Summing {}

impl<R: Sum<A> + Sum<R>, A> Reducer<R, A> for Summing {
    fn items<I: Iterator<Item = A>>(items: I) -> R {
        items.sum()
    }

    fn parts<I: Iterator<Item = R>>(parts: I) -> R {
        parts.sum()
    }
}

/// `Iterator::product`.
enum Multiplying {}

impl<R: Product<A> + Product<R>, A> Reducer<R, A> for Multiplying {
    fn items<I: Iterator<Item = A>>(items: I) -> R {
        items.product()
    }

    fn parts<I: Iterator<Item = R>>(parts: I) -> R {
        parts.product()
    }
}

/// Reduces `func` over the items `range` of `items`, a block at a time: each block's results
/// go through a small buffer (a panicking item is its error there), are reduced, and the
/// block's result joins the running one.
fn reduce_range<S, F, T, R, M>(func: &F, items: &S, range: Range<usize>) -> R
where
    S: Indexed,
    F: Fn(S::Item) -> T,
    M: Reducer<R, Result<T, TaskError>>,
{
    let mut buffer = Vec::with_capacity(REDUCE_BLOCK.min(range.len()));
    let mut total: Option<R> = None;
    for start in range.clone().step_by(REDUCE_BLOCK) {
        let block = start..(start + REDUCE_BLOCK).min(range.end);
        let part = match Chunk::run_indexed(func, items, block, buffer).into_values() {
            // The common case, in a loop the compiler can make tight: no item failed.
            Ok(mut values) => {
                let part = M::items(values.drain(..).map(Ok));
                buffer = values;
                part
            }
            Err(chunk) => {
                let mut results = chunk.into_results();
                let part = M::items(results.by_ref());
                buffer = results.into_spare();
                part
            }
        };
        total = Some(match total {
            None => part,
            Some(total) => M::parts([total, part].into_iter()),
        });
    }
    total.unwrap_or_else(|| M::items(std::iter::empty()))
}

impl<S, F, T> Iterator for ScopedMap<'_, S, F, T> {
    type Item = Result<T, TaskError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.engine.next()
    }

    #[inline]
    fn fold<B, G>(mut self, init: B, g: G) -> B
    where
        G: FnMut(B, Self::Item) -> B,
    {
        self.engine.fold(init, g)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.engine.size_hint()
    }
}

impl<'scope, 'env> Scope<'scope, 'env> {
    /// Maps `func` over `items`, which the workers read in place, yielding one `Result` per
    /// item in order (Python's `Executor.map`, without its stop at the first error).
    ///
    /// `items` is anything [`Indexed`]: `&[T]`, `&Vec<T>`, `&[T; N]` (items `&T`), or a range
    /// of integers. Both `func` and the items may borrow anything that outlives the scope;
    /// nothing is copied or cloned. For any other iterator, see
    /// [`map_iter`](Self::map_iter).
    ///
    /// # Examples
    ///
    /// ```
    /// let data: Vec<u64> = (0..10_000).collect();
    /// let factor = 2;
    /// let doubled: Vec<u64> = parallel::scope(|s| {
    ///     s.map(|x: &u64| x * factor, &data).collect::<Result<_, _>>().unwrap()
    /// });
    /// assert_eq!(doubled[9_999], 19_998);
    /// ```
    pub fn map<S, F, T>(&'scope self, func: F, items: S) -> ScopedMap<'scope, S, F, T>
    where
        S: Indexed + Send + 'scope,
        F: Fn(S::Item) -> T + Send + Sync + 'scope,
        T: Send + 'scope,
    {
        self.map_with(func, items, MapOptions::new())
    }

    /// As [`map`](Self::map), with `options` (batch size, order, timeout, look-ahead).
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::MapOptions;
    ///
    /// let data = vec![1.5f64; 4096];
    /// let options = MapOptions::new().chunksize(512);
    /// let total: f64 = parallel::scope(|s| {
    ///     s.map_with(|x: &f64| x * 2.0, &data, options).map(Result::unwrap).sum()
    /// });
    /// assert_eq!(total, 12_288.0);
    /// ```
    pub fn map_with<S, F, T>(
        &'scope self,
        func: F,
        items: S,
        options: MapOptions,
    ) -> ScopedMap<'scope, S, F, T>
    where
        S: Indexed + Send + 'scope,
        F: Fn(S::Item) -> T + Send + Sync + 'scope,
        T: Send + 'scope,
    {
        let len = items.item_count();
        let shared = Arc::new((func, items));
        let submit = IndexedChunks {
            pool: self.pool,
            counter: self.counter(),
            shared: Arc::clone(&shared),
        };
        let mut engine = Engine::new(
            Box::new(submit),
            IndexFeed::new(len),
            self.pool.workers(),
            options,
        );
        engine.help_inline();
        ScopedMap {
            engine,
            shared,
            pool: self.pool,
            counter: self.counter(),
        }
    }

    /// Maps `func` over any iterator's items, which may borrow, as
    /// [`ThreadPool::map`](crate::ThreadPool::map) does (the items are gathered into batches
    /// on this thread). For a slice, [`map`](Self::map) reads the items in place instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let words = ["apple", "kiwi", "banana", "fig"];
    /// let long: Vec<usize> = parallel::scope(|s| {
    ///     s.map_iter(|w: &&str| w.len(), words.iter().filter(|w| w.len() > 3))
    ///         .collect::<Result<_, _>>()
    ///         .unwrap()
    /// });
    /// assert_eq!(long, [5, 4, 6]);
    /// ```
    pub fn map_iter<I, F, T>(&'scope self, func: F, items: I) -> Map<'scope, I::IntoIter, T>
    where
        I: IntoIterator,
        I::Item: Send + 'scope,
        F: Fn(I::Item) -> T + Send + Sync + 'scope,
        T: Send + 'scope,
    {
        self.map_iter_with(func, items, MapOptions::new())
    }

    /// As [`map_iter`](Self::map_iter), with `options`.
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::MapOptions;
    ///
    /// let text = "one two three";
    /// let lengths: Vec<usize> = parallel::scope(|s| {
    ///     let options = MapOptions::new().chunksize(2);
    ///     s.map_iter_with(str::len, text.split(' '), options).map(Result::unwrap).collect()
    /// });
    /// assert_eq!(lengths, [3, 3, 5]);
    /// ```
    pub fn map_iter_with<I, F, T>(
        &'scope self,
        func: F,
        items: I,
        options: MapOptions,
    ) -> Map<'scope, I::IntoIter, T>
    where
        I: IntoIterator,
        I::Item: Send + 'scope,
        F: Fn(I::Item) -> T + Send + Sync + 'scope,
        T: Send + 'scope,
    {
        let submit = IterChunks {
            pool: self.pool,
            counter: self.counter(),
            shared: Arc::new((func, Mutex::new(VecDeque::new()))),
        };
        Map::new(
            Box::new(submit),
            items.into_iter(),
            self.pool.workers(),
            options,
        )
    }
}

/// Runs a scoped map's batches of indices as tasks of the scope.
struct IndexedChunks<'scope, F, S> {
    pool: &'scope ThreadPool,
    counter: &'scope ScopeCounter,
    /// The function and the items, shared by the map and its batches (a batch may outlive a
    /// dropped map, never the scope).
    shared: Arc<(F, S)>,
}

impl<'scope, F, S, T> SubmitChunk<Range<usize>, T> for IndexedChunks<'scope, F, S>
where
    S: Indexed + Send + 'scope,
    F: Fn(S::Item) -> T + Send + Sync + 'scope,
    T: Send + 'scope,
{
    fn submit(&self, range: Range<usize>, values: Vec<T>) -> Future<Chunk<T>> {
        let shared = Arc::clone(&self.shared);
        let batch = move || {
            let (func, items) = &*shared;
            Chunk::run_indexed(func, items, range, values)
        };
        // SAFETY: `counter` is the scope's, which outlives its jobs; the batch borrows for
        // `'scope` only, and its future stays inside the `ScopedMap`, which carries `'scope`.
        unsafe { self.pool.submit_scoped(batch, self.counter) }
    }
}

/// Runs a scoped map's batches of items as tasks of the scope.
struct IterChunks<'scope, F, I> {
    pool: &'scope ThreadPool,
    counter: &'scope ScopeCounter,
    /// The function, and the item buffers that batches emptied, on their way back to the map.
    shared: Arc<(F, Mutex<VecDeque<Vec<I>>>)>,
}

impl<'scope, F, I, T> SubmitChunk<Vec<I>, T> for IterChunks<'scope, F, I>
where
    I: Send + 'scope,
    F: Fn(I) -> T + Send + Sync + 'scope,
    T: Send + 'scope,
{
    fn submit(&self, items: Vec<I>, values: Vec<T>) -> Future<Chunk<T>> {
        let shared = Arc::clone(&self.shared);
        let batch = move || {
            let (func, returned) = &*shared;
            let (chunk, items) = Chunk::run(func, items, values);
            lock(returned).push_back(items);
            chunk
        };
        // SAFETY: as for `IndexedChunks`; the future stays inside the `Map<'scope, ..>`.
        unsafe { self.pool.submit_scoped(batch, self.counter) }
    }

    fn returned(&self) -> Option<Vec<I>> {
        lock(&self.shared.1).pop_front()
    }
}
