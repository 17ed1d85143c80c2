//! Unit tests of `Core`, the future's state machine: the sequential rules of `README.md`, one
//! test per rule. Races are modelled in `loom_tests.rs` and exercised in `tests/`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::Mutex as StdMutex;
use std::task::{Wake, Waker};
use std::time::{Duration, Instant};

use super::{Callback, Core, FROM_PENDING, FROM_RUNNING};
use crate::error::TaskError;
use crate::signal::Signal;
use crate::sync::Arc;

/// A callback that sends what it is shown down `tx`.
fn sender(tx: &mpsc::Sender<Result<u32, TaskError>>) -> Callback<u32> {
    let tx = tx.clone();
    Box::new(move |outcome| {
        tx.send(outcome.copied().map_err(Clone::clone))
            .expect("the test holds the receiver");
    })
}

/// A core that ran and finished with `value`.
fn finished(value: u32) -> Core<u32> {
    let core = Core::new();
    assert!(core.claim());
    assert!(core.complete(FROM_RUNNING, Ok(value)).is_ok());
    core
}

/// A waker that counts its wake-ups.
#[derive(Default)]
struct Counter(StdMutex<usize>);

impl Wake for Counter {
    fn wake(self: std::sync::Arc<Self>) {
        *self.0.lock().unwrap() += 1;
    }
}

impl Counter {
    fn count(&self) -> usize {
        *self.0.lock().unwrap()
    }
}

#[test]
fn a_new_core_is_pending_and_has_no_outcome() {
    let core = Core::<u32>::new();
    assert!(core.is_pending());
    assert!(!core.is_running());
    assert!(!core.is_done());
    assert!(!core.is_cancelled());
    assert!(!core.is_failed());
    assert_eq!(core.try_take(), None);
}

#[test]
fn only_one_claim_wins() {
    let core = Core::<u32>::new();
    assert!(core.claim());
    assert!(!core.claim());
    assert!(core.is_running());
    assert!(!core.is_pending());
    assert!(!core.is_done());
}

#[test]
fn a_value_is_taken_once_then_taken_is_reported() {
    let core = finished(42);
    assert!(core.is_done());
    assert!(!core.is_running());
    assert_eq!(core.try_take(), Some(Ok(42)));
    assert_eq!(core.try_take(), Some(Err(TaskError::Taken)));
    assert_eq!(core.try_take(), Some(Err(TaskError::Taken)));
    assert!(core.is_done(), "taking the value leaves the core done");
}

#[test]
fn an_error_is_returned_by_every_take() {
    let core = Core::<u32>::new();
    assert!(core.claim());
    assert!(core
        .complete(FROM_RUNNING, Err(TaskError::panicked("boom")))
        .is_ok());
    assert!(core.is_failed());
    for _ in 0..3 {
        assert_eq!(core.try_take(), Some(Err(TaskError::panicked("boom"))));
    }
}

#[test]
fn a_core_built_failed_is_done_with_its_error() {
    let core = Core::<u32>::failed(TaskError::ShutDown);
    assert!(core.is_done());
    assert!(core.is_failed());
    assert_eq!(core.try_take(), Some(Err(TaskError::ShutDown)));
    assert_eq!(core.try_take(), Some(Err(TaskError::ShutDown)));
}

#[test]
fn cancel_succeeds_only_while_pending() {
    let core = Core::<u32>::new();
    assert!(core.cancel());
    assert!(core.is_cancelled());
    assert!(core.is_done());
    assert!(!core.is_failed(), "cancellation is not a failure");
    assert!(!core.cancel(), "only the first cancel moves the stage");
    assert_eq!(core.try_take(), Some(Err(TaskError::Cancelled)));
    assert_eq!(core.try_take(), Some(Err(TaskError::Cancelled)));
}

#[test]
fn a_running_or_finished_core_cannot_be_cancelled() {
    let core = Core::<u32>::new();
    assert!(core.claim());
    assert!(!core.cancel());
    assert!(core.is_running());
    assert!(core.complete(FROM_RUNNING, Ok(1)).is_ok());
    assert!(!core.cancel());
    assert_eq!(core.try_take(), Some(Ok(1)));
}

#[test]
fn a_cancelled_core_cannot_be_claimed_and_gives_the_outcome_back() {
    let core = Core::<String>::new();
    assert!(core.cancel());
    assert!(!core.claim());
    let refused = core.complete(FROM_RUNNING, Ok("late".to_owned()));
    assert_eq!(refused, Err(Ok("late".to_owned())));
    assert!(core.is_cancelled());
}

#[test]
fn an_unstarted_core_can_be_failed_but_not_a_claimed_one() {
    let core = Core::<u32>::new();
    assert!(core
        .complete(FROM_PENDING, Err(TaskError::broken("init")))
        .is_ok());
    assert!(core.is_failed());
    assert!(!core.claim());

    let claimed = Core::<u32>::new();
    assert!(claimed.claim());
    let refused = claimed.complete(FROM_PENDING, Err(TaskError::ShutDown));
    assert_eq!(refused, Err(Err(TaskError::ShutDown)));
    assert!(claimed.is_running());
}

