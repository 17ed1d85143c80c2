//! Behaviour of `parallel::Future`: results, timeouts, states, cancellation, done-callbacks,
//! identity, and the races between them (CPython's `FutureTests`, in Rust).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use parallel::{as_completed, Deadline, Future, TaskError, ThreadPool};

mod common;
use common::{Gate, PATIENCE};

fn one_worker() -> ThreadPool {
    ThreadPool::builder().workers(1).build().unwrap()
}

/// A one-worker pool whose worker is held by a task until the returned gate opens, and a
/// receiver that yields once that task has started.
fn busy_pool() -> (ThreadPool, Gate, Future<()>) {
    let pool = one_worker();
    let gate = Gate::default();
    let (started, on_start) = mpsc::channel();
    let blocker = {
        let gate = gate.clone();
        pool.submit(move || {
            started.send(()).unwrap();
            gate.wait();
        })
    };
    on_start.recv_timeout(PATIENCE).unwrap();
    (pool, gate, blocker)
}

#[test]
fn result_returns_the_value_then_taken() {
    let pool = ThreadPool::new();
    let future = pool.submit(|| vec!["a".to_owned(), "b".to_owned()]);
    assert_eq!(future.result(), Ok(vec!["a".to_owned(), "b".to_owned()]));
    assert_eq!(future.result(), Err(TaskError::Taken));
    assert_eq!(future.try_result(), Some(Err(TaskError::Taken)));
    assert_eq!(future.result_timeout(Duration::ZERO), Err(TaskError::Taken));
    assert!(future.is_done());
    assert_eq!(future.error(), None, "a taken value is not an error");
}

#[test]
fn an_error_is_returned_by_every_call() {
    let pool = ThreadPool::new();
    let future = pool.submit(|| -> u8 { panic!("bad input {}", 7) });
    let expected = future.result().unwrap_err();
    assert_eq!(expected.panic_message(), Some("bad input 7"));
    assert_eq!(future.result(), Err(expected.clone()));
    assert_eq!(future.result(), Err(expected.clone()));
    assert_eq!(future.try_result(), Some(Err(expected.clone())));
    assert_eq!(future.result_timeout(Duration::ZERO), Err(expected.clone()));
    assert_eq!(future.error(), Some(expected.clone()));
    assert_eq!(future.error(), Some(expected));
}

#[test]
fn error_waits_and_never_takes_the_value() {
    let (pool, gate, _blocker) = busy_pool();
    let future = pool.submit(|| 5);
    gate.open();
    assert_eq!(future.error(), None);
    assert_eq!(future.result(), Ok(5), "error() left the value in place");
}

#[test]
fn try_result_never_blocks() {
    let (pool, gate, _blocker) = busy_pool();
    let future = pool.submit(|| 9);
    assert_eq!(future.try_result(), None);
    assert_eq!(future.try_result(), None);
    gate.open();
    future.wait();
    assert_eq!(future.try_result(), Some(Ok(9)));
    assert_eq!(future.try_result(), Some(Err(TaskError::Taken)));
}

#[test]
fn a_timed_out_wait_leaves_the_future_usable() {
    let (pool, gate, _blocker) = busy_pool();
    let future = pool.submit(|| "late");
    assert_eq!(
        future.result_timeout(Duration::from_millis(20)),
        Err(TaskError::timed_out(Deadline::Wait))
    );
    assert!(!future.wait_timeout(Duration::from_millis(20)));
    assert!(!future.is_done(), "a timeout changes nothing");
    assert!(!future.is_cancelled());
    gate.open();
    assert_eq!(future.result_timeout(PATIENCE), Ok("late"));
}

#[test]
fn wait_and_wait_timeout_do_not_take_the_value() {
    let pool = ThreadPool::new();
    let future = pool.submit(|| 3);
    future.wait();
    assert!(future.wait_timeout(Duration::ZERO));
    assert!(future.wait_timeout(PATIENCE));
    assert_eq!(future.result(), Ok(3));
}

#[test]
fn states_follow_the_task_from_pending_to_done() {
    let (pool, gate, blocker) = busy_pool();
    assert!(blocker.is_running());
    assert!(!blocker.is_done());

    let queued = pool.submit(|| 1);
    assert!(!queued.is_running());
    assert!(!queued.is_done());
    assert!(!queued.is_cancelled());
    assert_eq!(format!("{queued:?}"), "Future { state: \"pending\" }");
    assert_eq!(format!("{blocker:?}"), "Future { state: \"running\" }");

    gate.open();
    assert_eq!(queued.result(), Ok(1));
    assert!(queued.is_done());
    assert!(!queued.is_running());
    assert!(!queued.is_cancelled());
    assert_eq!(format!("{queued:?}"), "Future { state: \"done\" }");
}

