//! A scoped map over a slice allocates per batch, never per item: counted with a global
//! allocator that counts every allocation of the process (all threads) while maps run.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc`, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract for `realloc`, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const ITEMS: u64 = 1_000_000;

#[test]
fn a_scoped_map_over_a_slice_allocates_per_batch_not_per_item() {
    let pool = parallel::ThreadPool::builder().workers(2).build().unwrap();
    let data: Vec<u64> = (0..ITEMS).collect();
    let expected: u64 = data.iter().map(|x| x * x).sum();
    let iterated = || {
        pool.scope(|s| {
            s.map(|x: &u64| x * x, &data)
                .map(Result::unwrap)
                .sum::<u64>()
        })
    };
    let reduced = || pool.scope(|s| s.map(|x: &u64| x * x, &data).sum::<Result<u64, _>>());
    // Warm up: the pool's threads start, the batch buffers are made once.
    assert_eq!(iterated(), expected);
    assert_eq!(reduced(), Ok(expected));

    for (name, run) in [
        (
            "iterated",
            &(|| Ok(iterated())) as &dyn Fn() -> Result<u64, parallel::TaskError>,
        ),
        ("reduced", &reduced),
    ] {
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        assert_eq!(run(), Ok(expected));
        let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
        // About one task per batch of thousands of items: each task allocates a few times.
        // One allocation per item would be a million.
        assert!(
            allocations < 2_000,
            "{name}: {allocations} allocations for {ITEMS} items"
        );
        println!("{name}: {allocations} allocations for {ITEMS} items");
    }
}
