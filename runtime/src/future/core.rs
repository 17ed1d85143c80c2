//! The state a task shares with its [`Future`](crate::Future): its stage, its outcome, and
//! whoever is listening for it to finish. The protocol is described in `README.md` beside
//! this file.

use std::cell::Cell;
use std::mem;
use std::task::Waker;
use std::time::Instant;

use crate::error::TaskError;
use crate::panic;
use crate::signal::Signal;
use crate::spin::{spin_until, SPIN_FOR};
use crate::sync::{
    lock, thread_local, wait_until, Arc, AtomicU32, Condvar, Mutex, MutexGuard, Ordering,
    UnsafeCell,
};

// Stages: the low three bits of `Core::state`. They only move forward:
// PENDING -> RUNNING -> COMPLETING -> OK | ERR, OK -> TAKEN, PENDING -> COMPLETING (failed
// unstarted), PENDING -> CANCELLED.
/// Queued; the task's function has not been taken.
const PENDING: u32 = 0;
/// A thread claimed the task and is running its function.
const RUNNING: u32 = 1;
/// One thread won the right to write the outcome and is writing it.
const COMPLETING: u32 = 2;
/// Finished with a value, which is still in the cell.
const OK: u32 = 3;
/// Finished with an error, which stays in the cell for good.
const ERR: u32 = 4;
/// Finished with a value that a `result` call has moved out.
const TAKEN: u32 = 5;
/// Cancelled before it started; the cell stays empty.
const CANCELLED: u32 = 6;
const STAGE: u32 = 0b111;
/// Someone registered in `listeners`: whoever moves the stage to a final one must lock the
/// listeners and drain them. Set only while holding the listeners' lock.
const LISTENED: u32 = 1 << 3;
/// A done-callback is borrowing the value: it may be taken only through the lock (which the
/// lender holds). Set and cleared only while holding the listeners' lock.
const LENT: u32 = 1 << 4;

fn is_final(stage: u32) -> bool {
    stage >= OK
}

/// A done-callback, called once with the task's outcome.
pub(crate) type Callback<T> = BorrowingCallback<'static, T>;

/// A done-callback that may borrow for `'a` (a scoped future's).
pub(crate) type BorrowingCallback<'a, T> = Box<dyn FnOnce(Result<&T, &TaskError>) + Send + 'a>;

/// Errors handed to callbacks for outcomes that are not stored in the cell.
static CANCELLED_ERROR: TaskError = TaskError::Cancelled;
static TAKEN_ERROR: TaskError = TaskError::Taken;

pub(crate) struct Core<T> {
    /// The stage (low bits) and the `LISTENED` and `LENT` flags.
    state: AtomicU32,
    /// Invariant: written once, by the one thread that moved the stage to COMPLETING, before
    /// its Release store of OK or ERR. After that it is only read, except that the one thread
    /// whose CAS moves OK (without LENT) to TAKEN moves the value out.
    outcome: UnsafeCell<Option<Result<T, TaskError>>>,
    listeners: Mutex<Listeners<T>>,
    /// Threads blocked in `wait` sleep here; counted in `Listeners::sleepers`.
    cond: Condvar,
}

struct Listeners<T> {
    sleepers: usize,
    callbacks: Vec<Callback<T>>,
    waker: Option<Waker>,
    signals: Vec<(Arc<Signal>, usize)>,
}

// SAFETY: the only field that is not already Sync is `outcome`, and access to it follows the
// invariant on that field: one writer before publication, then shared reads of an error (a
// `TaskError` is Sync) or one exclusive move of the value. Handing `&T` to a callback happens
// while LENT keeps every taker out, so a `T` is never touched by two threads at once and only
// needs to be Send, as for `Mutex<T>`.
unsafe impl<T: Send> Sync for Core<T> {}

thread_local! {
    /// The core whose callbacks this thread is running (holding that core's lock), or 0.
    static LENDING: Cell<usize> = const { Cell::new(0) };
}

