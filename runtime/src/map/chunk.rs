//! `Chunk`: a batch of map items run as one task, and the sizing rule for batches.

use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use crate::error::TaskError;
use crate::panic;
use crate::scope::Indexed;

/// How a thread pool runs one batch of a map: each item through a function, or a batch
/// runner compiled where the function is defined (a registered `#[parallel]` function).
pub(crate) trait RunBatch<I, T>: Send + Sync + 'static {
    /// Runs the batch `items`, writing into `values`; gives back the emptied item buffer.
    fn run(&self, items: Vec<I>, values: Vec<T>) -> (Chunk<T>, Vec<I>);
}

/// A map's function, run on each item of a batch.
pub(crate) struct EachItem<F>(pub(crate) F);

impl<F, I, T> RunBatch<I, T> for EachItem<F>
where
    F: Fn(I) -> T + Send + Sync + 'static,
{
    fn run(&self, items: Vec<I>, values: Vec<T>) -> (Chunk<T>, Vec<I>) {
        Chunk::run(&self.0, items, values)
    }
}

/// The results of one batch of map items, as the worker produced them.
///
/// Values and failures are kept apart, so a batch of cheap items moves as one plain `Vec<T>`
/// and a failed item costs nothing until one happens.
///
/// `pub` only so that the registry's descriptions of `#[parallel]` functions can carry
/// functions that make one; its module is private, so no user can name it.
pub struct Chunk<T> {
    /// The values of the items that succeeded, in item order.
    values: Vec<T>,
    /// `(position, error)` for each item that failed, in item order.
    failures: Vec<(usize, TaskError)>,
    len: usize,
    /// How long the worker spent on the batch, for sizing later batches.
    elapsed: Duration,
}

impl<T> Chunk<T> {
    /// Runs `func` on each item, writing the values into `values` (a spare buffer, cleared
    /// first); a panicking item becomes that item's error and the rest run. Gives back the
    /// item buffer, emptied, for a later batch (see `spare.rs`).
    pub(crate) fn run<I>(
        func: &impl Fn(I) -> T,
        mut items: Vec<I>,
        mut values: Vec<T>,
    ) -> (Self, Vec<I>) {
        let start = Instant::now();
        let len = items.len();
        values.clear();
        values.reserve(len);
        let mut failures = Vec::new();
        let mut drain = items.drain(..);
        // One tight `extend` over the batch; a panic ends it at the failing item (already
        // taken from `drain`, with the values before it kept), and the loop resumes after it.
        panic::catching(|| {
            while let Err(payload) =
                catch_unwind(AssertUnwindSafe(|| values.extend(drain.by_ref().map(func))))
            {
                let position = values.len() + failures.len();
                failures.push((position, panic::error_of(payload)));
            }
        });
        drop(drain);
        let chunk = Self {
            values,
            failures,
            len,
            elapsed: start.elapsed(),
        };
        (chunk, items)
    }

