//! Spare batch buffers: reused from batch to batch, and kept on a thread from one map to the
//! next.
//!
//! A map's batch buffers add up to a few hundred kilobytes. Allocated and freed per batch, or
//! even per map, they go back to the allocator, which returns the pages to the kernel, and
//! the next batch faults them in again: on a virtual machine that cost more than computing a
//! million cheap items. So a map reuses the emptied buffers of finished batches, and leaves
//! them here, on the thread that drops it, for the next map on that thread.
//!
//! A kept buffer is only memory: an allocation with its element size, alignment and
//! capacity, holding no value. So it can serve the next map whatever its types are, as long
//! as their elements have the same size and alignment, and whether or not they borrow (a
//! scoped map's items are references into the caller's data).

use std::cell::RefCell;
use std::mem::{align_of, size_of, ManuallyDrop};
use std::ptr::NonNull;

/// The most bytes of buffers kept on one thread.
const KEEP_BYTES: usize = 4 << 20;

std::thread_local! {
    /// Buffers left by maps that ended on this thread, most recently kept last.
    static KEPT: RefCell<Vec<Raw>> = const { RefCell::new(Vec::new()) };
}

/// An emptied `Vec`'s allocation, without its element type.
struct Raw {
    /// Invariant: allocated by a `Vec` of `capacity` elements of `size` bytes aligned to
    /// `align` (`size > 0`, `capacity > 0`), holding no initialised element, owned here.
    ptr: NonNull<u8>,
    size: usize,
    align: usize,
    capacity: usize,
}

impl Raw {
    /// Takes `buffer`'s allocation, dropping its elements first. `None` for a buffer that owns
    /// no memory (no room, or elements of no size).
    fn of<T>(mut buffer: Vec<T>) -> Option<Self> {
        buffer.clear();
        if size_of::<T>() == 0 || buffer.capacity() == 0 {
            return None;
        }
        let mut buffer = ManuallyDrop::new(buffer);
        Some(Self {
            ptr: NonNull::new(buffer.as_mut_ptr().cast::<u8>()).expect("a Vec's pointer"),
            size: size_of::<T>(),
            align: align_of::<T>(),
            capacity: buffer.capacity(),
        })
    }

    fn bytes(&self) -> usize {
        self.size * self.capacity
    }

    /// Whether this can be a `Vec<T>`.
    fn fits<T>(&self) -> bool {
        self.size == size_of::<T>() && self.align == align_of::<T>()
    }

    /// The allocation as an empty `Vec<T>`; the caller checked `fits::<T>()`.
    fn into_vec<T>(self) -> Vec<T> {
        debug_assert!(self.fits::<T>());
        let this = ManuallyDrop::new(self);
        // SAFETY: the allocation came from a `Vec` of `capacity` elements of this size and
        // alignment (invariant on `ptr`), which are `T`'s, so it has exactly the layout a
        // `Vec<T>` of that capacity would have allocated; it holds no element, so the length
        // is 0. `this` is not dropped, so the allocation has one owner, the new `Vec`.
        unsafe { Vec::from_raw_parts(this.ptr.as_ptr().cast::<T>(), 0, this.capacity) }
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        let layout = std::alloc::Layout::from_size_align(self.bytes(), self.align)
            .expect("the layout of an allocated Vec");
        // SAFETY: allocated by a `Vec` with the global allocator and exactly this layout
        // (invariant on `ptr`), owned here, and freed once.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), layout) };
    }
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

    /// An empty buffer for a batch's values, possibly with room.
    pub(crate) fn values(&mut self) -> Vec<T> {
        self.values.pop().unwrap_or_default()
    }

    /// Takes back an item buffer (emptied by its batch).
    pub(crate) fn put_items(&mut self, mut buffer: Vec<I>) {
        buffer.clear();
        if buffer.capacity() > 0 {
            self.items.push(buffer);
        }
    }

    /// Takes back a value buffer whose values were all moved out or dropped.
    pub(crate) fn put_values(&mut self, mut buffer: Vec<T>) {
        buffer.clear();
        if buffer.capacity() > 0 {
            self.values.push(buffer);
        }
    }

