//! A user's `Serialize` or `Deserialize` that fails with `Error::custom(message)` fails its
//! task with `TaskError::Codec` carrying that message, in each of the four places user serde
//! code runs: encoding the arguments (in the parent), decoding them (in the worker), encoding
//! the result (in the worker) and decoding it (in the parent). The worker survives each, so
//! the pool runs a normal task afterwards.

use std::fmt;
use std::sync::OnceLock;
use std::time::Duration;

use parallel::{parallel, Future, ProcessPool, TaskError};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Long enough that only a broken runtime reaches it; tests never wait it out.
const PATIENCE: Duration = Duration::from_secs(60);

/// The test process's id, set by each test. A worker is a fresh process, so there it is unset:
/// that is how the failing impls tell which side they run on.
static TEST_PROCESS: OnceLock<u32> = OnceLock::new();

/// Marks the calling process as the parent, before a test starts its pool.
fn mark_parent() {
    TEST_PROCESS.get_or_init(std::process::id);
}

/// "parent" in the test process, "child" in a worker.
fn side() -> &'static str {
    if TEST_PROCESS.get() == Some(&std::process::id()) {
        "parent"
    } else {
        "child"
    }
}

/// Decodes from nothing, but its `Serialize` always fails with a message naming the side.
#[derive(Debug)]
struct Unencodable;

impl Serialize for Unencodable {
    fn serialize<S: Serializer>(&self, _serializer: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom(format_args!(
            "message raised in {}",
            side()
        )))
    }
}

impl<'de> Deserialize<'de> for Unencodable {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <()>::deserialize(deserializer).map(|()| Unencodable)
    }
}

/// Encodes as nothing, but its `Deserialize` always fails with a message naming the side.
#[derive(Debug)]
struct Undecodable;

impl Serialize for Undecodable {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_unit()
    }
}

impl<'de> Deserialize<'de> for Undecodable {
    fn deserialize<D: Deserializer<'de>>(_deserializer: D) -> Result<Self, D::Error> {
        Err(serde::de::Error::custom(format_args!(
            "message raised in {}",
            side()
        )))
    }
}

#[parallel(processes = 1)]
fn take_unencodable(_value: Unencodable) -> u32 {
    unreachable!("the argument never leaves the parent")
}

#[parallel(processes = 1)]
fn take_undecodable(_value: Undecodable) -> u32 {
    unreachable!("the argument cannot be decoded in the worker")
}

#[parallel(processes = 1)]
fn give_unencodable() -> Unencodable {
    Unencodable
}

#[parallel(processes = 1)]
fn give_undecodable() -> Undecodable {
    Undecodable
}

#[parallel(processes = 1)]
fn square(x: u64) -> u64 {
    x * x
}

/// A pool of one worker, started after the test process has marked itself.
fn pool() -> ProcessPool {
    mark_parent();
    ProcessPool::builder().workers(1).build().unwrap()
}

/// Asserts that `future` failed with `Codec` carrying `message`, then that `pool` still runs a
/// normal task.
fn assert_codec_error<T: fmt::Debug>(pool: &ProcessPool, future: Future<T>, message: &str) {
    let outcome = future.result_timeout(PATIENCE);
    assert!(future.is_done(), "the task did not finish in {PATIENCE:?}");
    match outcome {
        Err(TaskError::Codec { message: got, .. }) => {
            assert!(
                got.contains(message),
                "{got:?} does not contain {message:?}"
            );
        }
        other => panic!("expected TaskError::Codec with {message:?}, got {other:?}"),
    }
    assert_eq!(pool.submit(square, (7,)).result_timeout(PATIENCE), Ok(49));
}

#[test]
#[cfg_attr(miri, ignore)]
fn an_arguments_serialize_error_keeps_its_message() {
    let pool = pool();
    let future = pool.submit(take_unencodable, (Unencodable,));
    assert_codec_error(
        &pool,
        future,
        "could not encode the arguments: message raised in parent",
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn an_arguments_deserialize_error_keeps_its_message() {
    let pool = pool();
    let future = pool.submit(take_undecodable, (Undecodable,));
    assert_codec_error(
        &pool,
        future,
        "could not decode the arguments: message raised in child",
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_results_serialize_error_keeps_its_message() {
    let pool = pool();
    let future = pool.submit(give_unencodable, ());
    assert_codec_error(
        &pool,
        future,
        "could not encode the result: message raised in child",
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_results_deserialize_error_keeps_its_message() {
    let pool = pool();
    let future = pool.submit(give_undecodable, ());
    assert_codec_error(
        &pool,
        future,
        "could not decode the result: message raised in parent",
    );
}
