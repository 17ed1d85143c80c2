//! `ScopeCounter`: how many of a scope's tasks the pool still holds, and how the scope's owner
//! waits for the last one without any task touching the counter after it let go.
//!
//! The counter lives in the scope, on its owner's stack, and is freed the moment the owner
//! sees the count reach zero. So a task's last access to it must be the atomic operation that
//! takes its count away: the owner's handle, needed to wake it, is read *before* that, while
//! the task's own count still keeps the counter alive. That is why a release is a
//! compare-and-swap loop rather than a subtraction: only a release that sees it is the last
//! one, with the owner asleep, needs the handle, and it can know that only before it acts.
//!
//! The owner's own submissions, most of them, are counted in a plain field only it touches
//! and added to the shared count in one step when it starts to wait: a submit then writes no
//! cache line that the workers write. Until then the shared count may dip below zero
//! (wrapping), which is harmless: nobody reads it as a count before the owner waits, and from
//! then on it is exact.

use std::cell::Cell;
use std::ptr::NonNull;

#[cfg(loom)]
use loom::sync::atomic::{AtomicUsize, Ordering};
#[cfg(loom)]
use loom::thread::{self, Thread};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicUsize, Ordering};
#[cfg(not(loom))]
use std::thread::{self, Thread};

use crate::sync::thread_local;

/// Set in `state` once the owner waits for the count to reach zero (the scope's closure has
/// returned, so no new task can be counted except by a counted task).
const WAITING: usize = 1;
/// One task, in `state`.
const ONE: usize = 2;

thread_local! {
    /// The counter of the scope whose closure this thread is running (the innermost), or 0:
    /// where this thread's submissions to that scope are counted without an atomic.
    static OWNED: Cell<usize> = const { Cell::new(0) };
}

/// The tasks of one scope that the runtime still holds. Aligned to its own cache lines:
/// workers write it, and it sits on the owner's stack among the owner's own variables.
#[repr(align(128))]
pub(crate) struct ScopeCounter {
    /// `ONE` per counted task (wrapping), plus `WAITING`.
    ///
    /// Invariant: once `WAITING` is set, the count is exact and only rises through a task
    /// that is itself counted (a task submitting to its own scope), so once it is zero it
    /// stays zero.
    state: AtomicUsize,
    /// Tasks the owner counted while running the scope's closure, not yet in `state`.
    ///
    /// Invariant: touched only by the owner thread while `OWNED` names this counter (set by
    /// `enter_closure`, cleared by `begin_wait`, which moves the count into `state`).
    owned: Cell<usize>,
    /// The thread that opened the scope and waits at its end.
    owner: Thread,
}

// SAFETY: `state` is atomic and `owner` is Sync; `owned` is only touched by the owner thread
// (invariant on `owned`), so sharing the counter with other threads never shares the cell.
unsafe impl Sync for ScopeCounter {}

impl ScopeCounter {
    /// A counter for a scope that the current thread opens.
    pub(crate) fn new() -> Self {
        Self {
            state: AtomicUsize::new(0),
            owned: Cell::new(0),
            owner: thread::current(),
        }
    }

    fn id(&self) -> usize {
        self as *const Self as usize
    }

    /// Marks the current (owner) thread as running this scope's closure, until `begin_wait`;
    /// returns the scope it was running before (a scope opened inside another's closure),
    /// for `begin_wait` to restore.
    pub(crate) fn enter_closure(&self) -> usize {
        OWNED.with(|owned| owned.replace(self.id()))
    }

    /// Counts one more task, before it is queued. Called inside the scope's closure or by a
    /// counted task, so the count cannot be zero with `WAITING` set.
    pub(crate) fn enter(&self) {
        if OWNED.with(Cell::get) == self.id() {
            // The owner, in the closure: `begin_wait` adds this to `state` later.
            self.owned.set(self.owned.get() + 1);
            return;
        }
        // Relaxed: the count only has to reach the owner through the releases (Release),
        // which come after this in the order of operations on `state`.
        let before = self.state.fetch_add(ONE, Ordering::Relaxed);
        debug_assert!(before != WAITING, "a task counted after its scope ended");
    }