#[test]
fn only_the_first_completion_counts() {
    let core = Core::<u32>::new();
    assert!(core.claim());
    assert!(core
        .complete(
            FROM_RUNNING,
            Err(TaskError::timed_out(crate::error::Deadline::Wait))
        )
        .is_ok());
    assert_eq!(core.complete(FROM_RUNNING, Ok(5)), Err(Ok(5)));
    assert_eq!(
        core.try_take(),
        Some(Err(TaskError::timed_out(crate::error::Deadline::Wait)))
    );
}

#[test]
fn callbacks_run_on_completion_in_the_order_they_were_added() {
    let core = Core::<u32>::new();
    let (tx, rx) = mpsc::channel();
    for tag in 0..3 {
        let tx = tx.clone();
        core.add_callback(Box::new(move |outcome| {
            tx.send((tag, outcome.copied().ok())).unwrap();
        }));
    }
    assert!(rx.try_recv().is_err(), "nothing runs before completion");
    assert!(core.claim());
    assert!(core.complete(FROM_RUNNING, Ok(8)).is_ok());
    let calls: Vec<_> = rx.try_iter().collect();
    assert_eq!(calls, [(0, Some(8)), (1, Some(8)), (2, Some(8))]);
    assert_eq!(
        core.try_take(),
        Some(Ok(8)),
        "callbacks only borrow the value"
    );
}

#[test]
fn a_callback_added_to_a_done_core_runs_at_once() {
    let core = finished(3);
    let (tx, rx) = mpsc::channel();
    core.add_callback(sender(&tx));
    assert_eq!(rx.try_recv(), Ok(Ok(3)));
    assert_eq!(core.try_take(), Some(Ok(3)));
}

#[test]
fn a_callback_sees_taken_cancelled_or_the_error() {
    let (tx, rx) = mpsc::channel();

    let taken = finished(1);
    assert_eq!(taken.try_take(), Some(Ok(1)));
    taken.add_callback(sender(&tx));
    assert_eq!(rx.try_recv(), Ok(Err(TaskError::Taken)));

    let cancelled = Core::<u32>::new();
    cancelled.add_callback(sender(&tx));
    assert!(cancelled.cancel());
    assert_eq!(rx.try_recv(), Ok(Err(TaskError::Cancelled)));

    let failed = Core::<u32>::failed(TaskError::codec("bad frame"));
    failed.add_callback(sender(&tx));
    assert_eq!(rx.try_recv(), Ok(Err(TaskError::codec("bad frame"))));
}

#[test]
fn a_panicking_callback_stops_nothing() {
    let core = Core::<u32>::new();
    let (tx, rx) = mpsc::channel();
    core.add_callback(Box::new(|_| panic!("first callback fails")));
    core.add_callback(sender(&tx));
    assert!(core.claim());
    assert!(core.complete(FROM_RUNNING, Ok(6)).is_ok());
    assert_eq!(rx.try_recv(), Ok(Ok(6)));
    assert!(core.is_done());

    core.add_callback(Box::new(|_| panic!("late callback fails")));
    core.add_callback(sender(&tx));
    assert_eq!(rx.try_recv(), Ok(Ok(6)));
    assert_eq!(core.try_take(), Some(Ok(6)));
}

#[test]
fn a_callback_may_add_a_callback_to_its_own_core() {
    let core = Arc::new(Core::<u32>::new());
    let (tx, rx) = mpsc::channel();
    {
        let (inner, tx) = (Arc::clone(&core), tx.clone());
        core.add_callback(Box::new(move |outcome| {
            tx.send(outcome.copied().map_err(Clone::clone)).unwrap();
            inner.add_callback(sender(&tx));
        }));
    }
    assert!(core.claim());
    assert!(core.complete(FROM_RUNNING, Ok(2)).is_ok());
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [Ok(2), Ok(2)]);
}

#[test]
fn a_callback_that_takes_its_own_value_panics_instead_of_deadlocking() {
    let core = Arc::new(Core::<u32>::new());
    let (tx, rx) = mpsc::channel();
    {
        let inner = Arc::clone(&core);
        core.add_callback(Box::new(move |_| {
            let attempt = catch_unwind(AssertUnwindSafe(|| inner.try_take()));
            let message = attempt
                .err()
                .and_then(|payload| payload.downcast_ref::<&str>().map(|s| s.to_string()));
            tx.send(message).unwrap();
        }));
    }
    assert!(core.claim());
    assert!(core.complete(FROM_RUNNING, Ok(4)).is_ok());
    let message = rx.try_recv().unwrap().expect("the take panicked");
    assert!(
        message.contains("cannot take its own future's value"),
        "{message}"
    );
    assert_eq!(core.try_take(), Some(Ok(4)), "the value is still there");
}

