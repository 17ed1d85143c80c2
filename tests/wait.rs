//! Behaviour of `parallel::wait` and `ReturnWhen`: when it returns, how it splits done from
//! not done, timeouts, keys, and use from inside a task (CPython's `WaitTests`, in Rust).

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use parallel::{wait, Future, ReturnWhen, ThreadPool};

mod common;
use common::{finished, gated, Gate, PATIENCE};

/// A future that is done with a panic.
fn failed(pool: &ThreadPool) -> Future<u32> {
    let future = pool.submit(|| -> u32 { panic!("failed on purpose") });
    future.wait();
    future
}

#[test]
fn first_completed_returns_at_once_when_a_future_is_done() {
    let pool = ThreadPool::builder().workers(2).build().unwrap();
    let gate = Gate::default();
    let pending = gated(&pool, &gate, 0);
    let done = finished(&pool, 1);
    let started = Instant::now();
    let waited = wait(
        [&pending, &done],
        Some(PATIENCE),
        ReturnWhen::FirstCompleted,
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "returned after {:?}, not at once",
        started.elapsed()
    );
    assert_eq!(waited.done, [&done]);
    assert_eq!(waited.not_done, [&pending]);
    gate.open();
}

#[test]
fn first_completed_waits_for_the_first_to_finish() {
    let pool = ThreadPool::builder().workers(2).build().unwrap();
    let (slow_gate, fast_gate) = (Gate::default(), Gate::default());
    let slow = gated(&pool, &slow_gate, 0);
    let fast = gated(&pool, &fast_gate, 1);
    fast_gate.open();
    let waited = wait([&slow, &fast], None, ReturnWhen::FirstCompleted);
    assert_eq!(waited.done, [&fast]);
    assert_eq!(waited.not_done, [&slow]);
    slow_gate.open();
}

#[test]
fn a_cancelled_future_counts_as_completed() {
    let pool = ThreadPool::builder().workers(1).build().unwrap();
    let gate = Gate::default();
    let blocker = gated(&pool, &gate, 0);
    let queued = pool.submit(|| 1);
    assert!(queued.cancel());
    let waited = wait([&blocker, &queued], None, ReturnWhen::FirstCompleted);
    assert_eq!(waited.done, [&queued]);
    assert_eq!(waited.not_done, [&blocker]);
    gate.open();
}

#[test]
fn first_exception_returns_when_a_future_fails() {
    let pool = ThreadPool::builder().workers(2).build().unwrap();
    let gate = Gate::default();
    let pending = gated(&pool, &gate, 0);
    let done = finished(&pool, 1);
    let bad = failed(&pool);
    let waited = wait([&pending, &done, &bad], None, ReturnWhen::FirstException);
    assert_eq!(waited.done, [&done, &bad]);
    assert_eq!(waited.not_done, [&pending]);
    let error = bad.error().expect("failed");
    assert_eq!(error.panic_message(), Some("failed on purpose"));
    gate.open();
}

#[test]
fn first_exception_waits_for_a_failure_that_comes_later() {
    let pool = ThreadPool::builder().workers(3).build().unwrap();
    let (gate, never) = (Gate::default(), Gate::default());
    let later = {
        let gate = gate.clone();
        pool.submit(move || -> u32 {
            gate.wait();
            panic!("late failure")
        })
    };
    let pending = gated(&pool, &never, 0);
    let done = finished(&pool, 1);
    gate.open();
    let waited = wait([&done, &later, &pending], None, ReturnWhen::FirstException);
    assert_eq!(waited.done, [&done, &later]);
    assert_eq!(waited.not_done, [&pending]);
    never.open();
}

#[test]
fn first_exception_without_a_failure_waits_for_all() {
    let pool = ThreadPool::builder().workers(2).build().unwrap();
    let gate = Gate::default();
    let futures = [gated(&pool, &gate, 0), finished(&pool, 1)];
    gate.open();
    let waited = wait(&futures, None, ReturnWhen::FirstException);
    assert_eq!(waited.done.len(), 2);
    assert!(waited.not_done.is_empty());
}

#[test]
fn first_exception_does_not_count_cancellation_as_a_failure() {
    let pool = ThreadPool::builder().workers(1).build().unwrap();
    let gate = Gate::default();
    let blocker = gated(&pool, &gate, 0);
    let queued = pool.submit(|| 1);
    assert!(queued.cancel());
    let waited = wait(
        [&queued, &blocker],
        Some(Duration::from_millis(50)),
        ReturnWhen::FirstException,
    );
    assert_eq!(
        waited.done,
        [&queued],
        "returned by the timeout, not the cancel"
    );
    assert_eq!(waited.not_done, [&blocker]);
    gate.open();
}

#[test]
fn all_completed_waits_for_every_future() {
    let pool = ThreadPool::builder().workers(4).build().unwrap();
    let gate = Gate::default();
    let futures: Vec<_> = (0..3).map(|i| gated(&pool, &gate, i)).collect();
    let bad = failed(&pool);
    gate.open();
    let waited = wait(futures.iter().chain([&bad]), None, ReturnWhen::AllCompleted);
    assert_eq!(waited.done.len(), 4);
    assert!(waited.not_done.is_empty());
    assert!(futures.iter().all(Future::is_done));
}

