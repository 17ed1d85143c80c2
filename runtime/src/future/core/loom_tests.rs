//! Loom models of the future's state machine (`Core`): every interleaving of a completion with
//! a cancel, a callback registration, a waiter, a signal subscription and a taker.
//!
//! Run with `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p parallel-runtime
//! --release loom`.
#![cfg(test)]

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

use super::{Callback, Core, FROM_PENDING, FROM_RUNNING};
use crate::error::TaskError;
use crate::signal::Signal;
use crate::sync::{Arc, Mutex};

/// What a callback saw: `Some(value)` or the error it was given.
type Seen = Arc<Mutex<Vec<Result<u32, TaskError>>>>;

fn recorder() -> Seen {
    Arc::new(Mutex::new(Vec::new()))
}

/// A callback that records what it is shown.
fn record(seen: &Seen) -> Callback<u32> {
    let seen = Arc::clone(seen);
    Box::new(move |outcome| {
        seen.lock()
            .unwrap()
            .push(outcome.copied().map_err(Clone::clone));
    })
}

fn seen(seen: &Seen) -> Vec<Result<u32, TaskError>> {
    seen.lock().unwrap().clone()
}

/// Runs the task on another thread as a worker would: claim, then complete with `value`.
/// The handle returns whether the claim won.
fn spawn_worker(core: &Arc<Core<u32>>, value: u32) -> thread::JoinHandle<bool> {
    let core = Arc::clone(core);
    thread::spawn(move || {
        if !core.claim() {
            return false;
        }
        assert!(core.complete(FROM_RUNNING, Ok(value)).is_ok());
        true
    })
}

#[test]
fn loom_completion_races_cancel_and_exactly_one_wins() {
    loom::model(|| {
        let core = Arc::new(Core::<u32>::new());
        let early = recorder();
        core.add_callback(record(&early));

        let worker = spawn_worker(&core, 7);
        let cancelled = core.cancel();
        let ran = worker.join().unwrap();

        assert_ne!(
            cancelled, ran,
            "exactly one of the claim and the cancel wins"
        );
        assert!(core.is_done());
        assert_eq!(core.is_cancelled(), cancelled);
        let expected = if cancelled {
            Err(TaskError::Cancelled)
        } else {
            Ok(7)
        };
        assert_eq!(seen(&early), std::slice::from_ref(&expected));
        assert_eq!(core.try_take(), Some(expected));
    });
}

#[test]
fn loom_failing_an_unstarted_task_races_cancel() {
    loom::model(|| {
        let core = Arc::new(Core::<u32>::new());
        let failer = {
            let core = Arc::clone(&core);
            thread::spawn(move || {
                core.complete(FROM_PENDING, Err(TaskError::ShutDown))
                    .is_ok()
            })
        };
        let cancelled = core.cancel();
        let failed = failer.join().unwrap();

        assert_ne!(
            cancelled, failed,
            "exactly one of the failure and the cancel wins"
        );
        let expected = if cancelled {
            TaskError::Cancelled
        } else {
            TaskError::ShutDown
        };
        assert_eq!(core.try_take(), Some(Err(expected.clone())));
        assert_eq!(core.try_take(), Some(Err(expected)), "errors stay");
    });
}

#[test]
fn loom_callback_added_while_completing_runs_once_with_the_value() {
    loom::model(|| {
        let core = Arc::new(Core::<u32>::new());
        assert!(core.claim());
        let completer = {
            let core = Arc::clone(&core);
            thread::spawn(move || assert!(core.complete(FROM_RUNNING, Ok(5)).is_ok()))
        };
        let calls = recorder();
        core.add_callback(record(&calls));
        completer.join().unwrap();

        assert_eq!(seen(&calls), [Ok(5)]);
        assert_eq!(
            core.try_take(),
            Some(Ok(5)),
            "the callback only borrowed the value"
        );
    });
}

#[test]
fn loom_callbacks_added_from_two_threads_while_completing_all_run() {
    loom::model(|| {
        let core = Arc::new(Core::<u32>::new());
        assert!(core.claim());
        let calls = recorder();
        let adder = {
            let (core, calls) = (Arc::clone(&core), Arc::clone(&calls));
            thread::spawn(move || core.add_callback(record(&calls)))
        };
        let completer = {
            let core = Arc::clone(&core);
            thread::spawn(move || assert!(core.complete(FROM_RUNNING, Ok(9)).is_ok()))
        };
        core.add_callback(record(&calls));
        adder.join().unwrap();
        completer.join().unwrap();

        assert_eq!(seen(&calls), [Ok(9), Ok(9)]);
    });
}

