//! Spare batch buffers: reused from batch to batch, and kept on a thread from one map to the
//! next.
//!
//! A map's batch buffers add up to a few hundred kilobytes. Allocated and freed per batch, or
//! even per map, they go back to the allocator, which returns the pages to the kernel, and
//! the next batch faults them in again: on a virtual machine that cost more than computing a
//! million cheap items. So a map reuses the emptied buffers of finished batches, and leaves
//! them here, on the thread that drops it, for the next map of the same types on that thread.

use std::any::Any;
use std::cell::RefCell;
use std::mem::size_of;

/// The most bytes of buffers kept on one thread, over all types.
const KEEP_BYTES: usize = 4 << 20;

std::thread_local! {
    /// `(bytes, Spares<I, T>)` for a few `(I, T)`, most recently kept last.
    static KEPT: RefCell<Vec<(usize, Box<dyn Any>)>> = const { RefCell::new(Vec::new()) };
}

/// Emptied buffers for the items and the values of a map's batches.
pub(crate) struct Spares<I, T> {
    items: Vec<Vec<I>>,
    values: Vec<Vec<T>>,
}

impl<I, T> Spares<I, T> {
    pub(crate) fn none() -> Self {
        Self {
            items: Vec::new(),
            values: Vec::new(),
        }
    }

    /// An empty buffer for a batch's items, possibly with room.
    pub(crate) fn items(&mut self) -> Vec<I> {
        self.items.pop().unwrap_or_default()
    }

    /// A buffer for a batch's values, possibly with room.
    pub(crate) fn values(&mut self) -> Vec<T> {
        self.values.pop().unwrap_or_default()
    }

    /// Takes back a batch's item buffer, emptying it.
    pub(crate) fn put_items(&mut self, mut buffer: Vec<I>) {
        buffer.clear();
        if buffer.capacity() > 0 {
            self.items.push(buffer);
        }
    }

    /// Takes back a batch's value buffer, emptying it.
    pub(crate) fn put_values(&mut self, mut buffer: Vec<T>) {
        buffer.clear();
        if buffer.capacity() > 0 {
            self.values.push(buffer);
        }
    }

    /// The bytes these buffers own (a buffer of a zero-sized type owns none).
    fn bytes(&self) -> usize {
        let items = self
            .items
            .iter()
            .map(|buffer| (buffer.capacity(), size_of::<I>()));
        let values = self
            .values
            .iter()
            .map(|buffer| (buffer.capacity(), size_of::<T>()));
        items.chain(values).fold(0, |bytes, (capacity, size)| {
            bytes.saturating_add(capacity.saturating_mul(size))
        })
    }
}

impl<I: 'static, T: 'static> Spares<I, T> {
    /// The buffers kept on this thread for maps from `I` to `T` (possibly none).
    pub(crate) fn take_kept() -> Self {
        KEPT.try_with(|kept| {
            let mut kept = kept.borrow_mut();
            let at = kept.iter().position(|(_, entry)| entry.is::<Self>())?;
            kept.remove(at)
                .1
                .downcast::<Self>()
                .ok()
                .map(|spares| *spares)
        })
        .ok()
        .flatten()
        .unwrap_or_else(Self::none)
    }

    /// Keeps these buffers on this thread for the next map, dropping the longest-kept ones
    /// (and, if need be, some of these) to stay within `KEEP_BYTES`.
    pub(crate) fn keep(mut self) {
        while self.bytes() > KEEP_BYTES {
            if self.items.len() >= self.values.len() {
                self.items.pop();
            } else {
                self.values.pop();
            }
        }
        if self.items.is_empty() && self.values.is_empty() {
            return;
        }
        let bytes = self.bytes();
        // Fails only while the thread exits, when there is no next map to keep them for.
        let _ = KEPT.try_with(|kept| {
            let mut kept = kept.borrow_mut();
            kept.retain(|(_, entry)| !entry.is::<Self>());
            let mut total: usize = kept.iter().map(|&(bytes, _)| bytes).sum();
            while total + bytes > KEEP_BYTES && !kept.is_empty() {
                total -= kept.remove(0).0;
            }
            kept.push((bytes, Box::new(self)));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_leaves_its_buffers_to_the_next_of_the_same_types() {
        let mut spares = Spares::<u8, u16>::take_kept();
        spares.put_items(Vec::with_capacity(10));
        spares.put_values(vec![1, 2, 3]);
        spares.put_values(Vec::new()); // no room: not worth keeping
        spares.keep();

        let mut other = Spares::<u16, u8>::take_kept();
        assert!(other.items().capacity() == 0 && other.values().capacity() == 0);

        let mut kept = Spares::<u8, u16>::take_kept();
        assert!(kept.items().capacity() >= 10);
        let values = kept.values();
        assert!(values.is_empty() && values.capacity() >= 3);
        assert_eq!(
            kept.values().capacity(),
            0,
            "only the one with room was kept"
        );
    }

    #[test]
    fn only_so_much_is_kept() {
        let mut spares = Spares::<u64, u64>::none();
        for _ in 0..3 {
            spares.put_items(Vec::with_capacity(KEEP_BYTES / 8 / 2));
        }
        spares.keep();
        let mut kept = Spares::<u64, u64>::take_kept();
        assert!(kept.items().capacity() > 0);
        assert!(kept.items().capacity() > 0);
        assert_eq!(kept.items().capacity(), 0);

        // A new pair of types pushes out the one kept before it.
        let mut spares = Spares::<u64, u64>::none();
        spares.put_items(Vec::with_capacity(KEEP_BYTES / 8));
        spares.keep();
        let mut spares = Spares::<u32, u32>::none();
        spares.put_items(Vec::with_capacity(KEEP_BYTES / 4));
        spares.keep();
        assert_eq!(Spares::<u64, u64>::take_kept().items().capacity(), 0);
        assert!(Spares::<u32, u32>::take_kept().items().capacity() > 0);
    }

    #[test]
    fn zero_sized_buffers_own_nothing() {
        let mut spares = Spares::<(), ()>::none();
        for _ in 0..3 {
            spares.put_items(vec![(); 5]);
            spares.put_values(vec![(); 5]);
        }
        assert_eq!(spares.bytes(), 0);
        spares.keep();
    }
}