#[test]
fn cancel_succeeds_while_pending() {
    let (pool, gate, _blocker) = busy_pool();
    let ran = Arc::new(AtomicBool::new(false));
    let queued = {
        let ran = Arc::clone(&ran);
        pool.submit(move || ran.store(true, Ordering::SeqCst))
    };
    assert!(queued.cancel());
    assert!(queued.is_cancelled());
    assert!(queued.is_done());
    assert!(!queued.is_running());
    assert_eq!(format!("{queued:?}"), "Future { state: \"cancelled\" }");
    assert_eq!(queued.result(), Err(TaskError::Cancelled));
    assert_eq!(queued.result(), Err(TaskError::Cancelled));
    assert_eq!(queued.error(), Some(TaskError::Cancelled));
    assert!(queued.wait_timeout(Duration::ZERO));

    // Cancelling again changes nothing and, as in Python, still answers true.
    assert!(queued.cancel());
    assert!(queued.is_cancelled());

    gate.open();
    pool.shutdown(true, false);
    assert!(!ran.load(Ordering::SeqCst), "a cancelled task never runs");
}

#[test]
fn cancel_on_a_running_future_fails_and_the_task_completes() {
    let (_pool, gate, blocker) = busy_pool();
    assert!(!blocker.cancel());
    assert!(blocker.is_running());
    assert!(!blocker.is_cancelled());
    gate.open();
    assert_eq!(blocker.result(), Ok(()));
    assert!(
        !blocker.cancel(),
        "a finished task cannot be cancelled either"
    );
    assert!(!blocker.is_cancelled());
}

#[test]
fn cancel_wakes_a_thread_blocked_on_a_queued_future() {
    let (pool, gate, _blocker) = busy_pool();
    let queued = pool.submit(|| "never");
    let (waiting, on_waiting) = mpsc::channel();
    thread::scope(|scope| {
        let waiter = scope.spawn(|| {
            waiting.send(()).unwrap();
            let outcome = queued.result_timeout(Duration::from_secs(30));
            (outcome, Instant::now())
        });
        on_waiting.recv().unwrap();
        // Not for correctness (the assertions hold either way): gives the waiter time to fall
        // asleep, so that the cancel has to wake it rather than beat it.
        thread::sleep(Duration::from_millis(100));
        let cancelled_at = Instant::now();
        assert!(queued.cancel());
        let (outcome, woke_at) = waiter.join().unwrap();
        assert_eq!(outcome, Err(TaskError::Cancelled));
        let delay = woke_at.saturating_duration_since(cancelled_at);
        assert!(
            delay < Duration::from_secs(5),
            "the waiter woke {delay:?} after the cancel, not promptly"
        );
    });
    gate.open();
}

#[test]
fn dropping_a_future_does_not_cancel_its_task() {
    let pool = ThreadPool::builder().workers(2).build().unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..10 {
        let ran = Arc::clone(&ran);
        drop(pool.submit(move || ran.fetch_add(1, Ordering::SeqCst)));
    }
    drop(pool);
    assert_eq!(ran.load(Ordering::SeqCst), 10);
}

#[test]
fn a_callback_added_to_a_finished_future_runs_at_once_on_this_thread() {
    let pool = ThreadPool::new();
    let future = pool.submit(|| 21 * 2);
    future.wait();
    let here = thread::current().id();
    let seen = Arc::new(Mutex::new(Vec::new()));
    {
        let seen = Arc::clone(&seen);
        future.add_done_callback(move |outcome| {
            seen.lock()
                .unwrap()
                .push((outcome.ok().copied(), thread::current().id()));
        });
    }
    assert_eq!(*seen.lock().unwrap(), [(Some(42), here)]);
    assert_eq!(
        future.result(),
        Ok(42),
        "the callback only borrowed the value"
    );
}

#[test]
fn callbacks_added_before_completion_run_in_order_on_the_worker() {
    let pool = ThreadPool::builder()
        .workers(1)
        .name_prefix("callbacks")
        .build()
        .unwrap();
    let gate = Gate::default();
    let future = {
        let gate = gate.clone();
        pool.submit(move || {
            gate.wait();
            "done".to_owned()
        })
    };
    let (tx, rx) = mpsc::channel();
    for tag in 0..3 {
        let tx = tx.clone();
        future.add_done_callback(move |outcome| {
            let name = thread::current().name().map(str::to_owned);
            tx.send((tag, outcome.ok().cloned(), name)).unwrap();
        });
    }
    assert!(rx.try_recv().is_err(), "nothing runs before the task ends");
    gate.open();
    let calls: Vec<_> = (0..3).map(|_| rx.recv_timeout(PATIENCE).unwrap()).collect();
    let worker = Some("callbacks-0".to_owned());
    let done = Some("done".to_owned());
    assert_eq!(
        calls,
        [
            (0, done.clone(), worker.clone()),
            (1, done.clone(), worker.clone()),
            (2, done, worker)
        ]
    );
    assert_eq!(future.result().as_deref(), Ok("done"));
}

