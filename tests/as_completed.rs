//! Behaviour of `parallel::as_completed`: completion order, duplicates, keys, timeouts, and
//! use from inside a task (CPython's `AsCompletedTests`, in Rust).

use std::collections::HashSet;
use std::sync::{mpsc, Arc, Barrier};
use std::time::{Duration, Instant};

use parallel::{as_completed, Deadline, Future, TaskError, ThreadPool};

mod common;
use common::{finished, gated, Gate, PATIENCE};

#[test]
fn a_future_given_three_times_comes_out_once() {
    let pool = ThreadPool::new();
    let future = pool.submit(|| 1);
    let yielded: Vec<_> = as_completed([&future, &future, &future]).collect();
    assert_eq!(yielded, [&future]);
}

#[test]
fn duplicates_among_others_come_out_once_each() {
    let pool = ThreadPool::new();
    let (a, b) = (pool.submit(|| 1), pool.submit(|| 2));
    let it = as_completed([&a, &b, &a, &b, &a]);
    assert_eq!(it.len(), 2);
    let yielded: HashSet<_> = it.collect();
    assert_eq!(yielded, HashSet::from([&a, &b]));
}

#[test]
fn a_zero_timeout_yields_the_finished_then_times_out_and_never_the_pending() {
    let pool = ThreadPool::builder().workers(2).build().unwrap();
    let gate = Gate::default();
    let pending = gated(&pool, &gate, 0);
    let done = finished(&pool, 1);
    let cancelled = pool.submit(|| 2);
    cancelled.cancel(); // may lose to a worker: done either way once waited on
    cancelled.wait();

    let mut it = as_completed([&pending, &done, &cancelled]).timeout(Duration::ZERO);
    let mut yielded = Vec::new();
    let error = loop {
        match it.next().expect("the iterator ends with the timeout") {
            Ok(future) => yielded.push(future),
            Err(error) => break error,
        }
    };
    assert_eq!(
        error,
        TaskError::timed_out(Deadline::AsCompleted {
            unfinished: 1,
            total: 3
        })
    );
    assert!(
        error.to_string().contains("1 (of 3) futures unfinished"),
        "{error}"
    );
    assert!(it.next().is_none(), "nothing after the timeout");
    assert_eq!(yielded, [&done, &cancelled], "finished ones in input order");
    assert_eq!(it.into_pending(), [&pending]);
    gate.open();
}

#[test]
fn a_timeout_is_counted_from_the_call() {
    let pool = ThreadPool::new();
    let gate = Gate::default();
    let pending = gated(&pool, &gate, 0);
    let started = Instant::now();
    let mut it = as_completed([&pending]).timeout(Duration::from_millis(100));
    assert_eq!(
        it.next(),
        Some(Err(TaskError::timed_out(Deadline::AsCompleted {
            unfinished: 1,
            total: 1
        })))
    );
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert!(it.next().is_none());
    gate.open();
}

#[test]
fn a_timeout_that_is_not_reached_changes_nothing() {
    let pool = ThreadPool::new();
    let futures: Vec<_> = (0..5).map(|i| pool.submit(move || i)).collect();
    let yielded: Result<Vec<_>, _> = as_completed(&futures).timeout(PATIENCE).collect();
    assert_eq!(yielded.unwrap().len(), 5);
}

#[test]
fn futures_come_out_in_completion_order() {
    let pool = ThreadPool::builder().workers(3).build().unwrap();
    let gates: Vec<Gate> = (0..3).map(|_| Gate::default()).collect();
    let futures: Vec<_> = (0..3).map(|i| gated(&pool, &gates[i], i as u32)).collect();
    let mut it = as_completed(&futures);
    for i in [2, 0, 1] {
        gates[i].open();
        let future = it.next().unwrap();
        assert_eq!(future, &futures[i]);
        assert_eq!(future.result(), Ok(i as u32));
    }
    assert!(it.next().is_none());
}

#[test]
fn finished_futures_come_first_in_input_order() {
    let pool = ThreadPool::builder().workers(2).build().unwrap();
    let gate = Gate::default();
    let pending = gated(&pool, &gate, 0);
    let (first, second) = (finished(&pool, 1), finished(&pool, 2));
    let mut it = as_completed([&pending, &second, &first]);
    assert_eq!(it.next(), Some(&second));
    assert_eq!(it.next(), Some(&first));
    gate.open();
    assert_eq!(it.next(), Some(&pending));
    assert_eq!(it.next(), None);
}

#[test]
fn keyed_pairs_tell_which_input_finished() {
    let pool = ThreadPool::new();
    let urls = ["a.org", "bb.org", "ccc.org"];
    let jobs = urls.map(|url| (url, pool.submit(move || url.len())));
    let mut seen = Vec::new();
    for (url, future) in as_completed(jobs) {
        assert_eq!(future.result(), Ok(url.len()));
        seen.push(url);
    }
    seen.sort();
    assert_eq!(seen, urls);
}