#[test]
fn loom_waiter_racing_completion_never_hangs() {
    loom::model(|| {
        let core = Arc::new(Core::<u32>::new());
        let worker = spawn_worker(&core, 3);
        assert!(
            core.wait(None),
            "a wait without deadline returns only when done"
        );
        assert!(core.is_done());
        assert_eq!(core.try_take(), Some(Ok(3)));
        assert!(worker.join().unwrap());
    });
}

#[test]
fn loom_waiter_racing_cancel_wakes_cancelled() {
    loom::model(|| {
        let core = Arc::new(Core::<u32>::new());
        let waiter = {
            let core = Arc::clone(&core);
            thread::spawn(move || {
                assert!(core.wait(None));
                core.try_take()
            })
        };
        assert!(core.cancel());
        assert_eq!(waiter.join().unwrap(), Some(Err(TaskError::Cancelled)));
    });
}

#[test]
fn loom_two_waiters_racing_completion_both_wake() {
    loom::model(|| {
        let core = Arc::new(Core::<u32>::new());
        let other = {
            let core = Arc::clone(&core);
            thread::spawn(move || core.wait(None))
        };
        let worker = spawn_worker(&core, 1);
        assert!(core.wait(None));
        assert!(other.join().unwrap());
        assert!(worker.join().unwrap());
    });
}

#[test]
fn loom_subscription_racing_completion_delivers_its_token_or_reports_done() {
    loom::model(|| {
        let core = Arc::new(Core::<u32>::new());
        let signal = Signal::new();
        let worker = spawn_worker(&core, 2);
        if core.subscribe(&signal, 17) {
            assert_eq!(
                signal.recv(None),
                Some(17),
                "a subscriber is told exactly once"
            );
        } else {
            assert!(
                core.is_done(),
                "a refused subscription means the task is done"
            );
        }
        assert!(worker.join().unwrap());
        assert_eq!(signal.try_recv(), None, "no token twice");
    });
}

#[test]
fn loom_taker_racing_a_lending_callback_takes_once_and_the_callback_sees_the_value() {
    loom::model(|| {
        let core = Arc::new(Core::<u32>::new());
        assert!(core.claim());
        // Registered before completion: it is lent the value as OK is published.
        let calls = recorder();
        core.add_callback(record(&calls));
        let completer = {
            let core = Arc::clone(&core);
            thread::spawn(move || assert!(core.complete(FROM_RUNNING, Ok(11)).is_ok()))
        };

        let early = core.try_take();
        assert!(core.wait(None));
        let late = core.try_take();
        completer.join().unwrap();

        let takes = [early, late];
        let values = takes.iter().filter(|t| **t == Some(Ok(11))).count();
        assert_eq!(values, 1, "the value is taken exactly once: {takes:?}");
        assert!(takes
            .iter()
            .all(|t| matches!(t, None | Some(Ok(11)) | Some(Err(TaskError::Taken)))));
        assert_eq!(
            seen(&calls),
            [Ok(11)],
            "the callback saw the value, never `Taken`"
        );
    });
}

#[test]
fn loom_taker_racing_a_late_callback_takes_once() {
    loom::model(|| {
        let core = Arc::new(Core::<u32>::new());
        assert!(core.claim());
        assert!(core.complete(FROM_RUNNING, Ok(4)).is_ok());
        // Added after completion: it borrows the value if it is still there.
        let calls = recorder();
        let adder = {
            let (core, calls) = (Arc::clone(&core), Arc::clone(&calls));
            thread::spawn(move || core.add_callback(record(&calls)))
        };
        let taken = core.try_take();
        adder.join().unwrap();

        assert_eq!(taken, Some(Ok(4)), "nothing else takes the value");
        let calls = seen(&calls);
        assert!(
            calls == [Ok(4)] || calls == [Err(TaskError::Taken)],
            "the callback saw the value or that it was taken: {calls:?}"
        );
        assert_eq!(core.try_take(), Some(Err(TaskError::Taken)));
    });
}

#[test]
fn loom_cancel_racing_completion_with_a_waiter_and_a_callback() {
    loom::model(|| {
        let core = Arc::new(Core::<u32>::new());
        let runs = Arc::new(AtomicUsize::new(0));
        {
            let runs = Arc::clone(&runs);
            core.add_callback(Box::new(move |_| {
                runs.fetch_add(1, Ordering::Relaxed);
            }));
        }
        let waiter = {
            let core = Arc::clone(&core);
            thread::spawn(move || core.wait(None))
        };
        let worker = spawn_worker(&core, 8);
        let cancelled = core.cancel();
        let ran = worker.join().unwrap();
        assert!(waiter.join().unwrap());
        assert_ne!(cancelled, ran);
        assert_eq!(
            runs.load(Ordering::Relaxed),
            1,
            "the callback ran exactly once"
        );
    });
}
