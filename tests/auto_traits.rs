//! Compile-time checks of the public types' auto traits (`Send`, `Sync`, `Unpin`), in the
//! manner of tokio's `tests/async_send_sync.rs`: if one regresses, this file stops compiling.

#![allow(dead_code)]

use std::cell::Cell;
use std::marker::PhantomData;
use std::rc::Rc;

use parallel::{
    AsCompleted, AsCompletedTimeout, Future, Map, ReturnWhen, TaskError, ThreadPool,
    ThreadPoolBuilder, Waited, WorkerExit,
};

fn require_send<T: Send>() {}
fn require_sync<T: Sync>() {}
fn require_unpin<T: Unpin>() {}
fn require_static<T: 'static>() {}

macro_rules! assert_value {
    ($type:ty: Send & Sync & Unpin) => {
        const _: fn() = || {
            require_send::<$type>();
            require_sync::<$type>();
            require_unpin::<$type>();
        };
    };
    ($type:ty: Send & !Sync & Unpin) => {
        const _: fn() = || {
            require_send::<$type>();
            require_unpin::<$type>();
            // Compiles only if `$type` is not `Sync`: otherwise both impls apply and the call
            // is ambiguous.
            let _ = <$type as AmbiguousIfSync<_>>::some_item;
        };
    };
    ($type:ty: !Send & !Sync) => {
        const _: fn() = || {
            let _ = <$type as AmbiguousIfSend<_>>::some_item;
            let _ = <$type as AmbiguousIfSync<_>>::some_item;
        };
    };
}

trait AmbiguousIfSend<A> {
    fn some_item() {}
}
impl<T: ?Sized> AmbiguousIfSend<()> for T {}
impl<T: ?Sized + Send> AmbiguousIfSend<u8> for T {}

trait AmbiguousIfSync<A> {
    fn some_item() {}
}
impl<T: ?Sized> AmbiguousIfSync<()> for T {}
impl<T: ?Sized + Sync> AmbiguousIfSync<u8> for T {}

// Futures: sendable and shareable whenever the value is sendable, even if not `Sync` itself
// (only one thread ever touches the value at a time), so one thread may wait while another
// cancels or adds callbacks.
assert_value!(Future<u32>: Send & Sync & Unpin);
assert_value!(Future<String>: Send & Sync & Unpin);
assert_value!(Future<Cell<u32>>: Send & Sync & Unpin);
assert_value!(Future<Vec<Box<dyn std::any::Any + Send>>>: Send & Sync & Unpin);
assert_value!(Future<()>: Send & Sync & Unpin);

// Pools and their settings move and share freely: a pool in a `static`, or in an `Arc`
// captured by its own tasks.
assert_value!(ThreadPool: Send & Sync & Unpin);
assert_value!(ThreadPoolBuilder: Send & Sync & Unpin);

// Errors travel between threads and box into `Box<dyn Error + Send + Sync>`.
assert_value!(TaskError: Send & Sync & Unpin);
assert_value!(WorkerExit: Send & Sync & Unpin);
assert_value!(ReturnWhen: Send & Sync & Unpin);

// What `wait` and `as_completed` hand back can be passed to another thread.
assert_value!(Waited<Future<u32>>: Send & Sync & Unpin);
assert_value!(Waited<(&'static str, &'static Future<u32>)>: Send & Sync & Unpin);

// The test's own probes of the negative checks, so that they cannot pass vacuously.
assert_value!(Cell<u32>: Send & !Sync & Unpin);
assert_value!(Rc<u32>: !Send & !Sync);

const _: fn() = || {
    require_static::<Future<u32>>();
    require_static::<TaskError>();
    require_static::<ThreadPool>();
    // A boxed error, as `?` in a `main() -> Result<(), Box<dyn Error + Send + Sync>>` needs.
    let _: fn(TaskError) -> Box<dyn std::error::Error + Send + Sync> = |e| Box::new(e);
    // Awaitable from runtimes that require `Send` futures (tokio::spawn).
    fn require_send_future<F: std::future::Future<Output = Result<u32, TaskError>> + Send>() {}
    require_send_future::<Future<u32>>();
};

/// Answers "is `T: Send`?" at run time by autoref specialisation, so a missing `Send` can be a
/// failing (or ignored) test instead of a file that no longer compiles.
struct Probe<T: ?Sized>(PhantomData<T>);

trait ViaSend {
    fn is_send(&self) -> bool {
        true
    }
}
impl<T: ?Sized + Send> ViaSend for Probe<T> {}

trait ViaAny {
    fn is_send(&self) -> bool {
        false
    }
}
impl<T: ?Sized> ViaAny for &Probe<T> {}

macro_rules! is_send {
    ($type:ty) => {
        (&Probe::<$type>(PhantomData)).is_send()
    };
}

#[test]
fn the_send_probe_tells_send_from_not_send() {
    assert!(is_send!(u32));
    assert!(is_send!(Future<u32>));
    assert!(!is_send!(Rc<u32>));
}

#[test]
fn as_completed_iterators_are_send() {
    assert!(is_send!(AsCompleted<Future<u32>>));
    assert!(is_send!(AsCompleted<&'static Future<u32>>));
    assert!(is_send!(AsCompletedTimeout<(u32, Future<u32>)>));
}

/// A map over a `Send` input with `Send` results can be consumed on another thread (a scoped
/// thread, an async task).
#[test]
fn a_map_over_send_items_is_send() {
    assert!(is_send!(Map<'static, std::ops::Range<u32>, u32>));
    assert!(is_send!(Map<'static, std::vec::IntoIter<String>, String>));
}

#[test]
fn a_map_over_items_that_are_not_send_is_not_send() {
    assert!(!is_send!(Map<'static, std::vec::IntoIter<Rc<u32>>, u32>));
}