    /// Takes one task's count away, waking the owner if it was the last and the owner waits.
    ///
    /// # Safety
    /// `counter` must point to a live counter in which the caller holds one count, and the
    /// caller must not use the pointer after this call: once the count is gone the owner may
    /// free the counter at any moment.
    pub(crate) unsafe fn release(counter: NonNull<Self>) {
        // SAFETY: the caller's count keeps the counter alive until the exchange below that
        // takes it away succeeds; nothing reads through `this` after that.
        let this = unsafe { counter.as_ref() };
        let mut current = this.state.load(Ordering::Relaxed);
        loop {
            let last = current == ONE | WAITING;
            // The last count, and the owner waits: take its handle while ours keeps the
            // counter here.
            let owner = last.then(|| this.owner.clone());
            // Release: everything this task did (and its drop) happens before the owner sees
            // zero. Relaxed on failure: we only retry.
            match this.state.compare_exchange_weak(
                current,
                current.wrapping_sub(ONE),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    if let Some(owner) = owner {
                        // The counter may be gone already; `owner` is our own handle. If the
                        // owner saw zero before this, the unpark is a spurious wake-up for a
                        // later `park`, which every user of `park` tolerates.
                        owner.unpark();
                    }
                    return;
                }
                Err(actual) => current = actual,
            }
        }
    }

    /// Whether no task is counted (Acquire: what the released tasks did is visible). Exact
    /// once the owner waits.
    pub(crate) fn is_clear(&self) -> bool {
        self.state.load(Ordering::Acquire) & !WAITING == 0
    }

    /// Ends the closure's part (`OWNED` back to `previous`), adds the tasks the owner counted
    /// to the shared count and marks the owner as waiting, in one step. Called once, by the
    /// owner, after the scope's closure returned or panicked.
    pub(crate) fn begin_wait(&self, previous: usize) {
        debug_assert!(thread::current().id() == self.owner.id());
        OWNED.with(|owned| owned.set(previous));
        let owned = self.owned.replace(0);
        // AcqRel: reads the releases so far (and publishes nothing the workers need).
        self.state
            .fetch_add(owned.wrapping_mul(ONE) | WAITING, Ordering::AcqRel);
    }

    /// Sleeps until no task is counted (or spuriously; the caller loops). Called by the owner
    /// after `begin_wait`.
    pub(crate) fn park(&self) {
        if !self.is_clear() {
            // The last release unparks after clearing the count, so if it happens between the
            // check and this call, `park` returns at once.
            thread::park();
        }
    }
}

/// Loom models of the counter: every interleaving of the owner's wait with releases, and with
/// a counted task counting another. Run with the other models (`--cfg loom`, tests named
/// `loom`).
#[cfg(all(test, loom))]
mod loom_tests {
    use std::ptr::NonNull;

    use loom::cell::UnsafeCell;
    use loom::sync::Arc;
    use loom::thread;

    use super::ScopeCounter;

    /// What a task did before its release, which the owner must see once it stops waiting.
    struct Work(UnsafeCell<u32>);

    // SAFETY: each `Work` is written by one task before its release and read by the owner
    // after its wait; loom checks that those are ordered.
    unsafe impl Sync for Work {}

    fn task(counter: &Arc<ScopeCounter>, work: &Arc<Work>) -> thread::JoinHandle<()> {
        let counter = Arc::clone(counter);
        let work = Arc::clone(work);
        thread::spawn(move || {
            // SAFETY: only this task writes this cell, before its release.
            work.0.with_mut(|value| unsafe { *value += 1 });
            // SAFETY: counted by the owner before the spawn; the pointer is not used after.
            unsafe { ScopeCounter::release(NonNull::from(&*counter)) };
        })
    }

    fn wait(counter: &ScopeCounter, previous: usize) {
        counter.begin_wait(previous);
        while !counter.is_clear() {
            counter.park();
        }
    }

    #[test]
    fn loom_the_owner_wakes_after_the_last_release_and_sees_its_work() {
        loom::model(|| {
            let counter = Arc::new(ScopeCounter::new());
            let previous = counter.enter_closure();
            let works = [
                Arc::new(Work(UnsafeCell::new(0))),
                Arc::new(Work(UnsafeCell::new(0))),
            ];
            let handles: Vec<_> = works
                .iter()
                .map(|work| {
                    // Counted in the owner's own field: a release may come before the owner
                    // adds it to the shared count.
                    counter.enter();
                    task(&counter, work)
                })
                .collect();
            wait(&counter, previous);
            for work in &works {
                // SAFETY: the task's write happened before its release, which happened
                // before the wait saw zero.
                assert_eq!(work.0.with(|value| unsafe { *value }), 1);
            }
            handles.into_iter().for_each(|h| h.join().unwrap());
        });
    }

    #[test]
    fn loom_a_counted_task_may_count_another() {
        loom::model(|| {
            let counter = Arc::new(ScopeCounter::new());
            let previous = counter.enter_closure();
            let inner = Arc::new(Work(UnsafeCell::new(0)));
            counter.enter();
            let outer = {
                let counter = Arc::clone(&counter);
                let inner = Arc::clone(&inner);
                thread::spawn(move || {
                    // Counted before this task's own release, as a task submitting to its
                    // scope is.
                    counter.enter();
                    let handle = task(&counter, &inner);
                    // SAFETY: counted by the owner; not used after.
                    unsafe { ScopeCounter::release(NonNull::from(&*counter)) };
                    handle
                })
            };
            wait(&counter, previous);
            // SAFETY: the inner task's release came before the wait saw zero.
            assert_eq!(inner.0.with(|value| unsafe { *value }), 1);
            outer.join().unwrap().join().unwrap();
        });
    }
}