#[test]
fn a_timeout_returns_the_unfinished_as_not_done() {
    let pool = ThreadPool::builder().workers(2).build().unwrap();
    let gate = Gate::default();
    let pending = gated(&pool, &gate, 0);
    let done = finished(&pool, 1);
    let started = Instant::now();
    let waited = wait(
        [&done, &pending],
        Some(Duration::from_millis(100)),
        ReturnWhen::AllCompleted,
    );
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_eq!(waited.done, [&done]);
    assert_eq!(waited.not_done, [&pending]);
    assert!(!pending.is_done(), "the timeout changed nothing");
    gate.open();
    assert_eq!(pending.result_timeout(PATIENCE), Ok(0));
}

#[test]
fn a_zero_timeout_only_reports() {
    let pool = ThreadPool::builder().workers(2).build().unwrap();
    let gate = Gate::default();
    let pending = gated(&pool, &gate, 0);
    let done = finished(&pool, 1);
    let waited = wait(
        [&pending, &done],
        Some(Duration::ZERO),
        ReturnWhen::AllCompleted,
    );
    assert_eq!(waited.done, [&done]);
    assert_eq!(waited.not_done, [&pending]);
    gate.open();
}

#[test]
fn a_future_given_twice_is_returned_once() {
    let pool = ThreadPool::new();
    let future = finished(&pool, 1);
    let waited = wait([&future, &future], None, ReturnWhen::AllCompleted);
    assert_eq!(waited.done, [&future]);
    assert!(waited.not_done.is_empty());
}

#[test]
fn keys_and_input_order_are_kept() {
    let pool = ThreadPool::builder().workers(4).build().unwrap();
    let gate = Gate::default();
    let jobs = vec![
        ("slow-a", gated(&pool, &gate, 0)),
        ("fast-b", finished(&pool, 1)),
        ("slow-c", gated(&pool, &gate, 2)),
        ("fast-d", finished(&pool, 3)),
    ];
    let waited = wait(jobs, Some(Duration::ZERO), ReturnWhen::AllCompleted);
    fn keys(items: &[(&'static str, Future<u32>)]) -> Vec<&'static str> {
        items.iter().map(|(key, _)| *key).collect()
    }
    assert_eq!(keys(&waited.done), ["fast-b", "fast-d"]);
    assert_eq!(keys(&waited.not_done), ["slow-a", "slow-c"]);
    gate.open();
    for (_, future) in waited.not_done {
        future.wait();
    }
}

#[test]
fn no_futures_return_at_once() {
    let none: Vec<Future<u8>> = Vec::new();
    for when in [
        ReturnWhen::FirstCompleted,
        ReturnWhen::FirstException,
        ReturnWhen::AllCompleted,
    ] {
        let waited = wait(&none, None, when);
        assert!(waited.done.is_empty() && waited.not_done.is_empty());
    }
}

#[test]
fn a_task_waiting_on_its_own_pools_futures_does_not_deadlock() {
    let pool = Arc::new(ThreadPool::builder().workers(1).build().unwrap());
    let outer = {
        let inner_pool = Arc::clone(&pool);
        pool.submit(move || {
            let inner: Vec<_> = (0..3).map(|i| inner_pool.submit(move || i)).collect();
            let first = wait(&inner, None, ReturnWhen::FirstCompleted).done.len();
            let all = wait(&inner, None, ReturnWhen::AllCompleted);
            (first, all.done.len(), all.not_done.len())
        })
    };
    let (first, done, not_done) = outer.result_timeout(PATIENCE).unwrap();
    assert!(first >= 1);
    assert_eq!((done, not_done), (3, 0));
}

/// `wait(AllCompleted)` called as the futures complete returns all of them, every time.
#[test]
fn race_completion_against_wait() {
    let pool = ThreadPool::builder().workers(3).build().unwrap();
    for _ in 0..300 {
        let barrier = Arc::new(Barrier::new(4));
        let futures: Vec<_> = (0..3)
            .map(|i| {
                let barrier = Arc::clone(&barrier);
                pool.submit(move || {
                    barrier.wait();
                    i
                })
            })
            .collect();
        barrier.wait();
        let waited = wait(&futures, Some(PATIENCE), ReturnWhen::AllCompleted);
        assert_eq!(waited.done.len(), 3);
        assert!(waited.not_done.is_empty());
    }
}

/// `wait(FirstCompleted)` called as one future completes returns it, and never an empty set.
#[test]
fn race_first_completed_against_completion() {
    let pool = ThreadPool::builder().workers(2).build().unwrap();
    for _ in 0..300 {
        let barrier = Arc::new(Barrier::new(2));
        let gate = Gate::default();
        let racing = {
            let barrier = Arc::clone(&barrier);
            pool.submit(move || {
                barrier.wait();
                1
            })
        };
        let held = gated(&pool, &gate, 0);
        barrier.wait();
        let waited = wait([&held, &racing], Some(PATIENCE), ReturnWhen::FirstCompleted);
        assert_eq!(waited.done, [&racing]);
        assert_eq!(waited.not_done, [&held]);
        gate.open();
        held.wait();
    }
}