impl<T> Core<T> {
    /// A core for a task that has not started.
    pub(crate) fn new() -> Self {
        Self::with(PENDING, None)
    }

    /// A core that is already done with `error`.
    pub(crate) fn failed(error: TaskError) -> Self {
        Self::with(ERR, Some(Err(error)))
    }

    fn with(stage: u32, outcome: Option<Result<T, TaskError>>) -> Self {
        Self {
            state: AtomicU32::new(stage),
            outcome: UnsafeCell::new(outcome),
            listeners: Mutex::new(Listeners {
                sleepers: 0,
                callbacks: Vec::new(),
                waker: None,
                signals: Vec::new(),
            }),
            cond: Condvar::new(),
        }
    }

    fn stage(&self) -> u32 {
        self.state.load(Ordering::Acquire) & STAGE
    }

    pub(crate) fn is_pending(&self) -> bool {
        self.stage() == PENDING
    }

    pub(crate) fn is_running(&self) -> bool {
        matches!(self.stage(), RUNNING | COMPLETING)
    }

    pub(crate) fn is_done(&self) -> bool {
        is_final(self.stage())
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.stage() == CANCELLED
    }

    /// Done with an error other than cancellation (Python's "raised an exception").
    pub(crate) fn is_failed(&self) -> bool {
        self.stage() == ERR
    }