    /// Runs `func` on the items `range` of `source`, read in place, writing the values into
    /// `values` (a spare buffer, cleared first); a panicking item becomes that item's error
    /// and the rest run.
    pub(crate) fn run_indexed<S: Indexed>(
        func: &impl Fn(S::Item) -> T,
        source: &S,
        range: Range<usize>,
        mut values: Vec<T>,
    ) -> Self {
        let start = Instant::now();
        let len = range.len();
        values.clear();
        values.reserve(len);
        let mut failures = Vec::new();
        let mut next = range.start;
        // One tight loop over the range (`Indexed::map_range`, which appends the values in
        // order); a panic ends it at the failing item, with the values before it kept, and
        // the loop resumes after it.
        panic::catching(|| loop {
            let before = values.len();
            let rest = next..range.end;
            let expected = rest.len();
            match catch_unwind(AssertUnwindSafe(|| {
                source.map_range(rest, func, &mut values);
            })) {
                Ok(()) => {
                    // An `Indexed` type's own `map_range` that breaks its contract fails the
                    // whole batch rather than misplacing results.
                    assert_eq!(
                        values.len() - before,
                        expected,
                        "`Indexed::map_range` must append one value per item"
                    );
                    break;
                }
                Err(payload) => {
                    let done = values.len() - before;
                    assert!(
                        done < expected,
                        "`Indexed::map_range` must append one value per item"
                    );
                    let failed = next + done;
                    failures.push((failed - range.start, panic::error_of(payload)));
                    next = failed + 1;
                    if next >= range.end {
                        break;
                    }
                }
            }
        });
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

    /// The values, if no item failed; otherwise the chunk back.
    pub(crate) fn into_values(self) -> Result<Vec<T>, Self> {
        if self.failures.is_empty() {
            Ok(self.values)
        } else {
            Err(self)
        }
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.elapsed
    }

    pub(crate) fn into_results(self) -> ChunkResults<T> {
        let mut results = ChunkResults {
            values: Values::new(self.values),
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
/// The common case, an item that did not fail, is one comparison and a read.
pub(crate) struct ChunkResults<T> {
    /// The values; its `end` is the position of the next failure (or the end).
    values: Values<T>,
    /// The next failure, yielded once the values before it are.
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
            values: Values::new(Vec::new()),
            next_failure: None,
            failures: Vec::new().into_iter(),
            position: 0,
            whole: (len > 0).then_some((error, len)),
        }
    }

    /// Lets the values run up to the next failure.
    fn plan(&mut self) {
        match self.failures.next() {
            Some((at, error)) => {
                self.values.run_for(at - self.position);
                self.position = at + 1;
                self.next_failure = Some(error);
            }
            None => self.values.run_for(usize::MAX),
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

    /// Folds the values up to the next failure into `acc`: the inner loop of `Map::fold`.
    #[inline]
    pub(crate) fn fold_clean<B>(
        &mut self,
        mut acc: B,
        f: &mut impl FnMut(B, Result<T, TaskError>) -> B,
    ) -> B {
        while let Some(value) = self.values.next() {
            acc = f(acc, Ok(value));
        }
        acc
    }

    /// Moves the values up to the next failure to the end of `out`, in one copy: the inner
    /// loop of `Map::collect_vec`.
    #[inline]
    pub(crate) fn append_clean(&mut self, out: &mut Vec<T>) {
        self.values.append_run(out);
    }

    /// The value buffer, emptied, for a later batch. Call once the results are all yielded.
    pub(crate) fn into_spare(self) -> Vec<T> {
        self.values.into_spare()
    }
}

impl<T> Iterator for ChunkResults<T> {
    type Item = Result<T, TaskError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        // Checked apart from the read (which checks again, optimised away): this shape keeps
        // the common path free of the cold one, and the item out of memory.
        if self.values.is_run_over() {
            return self.after_clean();
        }
        self.values.next().map(Ok)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let failures = match &self.whole {
            Some((_, left)) => *left,
            None => self.failures.len() + usize::from(self.next_failure.is_some()),
        };
        let left = self.values.left() + failures;
        (left, Some(left))
    }
}

/// A batch's values, moved out front to back, in runs that end where a failure goes (so the
/// common case is one comparison per value); unlike `std::vec::IntoIter`, it gives its buffer
/// back for reuse.
struct Values<T> {
    /// Invariant: `buf.len() == 0` while the reader owns the values: slots `next..filled`
    /// hold initialised values that only this reader may move out or drop; slots before
    /// `next` were moved out. (Length 0 also means `buf` itself never drops a value.)
    buf: Vec<T>,
    next: usize,
    /// Where the current run ends: `next <= end <= filled`.
    end: usize,
    filled: usize,
}

impl<T> Values<T> {
    fn new(mut buf: Vec<T>) -> Self {
        let filled = buf.len();
        // SAFETY: the `filled` values stay initialised in the buffer; from here on this
        // reader owns them (invariant on `buf`), so shortening the length to 0 only stops
        // `buf` from dropping them itself.
        unsafe { buf.set_len(0) };
        Self {
            buf,
            next: 0,
            end: 0,
            filled,
        }
    }

    /// Lets the next run go on for at most `count` more values.
    fn run_for(&mut self, count: usize) {
        self.end = self.next.saturating_add(count).min(self.filled);
    }

    fn left(&self) -> usize {
        self.filled - self.next
    }

    #[inline]
    fn is_run_over(&self) -> bool {
        self.next == self.end
    }

    #[inline]
    fn next(&mut self) -> Option<T> {
        if self.next == self.end {
            return None;
        }
        let at = self.next;
        self.next += 1;
        // SAFETY: `at < end <= filled`, so slot `at` holds a value that was not moved out
        // (invariant on `buf`); `next` moved past it first, so it is read only this once.
        Some(unsafe { self.buf.as_ptr().add(at).read() })
    }

    /// Moves the values of the current run (slots `next..end`) to the end of `out`.
    fn append_run(&mut self, out: &mut Vec<T>) {
        let run = self.end - self.next;
        if run == 0 {
            return;
        }
        out.reserve(run);
        // SAFETY: slots `next..end` hold initialised values not yet moved out (invariant on
        // `buf`); `out` has room for `run` more after its `len` (reserved above), and the two
        // buffers are different allocations. The values are copied once, then `next` moves
        // past them, so this reader never reads or drops them again, and `out` owns them
        // from its new length on.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.buf.as_ptr().add(self.next),
                out.as_mut_ptr().add(out.len()),
                run,
            );
            self.next = self.end;
            out.set_len(out.len() + run);
        }
    }

    /// Drops the values not yet moved out and returns the empty buffer.
    fn into_spare(mut self) -> Vec<T> {
        self.drop_left();
        std::mem::take(&mut self.buf)
    }

    fn drop_left(&mut self) {
        let left = self.next..self.filled;
        if left.is_empty() {
            // Nothing to drop, and `buf` may be the empty `Vec` that `into_spare` left: even
            // an offset of its dangling pointer would be undefined behaviour.
            return;
        }
        self.next = self.filled;
        self.end = self.filled;
        // SAFETY: slots `left` hold values not yet moved out (invariant on `buf`), and `next`
        // was moved past them first, so they are dropped once even if a drop panics.
        unsafe {
            let left = std::ptr::slice_from_raw_parts_mut(
                self.buf.as_mut_ptr().add(left.start),
                left.len(),
            );
            std::ptr::drop_in_place(left);
        }
    }
}

impl<T> Drop for Values<T> {
    fn drop(&mut self) {
        self.drop_left();
    }
}

/// How long one batch should keep a worker busy: long enough that the fixed cost of a task
/// (about a microsecond, a few with a wake-up) is lost in it, short enough that results flow
/// and the last batches spread over the workers.
pub(crate) const TARGET_BATCH: Duration = Duration::from_micros(250);
/// The most items in one batch, so memory stays bounded however cheap items are.
pub(crate) const MAX_BATCH: usize = 1 << 16;
/// The most bytes of items (or of results) in one batch, so a map holds at most about
/// `2 × lookahead` such buffers. The buffers are reused (see `spare.rs`), so this bounds
/// memory, not allocation: on a million cheap items, 128 KiB batches took 15% less time than
/// 64 KiB ones (fewer batches for the consuming thread to hand over) and larger ones no less.
const MAX_BATCH_BYTES: usize = 128 << 10;
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
            Vec::new(),
        );
        let results: Vec<_> = chunk.0.into_results().collect();
        assert_eq!(results[0], Ok(10));
        assert_eq!(
            results[1].as_ref().unwrap_err().panic_message(),
            Some("two")
        );
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
        assert_eq!((0..20).map(|_| sizer.next_size()).max(), Some(128));
    }

    #[test]
    fn failures_at_the_edges_are_yielded_in_place() {
        let chunk = Chunk::run(
            &|x: i32| if x % 3 == 0 { panic!("{x}") } else { x },
            vec![0, 1, 2, 3],
            Vec::new(),
        );
        let results: Vec<_> = chunk
            .0
            .into_results()
            .map(|result| result.map_err(|error| error.panic_message().map(str::to_owned)))
            .collect();
        assert_eq!(
            results,
            [Err(Some("0".into())), Ok(1), Ok(2), Err(Some("3".into()))]
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
    fn appending_moves_each_run_once_and_stops_at_failures() {
        // Strings, so that miri sees a value read twice or dropped twice.
        let chunk = Chunk::run(
            &|x: i32| {
                if x == 3 {
                    panic!("three")
                } else {
                    x.to_string()
                }
            },
            vec![0, 1, 2, 3, 4, 5],
            Vec::new(),
        );
        let mut results = chunk.0.into_results();
        let mut out = vec!["before".to_owned()];
        results.append_clean(&mut out);
        assert_eq!(out, ["before", "0", "1", "2"]);
        results.append_clean(&mut out);
        assert_eq!(out.len(), 4, "a failure ends the run");
        let failure = results.next().unwrap().unwrap_err();
        assert_eq!(failure.panic_message(), Some("three"));
        results.append_clean(&mut out);
        assert_eq!(out, ["before", "0", "1", "2", "4", "5"]);
        assert!(results.next().is_none());
        let mut empty = ChunkResults::<String>::empty();
        empty.append_clean(&mut out);
        assert_eq!(out.len(), 6);
    }

    #[test]
    fn values_left_unread_are_dropped_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        struct Counted(Arc<AtomicUsize>);
        impl Drop for Counted {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
        let drops = Arc::new(AtomicUsize::new(0));
        let make = |_: i32| Counted(Arc::clone(&drops));
        let mut results = Chunk::run(&make, vec![1, 2, 3, 4, 5], Vec::new())
            .0
            .into_results();
        drop(results.next());
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        drop(results);
        assert_eq!(drops.load(Ordering::Relaxed), 5);

        let mut results = Chunk::run(&make, vec![1, 2, 3], Vec::new())
            .0
            .into_results();
        drop(results.next());
        let spare = results.into_spare();
        assert_eq!(drops.load(Ordering::Relaxed), 8);
        assert!(spare.is_empty() && spare.capacity() >= 3);
    }

    #[test]
    fn buffers_come_back_empty_with_their_room() {
        let items = Vec::with_capacity(100);
        let values = vec![7, 7, 7]; // a used buffer: cleared before use
        let mut items = items;
        items.extend([1, 2, 3]);
        let (chunk, spare_items) = Chunk::run(&|x: i32| x + 1, items, values);
        let mut results = chunk.into_results();
        assert!(spare_items.is_empty() && spare_items.capacity() >= 100);
        assert_eq!(results.by_ref().collect::<Vec<_>>(), [Ok(2), Ok(3), Ok(4)]);
        let spare_values = results.into_spare();
        assert!(spare_values.is_empty() && spare_values.capacity() >= 3);
    }

    #[test]
    fn fold_stops_at_a_failure() {
        let chunk = Chunk::run(
            &|x: i32| if x == 3 { panic!("three") } else { x },
            vec![1, 2, 3, 4],
            Vec::new(),
        );
        let mut results = chunk.0.into_results();
        let sum = results.fold_clean(0, &mut |sum, item: Result<i32, TaskError>| {
            sum + item.unwrap()
        });
        assert_eq!(sum, 3);
        let error = results.next().unwrap().unwrap_err();
        assert_eq!(error.panic_message(), Some("three"));
        assert_eq!(
            results.fold_clean(0, &mut |sum, item| sum + item.unwrap()),
            4
        );
        assert_eq!(results.next(), None);
    }

    #[test]
    fn a_fixed_size_is_kept() {
        let mut sizer = ChunkSizer::new(8, 8, TARGET_BATCH);
        sizer.fix(7);
        sizer.observe(7, Duration::from_nanos(7));
        assert_eq!(sizer.next_size(), 7);
    }
}
