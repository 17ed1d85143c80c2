//! [`Map`]: a parallel map over an iterator, in input order or completion order, batched
//! and with bounded look-ahead.

mod chunk;
mod options;
mod spare;

use std::collections::VecDeque;
use std::iter::Fuse;
use std::time::{Duration, Instant};

pub(crate) use self::chunk::{Chunk, EachItem, RunBatch};
use self::chunk::{ChunkResults, ChunkSizer};
pub use self::options::MapOptions;
use self::spare::Spares;
use crate::error::{Deadline, TaskError};
use crate::future::task::current_pool;
use crate::future::Future;
use crate::signal::Signal;
use crate::sync::Arc;

/// How a pool runs one batch of map items: the seam between [`Map`] and each kind of pool.
pub(crate) trait SubmitChunk<I, T> {
    fn submit(&self, items: Vec<I>) -> Future<Chunk<T>>;

    /// How long an adaptively sized batch should keep a worker busy: long enough that the
    /// cost of handing a batch over is lost in it.
    fn target_batch(&self) -> std::time::Duration {
        chunk::TARGET_BATCH
    }

    /// Like `submit`, with `values`, an emptied buffer that the batch may write its results
    /// into (see `spare.rs`).
    fn submit_reusing(&self, items: Vec<I>, values: Vec<T>) -> Future<Chunk<T>> {
        drop(values);
        self.submit(items)
    }

    /// An item buffer that a finished batch emptied and gave back for reuse, if any.
    fn returned_items(&self) -> Option<Vec<I>> {
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
    source: Fuse<I>,
    exhausted: bool,
    submit: Box<dyn SubmitChunk<I::Item, T> + Send + 'a>,
    window: Window<T>,
    /// The batch being yielded (empty between batches).
    current: ChunkResults<T>,
    /// Emptied buffers of finished batches, for the next batches (see `spare.rs`).
    spares: Spares<I::Item, T>,
    /// Leaves the spares on this thread for the next map; a function pointer because only
    /// `new` knows the types to be `'static`.
    keep_spares: fn(Spares<I::Item, T>),
    sizer: ChunkSizer,
    lookahead: usize,
    called: Instant,
    deadline: Option<Instant>,
    began: bool,
    finished: bool,
}

impl<'a, I: Iterator, T> Map<'a, I, T> {
    pub(crate) fn new(
        submit: Box<dyn SubmitChunk<I::Item, T> + Send + 'a>,
        source: I,
        workers: usize,
        options: MapOptions,
    ) -> Self
    where
        I::Item: 'static,
        T: 'static,
    {
        let target = submit.target_batch();
        let called = Instant::now();
        let mut sizer = ChunkSizer::new(
            std::mem::size_of::<I::Item>(),
            std::mem::size_of::<T>(),
            target,
        );
        if let Some(size) = options.chunksize {
            sizer.fix(size);
        }
        let window = if options.ordered {
            Window::Ordered(VecDeque::new())
        } else {
            Window::Unordered(Unordered::new())
        };
        let mut map = Self {
            source: source.fuse(),
            exhausted: false,
            submit,
            window,
            current: ChunkResults::empty(),
            spares: Spares::take_kept(),
            keep_spares: Spares::keep,
            sizer,
            lookahead: options.lookahead.unwrap_or(4 * workers.max(1)),
            called,
            deadline: options
                .timeout
                .and_then(|timeout| called.checked_add(timeout)),
            began: false,
            finished: false,
        };
        map.fill();
        map
    }

    fn assert_unstarted(&self, option: &str) {
        assert!(
            !self.began,
            "`{option}` was set after the map began: chain map options before taking the first item"
        );
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
        self.assert_unstarted("ordered");
        let window = std::mem::replace(&mut self.window, Window::Ordered(VecDeque::new()));
        self.window = window.reorder(ordered);
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
        self.assert_unstarted("timeout");
        self.deadline = self.called.checked_add(timeout);
        self
    }

    /// Submits batches until `lookahead` are in flight or the input runs out.
    fn fill(&mut self) {
        while !self.exhausted && self.window.len() < self.lookahead {
            let size = self.sizer.next_size();
            let mut items = self.spares.items();
            items.extend(self.source.by_ref().take(size));
            self.exhausted = items.len() < size;
            if items.is_empty() {
                self.spares.put_items(items);
                break;
            }
            let len = items.len();
            let values = self.spares.values();
            let future = self.submit.submit_reusing(items, values);
            self.window.push(Batch { future, len });
        }
    }