    /// Moves the stage from `from` to `to`, keeping the flags and setting `flags`, in one
    /// atomic step. Returns whether this call did.
    fn advance(&self, from: u32, to: u32, flags: u32) -> bool {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if state & STAGE != from {
                return false;
            }
            let next = (state & !STAGE) | to | flags;
            match self
                .state
                .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(actual) => state = actual,
            }
        }
    }

    /// PENDING -> RUNNING: the caller wins the one right to run the task.
    pub(crate) fn claim(&self) -> bool {
        self.advance(PENDING, RUNNING, 0)
    }

    /// Finishes the task with `outcome` if its stage is still `from` (PENDING for a task
    /// failed before it started, RUNNING for one that ran). Gives the outcome back if some
    /// other party (a cancel, a deadline) finished the task first.
    pub(crate) fn complete(
        &self,
        from: u32,
        outcome: Result<T, TaskError>,
    ) -> Result<(), Result<T, TaskError>> {
        if !self.advance(from, COMPLETING, 0) {
            return Err(outcome);
        }
        let stage = if outcome.is_ok() { OK } else { ERR };
        // SAFETY: this thread moved the stage to COMPLETING, which the CAS lets exactly one
        // thread do, and nobody reads the cell before a final stage is published below: we are
        // its only user (invariant on `outcome`).
        self.outcome
            .with_mut(|cell| unsafe { *cell = Some(outcome) });
        let published = self.publish(COMPLETING, stage);
        debug_assert!(published, "only the completer moves a COMPLETING stage");
        Ok(())
    }

    /// RUNNING -> CANCELLED: a running task was stopped from outside (a process task whose
    /// worker is killed). Whoever runs it finds the stage moved on when it tries to complete,
    /// and its late outcome is dropped. Returns whether this call stopped it.
    pub(crate) fn stop(&self) -> bool {
        self.publish(RUNNING, CANCELLED)
    }

    /// PENDING -> CANCELLED. Returns whether the task was cancelled by this call.
    pub(crate) fn cancel(&self) -> bool {
        // Checked first so that a done future is refused without touching the lock, which a
        // callback of this very future may be holding.
        self.is_pending() && self.publish(PENDING, CANCELLED)
    }

    /// Moves the stage from `from` to the final stage `to` and serves the listeners.
    fn publish(&self, from: u32, to: u32) -> bool {
        match self
            .state
            .compare_exchange(from, to, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => return true,
            Err(state) if state & STAGE != from => return false,
            Err(_) => {} // a flag is set: somebody listens
        }
        let listeners = lock(&self.listeners);
        // Under the lock no listener can register and no flag can change, so the callbacks
        // seen here are all the callbacks there will be before the final stage is visible.
        let lend = to == OK && !listeners.callbacks.is_empty();
        // Lending must start before a taker can see OK (`try_take` takes an OK value without
        // LENT without locking), so LENT is set by the very CAS that publishes the stage.
        if !self.advance(from, to, if lend { LENT } else { 0 }) {
            return false;
        }
        self.serve(listeners, to, lend);
        true
    }

    /// Wakes every listener of a core that just reached `stage`, running callbacks under the
    /// lock so that no `result` call can take the value they are shown.
    fn serve(&self, mut listeners: MutexGuard<'_, Listeners<T>>, stage: u32, lent: bool) {
        if listeners.sleepers > 0 {
            self.cond.notify_all();
        }
        for (signal, token) in listeners.signals.drain(..) {
            signal.notify(token);
        }
        let waker = listeners.waker.take();
        let callbacks = mem::take(&mut listeners.callbacks);
        if !callbacks.is_empty() {
            let _lending = Lending::enter(self);
            for callback in callbacks {
                self.call(callback, stage);
            }
        }
        if lent {
            self.state.fetch_and(!LENT, Ordering::AcqRel);
        }
        drop(listeners);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Runs one callback with the outcome of a core in final `stage`. A panic is reported on
    /// stderr and goes no further (Python logs and ignores a callback's exception).
    ///
    /// The caller holds the listeners' lock and, when `stage` is OK, the LENT flag.
    fn call(&self, callback: Callback<T>, stage: u32) {
        if let Err((message, location)) = panic::catch_parts(|| self.show(stage, callback)) {
            let at = location.map(|at| format!(" at {at}")).unwrap_or_default();
            eprintln!(
                "parallel: a done-callback panicked{at} (ignored; other callbacks still run): {message}"
            );
        }
    }

    /// Adds a callback, or runs it at once on this thread if the task is already done.
    pub(crate) fn add_callback(&self, callback: Callback<T>) {
        if Lending::is(self) {
            // Called from one of this core's own callbacks: this thread holds the lock and,
            // for OK, the loan, so the value can be shown again without locking.
            return self.call(callback, self.stage());
        }
        let mut listeners = lock(&self.listeners);
        let state = self.state.fetch_or(LISTENED, Ordering::AcqRel);
        if !is_final(state & STAGE) {
            listeners.callbacks.push(callback);
            return;
        }
        // Done: borrow the value (if still there) for the callback, under the lock.
        let stage = self.state.fetch_or(LENT, Ordering::AcqRel) & STAGE;
        let _lending = Lending::enter(self);
        let _lent = Lent(self);
        self.call(callback, stage);
    }

    /// Calls `f` with the outcome of a done core, lending the value (without moving it out),
    /// on this thread; `None` (and `f` is not called) while the task is not done. A panic in
    /// `f` unwinds to the caller, with the loan ended.
    pub(crate) fn lend<R>(&self, f: impl FnOnce(Result<&T, &TaskError>) -> R) -> Option<R> {
        if Lending::is(self) {
            // Inside one of this core's callbacks: this thread holds the lock and the loan.
            return Some(self.show(self.stage(), f));
        }
        if !self.is_done() {
            return None;
        }
        let _listeners = lock(&self.listeners);
        let stage = self.state.fetch_or(LENT, Ordering::AcqRel) & STAGE;
        let _lending = Lending::enter(self);
        let _lent = Lent(self);
        Some(self.show(stage, f))
    }

    /// Calls `f` with the outcome of a core in final `stage`.
    ///
    /// The caller holds the listeners' lock and, when `stage` is OK, the LENT flag.
    fn show<R>(&self, stage: u32, f: impl FnOnce(Result<&T, &TaskError>) -> R) -> R {
        match stage {
            OK | ERR => self.outcome.with(|cell| {
                // SAFETY: for OK our caller holds the lock and the LENT flag, so takers wait
                // and the value is neither moved nor mutated while `f` borrows it; an ERR
                // outcome is immutable for good.
                match unsafe { &*cell } {
                    Some(Ok(value)) => f(Ok(value)),
                    Some(Err(error)) => f(Err(error)),
                    None => unreachable!("a finished stage has an outcome"),
                }
            }),
            CANCELLED => f(Err(&CANCELLED_ERROR)),
            _ => f(Err(&TAKEN_ERROR)),
        }
    }

    /// The value of a done core, by reference, or its error; `None` while it is not done.
    ///
    /// # Safety
    /// The caller must keep every other user of this core's value out for as long as the
    /// reference lives: no `try_take`, `lend` or `add_callback` may run meanwhile (the
    /// `Future` guarantees it by taking `&mut self`).
    pub(crate) unsafe fn value_ref(&self) -> Option<Result<&T, TaskError>> {
        let state = self.state.load(Ordering::Acquire);
        match state & STAGE {
            OK => {
                if state & LENT != 0 {
                    // A callback registered before completion is still borrowing the value on
                    // the completing thread, under the lock: wait for it to end.
                    drop(lock(&self.listeners));
                }
                Some(Ok(self.outcome.with(|cell| {
                    // SAFETY: the stage is OK (seen with Acquire after the Release that
                    // published the outcome) and no loan is running; our caller keeps every
                    // taker and lender out while the reference lives, so the value is neither
                    // moved nor mutated meanwhile.
                    match unsafe { &*cell } {
                        Some(Ok(value)) => value,
                        _ => unreachable!("an OK stage holds a value"),
                    }
                })))
            }
            ERR => Some(Err(self.error())),
            TAKEN => Some(Err(TaskError::Taken)),
            CANCELLED => Some(Err(TaskError::Cancelled)),
            _ => None,
        }
    }

    /// The outcome if the task is done, moving a value out; `None` while it is not done.
    pub(crate) fn try_take(&self) -> Option<Result<T, TaskError>> {
        loop {
            let state = self.state.load(Ordering::Acquire);
            match state & STAGE {
                OK if state & LENT == 0 => {
                    let taken = (state & !STAGE) | TAKEN;
                    if self
                        .state
                        .compare_exchange(state, taken, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                    {
                        // SAFETY: our CAS moved OK to TAKEN, which only one thread can do; the
                        // outcome was written before the Release that published OK, which our
                        // Acquire saw; nothing reads the cell of a TAKEN core.
                        let outcome = self.outcome.with_mut(|cell| unsafe { (*cell).take() });
                        return Some(outcome.expect("an OK stage has an outcome"));
                    }
                }
                OK => {
                    assert!(
                        !Lending::is(self),
                        "a done-callback cannot take its own future's value: it is the callback's argument"
                    );
                    // A callback borrows the value under the lock; wait for it to finish.
                    drop(lock(&self.listeners));
                }
                ERR => return Some(Err(self.error())),
                TAKEN => return Some(Err(TaskError::Taken)),
                CANCELLED => return Some(Err(TaskError::Cancelled)),
                _ => return None,
            }
        }
    }

    /// A clone of the error of a core in stage ERR.
    fn error(&self) -> TaskError {
        debug_assert_eq!(self.stage(), ERR);
        self.outcome.with(|cell| {
            // SAFETY: the stage is ERR (our caller saw it with Acquire, after the Release that
            // published the outcome), and an ERR outcome is never written or moved again, so
            // shared reads from any number of threads are sound.
            match unsafe { &*cell } {
                Some(Err(error)) => error.clone(),
                _ => unreachable!("an ERR stage holds an error"),
            }
        })
    }

    /// Blocks until the task is done or `deadline` passes. Returns whether it is done.
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> bool {
        let limit = match deadline {
            None => SPIN_FOR,
            Some(deadline) => SPIN_FOR.min(deadline.saturating_duration_since(Instant::now())),
        };
        if spin_until(limit, || self.is_done()) {
            return true;
        }
        let mut listeners = lock(&self.listeners);
        loop {
            let state = self.state.fetch_or(LISTENED, Ordering::AcqRel);
            if is_final(state & STAGE) {
                return true;
            }
            listeners.sleepers += 1;
            let (guard, expired) = wait_until(&self.cond, listeners, deadline);
            listeners = guard;
            listeners.sleepers -= 1;
            if expired {
                return self.is_done();
            }
        }
    }

    /// Asks for `waker` to be woken when the task is done. Returns `true` (and registers
    /// nothing) if it already is.
    pub(crate) fn register_waker(&self, waker: &Waker) -> bool {
        let mut listeners = lock(&self.listeners);
        let state = self.state.fetch_or(LISTENED, Ordering::AcqRel);
        if is_final(state & STAGE) {
            return true;
        }
        match &mut listeners.waker {
            Some(old) if old.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
        false
    }

    /// Asks for `token` to be sent to `signal` when the task is done. Returns `false` (and
    /// registers nothing) if it already is.
    pub(crate) fn subscribe(&self, signal: &Arc<Signal>, token: usize) -> bool {
        if self.is_done() {
            return false;
        }
        let mut listeners = lock(&self.listeners);
        let state = self.state.fetch_or(LISTENED, Ordering::AcqRel);
        if is_final(state & STAGE) {
            return false;
        }
        listeners.signals.push((Arc::clone(signal), token));
        true
    }

    /// Withdraws the subscriptions of `signal`.
    pub(crate) fn unsubscribe(&self, signal: &Arc<Signal>) {
        if self.is_done() {
            // The completer drains (or has drained) the list; a late token is harmless.
            return;
        }
        lock(&self.listeners)
            .signals
            .retain(|(other, _)| !Arc::ptr_eq(other, signal));
    }
}

/// What `as_completed`, `wait` and maps need of a core, whatever its value type.
#[doc(hidden)]
pub trait CoreState: Send + Sync {
    /// Whether the task is done.
    fn is_done(&self) -> bool;
    /// Whether it is done with an error other than cancellation.
    fn is_failed(&self) -> bool;
    /// See [`Core::subscribe`].
    fn subscribe(&self, signal: &Arc<Signal>, token: usize) -> bool;
    /// See [`Core::unsubscribe`].
    fn unsubscribe(&self, signal: &Arc<Signal>);
}

impl<T: Send> CoreState for Core<T> {
    fn is_done(&self) -> bool {
        Core::is_done(self)
    }

    fn is_failed(&self) -> bool {
        Core::is_failed(self)
    }

    fn subscribe(&self, signal: &Arc<Signal>, token: usize) -> bool {
        Core::subscribe(self, signal, token)
    }

    fn unsubscribe(&self, signal: &Arc<Signal>) {
        Core::unsubscribe(self, signal);
    }
}

/// Marks, for the current thread, the core whose callbacks it is running; restores the
/// previous mark when dropped (a callback may finish another future and run its callbacks).
struct Lending {
    previous: usize,
}

impl Lending {
    fn enter<T>(core: &Core<T>) -> Self {
        let previous = LENDING.with(|cell| cell.replace(core as *const Core<T> as usize));
        Self { previous }
    }

    fn is<T>(core: &Core<T>) -> bool {
        LENDING.with(|cell| cell.get() == core as *const Core<T> as usize)
    }
}

impl Drop for Lending {
    fn drop(&mut self) {
        LENDING.with(|cell| cell.set(self.previous));
    }
}

/// Ends a loan of the value when dropped (also when the borrower panics): clears `LENT`. Made
/// only by a thread that holds the listeners' lock and set `LENT` (or, in `serve`, published
/// OK with it), and dropped before that lock is released.
struct Lent<'a, T>(&'a Core<T>);

impl<T> Drop for Lent<'_, T> {
    fn drop(&mut self) {
        self.0.state.fetch_and(!LENT, Ordering::AcqRel);
    }
}

/// The stage constant a task passes to [`Core::complete`] after running.
pub(crate) const FROM_RUNNING: u32 = RUNNING;
/// The stage constant for failing a task that never started.
pub(crate) const FROM_PENDING: u32 = PENDING;

#[cfg(loom)]
mod loom_tests;
#[cfg(all(test, not(loom)))]
mod tests;
