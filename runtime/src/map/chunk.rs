//! `Chunk`: a batch of map items run as one task, and the sizing rule for batches.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use crate::error::TaskError;

/// The results of one batch of map items, as the worker produced them.
///
/// Values and failures are kept apart, so a batch of cheap items moves as one plain `Vec<T>`
/// and a failed item costs nothing until one happens.
pub(crate) struct Chunk<T> {
    /// The values of the items that succeeded, in item order.
    values: Vec<T>,
    /// `(position, error)` for each item that failed, in item order.
    failures: Vec<(usize, TaskError)>,
    len: usize,
    /// How long the worker spent on the batch, for sizing later batches.
    elapsed: Duration,
}

impl<T> Chunk<T> {
    /// Runs `func` on each item; a panicking item becomes that item's error and the rest run.
    pub(crate) fn run<I>(func: &impl Fn(I) -> T, items: Vec<I>) -> Self {
        let start = Instant::now();
        let len = items.len();
        let mut items = items.into_iter();
        let mut values = Vec::with_capacity(len);
        let mut failures = Vec::new();
        // One tight `extend` over the batch; a panic ends it at the failing item (already
        // taken from `items`, with the values before it kept), and the loop resumes after it.
        while let Err(payload) =
            catch_unwind(AssertUnwindSafe(|| values.extend(items.by_ref().map(func))))
        {
            let position = values.len() + failures.len();
            failures.push((position, TaskError::from_panic(payload)));
        }
        Self {
            values,
            failures,
            len,
            elapsed: start.elapsed(),
        }
    }

    /// A batch as a worker process reported it: the values of the items that succeeded and
    /// `(position, error)` for those that failed, in item order.
    pub(crate) fn from_parts(
        values: Vec<T>,
        failures: Vec<(usize, TaskError)>,
        elapsed: Duration,
    ) -> Self {
        Self {
            len: values.len() + failures.len(),
            values,
            failures,
            elapsed,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.elapsed
    }

    pub(crate) fn into_results(self) -> ChunkResults<T> {
        let mut results = ChunkResults {
            values: self.values.into_iter(),
            clean: 0,
            next_failure: None,
            failures: self.failures.into_iter(),
            position: 0,
            whole: None,
        };
        results.plan();
        results
    }
}

/// One `Result` per item of a batch, in item order.
///
/// The common case, an item that did not fail, is a decrement and a `vec::IntoIter::next`.
pub(crate) struct ChunkResults<T> {
    values: std::vec::IntoIter<T>,
    /// How many values to yield before the next failure (or the end).
    clean: usize,
    /// The next failure, yielded once `clean` runs out.
    next_failure: Option<TaskError>,
    failures: std::vec::IntoIter<(usize, TaskError)>,
    /// The position of the item after the last one yielded by `plan`'s reckoning.
    position: usize,
    /// A batch that failed as a whole (cancelled, shut down, broken): its error and the
    /// number of items still to report it for.
    whole: Option<(TaskError, usize)>,
}

impl<T> ChunkResults<T> {
    /// No results.
    pub(crate) fn empty() -> Self {
        Self::failed(TaskError::Cancelled, 0)
    }

    /// A batch of `len` items that all failed with `error`.
    pub(crate) fn failed(error: TaskError, len: usize) -> Self {
        Self {
            values: Vec::new().into_iter(),
            clean: 0,
            next_failure: None,
            failures: Vec::new().into_iter(),
            position: 0,
            whole: (len > 0).then_some((error, len)),
        }
    }

    /// Counts the clean values up to the next failure.
    fn plan(&mut self) {
        match self.failures.next() {
            Some((at, error)) => {
                self.clean = at - self.position;
                self.position = at + 1;
                self.next_failure = Some(error);
            }
            None => self.clean = self.values.len(),
        }
    }

    /// After the clean run: a failure, or the end.
    #[cold]
    fn after_clean(&mut self) -> Option<Result<T, TaskError>> {
        if let Some(error) = self.next_failure.take() {
            self.plan();
            return Some(Err(error));
        }
        let (error, left) = self.whole.as_mut()?;
        *left -= 1;
        if *left > 0 {
            return Some(Err(error.clone()));
        }
        self.whole.take().map(|(error, _)| Err(error))
    }
}

impl<T> Iterator for ChunkResults<T> {
    type Item = Result<T, TaskError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.clean == 0 {
            return self.after_clean();
        }
        self.clean -= 1;
        self.values.next().map(Ok)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let failures = match &self.whole {
            Some((_, left)) => *left,
            None => self.failures.len() + usize::from(self.next_failure.is_some()),
        };
        let left = self.values.len() + failures;
        (left, Some(left))
    }
}

/// How long one batch should keep a worker busy: long enough that the fixed cost of a task
/// (about a microsecond, a few with a wake-up) is lost in it, short enough that results flow
/// and the last batches spread over the workers.
pub(crate) const TARGET_BATCH: Duration = Duration::from_micros(250);
/// The most items in one batch, so memory stays bounded however cheap items are.
pub(crate) const MAX_BATCH: usize = 1 << 16;
/// The most bytes of items (or of results) in one batch. Small enough that batch buffers come
/// from the allocator's free lists and are reused, rather than freshly mapped (and
/// page-faulted in) for every batch, which costs more than the work on cheap items.
const MAX_BATCH_BYTES: usize = 64 << 10;
/// How much a batch may grow over the one before it.
const GROWTH: usize = 4;

