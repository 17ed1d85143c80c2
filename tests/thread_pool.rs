//! Behaviour of `ThreadPool`: submit, panics, the builder (workers, names, initializer, stack
//! size), a broken pool, shutdown and drop, the default pool, tasks that wait on their own
//! pool, and submit racing shutdown (CPython's `ThreadPoolExecutorTest` and
//! `ThreadPoolShutdownTest`, in Rust).

use std::cell::Cell;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use parallel::{as_completed, default_pool, wait, Deadline, ReturnWhen, TaskError, ThreadPool};

mod common;
use common::{Gate, PATIENCE};

/// `n` parties meet; fails (rather than hangs) if they do not all arrive.
#[derive(Clone)]
struct Meeting(Arc<(Mutex<usize>, Condvar)>, usize);

impl Meeting {
    fn new(parties: usize) -> Self {
        Self(Arc::default(), parties)
    }

    fn arrive(&self) {
        let (count, cond) = &*self.0;
        *count.lock().unwrap() += 1;
        cond.notify_all();
        let (_count, timeout) = cond
            .wait_timeout_while(count.lock().unwrap(), PATIENCE, |count| *count < self.1)
            .unwrap();
        assert!(!timeout.timed_out(), "not every party arrived");
    }
}

fn pool(workers: usize) -> ThreadPool {
    ThreadPool::builder().workers(workers).build().unwrap()
}

fn thread_name() -> String {
    thread::current().name().unwrap_or("<unnamed>").to_owned()
}

/// A task on `pool` that holds a worker until `gate` opens; returns once it has started.
fn hold_worker(pool: &ThreadPool, gate: &Gate) -> parallel::Future<()> {
    let (started, on_start) = mpsc::channel();
    let gate = gate.clone();
    let future = pool.submit(move || {
        started.send(()).unwrap();
        gate.wait();
    });
    on_start.recv_timeout(PATIENCE).unwrap();
    future
}

#[test]
fn submit_runs_the_task_and_returns_its_value() {
    let pool = pool(3);
    let futures: Vec<_> = (0..100u64).map(|i| pool.submit(move || i * i)).collect();
    let values: Vec<u64> = futures.iter().map(|f| f.result().unwrap()).collect();
    assert_eq!(values, (0..100).map(|i| i * i).collect::<Vec<_>>());
}

#[test]
fn a_panic_becomes_the_tasks_error_and_the_worker_survives() {
    let pool = ThreadPool::builder()
        .workers(1)
        .name_prefix("survivor")
        .build()
        .unwrap();
    for i in 0..5 {
        let failed = pool.submit(move || -> u32 { panic!("task {i} failed") });
        let error = failed.result().unwrap_err();
        assert!(error.is_panicked());
        assert_eq!(
            error.panic_message(),
            Some(format!("task {i} failed").as_str())
        );
        let text = error.to_string();
        assert!(
            text.starts_with("the task panicked at tests/thread_pool.rs:")
                && text.ends_with(&format!(": task {i} failed")),
            "{text}"
        );
    }
    let name = pool.submit(thread_name);
    assert_eq!(name.result().unwrap(), "survivor-0", "the same worker");
    assert_eq!(pool.workers(), 1);
}

#[test]
fn a_pool_keeps_its_size_after_panics() {
    let pool = pool(3);
    for _ in 0..10 {
        assert!(pool.submit(|| panic!("boom")).result().is_err());
    }
    // Three tasks that can only finish together: three workers must still be alive.
    let meeting = Meeting::new(3);
    let futures: Vec<_> = (0..3)
        .map(|_| {
            let meeting = meeting.clone();
            pool.submit(move || {
                meeting.arrive();
                thread_name()
            })
        })
        .collect();
    let names: HashSet<String> = futures.iter().map(|f| f.result().unwrap()).collect();
    assert_eq!(names.len(), 3);
    assert_eq!(pool.workers(), 3);
}