#[test]
fn a_callback_may_cancel_its_own_core_without_deadlocking() {
    let core = Arc::new(Core::<u32>::new());
    let (tx, rx) = mpsc::channel();
    {
        let inner = Arc::clone(&core);
        core.add_callback(Box::new(move |_| tx.send(inner.cancel()).unwrap()));
    }
    assert!(core.claim());
    assert!(core.complete(FROM_RUNNING, Ok(1)).is_ok());
    assert_eq!(rx.try_recv(), Ok(false));
}

#[test]
fn a_callback_completing_another_core_runs_that_cores_callbacks() {
    let first = Core::<u32>::new();
    let second = Arc::new(Core::<u32>::new());
    let (tx, rx) = mpsc::channel();
    second.add_callback(sender(&tx));
    {
        let second = Arc::clone(&second);
        first.add_callback(Box::new(move |outcome| {
            assert!(second.claim());
            let value = *outcome.unwrap() + 1;
            assert!(second.complete(FROM_RUNNING, Ok(value)).is_ok());
        }));
    }
    assert!(first.claim());
    assert!(first.complete(FROM_RUNNING, Ok(1)).is_ok());
    assert_eq!(rx.try_recv(), Ok(Ok(2)));
    // The thread is no longer marked as lending either core.
    assert_eq!(first.try_take(), Some(Ok(1)));
    assert_eq!(second.try_take(), Some(Ok(2)));
}

#[test]
fn wait_on_a_done_core_returns_at_once() {
    assert!(finished(1).wait(None));
    let cancelled = Core::<u32>::new();
    assert!(cancelled.cancel());
    assert!(cancelled.wait(Some(Instant::now())));
}

#[test]
fn wait_with_a_passed_deadline_reports_not_done() {
    let core = Core::<u32>::new();
    assert!(!core.wait(Some(Instant::now())));
    assert!(!core.wait(Some(Instant::now() + Duration::from_millis(20))));
    assert!(!core.is_done(), "a timed-out wait changes nothing");
    assert!(core.claim());
}

#[test]
fn wait_is_woken_by_completion_on_another_thread() {
    let core = Arc::new(Core::<u32>::new());
    assert!(core.claim());
    let (ready, on_ready) = mpsc::channel();
    let waiter = {
        let core = Arc::clone(&core);
        std::thread::spawn(move || {
            ready.send(()).unwrap();
            core.wait(None)
        })
    };
    on_ready.recv().unwrap();
    assert!(core.complete(FROM_RUNNING, Ok(5)).is_ok());
    assert!(waiter.join().unwrap());
    assert_eq!(core.try_take(), Some(Ok(5)));
}

#[test]
fn a_waker_is_woken_once_on_completion() {
    let core = Core::<u32>::new();
    let counter = std::sync::Arc::new(Counter::default());
    let waker = Waker::from(std::sync::Arc::clone(&counter));
    assert!(!core.register_waker(&waker));
    assert!(
        !core.register_waker(&waker),
        "registering the same waker again is fine"
    );
    assert_eq!(counter.count(), 0);
    assert!(core.claim());
    assert!(core.complete(FROM_RUNNING, Ok(1)).is_ok());
    assert_eq!(counter.count(), 1);
    assert!(core.register_waker(&waker), "a done core registers nothing");
    assert_eq!(counter.count(), 1);
}

#[test]
fn only_the_latest_waker_is_woken() {
    let core = Core::<u32>::new();
    let (old, new) = (
        std::sync::Arc::new(Counter::default()),
        std::sync::Arc::new(Counter::default()),
    );
    assert!(!core.register_waker(&Waker::from(std::sync::Arc::clone(&old))));
    assert!(!core.register_waker(&Waker::from(std::sync::Arc::clone(&new))));
    assert!(core.cancel());
    assert_eq!((old.count(), new.count()), (0, 1));
}

#[test]
fn a_subscribed_signal_gets_its_token_once() {
    let core = Core::<u32>::new();
    let signal = Signal::new();
    assert!(core.subscribe(&signal, 7));
    assert_eq!(signal.try_recv(), None);
    assert!(core.claim());
    assert!(core.complete(FROM_RUNNING, Ok(1)).is_ok());
    assert_eq!(signal.try_recv(), Some(7));
    assert_eq!(signal.try_recv(), None);
    assert!(
        !core.subscribe(&signal, 8),
        "a done core refuses subscriptions"
    );
}

#[test]
fn an_unsubscribed_signal_gets_nothing() {
    let core = Core::<u32>::new();
    let (kept, dropped) = (Signal::new(), Signal::new());
    assert!(core.subscribe(&kept, 1));
    assert!(core.subscribe(&dropped, 2));
    core.unsubscribe(&dropped);
    assert!(core.cancel());
    assert_eq!(kept.try_recv(), Some(1));
    assert_eq!(dropped.try_recv(), None);
}