#[test]
fn a_panicking_callback_does_not_stop_the_callbacks_after_it() {
    let (pool, gate, _blocker) = busy_pool();
    let future = pool.submit(|| 1);
    let (tx, rx) = mpsc::channel();
    future.add_done_callback(|_| panic!("the first callback fails"));
    {
        let tx = tx.clone();
        future.add_done_callback(move |outcome| tx.send(outcome.ok().copied()).unwrap());
    }
    gate.open();
    assert_eq!(rx.recv_timeout(PATIENCE), Ok(Some(1)));

    // The same on a finished future, where callbacks run at once on this thread.
    future.add_done_callback(|_| panic!("a late callback fails"));
    future.add_done_callback(move |outcome| tx.send(outcome.ok().copied()).unwrap());
    assert_eq!(rx.try_recv(), Ok(Some(1)));

    // The worker survived the panicking callback.
    assert_eq!(pool.submit(|| 2).result(), Ok(2));
    assert_eq!(future.result(), Ok(1));
}

#[test]
fn callbacks_see_errors_cancellation_and_taken_values() {
    let (pool, gate, _blocker) = busy_pool();
    let (tx, rx) = mpsc::channel();
    let report = |tx: &mpsc::Sender<Result<i32, TaskError>>| {
        let tx = tx.clone();
        move |outcome: Result<&i32, &TaskError>| {
            tx.send(outcome.copied().map_err(Clone::clone)).unwrap()
        }
    };

    let cancelled = pool.submit(|| 1);
    cancelled.add_done_callback(report(&tx));
    assert!(cancelled.cancel());
    assert_eq!(rx.try_recv(), Ok(Err(TaskError::Cancelled)));

    gate.open();
    let failed = pool.submit(|| -> i32 { panic!("oops") });
    failed.wait();
    failed.add_done_callback(report(&tx));
    let error = rx.try_recv().unwrap().unwrap_err();
    assert_eq!(error.panic_message(), Some("oops"));

    let taken = pool.submit(|| 3);
    assert_eq!(taken.result(), Ok(3));
    taken.add_done_callback(report(&tx));
    assert_eq!(rx.try_recv(), Ok(Err(TaskError::Taken)));
}

#[test]
fn a_callback_taking_its_own_value_panics_with_an_explanation() {
    let pool = ThreadPool::new();
    let future = Arc::new(pool.submit(|| 5));
    future.wait();
    let (tx, rx) = mpsc::channel();
    {
        let inner = Arc::clone(&future);
        future.add_done_callback(move |_| {
            let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.result()));
            let message = attempt.err().and_then(|payload| {
                payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
            });
            tx.send(message).unwrap();
        });
    }
    let message = rx.try_recv().unwrap().expect("taking the value panicked");
    assert!(
        message.contains("cannot take its own future's value"),
        "{message}"
    );
    assert_eq!(future.result(), Ok(5));
}

#[test]
fn futures_key_a_hash_map_by_identity() {
    let pool = ThreadPool::new();
    let urls = ["a.org", "b.org", "c.org", "d.org"];
    // Equal values, distinct futures.
    let futures: HashMap<Future<usize>, &str> = urls
        .iter()
        .map(|&url| (pool.submit(move || url.len()), url))
        .collect();
    assert_eq!(futures.len(), 4, "futures with equal values are distinct");

    let mut seen = HashSet::new();
    for future in as_completed(futures.keys()) {
        assert_eq!(future.result(), Ok(5));
        assert!(seen.insert(futures[future]));
    }
    assert_eq!(seen, urls.into_iter().collect::<HashSet<_>>());
}

#[test]
fn a_future_equals_only_itself() {
    let pool = ThreadPool::new();
    let (a, b) = (pool.submit(|| 1), pool.submit(|| 1));
    assert_eq!(a, a);
    assert_ne!(a, b);
    let mut set = HashSet::new();
    assert!(set.insert(&a));
    assert!(!set.insert(&a));
    assert!(set.insert(&b));
}