    /// The buffers this thread kept that fit `I` and `T`, as many as a map can use.
    pub(crate) fn take_kept() -> Self {
        let mut spares = Self::none();
        // Fails only while the thread exits, when there is nothing kept worth having.
        let _ = KEPT.try_with(|kept| {
            let mut kept = kept.borrow_mut();
            let mut at = kept.len();
            while at > 0 {
                at -= 1;
                let (values, items) = (kept[at].fits::<T>(), kept[at].fits::<I>());
                // A buffer that fits both goes where there are fewer.
                if values && (!items || spares.values.len() <= spares.items.len()) {
                    spares.values.push(kept.swap_remove(at).into_vec());
                } else if items {
                    spares.items.push(kept.swap_remove(at).into_vec());
                }
            }
        });
        spares
    }

    /// Leaves these buffers on this thread for the next map, up to `KEEP_BYTES` in all (the
    /// oldest kept go first).
    pub(crate) fn keep(self) {
        let raws = self
            .items
            .into_iter()
            .filter_map(Raw::of)
            .chain(self.values.into_iter().filter_map(Raw::of));
        let _ = KEPT.try_with(|kept| {
            let mut kept = kept.borrow_mut();
            kept.extend(raws);
            let mut total: usize = kept.iter().map(Raw::bytes).sum();
            while total > KEEP_BYTES {
                total -= kept.remove(0).bytes();
            }
        });
    }

    #[cfg(test)]
    fn bytes(&self) -> usize {
        let items = self.items.iter().map(|b| b.capacity() * size_of::<I>());
        let values = self.values.iter().map(|b| b.capacity() * size_of::<T>());
        items.chain(values).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Empties this thread's kept buffers, so each test starts from nothing.
    fn clear() {
        KEPT.with(|kept| kept.borrow_mut().clear());
    }

    #[test]
    fn a_map_leaves_its_buffers_to_the_next_of_the_same_layout() {
        clear();
        let mut spares = Spares::<u8, u16>::none();
        spares.put_items(Vec::with_capacity(10));
        spares.put_values(vec![1, 2, 3]);
        spares.put_values(Vec::new()); // no room: not worth keeping
        spares.keep();

        // Other types of the same sizes and alignments get them, whatever they are.
        let kept = Spares::<[u8; 2], [u8; 2]>::take_kept();
        assert_eq!(
            kept.bytes(),
            0,
            "[u8; 2] differs from u8 in size, from u16 in alignment"
        );
        let mut kept = Spares::<bool, i16>::take_kept();
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
    fn borrowing_types_reuse_buffers_too() {
        clear();
        let data = [1u64, 2, 3];
        let mut spares = Spares::<&u64, u64>::none();
        let mut items = Vec::with_capacity(100);
        items.extend(data.iter());
        spares.put_items(items);
        spares.keep();
        let mut kept = Spares::<&u64, usize>::take_kept();
        assert!(kept.items().capacity() >= 100 || kept.values().capacity() >= 100);
    }

    #[test]
    fn only_so_much_is_kept() {
        clear();
        let mut spares = Spares::<u64, u32>::none();
        for _ in 0..3 {
            spares.put_items(Vec::with_capacity(KEEP_BYTES / 8 / 2));
        }
        spares.keep();
        let mut kept = Spares::<u64, u32>::take_kept();
        assert!(kept.items().capacity() > 0);
        assert!(kept.items().capacity() > 0);
        assert_eq!(kept.items().capacity(), 0, "the oldest went");
    }

    #[test]
    fn zero_sized_buffers_own_nothing() {
        clear();
        let mut spares = Spares::<(), ()>::none();
        for _ in 0..3 {
            spares.put_items(vec![(); 5]);
            spares.put_values(vec![(); 5]);
        }
        assert_eq!(spares.bytes(), 0);
        spares.keep();
        KEPT.with(|kept| assert!(kept.borrow().is_empty()));
    }

    #[test]
    fn buffers_left_when_the_thread_ends_are_freed() {
        std::thread::spawn(|| {
            let mut spares = Spares::<u32, u32>::none();
            spares.put_values(Vec::with_capacity(64));
            spares.keep();
        })
        .join()
        .unwrap();
    }
}