    fn cancel_all(&mut self) {
        self.window.cancel_all();
    }
}

impl<I: Iterator, T> Iterator for Map<'_, I, T> {
    type Item = Result<T, TaskError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self.current.next() {
            Some(item) => Some(item),
            None => self.next_batch(),
        }
    }

    /// Internal iteration (`sum`, `for_each`, `fold`, …) runs a batch's values in one tight
    /// loop instead of a call to `next` per item.
    fn fold<B, G>(mut self, init: B, mut g: G) -> B
    where
        G: FnMut(B, Self::Item) -> B,
    {
        let mut acc = init;
        loop {
            acc = self.current.fold_clean(acc, &mut g);
            match self.next_batch() {
                Some(item) => acc = g(acc, item),
                None => return acc,
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let current = self.current.size_hint().0;
        if self.finished {
            return (current, Some(current));
        }
        let buffered = current + self.window.items();
        let (low, high) = if self.exhausted {
            (0, Some(0))
        } else {
            self.source.size_hint()
        };
        let high = high.and_then(|high| high.checked_add(buffered));
        // A timeout may end the map early, so only what is in hand is certain then.
        let low = if self.deadline.is_some() {
            current
        } else {
            buffered.saturating_add(low)
        };
        (low, high)
    }
}

impl<I: Iterator, T> Map<'_, I, T> {
    /// Moves on to the next batch: the slow path of `next`.
    #[inline(never)]
    fn next_batch(&mut self) -> Option<Result<T, TaskError>> {
        loop {
            if let Some(item) = self.current.next() {
                return Some(item);
            }
            if self.finished {
                return None;
            }
            self.began = true;
            self.fill();
            match self.window.next_batch(self.deadline) {
                Next::Empty => {
                    self.finished = true;
                    return None;
                }
                Next::TimedOut => {
                    self.cancel_all();
                    self.finished = true;
                    return Some(Err(TaskError::timed_out(Deadline::Map)));
                }
                Next::Ready(batch) => {
                    let outcome = batch.future.try_result().expect("a ready batch is done");
                    let next = match outcome {
                        Ok(chunk) => {
                            self.sizer.observe(chunk.len(), chunk.elapsed());
                            chunk.into_results()
                        }
                        Err(error) => ChunkResults::failed(error, batch.len),
                    };
                    let done = std::mem::replace(&mut self.current, next);
                    self.spares.put_values(done.into_spare());
                    if let Some(items) = self.submit.returned_items() {
                        self.spares.put_items(items);
                    }
                    // Refill before the consumer works through this batch.
                    self.fill();
                }
            }
        }
    }
}

impl<I: Iterator, T> Drop for Map<'_, I, T> {
    fn drop(&mut self) {
        self.cancel_all();
        let current = std::mem::replace(&mut self.current, ChunkResults::empty());
        self.spares.put_values(current.into_spare());
        while let Some(items) = self.submit.returned_items() {
            self.spares.put_items(items);
        }
        (self.keep_spares)(std::mem::replace(&mut self.spares, Spares::none()));
    }
}

struct Batch<T> {
    future: Future<Chunk<T>>,
    len: usize,
}

enum Next<T> {
    Ready(Batch<T>),
    TimedOut,
    Empty,
}

/// The batches in flight.
enum Window<T> {
    /// In submission order; the front is yielded next.
    Ordered(VecDeque<Batch<T>>),
    /// Yielded as they finish.
    Unordered(Unordered<T>),
}

impl<T> Window<T> {
    /// The same batches, yielded in input order (`ordered`) or as they finish.
    fn reorder(self, ordered: bool) -> Self {
        match (self, ordered) {
            (Self::Ordered(queue), false) => {
                let mut set = Unordered::new();
                // In submission order: those already done are reported in that order.
                queue.into_iter().for_each(|batch| set.push(batch));
                Self::Unordered(set)
            }
            // Options are set before the first item, when no slot has been freed yet, so the
            // slots are in submission order.
            (Self::Unordered(set), true) => {
                Self::Ordered(set.slots.into_iter().flatten().collect())
            }
            (window, _) => window,
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Ordered(queue) => queue.len(),
            Self::Unordered(set) => set.in_flight,
        }
    }

    /// The number of items in flight.
    fn items(&self) -> usize {
        match self {
            Self::Ordered(queue) => queue.iter().map(|batch| batch.len).sum(),
            Self::Unordered(set) => set.slots.iter().flatten().map(|batch| batch.len).sum(),
        }
    }

    fn push(&mut self, batch: Batch<T>) {
        match self {
            Self::Ordered(queue) => queue.push_back(batch),
            Self::Unordered(set) => set.push(batch),
        }
    }

    fn next_batch(&mut self, deadline: Option<Instant>) -> Next<T> {
        match self {
            Self::Ordered(queue) => match queue.front() {
                None => Next::Empty,
                Some(front) if !front.future.block(deadline) => Next::TimedOut,
                Some(_) => Next::Ready(queue.pop_front().expect("front exists")),
            },
            Self::Unordered(set) => set.next_batch(deadline),
        }
    }

    fn cancel_all(&mut self) {
        match self {
            Self::Ordered(queue) => queue.iter().for_each(|batch| {
                batch.future.cancel();
            }),
            Self::Unordered(set) => set.slots.iter().flatten().for_each(|batch| {
                batch.future.cancel();
            }),
        }
    }
}

/// Batches in flight for an unordered map: a slab of slots, each subscribed to one signal
/// with its slot index as token.
struct Unordered<T> {
    slots: Vec<Option<Batch<T>>>,
    free: Vec<usize>,
    in_flight: usize,
    signal: Arc<Signal>,
}

impl<T> Unordered<T> {
    fn new() -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            in_flight: 0,
            signal: Signal::new(),
        }
    }

    fn push(&mut self, batch: Batch<T>) {
        let slot = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        if !batch.future.completion().subscribe(&self.signal, slot) {
            self.signal.notify(slot);
        }
        self.slots[slot] = Some(batch);
        self.in_flight += 1;
    }

    fn next_batch(&mut self, deadline: Option<Instant>) -> Next<T> {
        if self.in_flight == 0 {
            return Next::Empty;
        }
        let slot = loop {
            if let Some(slot) = self.signal.try_recv() {
                break slot;
            }
            if !self.help_one() {
                match self.signal.recv(deadline) {
                    Some(slot) => break slot,
                    None => return Next::TimedOut,
                }
            }
        };
        self.in_flight -= 1;
        self.free.push(slot);
        Next::Ready(
            self.slots[slot]
                .take()
                .expect("a signalled slot holds a batch"),
        )
    }

    /// On a pool worker, runs one batch still queued on this worker's pool instead of
    /// sleeping on it (see `Completion::help`).
    fn help_one(&self) -> bool {
        current_pool() != 0
            && self
                .slots
                .iter()
                .flatten()
                .any(|batch| batch.future.completion().help())
    }
}