#[test]
fn a_panic_without_a_string_payload_is_reported() {
    let pool = pool(1);
    let error = pool
        .submit(|| -> u8 { std::panic::panic_any(42_i32) })
        .result()
        .unwrap_err();
    assert_eq!(
        error.panic_message(),
        Some("a panic with a payload that is not a string")
    );
}

#[test]
fn the_default_number_of_workers_is_pythons() {
    let cpus = thread::available_parallelism().map_or(1, usize::from);
    assert_eq!(ThreadPool::new().workers(), (cpus + 4).min(32));
    assert_eq!(ThreadPool::default().workers(), (cpus + 4).min(32));
}

#[test]
fn zero_workers_is_refused() {
    let error = ThreadPool::builder().workers(0).build().unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn workers_are_named_from_the_prefix() {
    let pool = ThreadPool::builder()
        .workers(2)
        .name_prefix("download")
        .build()
        .unwrap();
    let meeting = Meeting::new(2);
    let names: HashSet<String> = (0..2)
        .map(|_| {
            let meeting = meeting.clone();
            pool.submit(move || {
                meeting.arrive();
                thread_name()
            })
        })
        .collect::<Vec<_>>()
        .iter()
        .map(|f| f.result().unwrap())
        .collect();
    assert_eq!(
        names,
        HashSet::from(["download-0".to_owned(), "download-1".to_owned()])
    );
}

#[test]
fn workers_have_a_default_name() {
    let name = pool(1).submit(thread_name).result().unwrap();
    let (prefix, index) = name.rsplit_once('-').unwrap();
    assert!(prefix.starts_with("pool-"), "{name}");
    assert_eq!(index, "0");
}

#[test]
fn the_stack_size_is_applied() {
    let pool = ThreadPool::builder()
        .workers(1)
        .stack_size(64 << 20)
        .build()
        .unwrap();
    // 16 MiB on the stack overflows std's default 2 MiB, but fits in 64 MiB.
    let sum = pool.submit(|| {
        let big = std::hint::black_box([1u8; 16 << 20]);
        big.iter().map(|&b| u64::from(b)).sum::<u64>()
    });
    assert_eq!(sum.result(), Ok(16 << 20));
}

#[test]
fn the_initializer_runs_once_per_worker_before_its_first_task() {
    thread_local!(static READY: Cell<bool> = const { Cell::new(false) });
    let initialized = Arc::new(Mutex::new(Vec::new()));
    let pool = {
        let initialized = Arc::clone(&initialized);
        ThreadPool::builder()
            .workers(3)
            .name_prefix("init")
            .initializer(move || {
                assert!(!READY.with(Cell::get), "initialized twice");
                READY.with(|ready| ready.set(true));
                initialized.lock().unwrap().push(thread_name());
            })
            .build()
            .unwrap()
    };
    // Threads start as work needs them: three tasks held at once need all three.
    let gate = Gate::default();
    let held: Vec<_> = (0..3).map(|_| hold_worker(&pool, &gate)).collect();
    let futures: Vec<_> = (0..30)
        .map(|_| pool.submit(|| READY.with(Cell::get)))
        .collect();
    gate.open();
    assert!(held.iter().all(|f| f.result_timeout(PATIENCE).is_ok()));
    assert!(futures.iter().all(|f| f.result() == Ok(true)));
    pool.shutdown(true, false);
    let mut names = initialized.lock().unwrap().clone();
    names.sort();
    assert_eq!(names, ["init-0", "init-1", "init-2"]);
}

#[test]
fn a_panicking_initializer_breaks_the_pool() {
    let ran = Arc::new(AtomicBool::new(false));
    let pool = ThreadPool::builder()
        .workers(2)
        .initializer(|| panic!("no database"))
        .build()
        .unwrap();
    let pending: Vec<_> = (0..5)
        .map(|_| {
            let ran = Arc::clone(&ran);
            pool.submit(move || ran.store(true, Ordering::SeqCst))
        })
        .collect();
    for future in &pending {
        let error = future.result_timeout(PATIENCE).unwrap_err();
        assert!(error.is_broken(), "{error:?}");
        assert!(error.to_string().contains("no database"), "{error}");
    }
    let later = pool.submit(|| 1).result_timeout(PATIENCE).unwrap_err();
    assert!(later.is_broken());
    let mapped: Vec<_> = pool.map(|x: u32| x, 0..3).collect();
    assert!(mapped.iter().all(|r| r.as_ref().unwrap_err().is_broken()));
    assert!(!ran.load(Ordering::SeqCst), "no task runs on a broken pool");
}

#[test]
fn one_failing_initializer_breaks_the_whole_pool() {
    let pool = ThreadPool::builder()
        .workers(2)
        .name_prefix("half")
        .initializer(|| {
            if thread_name() == "half-1" {
                panic!("worker 1 cannot start");
            }
        })
        .build()
        .unwrap();
    // Worker 1 starts only when worker 0 is busy; work may then run on worker 0 until
    // worker 1's initializer has failed; from then on, none.
    let gate = Gate::default();
    let held = hold_worker(&pool, &gate);
    let mut probes = 0;
    loop {
        match pool.submit(|| ()).result_timeout(PATIENCE) {
            Ok(()) => probes += 1,
            Err(error) => {
                assert!(error.is_broken(), "{error:?}");
                break;
            }
        }
        assert!(probes < 1_000_000, "the pool never broke");
    }
    for _ in 0..10 {
        assert!(pool
            .submit(|| ())
            .result_timeout(PATIENCE)
            .unwrap_err()
            .is_broken());
    }
    gate.open();
    assert_eq!(
        held.result_timeout(PATIENCE),
        Ok(()),
        "it started before the break"
    );
}

#[test]
fn shutdown_without_waiting_refuses_new_work_and_finishes_the_old() {
    let pool = pool(1);
    let gate = Gate::default();
    let running = hold_worker(&pool, &gate);
    let queued: Vec<_> = (0..3).map(|i| pool.submit(move || i)).collect();
    pool.shutdown(false, false);
    assert!(pool.is_shut_down());

    let refused = pool.submit(|| 99);
    assert!(refused.is_done(), "refused at once, never a hang");
    assert_eq!(refused.result(), Err(TaskError::ShutDown));

    gate.open();
    assert_eq!(running.result_timeout(PATIENCE), Ok(()));
    let values: Vec<_> = queued.iter().map(|f| f.result_timeout(PATIENCE)).collect();
    assert_eq!(values, [Ok(0), Ok(1), Ok(2)]);
}

#[test]
fn shutdown_with_wait_returns_after_the_work_is_done() {
    let pool = pool(2);
    let finished = Arc::new(AtomicUsize::new(0));
    let futures: Vec<_> = (0..20)
        .map(|_| {
            let finished = Arc::clone(&finished);
            pool.submit(move || {
                thread::sleep(Duration::from_millis(1));
                finished.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    pool.shutdown(true, false);
    assert_eq!(finished.load(Ordering::SeqCst), 20);
    assert!(futures.iter().all(|f| f.is_done()));
}

#[test]
fn shutdown_cancel_futures_cancels_the_queue_and_nothing_queued_runs() {
    let pool = pool(1);
    let gate = Gate::default();
    let running = hold_worker(&pool, &gate);
    let ran = Arc::new(AtomicUsize::new(0));
    let queued: Vec<_> = (0..10)
        .map(|_| {
            let ran = Arc::clone(&ran);
            pool.submit(move || {
                ran.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    pool.shutdown(false, true);
    for future in &queued {
        assert!(future.is_cancelled());
        assert_eq!(future.result(), Err(TaskError::Cancelled));
    }
    assert!(!running.is_cancelled(), "the running task is not cancelled");
    gate.open();
    assert_eq!(running.result_timeout(PATIENCE), Ok(()));
    pool.shutdown(true, false);
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn shutdown_twice_is_harmless() {
    let pool = pool(2);
    let future = pool.submit(|| 1);
    pool.shutdown(true, false);
    pool.shutdown(true, true);
    pool.shutdown(false, false);
    assert_eq!(future.result(), Ok(1));
    assert!(pool.submit(|| 2).result().unwrap_err().is_shut_down());
}

#[test]
fn dropping_the_pool_waits_for_the_submitted_work() {
    let pool = pool(2);
    let finished = Arc::new(AtomicUsize::new(0));
    let futures: Vec<_> = (0..10)
        .map(|_| {
            let finished = Arc::clone(&finished);
            pool.submit(move || {
                thread::sleep(Duration::from_millis(1));
                finished.fetch_add(1, Ordering::SeqCst)
            })
        })
        .collect();
    drop(pool);
    assert_eq!(finished.load(Ordering::SeqCst), 10);
    assert!(futures.iter().all(|f| f.result().is_ok()));
}

#[test]
fn shutdown_with_wait_from_inside_a_task_does_not_deadlock() {
    let pool = Arc::new(pool(2));
    let other = {
        let gate = Gate::default();
        let held = hold_worker(&pool, &gate);
        (gate, held)
    };
    let inside = {
        let (pool_in_task, gate) = (Arc::clone(&pool), other.0.clone());
        pool.submit(move || {
            gate.open(); // let the other worker finish, or shutdown would wait on it forever
            pool_in_task.shutdown(true, false);
            pool_in_task.is_shut_down()
        })
    };
    assert_eq!(inside.result_timeout(PATIENCE), Ok(true));
    assert_eq!(other.1.result_timeout(PATIENCE), Ok(()));
}

#[test]
fn the_default_pool_is_shared_and_named() {
    let (a, b) = (default_pool(), default_pool());
    assert!(std::ptr::eq(a, b), "one pool per process");
    let name = a.submit(thread_name).result().unwrap();
    assert!(name.starts_with("parallel-"), "{name}");
    assert!(!a.is_shut_down());
}

#[test]
fn a_task_waiting_on_a_task_of_its_own_one_worker_pool_does_not_deadlock() {
    let pool = Arc::new(pool(1));
    let outer = {
        let inner_pool = Arc::clone(&pool);
        pool.submit(move || {
            let inner = inner_pool.submit(|| 20);
            inner.result().unwrap() + 1
        })
    };
    assert_eq!(outer.result_timeout(PATIENCE), Ok(21));
}

#[test]
fn nested_waits_many_levels_deep_do_not_deadlock() {
    fn depth(pool: Arc<ThreadPool>, left: u32) -> u32 {
        if left == 0 {
            return 0;
        }
        let inner = Arc::clone(&pool);
        let future = pool.submit(move || depth(inner, left - 1));
        future.result_timeout(PATIENCE).unwrap() + 1
    }
    let pool = Arc::new(pool(1));
    let inner = Arc::clone(&pool);
    let outer = pool.submit(move || depth(inner, 20));
    assert_eq!(outer.result_timeout(PATIENCE), Ok(20));
}

#[test]
fn a_task_may_wait_on_its_pool_by_every_means() {
    let pool = Arc::new(pool(1));
    let outer = {
        let inner = Arc::clone(&pool);
        pool.submit(move || {
            let futures: Vec<_> = (1..=3u32).map(|i| inner.submit(move || i)).collect();
            let by_as_completed: u32 = as_completed(&futures[..2])
                .map(|f| f.result().unwrap())
                .sum();
            let by_wait = wait(&futures[2..], None, ReturnWhen::AllCompleted);
            let by_timeout = inner.submit(|| 4).result_timeout(PATIENCE).unwrap();
            let by_error = inner.submit(|| 5).error();
            let by_map: u32 = inner.map(|x: u32| x, 0..5).map(Result::unwrap).sum();
            (
                by_as_completed,
                by_wait.done.len(),
                by_timeout,
                by_error,
                by_map,
            )
        })
    };
    assert_eq!(outer.result_timeout(PATIENCE), Ok((3, 1, 4, None, 10)));
}

#[test]
fn many_threads_submit_at_once() {
    let pool = pool(2);
    let barrier = Barrier::new(4);
    let totals: Vec<u64> = thread::scope(|scope| {
        let submitters: Vec<_> = (0..4u64)
            .map(|t| {
                let (pool, barrier) = (&pool, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    let futures: Vec<_> = (0..250u64)
                        .map(|i| pool.submit(move || t * 1000 + i))
                        .collect();
                    futures.iter().map(|f| f.result().unwrap()).sum()
                })
            })
            .collect();
        submitters.into_iter().map(|s| s.join().unwrap()).collect()
    });
    let expected: Vec<u64> = (0..4u64)
        .map(|t| (0..250).map(|i| t * 1000 + i).sum())
        .collect();
    assert_eq!(totals, expected);
}

#[test]
fn submit_with_timeout_fails_a_task_that_runs_too_long() {
    let pool = pool(1);
    let gate = Gate::default();
    let slow = {
        let gate = gate.clone();
        pool.submit_with_timeout(move || gate.wait(), Duration::from_millis(50))
    };
    assert_eq!(
        slow.result_timeout(PATIENCE),
        Err(TaskError::timed_out(Deadline::Task {
            timeout: Duration::from_millis(50)
        }))
    );
    assert!(slow.is_done());
    gate.open(); // the task itself runs on to its end, then the worker is free again
    let quick = pool.submit_with_timeout(|| 7, PATIENCE);
    assert_eq!(quick.result_timeout(PATIENCE), Ok(7));
}

/// A submit racing a shutdown either runs or is refused with `ShutDown`; never both, never a
/// hang.
#[test]
fn race_submit_against_shutdown() {
    for _ in 0..200 {
        let pool = pool(1);
        let barrier = Barrier::new(2);
        let ran = Arc::new(AtomicBool::new(false));
        let outcome = thread::scope(|scope| {
            let submitter = scope.spawn(|| {
                barrier.wait();
                let ran = Arc::clone(&ran);
                pool.submit(move || ran.store(true, Ordering::SeqCst))
                    .result_timeout(PATIENCE)
            });
            barrier.wait();
            pool.shutdown(false, false);
            submitter.join().unwrap()
        });
        match outcome {
            Ok(()) => assert!(ran.load(Ordering::SeqCst)),
            Err(error) => {
                assert_eq!(error, TaskError::ShutDown);
                drop(pool); // waits for the worker: had the task run, it would be visible now
                assert!(!ran.load(Ordering::SeqCst));
            }
        }
    }
}

/// `shutdown(cancel_futures)` racing a worker's claim: every task either ran or was
/// cancelled, never both, and nothing is left pending.
#[test]
fn race_cancel_futures_against_the_workers() {
    for _ in 0..200 {
        let pool = pool(2);
        let barrier = Arc::new(Barrier::new(2));
        let ran = Arc::new(AtomicUsize::new(0));
        let holder = {
            let barrier = Arc::clone(&barrier);
            pool.submit(move || {
                barrier.wait();
            })
        };
        let futures: Vec<_> = (0..8)
            .map(|_| {
                let ran = Arc::clone(&ran);
                pool.submit(move || {
                    ran.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        barrier.wait();
        pool.shutdown(true, true);
        holder.result().unwrap();
        let cancelled = futures.iter().filter(|f| f.is_cancelled()).count();
        assert!(futures.iter().all(|f| f.is_done()));
        assert_eq!(cancelled + ran.load(Ordering::SeqCst), 8);
    }
}

/// A worker that waits on a task of its own pool offers to run it (`result` helps), while the
/// other worker may take it from the queue at the same moment: whichever runs it, the waiter
/// gets its value. Repeated, so the two often meet.
#[test]
fn a_worker_waiting_on_a_task_the_other_worker_takes_gets_its_value() {
    let pool = Arc::new(ThreadPool::builder().workers(2).build().unwrap());
    for round in 0..2_000u64 {
        let inner_pool = Arc::clone(&pool);
        let outer = pool.submit(move || {
            let inner = inner_pool.submit(move || round * 2);
            (inner.result(), inner.try_result())
        });
        let (value, again) = outer.result_timeout(PATIENCE).unwrap();
        assert_eq!(value, Ok(round * 2), "round {round}");
        assert_eq!(again, Some(Err(TaskError::Taken)), "round {round}");
    }
}
