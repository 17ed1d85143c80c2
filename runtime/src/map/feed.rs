//! Where a map's batches come from: items drawn from an iterator into a reused buffer
//! (`IterFeed`), or ranges of indices that workers read in place (`IndexFeed`).

use std::iter::Fuse;
use std::ops::Range;

use super::spare::Spares;

/// The input side of a map: cuts the input into batches.
pub(crate) trait Feed {
    /// The items that a batch's buffer holds: the iterator's items, or `()` for a feed that
    /// hands out no buffers.
    type Item;
    /// What one batch carries to its worker.
    type Batch;
    /// The next batch of at most `size` items and its length, taking a buffer from `spares`
    /// if it needs one; `None` once the input is used up.
    fn next_batch<T>(
        &mut self,
        size: usize,
        spares: &mut Spares<Self::Item, T>,
    ) -> Option<(Self::Batch, usize)>;
    /// Bounds on the number of items not yet in a batch.
    fn size_hint(&self) -> (usize, Option<usize>);
    /// Takes back a batch that a worker emptied, for reuse.
    fn recycle<T>(&mut self, batch: Self::Batch, spares: &mut Spares<Self::Item, T>);
}

/// Batches drawn from an iterator on the map's thread, each into a buffer.
pub(crate) struct IterFeed<I: Iterator> {
    source: Fuse<I>,
    exhausted: bool,
}

impl<I: Iterator> IterFeed<I> {
    pub(crate) fn new(source: I) -> Self {
        Self {
            source: source.fuse(),
            exhausted: false,
        }
    }
}

impl<I: Iterator> Feed for IterFeed<I> {
    type Item = I::Item;
    type Batch = Vec<I::Item>;

    fn next_batch<T>(
        &mut self,
        size: usize,
        spares: &mut Spares<I::Item, T>,
    ) -> Option<(Vec<I::Item>, usize)> {
        if self.exhausted {
            return None;
        }
        let mut items = spares.items();
        items.extend(self.source.by_ref().take(size));
        self.exhausted = items.len() < size;
        if items.is_empty() {
            spares.put_items(items);
            return None;
        }
        let len = items.len();
        Some((items, len))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.exhausted {
            (0, Some(0))
        } else {
            self.source.size_hint()
        }
    }

    fn recycle<T>(&mut self, batch: Vec<I::Item>, spares: &mut Spares<I::Item, T>) {
        spares.put_items(batch);
    }
}

/// Batches that are ranges of the indices `0..len`: the items stay where they are, and each
/// worker reads its range in place.
pub(crate) struct IndexFeed {
    next: usize,
    len: usize,
}

impl IndexFeed {
    pub(crate) fn new(len: usize) -> Self {
        Self { next: 0, len }
    }

    /// Takes the indices not yet in a batch: the map then has no more batches to submit.
    pub(crate) fn take_rest(&mut self) -> Range<usize> {
        let rest = self.next..self.len;
        self.next = self.len;
        rest
    }
}

impl Feed for IndexFeed {
    type Item = ();
    type Batch = Range<usize>;

    fn next_batch<T>(
        &mut self,
        size: usize,
        _spares: &mut Spares<(), T>,
    ) -> Option<(Range<usize>, usize)> {
        if self.next == self.len {
            return None;
        }
        let start = self.next;
        self.next = start + size.min(self.len - start);
        Some((start..self.next, self.next - start))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.len - self.next;
        (left, Some(left))
    }

    fn recycle<T>(&mut self, _batch: Range<usize>, _spares: &mut Spares<(), T>) {}
}