/// Cancel races a worker's claim: exactly one wins, and the outcome says which.
#[test]
fn race_cancel_against_the_workers_claim() {
    let pool = one_worker();
    for _ in 0..500 {
        let barrier = Arc::new(Barrier::new(2));
        let executed = Arc::new(AtomicBool::new(false));
        // The worker is held at the barrier with the task queued behind; passing the barrier
        // sets the worker claiming the task and this thread cancelling it at the same moment.
        let holder = {
            let barrier = Arc::clone(&barrier);
            pool.submit(move || {
                barrier.wait();
            })
        };
        let future = {
            let executed = Arc::clone(&executed);
            pool.submit(move || executed.store(true, Ordering::SeqCst))
        };
        barrier.wait();
        let won = future.cancel();
        holder.result().unwrap();
        let outcome = future.result();
        if won {
            assert_eq!(outcome, Err(TaskError::Cancelled));
            assert!(future.is_cancelled());
        } else {
            assert_eq!(outcome, Ok(()));
            assert!(!future.is_cancelled());
        }
        assert_eq!(
            executed.load(Ordering::SeqCst),
            !won,
            "ran iff not cancelled"
        );
    }
}

/// A callback added while the worker completes the task runs, exactly once, with the value.
#[test]
fn race_callbacks_added_while_completing() {
    let pool = ThreadPool::builder().workers(2).build().unwrap();
    for round in 0..500 {
        let barrier = Arc::new(Barrier::new(2));
        let future = {
            let barrier = Arc::clone(&barrier);
            pool.submit(move || {
                barrier.wait();
                round
            })
        };
        let (tx, rx) = mpsc::channel();
        barrier.wait();
        future.add_done_callback(move |outcome| tx.send(outcome.ok().copied()).unwrap());
        assert_eq!(rx.recv_timeout(PATIENCE), Ok(Some(round)));
        assert_eq!(future.result(), Ok(round));
        assert!(rx.try_recv().is_err(), "exactly one call");
    }
}

/// A callback registered before completion is lent the value even while another thread
/// races to take it; the taker gets it exactly once.
#[test]
fn race_result_against_a_lending_callback() {
    let pool = ThreadPool::builder().workers(2).build().unwrap();
    for round in 0..500 {
        let barrier = Arc::new(Barrier::new(2));
        let future = {
            let barrier = Arc::clone(&barrier);
            pool.submit(move || {
                barrier.wait();
                vec![round; 4]
            })
        };
        let (tx, rx) = mpsc::channel();
        future.add_done_callback(move |outcome| tx.send(outcome.ok().cloned()).unwrap());
        barrier.wait();
        assert_eq!(future.result(), Ok(vec![round; 4]));
        assert_eq!(rx.recv_timeout(PATIENCE), Ok(Some(vec![round; 4])));
        assert_eq!(future.result(), Err(TaskError::Taken));
    }
}

/// `result` called as the task completes never misses the completion.
#[test]
fn race_result_against_completion() {
    let pool = ThreadPool::builder().workers(2).build().unwrap();
    for round in 0..1000 {
        let barrier = Arc::new(Barrier::new(2));
        let future = {
            let barrier = Arc::clone(&barrier);
            pool.submit(move || {
                barrier.wait();
                round * 2
            })
        };
        barrier.wait();
        let outcome = if round % 2 == 0 {
            future.result()
        } else {
            future.result_timeout(PATIENCE)
        };
        assert_eq!(outcome, Ok(round * 2));
    }
}

/// Several threads wait on one future while it completes: all wake, one takes the value.
#[test]
fn race_many_waiters_against_completion() {
    let pool = ThreadPool::builder().workers(2).build().unwrap();
    for round in 0..200 {
        let barrier = Arc::new(Barrier::new(4));
        let future = {
            let barrier = Arc::clone(&barrier);
            pool.submit(move || {
                barrier.wait();
                round
            })
        };
        let outcomes: Vec<_> = thread::scope(|scope| {
            let waiters: Vec<_> = (0..3)
                .map(|_| {
                    let (barrier, future) = (Arc::clone(&barrier), &future);
                    scope.spawn(move || {
                        barrier.wait();
                        future.result_timeout(PATIENCE)
                    })
                })
                .collect();
            waiters.into_iter().map(|w| w.join().unwrap()).collect()
        });
        let values = outcomes.iter().filter(|o| **o == Ok(round)).count();
        let taken = outcomes
            .iter()
            .filter(|o| **o == Err(TaskError::Taken))
            .count();
        assert_eq!((values, taken), (1, 2), "{outcomes:?}");
    }
}
