//! The synchronisation primitives the runtime is built from: std's, or loom's models of them
//! when the crate is compiled with `--cfg loom`, so the future's state machine can be model
//! checked without changing a line of it.

#[cfg(loom)]
pub(crate) use loom::sync::{atomic::Ordering, Arc, Condvar, Mutex, MutexGuard};
#[cfg(loom)]
pub(crate) use loom_atomic::AtomicU32;
#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{AtomicU32, Ordering},
    Arc, Condvar, Mutex, MutexGuard,
};

/// `thread_local!` with a `const` initialiser: std's, or under loom loom's (a loom thread is
/// not an OS thread, so std's would be shared between modelled threads). Loom's macro has no
/// `const { .. }` form, so the initialiser is passed to it plainly.
macro_rules! thread_local_const {
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $init:expr };) => {
        #[cfg(not(loom))]
        std::thread_local! { $(#[$attr])* $vis static $name: $t = const { $init }; }
        #[cfg(loom)]
        loom::thread_local! { $(#[$attr])* $vis static $name: $t = $init; }
    };
}
pub(crate) use thread_local_const as thread_local;

/// Locks `mutex`, ignoring poisoning.
///
/// Every critical section in the runtime either cannot panic or runs user code under
/// `catch_unwind`, so a poisoned lock only means an unrelated thread died mid-way through a
/// section that leaves the data consistent; refusing to go on would turn one failure into many.
#[cfg(not(loom))]
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Under loom, `lock` takes loom's mutexes (the future's state) and std's (the pool's queue
/// and counters, which no model exercises) alike.
#[cfg(loom)]
pub(crate) fn lock<M: loom_lock::Lock + ?Sized>(mutex: &M) -> M::Guard<'_> {
    mutex.lock_ignoring_poison()
}

#[cfg(loom)]
mod loom_lock {
    pub(crate) trait Lock {
        type Guard<'a>
        where
            Self: 'a;
        fn lock_ignoring_poison(&self) -> Self::Guard<'_>;
    }

    impl<T: ?Sized> Lock for loom::sync::Mutex<T> {
        type Guard<'a>
            = loom::sync::MutexGuard<'a, T>
        where
            Self: 'a;
        fn lock_ignoring_poison(&self) -> Self::Guard<'_> {
            self.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        }
    }

    impl<T: ?Sized> Lock for std::sync::Mutex<T> {
        type Guard<'a>
            = std::sync::MutexGuard<'a, T>
        where
            Self: 'a;
        fn lock_ignoring_poison(&self) -> Self::Guard<'_> {
            self.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        }
    }
}

/// Waits on `cond` until notified or until `deadline` (if any) passes.
///
/// Returns the guard and `true` when the deadline had already passed before waiting.
pub(crate) fn wait_until<'a, T>(
    cond: &Condvar,
    guard: MutexGuard<'a, T>,
    deadline: Option<std::time::Instant>,
) -> (MutexGuard<'a, T>, bool) {
    match deadline {
        None => (
            cond.wait(guard)
                .unwrap_or_else(std::sync::PoisonError::into_inner),
            false,
        ),
        Some(deadline) => {
            let now = std::time::Instant::now();
            if now >= deadline {
                return (guard, true);
            }
            let (guard, _) = cond
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            (guard, false)
        }
    }
}

/// `std::cell::UnsafeCell` with loom's closure-based access API, so code written against it
/// is checked by loom's model of concurrent access.
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(
    #[cfg(not(loom))] std::cell::UnsafeCell<T>,
    #[cfg(loom)] loom::cell::UnsafeCell<T>,
);

impl<T> UnsafeCell<T> {
    pub(crate) fn new(value: T) -> Self {
        #[cfg(not(loom))]
        return Self(std::cell::UnsafeCell::new(value));
        #[cfg(loom)]
        return Self(loom::cell::UnsafeCell::new(value));
    }

    /// Runs `f` with a shared raw pointer to the contents.
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        #[cfg(not(loom))]
        return f(self.0.get());
        #[cfg(loom)]
        return self.0.with(f);
    }

    /// Runs `f` with an exclusive raw pointer to the contents.
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        #[cfg(not(loom))]
        return f(self.0.get());
        #[cfg(loom)]
        return self.0.with_mut(f);
    }
}

/// Under loom, the future's state word with every load made a read-modify-write.
///
/// Loom's partial-order reduction remembers only the last access to an atomic, so when a
/// thread loads the word and then CASes it (as `advance`, `try_take` and `cancel` do), the
/// CAS sees the thread's own load as its only dependency and loom never tries running it
/// before another thread's earlier load: whole families of interleavings go unexplored
/// (tokio-rs/loom#166, #392). A read-modify-write depends on every access, so it keeps them.
/// The price is that loom no longer shows these loads stale values; the protocol re-checks
/// every decision taken on a plain load with a CAS or under the listeners' lock, so a stale
/// read can only cost a retry.
#[cfg(loom)]
mod loom_atomic {
    use loom::sync::atomic::Ordering;

    #[derive(Debug)]
    pub(crate) struct AtomicU32(loom::sync::atomic::AtomicU32);

    impl AtomicU32 {
        pub(crate) fn new(value: u32) -> Self {
            Self(loom::sync::atomic::AtomicU32::new(value))
        }

        pub(crate) fn load(&self, order: Ordering) -> u32 {
            self.0.fetch_or(0, order)
        }

        pub(crate) fn compare_exchange(
            &self,
            current: u32,
            new: u32,
            success: Ordering,
            failure: Ordering,
        ) -> Result<u32, u32> {
            self.0.compare_exchange(current, new, success, failure)
        }

        pub(crate) fn compare_exchange_weak(
            &self,
            current: u32,
            new: u32,
            success: Ordering,
            failure: Ordering,
        ) -> Result<u32, u32> {
            self.0.compare_exchange_weak(current, new, success, failure)
        }

        pub(crate) fn fetch_or(&self, value: u32, order: Ordering) -> u32 {
            self.0.fetch_or(value, order)
        }

        pub(crate) fn fetch_and(&self, value: u32, order: Ordering) -> u32 {
            self.0.fetch_and(value, order)
        }
    }
}
