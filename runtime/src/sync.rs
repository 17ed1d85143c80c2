//! The synchronisation primitives the runtime is built from: std's, or loom's models of them
//! when the crate is compiled with `--cfg loom`, so the future's state machine can be model
//! checked without changing a line of it.

#[cfg(loom)]
pub(crate) use loom::{
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc, Condvar, Mutex, MutexGuard,
    },
    thread_local,
};
#[cfg(not(loom))]
pub(crate) use std::{
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc, Condvar, Mutex, MutexGuard,
    },
    thread_local,
};

/// Locks `mutex`, ignoring poisoning.
///
/// Every critical section in the runtime either cannot panic or runs user code under
/// `catch_unwind`, so a poisoned lock only means an unrelated thread died mid-way through a
/// section that leaves the data consistent; refusing to go on would turn one failure into many.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
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
