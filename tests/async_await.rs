//! `parallel::Future` as a `std::future::Future`: awaited from `futures::executor::block_on`
//! and from a multi-threaded tokio runtime, polled by hand to check its waker protocol.

use std::future::Future as _;
use std::pin::Pin;
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use parallel::{Future, TaskError, ThreadPool};

mod common;
use common::{gated, Gate, PATIENCE};

/// A waker that reports each wake-up on a channel.
struct Report(Mutex<mpsc::Sender<()>>);

impl Wake for Report {
    fn wake(self: Arc<Self>) {
        let _ = self.0.lock().unwrap().send(());
    }
}

fn reporting_waker() -> (Waker, mpsc::Receiver<()>) {
    let (tx, rx) = mpsc::channel();
    (Waker::from(Arc::new(Report(Mutex::new(tx)))), rx)
}

fn poll<T>(future: &mut Future<T>, waker: &Waker) -> Poll<Result<T, TaskError>> {
    Pin::new(future).poll(&mut Context::from_waker(waker))
}

#[test]
fn block_on_a_finished_future() {
    let pool = ThreadPool::new();
    let future = pool.submit(|| 6 * 7);
    future.wait();
    assert_eq!(futures::executor::block_on(future), Ok(42));
}

#[test]
fn block_on_a_future_that_finishes_later() {
    let pool = ThreadPool::builder().workers(1).build().unwrap();
    let gate = Gate::default();
    let future = gated(&pool, &gate, "later".to_owned());
    let opener = {
        let gate = gate.clone();
        std::thread::spawn(move || gate.open())
    };
    assert_eq!(futures::executor::block_on(future).as_deref(), Ok("later"));
    opener.join().unwrap();
}

#[test]
fn await_yields_errors() {
    let pool = ThreadPool::builder().workers(1).build().unwrap();
    let gate = Gate::default();
    let blocker = gated(&pool, &gate, ());
    let cancelled = pool.submit(|| 1);
    assert!(cancelled.cancel());
    let panicked = pool.submit(|| -> i32 { panic!("async boom") });
    gate.open();
    futures::executor::block_on(async {
        assert_eq!(cancelled.await, Err(TaskError::Cancelled));
        let error = panicked.await.unwrap_err();
        assert_eq!(error.panic_message(), Some("async boom"));
        assert_eq!(blocker.await, Ok(()));
    });
}

#[test]
fn await_after_result_reports_taken() {
    let pool = ThreadPool::new();
    let future = pool.submit(|| 1);
    assert_eq!(future.result(), Ok(1));
    assert_eq!(futures::executor::block_on(future), Err(TaskError::Taken));
}

#[test]
fn awaiting_by_reference_leaves_the_future_to_the_caller() {
    let pool = ThreadPool::new();
    let mut future = pool.submit(|| 3);
    assert_eq!(futures::executor::block_on(&mut future), Ok(3));
    assert!(future.is_done());
    assert_eq!(future.result(), Err(TaskError::Taken));
}

#[test]
fn a_pending_poll_is_woken_when_the_task_ends() {
    let pool = ThreadPool::builder().workers(1).build().unwrap();
    let gate = Gate::default();
    let mut future = gated(&pool, &gate, 5);
    let (waker, woken) = reporting_waker();
    assert_eq!(poll(&mut future, &waker), Poll::Pending);
    assert!(woken.try_recv().is_err(), "nothing to wake for yet");
    gate.open();
    woken.recv_timeout(PATIENCE).expect("the waker was woken");
    assert_eq!(poll(&mut future, &waker), Poll::Ready(Ok(5)));
}

#[test]
fn only_the_latest_waker_is_woken() {
    let pool = ThreadPool::builder().workers(1).build().unwrap();
    let gate = Gate::default();
    let mut future = gated(&pool, &gate, 5);
    let (old, old_woken) = reporting_waker();
    let (new, new_woken) = reporting_waker();
    assert_eq!(poll(&mut future, &old), Poll::Pending);
    assert_eq!(poll(&mut future, &new), Poll::Pending);
    gate.open();
    new_woken
        .recv_timeout(PATIENCE)
        .expect("the latest waker was woken");
    assert_eq!(poll(&mut future, &new), Poll::Ready(Ok(5)));
    assert!(
        old_woken.try_recv().is_err(),
        "a replaced waker is not woken"
    );
}

#[test]
fn a_cancel_wakes_a_pending_poll() {
    let pool = ThreadPool::builder().workers(1).build().unwrap();
    let gate = Gate::default();
    let _blocker = gated(&pool, &gate, ());
    let mut queued = pool.submit(|| 1);
    let (waker, woken) = reporting_waker();
    assert_eq!(poll(&mut queued, &waker), Poll::Pending);
    assert!(queued.cancel());
    woken
        .recv_timeout(PATIENCE)
        .expect("the cancel woke the waker");
    assert_eq!(
        poll(&mut queued, &waker),
        Poll::Ready(Err(TaskError::Cancelled))
    );
    gate.open();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_awaits_pool_futures() {
    let pool = ThreadPool::builder().workers(2).build().unwrap();
    let mut total = 0;
    for i in 0..50u64 {
        total += pool.submit(move || i * 2).await.unwrap();
    }
    assert_eq!(total, 2450);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_spawns_pool_futures_on_its_own_workers() {
    let pool = ThreadPool::builder().workers(3).build().unwrap();
    let handles: Vec<_> = (0..100u64)
        .map(|i| tokio::spawn(pool.submit(move || i)))
        .collect();
    let mut sum = 0;
    for handle in handles {
        sum += handle.await.unwrap().unwrap();
    }
    assert_eq!(sum, 4950);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tokio_timeout_leaves_the_future_usable() {
    let pool = ThreadPool::builder().workers(1).build().unwrap();
    let gate = Gate::default();
    let mut future = gated(&pool, &gate, 8);
    let early = tokio::time::timeout(Duration::from_millis(20), &mut future).await;
    assert!(early.is_err(), "tokio gave up first");
    assert!(!future.is_done());
    gate.open();
    let late = tokio::time::timeout(PATIENCE, &mut future).await;
    assert_eq!(late.expect("finished well within the patience"), Ok(8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_races_awaits_against_completion() {
    let pool = ThreadPool::builder().workers(2).build().unwrap();
    for round in 0..300u32 {
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let future = {
            let barrier = Arc::clone(&barrier);
            pool.submit(move || {
                barrier.wait();
                round
            })
        };
        // Meet the task from a blocking thread, then await at once: the await races the end.
        let meet = {
            let barrier = Arc::clone(&barrier);
            tokio::task::spawn_blocking(move || {
                barrier.wait();
            })
        };
        let awaited = tokio::spawn(future);
        meet.await.unwrap();
        let outcome = tokio::time::timeout(PATIENCE, awaited).await;
        assert_eq!(outcome.expect("the await ended").unwrap(), Ok(round));
    }
}
