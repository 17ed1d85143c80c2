//! `Engine`: what every map does whatever its input: keeps up to `lookahead` batches in
//! flight, sizes them, yields their results in input or completion order, and ends at the
//! map's deadline. [`Map`](super::Map) and [`ScopedMap`](crate::ScopedMap) are engines with
//! their own feeds.

use std::collections::VecDeque;
use std::time::Instant;

use super::chunk::{Chunk, ChunkResults, ChunkSizer};
use super::feed::Feed;
use super::options::MapOptions;
use super::spare::Spares;
use super::SubmitChunk;
use crate::error::{Deadline, TaskError};
use crate::future::task::current_pool;
use crate::future::Future;
use crate::signal::Signal;
use crate::sync::Arc;

pub(crate) struct Engine<'a, Fd: Feed, T> {
    feed: Fd,
    submit: Box<dyn SubmitChunk<Fd::Batch, T> + Send + 'a>,
    window: Window<T>,
    /// The batch being yielded (empty between batches).
    current: ChunkResults<T>,
    /// Emptied buffers of finished batches, for the next batches (see `spare.rs`).
    spares: Spares<Fd::Item, T>,
    sizer: ChunkSizer,
    lookahead: usize,
    called: Instant,
    deadline: Option<Instant>,
    began: bool,
    finished: bool,
    /// Whether the consuming thread runs batches still queued rather than wait for them (see
    /// `Window::next_batch`).
    helps: bool,
}

impl<'a, Fd: Feed, T> Engine<'a, Fd, T> {
    /// A map of `feed`'s batches, which `submit` runs on a pool of `workers`. Its buffers
    /// come from, and go back to, the ones this thread kept (`spare.rs`).
    pub(crate) fn new(
        submit: Box<dyn SubmitChunk<Fd::Batch, T> + Send + 'a>,
        feed: Fd,
        workers: usize,
        options: MapOptions,
    ) -> Self {
        let target = submit.target_batch();
        let called = Instant::now();
        let mut sizer = ChunkSizer::new(
            std::mem::size_of::<Fd::Item>(),
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
            feed,
            submit,
            window,
            current: ChunkResults::empty(),
            spares: Spares::take_kept(),
            sizer,
            lookahead: options.lookahead.unwrap_or(4 * workers.max(1)),
            called,
            deadline: options
                .timeout
                .and_then(|timeout| called.checked_add(timeout)),
            began: false,
            finished: false,
            helps: false,
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

    /// Lets the consuming thread run queued batches itself while it would wait.
    pub(crate) fn help_inline(&mut self) {
        self.helps = true;
    }

    /// See `Map::ordered`.
    pub(crate) fn set_ordered(&mut self, ordered: bool) {
        self.assert_unstarted("ordered");
        let window = std::mem::replace(&mut self.window, Window::Ordered(VecDeque::new()));
        self.window = window.reorder(ordered);
    }

    /// See `Map::timeout`.
    pub(crate) fn set_timeout(&mut self, timeout: std::time::Duration) {
        self.assert_unstarted("timeout");
        self.deadline = self.called.checked_add(timeout);
    }

    /// Whether the map has a deadline.
    pub(crate) fn has_deadline(&self) -> bool {
        self.deadline.is_some()
    }

    /// The feed, for a map that takes the rest of its input elsewhere (a scoped map's
    /// reduction).
    pub(crate) fn feed_mut(&mut self) -> &mut Fd {
        &mut self.feed
    }

    /// Submits batches until `lookahead` are in flight or the input runs out.
    fn fill(&mut self) {
        while self.window.len() < self.lookahead {
            let size = self.sizer.next_size();
            let Some((batch, len)) = self.feed.next_batch(size, &mut self.spares) else {
                break;
            };
            let values = self.spares.values();
            let future = self.submit.submit(batch, values);
            self.window.push(Batch { future, len });
        }
    }

    fn cancel_all(&mut self) {
        self.window.cancel_all();
    }

    #[inline]
    pub(crate) fn next(&mut self) -> Option<Result<T, TaskError>> {
        match self.current.next() {
            Some(item) => Some(item),
            None => self.next_batch(),
        }
    }

    /// Internal iteration (`sum`, `for_each`, `fold`, …) runs a batch's values in one tight
    /// loop instead of a call to `next` per item.
    #[inline]
    pub(crate) fn fold<B, G>(&mut self, init: B, mut g: G) -> B
    where
        G: FnMut(B, Result<T, TaskError>) -> B,
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

    /// Collects every result into a `Vec`, stopping at the first failure (as `collect` into
    /// `Result<Vec<T>, TaskError>` does): each batch's values are moved in one copy, into a
    /// buffer reserved once for the length the input promises.
    pub(crate) fn collect_vec(&mut self) -> Result<Vec<T>, TaskError> {
        let mut out = Vec::with_capacity(self.size_hint().0);
        loop {
            self.current.append_clean(&mut out);
            match self.next_batch() {
                Some(Ok(value)) => out.push(value),
                Some(Err(error)) => return Err(error),
                None => return Ok(out),
            }
        }
    }

    pub(crate) fn size_hint(&self) -> (usize, Option<usize>) {
        let current = self.current.size_hint().0;
        if self.finished {
            return (current, Some(current));
        }
        let buffered = current + self.window.items();
        let (low, high) = self.feed.size_hint();
        let high = high.and_then(|high| high.checked_add(buffered));
        // A timeout may end the map early, so only what is in hand is certain then.
        let low = if self.deadline.is_some() {
            current
        } else {
            buffered.saturating_add(low)
        };
        (low, high)
    }

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
            match self
                .window
                .next_batch(self.deadline, self.helps && self.deadline.is_none())
            {
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
                    if let Some(emptied) = self.submit.returned() {
                        self.feed.recycle(emptied, &mut self.spares);
                    }
                    // Refill before the consumer works through this batch.
                    self.fill();
                }
            }
        }
    }
}

impl<Fd: Feed, T> Drop for Engine<'_, Fd, T> {
    fn drop(&mut self) {
        self.cancel_all();
        let current = std::mem::replace(&mut self.current, ChunkResults::empty());
        self.spares.put_values(current.into_spare());
        while let Some(emptied) = self.submit.returned() {
            self.feed.recycle(emptied, &mut self.spares);
        }
        std::mem::replace(&mut self.spares, Spares::none()).keep();
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

    /// The next batch to yield, waiting for it until `deadline`. With `helps` (a map with
    /// no deadline whose batches may run on the consuming thread), runs batches still queued
    /// here instead of waiting: the front one, or else the newest.
    fn next_batch(&mut self, deadline: Option<Instant>, helps: bool) -> Next<T> {
        match self {
            Self::Ordered(queue) => {
                let Some(front) = queue.front() else {
                    return Next::Empty;
                };
                if helps {
                    while !front.future.is_done() {
                        let ran = front.future.completion().run_here()
                            || queue
                                .iter()
                                .rev()
                                .any(|batch| batch.future.completion().run_here());
                        if !ran {
                            break;
                        }
                    }
                }
                if !front.future.block(deadline) {
                    return Next::TimedOut;
                }
                Next::Ready(queue.pop_front().expect("front exists"))
            }
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
