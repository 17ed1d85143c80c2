//! Catching a task's panic as its [`TaskError::Panicked`], with the message and the place it
//! was raised, and without the report that Rust's panic hook would print on stderr.
//!
//! Python keeps a task's exception in its future and prints nothing; so does this crate. The
//! location is only known to the panic hook, so the runtime installs one hook for the process
//! (once, chaining the hook that was there): on a thread that is running a task under
//! [`catch`], it records where the panic happened and prints nothing; everywhere else (the
//! program's own threads, code outside tasks) it hands over to the previous hook, so the
//! program's own panics are reported as usual.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe, PanicHookInfo};
use std::sync::Once;

use crate::error::{panic_message, TaskError};

std::thread_local! {
    /// Whether this thread is running a task inside `catch` (nested calls count).
    static CATCHING: Cell<usize> = const { Cell::new(0) };
    /// Where the last panic on this thread inside `catch` was raised.
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the hook, once per process.
fn install() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info: &PanicHookInfo<'_>| {
            // `try_with`: a panic while this thread's locals are being destroyed is not a
            // task's, and goes to the previous hook.
            let in_task = CATCHING.try_with(|depth| depth.get() > 0).unwrap_or(false);
            if !in_task {
                return previous(info);
            }
            let location = info.location().map(ToString::to_string);
            let _ = LOCATION.try_with(|slot| *slot.borrow_mut() = location);
        }));
    });
}

/// Runs `f`, turning a panic into its message and location (`file:line:column`) without
/// printing it.
pub(crate) fn catch_parts<R>(f: impl FnOnce() -> R) -> Result<R, (String, Option<String>)> {
    install();
    let _catching = Catching::enter();
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| parts(payload.as_ref()))
}

/// Runs `f`, turning a panic into `TaskError::Panicked` without printing it.
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, TaskError> {
    catch_parts(f).map_err(|(message, location)| TaskError::panicked_at(message, location, None))
}

/// Marks this thread as running tasks while `f` runs, for a loop that catches its own panics
/// item by item (a map batch) and turns each payload into its error with [`error_of`].
pub(crate) fn catching<R>(f: impl FnOnce() -> R) -> R {
    install();
    let _catching = Catching::enter();
    f()
}

/// The error of a panic caught with `catch_unwind` inside [`catching`].
pub(crate) fn error_of(payload: Box<dyn Any + Send>) -> TaskError {
    let (message, location) = parts(payload.as_ref());
    TaskError::panicked_at(message, location, None)
}

/// The message of `payload` (caught inside [`catching`]) and the location the hook recorded
/// for it.
pub(crate) fn parts_of(payload: &(dyn Any + Send)) -> (String, Option<String>) {
    parts(payload)
}

/// The message of `payload` and the location the hook recorded for it.
fn parts(payload: &(dyn Any + Send)) -> (String, Option<String>) {
    let location = LOCATION.with(|slot| slot.borrow_mut().take());
    (panic_message(payload), location)
}

/// Drops `value` (user code: its `Drop`) on one of the runtime's own threads, which a panic
/// must not end: a panic is reported on stderr and goes no further.
pub(crate) fn drop_quietly<T>(what: &str, value: T) {
    if let Err((message, location)) = catch_parts(move || drop(value)) {
        let at = location.map(|at| format!(" at {at}")).unwrap_or_default();
        eprintln!("parallel: dropping {what} panicked{at} (ignored): {message}");
    }
}

/// Runs `f`, code of the program's that the runtime calls for itself (a `tracing`
/// subscriber), turning a panic into its message and location without printing it. Unlike
/// [`catch_parts`], it leaves in place the location of a task's panic that may be unwinding
/// through the caller (a span is left while its task's panic unwinds), so the task's
/// `TaskError::Panicked` still says where it panicked.
#[cfg(feature = "tracing")]
pub(crate) fn catch_aside<R>(f: impl FnOnce() -> R) -> Result<R, (String, Option<String>)> {
    /// Counts the thread out of `CATCHING` and puts the saved location back, however `f` ends.
    struct Aside(Option<String>);

    impl Drop for Aside {
        fn drop(&mut self) {
            CATCHING.with(|depth| depth.set(depth.get() - 1));
            let saved = self.0.take();
            let _ = LOCATION.try_with(|slot| *slot.borrow_mut() = saved);
        }
    }

    install();
    let saved = LOCATION.with(|slot| slot.borrow_mut().take());
    CATCHING.with(|depth| depth.set(depth.get() + 1));
    let _aside = Aside(saved);
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| parts(payload.as_ref()))
}

/// Marks this thread as running a task while alive.
struct Catching;

impl Catching {
    fn enter() -> Self {
        CATCHING.with(|depth| depth.set(depth.get() + 1));
        // A panic that user code caught itself leaves a location behind; it is not ours.
        LOCATION.with(|slot| slot.borrow_mut().take());
        Self
    }
}

impl Drop for Catching {
    fn drop(&mut self) {
        CATCHING.with(|depth| depth.set(depth.get() - 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message_and_location() {
        let line = line!() + 1;
        let error = catch(|| -> u8 { panic!("bad input {}", 7) }).unwrap_err();
        let TaskError::Panicked {
            message, location, ..
        } = &error
        else {
            panic!("not a panic: {error:?}");
        };
        assert_eq!(message, "bad input 7");
        let location = location.as_deref().expect("the hook saw where");
        assert!(
            location.starts_with(&format!("{}:{line}:", file!())),
            "{location}"
        );
    }

    #[test]
    fn a_value_passes_through_and_nesting_unwinds_cleanly() {
        assert_eq!(catch(|| 5), Ok(5));
        let inner = catch(|| catch(|| -> () { panic!("inner") }).unwrap_err());
        assert_eq!(inner.unwrap().panic_message(), Some("inner"));
        CATCHING.with(|depth| assert_eq!(depth.get(), 0));
    }
}
