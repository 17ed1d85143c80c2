//! [`MapOptions`]: how a map batches, orders and bounds its work, given when the map starts.

use std::time::Duration;

/// The options of a map, given to `map_with` (and by `pmap!` after its `;`), so that they
/// hold from the first item: a map starts submitting work when it is made.
///
/// | option | default | meaning | Python |
/// |---|---|---|---|
/// | [`chunksize(n)`](Self::chunksize) | adaptive | items per task; by default sized from measured item cost | `chunksize` |
/// | [`ordered(false)`](Self::ordered) | ordered | yield in completion order | `imap_unordered` |
/// | [`timeout(d)`](Self::timeout) | none | deadline counted from the call | `timeout` |
/// | [`lookahead(n)`](Self::lookahead) | 4 × workers | batches in flight at once | `buffersize` (3.14) |
///
/// # Examples
///
/// ```
/// use parallel::{MapOptions, ThreadPool};
///
/// let pool = ThreadPool::new();
/// let options = MapOptions::new().chunksize(100).ordered(false);
/// let mut squares: Vec<u64> = pool
///     .map_with(|x: u64| x * x, 0..1000, options)
///     .collect::<Result<_, _>>()
///     .unwrap();
/// squares.sort();
/// assert_eq!(squares[999], 999 * 999);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "options do nothing until given to a map"]
pub struct MapOptions {
    pub(crate) chunksize: Option<usize>,
    pub(crate) lookahead: Option<usize>,
    pub(crate) ordered: bool,
    pub(crate) timeout: Option<Duration>,
}

impl MapOptions {
    /// The defaults: adaptive batches, input order, no timeout, 4 batches per worker in
    /// flight.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(parallel::MapOptions::new(), parallel::MapOptions::default());
    /// ```
    pub const fn new() -> Self {
        Self {
            chunksize: None,
            lookahead: None,
            ordered: true,
            timeout: None,
        }
    }

    /// Sends `size` items per task instead of sizing batches from measured item cost
    /// (Python's `chunksize`).
    ///
    /// # Panics
    ///
    /// If `size` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{MapOptions, ThreadPool};
    /// let pool = ThreadPool::new();
    /// let sum: u64 = pool.map_with(|x: u64| x, 0..1000, MapOptions::new().chunksize(100)).map(Result::unwrap).sum();
    /// assert_eq!(sum, 499_500);
    /// ```
    pub const fn chunksize(mut self, size: usize) -> Self {
        assert!(size > 0, "`chunksize` must be at least 1");
        self.chunksize = Some(size);
        self
    }

    /// Keeps at most `batches` batches in flight (submitted but not yet yielded). More keeps
    /// workers busier when item costs vary; fewer bounds memory tighter.
    ///
    /// # Panics
    ///
    /// If `batches` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{MapOptions, ThreadPool};
    /// let pool = ThreadPool::new();
    /// // An endless input is fine: only a bounded number of items is ever in flight.
    /// let first: Vec<u64> = pool
    ///     .map_with(|x: u64| x * 2, 0.., MapOptions::new().lookahead(2))
    ///     .take(3)
    ///     .map(Result::unwrap)
    ///     .collect();
    /// assert_eq!(first, [0, 2, 4]);
    /// ```
    pub const fn lookahead(mut self, batches: usize) -> Self {
        assert!(batches > 0, "`lookahead` must be at least 1");
        self.lookahead = Some(batches);
        self
    }

    /// Yields results in input order (`true`, the default) or as they complete (`false`,
    /// Python's `imap_unordered`; items of one batch stay together).
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{MapOptions, ThreadPool};
    /// let pool = ThreadPool::new();
    /// let mut got: Vec<i32> = pool
    ///     .map_with(|x| x + 1, 0..10, MapOptions::new().ordered(false))
    ///     .map(Result::unwrap)
    ///     .collect();
    /// got.sort();
    /// assert_eq!(got, (1..11).collect::<Vec<_>>());
    /// ```
    pub const fn ordered(mut self, ordered: bool) -> Self {
        self.ordered = ordered;
        self
    }

    /// Gives the whole map `timeout`, counted from the call that made it (Python's
    /// `map(timeout=)`): an item not done by then yields `Err(TaskError::TimedOut)` with
    /// [`Deadline::Map`](crate::Deadline::Map), the map ends, and the batches not started
    /// are cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use parallel::{MapOptions, ThreadPool};
    /// let pool = ThreadPool::builder().workers(1).build().unwrap();
    /// let nap = |ms| std::thread::sleep(Duration::from_millis(ms));
    /// let options = MapOptions::new().timeout(Duration::from_millis(200));
    /// let results: Vec<_> = pool.map_with(nap, [0, 5_000], options).collect();
    /// assert!(results[0].is_ok());
    /// assert!(results[1].as_ref().unwrap_err().is_timed_out());
    /// ```
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

impl Default for MapOptions {
    fn default() -> Self {
        Self::new()
    }
}