/// Chooses batch sizes: a fixed `chunksize`, or adaptively from measured per-item cost.
///
/// Adaptive sizing starts at one item per batch, so slow items (and timeouts) behave exactly
/// as without batching, and grows at most `GROWTH` times from one batch to the next as
/// measurements show items to be cheap, so a cheap prefix cannot trick it into batching slow
/// items by the thousand.
#[derive(Debug)]
pub(crate) struct ChunkSizer {
    fixed: Option<usize>,
    /// How long a batch should take (`TARGET_BATCH` for threads; longer where a batch costs
    /// more to hand over).
    target: Duration,
    /// The most items per batch, from `MAX_BATCH` and `MAX_BATCH_BYTES`.
    max: usize,
    last: usize,
    /// Smoothed nanoseconds per item, from finished batches.
    per_item: Option<f64>,
}

impl ChunkSizer {
    /// A sizer for items of `item_bytes` bytes with results of `result_bytes` bytes.
    pub(crate) fn new(item_bytes: usize, result_bytes: usize, target: Duration) -> Self {
        let widest = item_bytes.max(result_bytes).max(1);
        Self {
            fixed: None,
            target,
            max: (MAX_BATCH_BYTES / widest).clamp(1, MAX_BATCH),
            last: 0,
            per_item: None,
        }
    }

    pub(crate) fn fix(&mut self, size: usize) {
        self.fixed = Some(size);
    }

    /// The size of the next batch.
    pub(crate) fn next_size(&mut self) -> usize {
        if let Some(size) = self.fixed {
            return size;
        }
        let ideal = match self.per_item {
            None => 1,
            Some(nanos) => {
                ((self.target.as_nanos() as f64 / nanos.max(0.1)) as usize).clamp(1, self.max)
            }
        };
        self.last = ideal.min(self.last.saturating_mul(GROWTH)).max(1);
        self.last
    }

    /// Learns from a finished batch of `len` items that took `elapsed`.
    pub(crate) fn observe(&mut self, len: usize, elapsed: Duration) {
        if len == 0 || self.fixed.is_some() {
            return;
        }
        let sample = elapsed.as_nanos() as f64 / len as f64;
        self.per_item = Some(match self.per_item {
            None => sample,
            Some(old) => (old + sample) / 2.0,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_item_fails_alone() {
        let chunk = Chunk::run(
            &|x: i32| if x == 2 { panic!("two") } else { x * 10 },
            vec![1, 2, 3],
        );
        let results: Vec<_> = chunk.into_results().collect();
        assert_eq!(results[0], Ok(10));
        assert_eq!(results[1], Err(TaskError::panicked("two")));
        assert_eq!(results[2], Ok(30));
    }

    #[test]
    fn a_failed_batch_yields_its_error_per_item() {
        let results: Vec<Result<i32, _>> = ChunkResults::failed(TaskError::Cancelled, 3).collect();
        assert_eq!(results, vec![Err(TaskError::Cancelled); 3]);
    }

    #[test]
    fn sizes_start_at_one_and_grow_by_steps() {
        let mut sizer = ChunkSizer::new(1, 1, TARGET_BATCH);
        assert_eq!(sizer.next_size(), 1);
        assert_eq!(sizer.next_size(), 1, "no measurement yet");
        sizer.observe(1, Duration::from_nanos(1));
        let sizes: Vec<_> = (0..20).map(|_| sizer.next_size()).collect();
        assert_eq!(&sizes[..4], &[4, 16, 64, 256]);
        assert_eq!(*sizes.last().unwrap(), MAX_BATCH);
    }

    #[test]
    fn wide_items_make_smaller_batches() {
        let mut sizer = ChunkSizer::new(1024, 8, TARGET_BATCH);
        sizer.next_size();
        sizer.observe(1, Duration::from_nanos(1));
        assert_eq!((0..20).map(|_| sizer.next_size()).max(), Some(64));
    }

    #[test]
    fn failures_at_the_edges_are_yielded_in_place() {
        let chunk = Chunk::run(
            &|x: i32| if x % 3 == 0 { panic!("{x}") } else { x },
            vec![0, 1, 2, 3],
        );
        let results: Vec<_> = chunk.into_results().collect();
        assert_eq!(
            results,
            [
                Err(TaskError::panicked("0")),
                Ok(1),
                Ok(2),
                Err(TaskError::panicked("3"))
            ]
        );
    }

    #[test]
    fn slow_items_stay_one_per_batch() {
        let mut sizer = ChunkSizer::new(8, 8, TARGET_BATCH);
        sizer.next_size();
        sizer.observe(1, Duration::from_millis(300));
        assert!((0..10).all(|_| sizer.next_size() == 1));
    }

    #[test]
    fn a_fixed_size_is_kept() {
        let mut sizer = ChunkSizer::new(8, 8, TARGET_BATCH);
        sizer.fix(7);
        sizer.observe(7, Duration::from_nanos(7));
        assert_eq!(sizer.next_size(), 7);
    }
}