#[test]
fn owned_futures_are_yielded_by_value() {
    let pool = ThreadPool::new();
    let futures: Vec<Future<String>> = (0..4).map(|i| pool.submit(move || i.to_string())).collect();
    let mut values: Vec<String> = as_completed(futures)
        .map(|future| future.result().unwrap())
        .collect();
    values.sort();
    assert_eq!(values, ["0", "1", "2", "3"]);
}

#[test]
fn no_futures_yield_nothing() {
    let none: Vec<Future<u8>> = Vec::new();
    assert_eq!(as_completed(&none).count(), 0);
    let mut it = as_completed(&none).timeout(Duration::ZERO);
    assert!(
        it.next().is_none(),
        "nothing to wait for, so no timeout either"
    );
}

#[test]
fn the_length_counts_down() {
    let pool = ThreadPool::new();
    let futures: Vec<_> = (0..3).map(|i| pool.submit(move || i)).collect();
    let mut it = as_completed(&futures);
    for left in (0..3).rev() {
        it.next().unwrap();
        assert_eq!(it.len(), left);
    }
    assert!(it.next().is_none());
    assert!(it.next().is_none(), "fused");
}

#[test]
fn failed_and_cancelled_futures_are_completed_too() {
    let pool = ThreadPool::builder().workers(1).build().unwrap();
    let gate = Gate::default();
    let blocker = gated(&pool, &gate, 0);
    let queued = pool.submit(|| 1);
    assert!(queued.cancel());
    let failed = pool.submit(|| -> u32 { panic!("no") });
    gate.open();
    let yielded: HashSet<_> = as_completed([&blocker, &queued, &failed]).collect();
    assert_eq!(yielded.len(), 3);
    assert_eq!(queued.result(), Err(TaskError::Cancelled));
    let error = failed.result().unwrap_err();
    assert_eq!(error.panic_message(), Some("no"));
}

#[test]
fn a_task_iterating_over_its_own_pools_futures_does_not_deadlock() {
    let pool = Arc::new(ThreadPool::builder().workers(1).build().unwrap());
    let outer = {
        let pool = Arc::clone(&pool);
        pool.clone().submit(move || {
            let inner: Vec<_> = (1..=4).map(|i| pool.submit(move || i * 10)).collect();
            as_completed(&inner)
                .map(|future| future.result().unwrap())
                .sum::<u32>()
        })
    };
    assert_eq!(outer.result_timeout(PATIENCE), Ok(100));
}

/// Futures finishing while `as_completed` subscribes to them each come out exactly once.
#[test]
fn race_completion_against_subscription() {
    let pool = ThreadPool::builder().workers(4).build().unwrap();
    for _ in 0..300 {
        let barrier = Arc::new(Barrier::new(5));
        let futures: Vec<_> = (0..4u32)
            .map(|i| {
                let barrier = Arc::clone(&barrier);
                pool.submit(move || {
                    barrier.wait();
                    i
                })
            })
            .collect();
        barrier.wait();
        let mut values: Vec<u32> = as_completed(&futures)
            .map(|future| future.result().unwrap())
            .collect();
        values.sort();
        assert_eq!(values, [0, 1, 2, 3]);
    }
}

/// A timeout racing the last completion yields each future at most once and accounts for
/// every future either as yielded or as pending.
#[test]
fn race_completion_against_a_timeout() {
    let pool = ThreadPool::builder().workers(2).build().unwrap();
    for _ in 0..200 {
        let barrier = Arc::new(Barrier::new(2));
        let (done_tx, done_rx) = mpsc::channel();
        let racing = {
            let barrier = Arc::clone(&barrier);
            pool.submit(move || {
                barrier.wait();
                done_tx.send(()).unwrap();
                1
            })
        };
        let done = finished(&pool, 0);
        barrier.wait();
        let mut it = as_completed([&done, &racing]).timeout(Duration::from_micros(50));
        let mut yielded = Vec::new();
        let mut timed_out = false;
        for item in it.by_ref() {
            match item {
                Ok(future) => yielded.push(future),
                Err(error) => {
                    assert!(error.is_timed_out());
                    timed_out = true;
                }
            }
        }
        let pending = it.into_pending();
        assert_eq!(yielded[0], &done);
        assert_eq!(yielded.len() + pending.len(), 2);
        assert_eq!(timed_out, !pending.is_empty());
        done_rx.recv_timeout(PATIENCE).unwrap();
        assert_eq!(racing.result_timeout(PATIENCE), Ok(1));
    }
}
