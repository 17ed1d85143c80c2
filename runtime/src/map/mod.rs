//! [`Map`]: a parallel map over an iterator, in input order or completion order, batched
//! and with bounded look-ahead. The machinery is the `Engine` (`engine.rs`), shared with the
//! scoped maps, which feed it ranges of a slice instead of an iterator's items (`feed.rs`).

mod chunk;
pub(crate) mod engine;
pub(crate) mod feed;
mod options;
mod spare;

use std::time::Duration;

pub(crate) use self::chunk::{Chunk, EachItem, RunBatch, TARGET_BATCH};
use self::engine::Engine;
use self::feed::IterFeed;
pub use self::options::MapOptions;
use crate::error::TaskError;
use crate::future::Future;

/// How a pool runs one batch of map items: the seam between a map and each kind of pool.
/// `B` is what a batch carries to its worker: its items (`Vec<I>`), or the range of indices a
/// worker reads in place (a scoped map over a slice).
pub(crate) trait SubmitChunk<B, T> {
    /// Submits a batch, with `values`, an emptied buffer that the batch may write its results
    /// into (see `spare.rs`).
    fn submit(&self, batch: B, values: Vec<T>) -> Future<Chunk<T>>;

    /// How long an adaptively sized batch should keep a worker busy: long enough that the
    /// cost of handing a batch over is lost in it.
    fn target_batch(&self) -> Duration {
        TARGET_BATCH
    }

    /// A batch that a finished task emptied and gave back for reuse, if any.
    fn returned(&self) -> Option<B> {
        None
    }
}

/// The iterator returned by [`ThreadPool::map`](crate::ThreadPool::map) and
/// [`ProcessPool::map`](crate::ProcessPool::map): one `Result<T, TaskError>` per input item.
///
/// The map starts at the call, as Python's `map` does: the first batches (up to the
/// look-ahead) are submitted before `map` returns, so a map made and left alone still does
/// that work, and one iterated later has its first results ready. How it batches is given
/// with the call ([`MapOptions`](crate::MapOptions), through `map_with` or `pmap!`'s
/// options); the order and the timeout can also be chained, before the first item is taken:
/// [`ordered(false)`](Self::ordered), [`timeout(d)`](Self::timeout).
///
/// A failed item yields its error and the map goes on. At most `lookahead` batches are in
/// flight, so an endless iterator runs in bounded memory. Dropping the iterator cancels every
/// batch that has not started.
///
/// Batch buffers are reused from batch to batch, and a dropped map leaves them (up to 4 MiB
/// per thread) to the next map on the same thread. Internal iteration (`sum`, `for_each`,
/// `fold`, …) walks each batch in one tight loop; `next`, which `collect` uses, costs a call
/// per item.
///
/// # Examples
///
/// ```
/// use parallel::ThreadPool;
///
/// let pool = ThreadPool::new();
/// let squares: Vec<u64> = pool.map(|x: u64| x * x, 1..=4).collect::<Result<_, _>>().unwrap();
/// assert_eq!(squares, [1, 4, 9, 16]);
/// ```
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct Map<'a, I: Iterator, T> {
    engine: Engine<'a, IterFeed<I>, T>,
}

impl<'a, I: Iterator, T> Map<'a, I, T> {
    /// A map of `source` whose batches `submit` runs, on a pool of `workers`.
    pub(crate) fn new(
        submit: Box<dyn SubmitChunk<Vec<I::Item>, T> + Send + 'a>,
        source: I,
        workers: usize,
        options: MapOptions,
    ) -> Self {
        Self {
            engine: Engine::new(submit, IterFeed::new(source), workers, options),
        }
    }

    /// Yields results in input order (`true`, the default) or as they complete (`false`,
    /// Python's `imap_unordered`; items of one batch stay together).
    ///
    /// # Panics
    ///
    /// If the map has already yielded.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::new();
    /// let mut got: Vec<i32> = pool.map(|x| x + 1, 0..10).ordered(false).map(Result::unwrap).collect();
    /// got.sort();
    /// assert_eq!(got, (1..11).collect::<Vec<_>>());
    /// ```
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.engine.set_ordered(ordered);
        self
    }

    /// Gives the whole map `timeout`, counted from the `map` call (as Python's
    /// `map(timeout=)`, and [`MapOptions::timeout`](crate::MapOptions::timeout)). An item
    /// not done by then yields `Err(TaskError::TimedOut)`, the iterator ends, and the batches
    /// not started are cancelled.
    ///
    /// # Panics
    ///
    /// If the map has already yielded.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let pool = parallel::ThreadPool::builder().workers(1).build().unwrap();
    /// let results: Vec<_> = pool
    ///     .map(|ms| std::thread::sleep(Duration::from_millis(ms)), [0, 5_000])
    ///     .timeout(Duration::from_millis(200))
    ///     .collect();
    /// assert!(results[0].is_ok());
    /// assert!(results[1].as_ref().unwrap_err().is_timed_out());
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.engine.set_timeout(timeout);
        self
    }

    /// Collects the results into a `Vec`, or gives the first failure: what
    /// `.collect::<Result<Vec<T>, TaskError>>()` gives, faster. Each batch's values are moved
    /// into the `Vec` in one copy (`collect` takes them one call at a time), into room
    /// reserved once for as many items as the input says it has. The batches after a failure
    /// are cancelled, as when the map is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{pmap, ThreadPool};
    ///
    /// let pool = ThreadPool::new();
    /// let squares = pool.map(|x: u64| x * x, 0..1_000).collect_vec().unwrap();
    /// assert_eq!(squares[999], 998_001);
    ///
    /// let halves = pmap!(|x: u32| if x == 7 { panic!("no 7") } else { x / 2 }, 0..10).collect_vec();
    /// assert!(halves.unwrap_err().is_panicked());
    /// ```
    pub fn collect_vec(mut self) -> Result<Vec<T>, TaskError> {
        self.engine.collect_vec()
    }
}

impl<I: Iterator, T> Iterator for Map<'_, I, T> {
    type Item = Result<T, TaskError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.engine.next()
    }

    /// Internal iteration (`sum`, `for_each`, `fold`, …) runs a batch's values in one tight
    /// loop instead of a call to `next` per item.
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
