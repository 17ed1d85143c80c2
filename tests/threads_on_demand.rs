//! A pool starts its threads as tasks arrive (Python's idle-thread reuse): one only when no
//! idle worker is waiting, up to `workers`. Sequential tasks reuse one thread, bursts of
//! blocking tasks start every worker and no more, no job is ever left without a thread, and
//! the initializer, shutdown and helping paths still hold (CPython's `test_idle_thread_reuse`
//! and friends, in Rust).

use std::collections::HashSet;
use std::sync::{mpsc, Arc, Barrier, Condvar, Mutex};
use std::thread;

use parallel::{default_pool, ThreadPool};

mod common;
use common::{Gate, PATIENCE};

fn pool(workers: usize) -> ThreadPool {
    ThreadPool::builder().workers(workers).build().unwrap()
}

fn thread_name() -> String {
    thread::current().name().unwrap_or("<unnamed>").to_owned()
}

/// Counts arrivals; `wait_for(n)` returns once `n` have arrived (fails rather than hangs).
#[derive(Clone, Default)]
struct Arrivals(Arc<(Mutex<usize>, Condvar)>);

impl Arrivals {
    fn arrive(&self) {
        *self.0 .0.lock().unwrap() += 1;
        self.0 .1.notify_all();
    }

    fn wait_for(&self, n: usize) {
        let (count, cond) = &*self.0;
        let (_count, timeout) = cond
            .wait_timeout_while(count.lock().unwrap(), PATIENCE, |count| *count < n)
            .unwrap();
        assert!(!timeout.timed_out(), "only some tasks started");
    }
}

/// Submits three tasks, each once the previous one's result is in, and returns the names of
/// the threads they ran on.
fn three_in_a_row(pool: &ThreadPool) -> Vec<String> {
    (0..3)
        .map(|_| pool.submit(thread_name).result_timeout(PATIENCE).unwrap())
        .collect()
}

#[test]
fn sequential_tasks_on_the_default_pool_run_on_one_thread() {
    let names = three_in_a_row(default_pool());
    assert_eq!(names, ["parallel-0"; 3]);
}

#[test]
fn sequential_tasks_on_a_fresh_pool_run_on_one_thread() {
    let pool = ThreadPool::builder()
        .workers(4)
        .name_prefix("seq")
        .build()
        .unwrap();
    assert_eq!(three_in_a_row(&pool), ["seq-0"; 3]);
    assert_eq!(pool.workers(), 4);
}

#[test]
fn a_burst_of_blocked_tasks_starts_every_worker_and_no_more() {
    let pool = pool(4);
    let (gate, started) = (Gate::default(), Arrivals::default());
    let burst: Vec<_> = (0..6)
        .map(|_| {
            let (gate, started) = (gate.clone(), started.clone());
            pool.submit(move || {
                started.arrive();
                gate.wait();
                thread_name()
            })
        })
        .collect();
    // Four run at once, so four threads started; the other two wait for one of them.
    started.wait_for(4);
    gate.open();
    let mut names: HashSet<String> = burst
        .iter()
        .map(|f| f.result_timeout(PATIENCE).unwrap())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
    // The pool is full: later tasks reuse its threads.
    names.extend(three_in_a_row(&pool));
    assert_eq!(names.len(), 4, "{names:?}");
}

/// Two threads submit at once, many times over, on fresh pools: every task runs (a lost job
/// would time out rather than hang) and no pool starts more threads than it may.
#[test]
fn racing_submitters_lose_no_job_and_start_at_most_workers_threads() {
    for round in 0..200 {
        let workers = 1 + round % 3;
        let pool = pool(workers);
        let barrier = Barrier::new(2);
        let names: HashSet<String> = thread::scope(|scope| {
            let submitters: Vec<_> = (0..2)
                .map(|_| {
                    let (pool, barrier) = (&pool, &barrier);
                    scope.spawn(move || {
                        barrier.wait();
                        // A burst, then a few one after another, so both rules are raced.
                        let burst: Vec<_> = (0..8).map(|_| pool.submit(thread_name)).collect();
                        let mut names: Vec<String> = burst
                            .iter()
                            .map(|f| f.result_timeout(PATIENCE).expect("a lost job"))
                            .collect();
                        names.extend(three_in_a_row(pool));
                        names
                    })
                })
                .collect();
            submitters
                .into_iter()
                .flat_map(|s| s.join().unwrap())
                .collect()
        });
        assert!(names.len() <= workers, "round {round}: {names:?}");
    }
}

#[test]
fn a_panicking_initializer_fails_every_task_of_a_lazy_pool() {
    let pool = ThreadPool::builder()
        .workers(3)
        .initializer(|| panic!("no database"))
        .build()
        .unwrap();
    let futures: Vec<_> = (0..10).map(|i| pool.submit(move || i)).collect();
    for future in &futures {
        let error = future.result_timeout(PATIENCE).unwrap_err();
        assert!(error.is_broken(), "{error:?}");
    }
    let later = pool.submit(|| 1).result_timeout(PATIENCE).unwrap_err();
    assert!(later.is_broken(), "{later:?}");
    pool.shutdown(true, false);
}

/// A later thread's initializer runs only when that thread starts, which on-demand starting
/// makes a matter of load: once worker 0 is busy, the next task starts worker 1, whose
/// failing initializer breaks the pool.
#[test]
fn an_initializer_failing_in_a_later_thread_breaks_the_pool_once_it_starts() {
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
    assert_eq!(
        three_in_a_row(&pool),
        ["half-0"; 3],
        "worker 1 is not needed yet"
    );
    let (gate, started) = (Gate::default(), Arrivals::default());
    let held = {
        let (gate, started) = (gate.clone(), started.clone());
        pool.submit(move || {
            started.arrive();
            gate.wait();
        })
    };
    started.wait_for(1);
    let error = pool.submit(|| ()).result_timeout(PATIENCE).unwrap_err();
    assert!(
        error.to_string().contains("worker 1 cannot start"),
        "{error}"
    );
    assert!(pool.submit(|| ()).result().unwrap_err().is_broken());
    gate.open();
    assert_eq!(
        held.result_timeout(PATIENCE),
        Ok(()),
        "it started before the break"
    );
}

#[test]
fn shutdown_of_a_pool_that_never_ran_a_task_returns() {
    let pool = pool(3);
    pool.shutdown(true, false);
    assert!(pool.submit(|| 1).result().unwrap_err().is_shut_down());
    drop(pool);
    drop(ThreadPool::new()); // dropping waits like `shutdown(true, false)`
}

#[test]
fn a_task_waiting_on_its_own_pool_of_one_runs_the_inner_task_itself() {
    let pool = Arc::new(pool(1));
    let outer = {
        let inner_pool = Arc::clone(&pool);
        pool.submit(move || {
            let inner = inner_pool.submit(thread_name);
            (thread_name(), inner.result().unwrap())
        })
    };
    let (outer, inner) = outer.result_timeout(PATIENCE).unwrap();
    assert_eq!(outer, inner, "the only worker ran both");
}

/// A worker counts itself idle as its task returns, before the result is published; a
/// done-callback that then blocks must not keep the next task from getting a thread.
#[test]
fn a_blocked_done_callback_does_not_strand_the_next_task() {
    let pool = pool(2);
    let (in_callback, on_callback) = mpsc::channel();
    let (release, wait_for_release) = mpsc::channel::<()>();
    let (go, wait_for_go) = mpsc::channel::<()>();
    // Held until the callback is in place, so the callback runs on the worker.
    let first = pool.submit(move || wait_for_go.recv_timeout(PATIENCE).unwrap());
    first.add_done_callback(move |_| {
        in_callback.send(()).unwrap();
        // Blocks the first worker until the second task runs.
        wait_for_release.recv_timeout(PATIENCE).unwrap();
    });
    go.send(()).unwrap();
    on_callback.recv_timeout(PATIENCE).unwrap();
    let second = pool.submit(move || release.send(()).unwrap());
    assert_eq!(second.result_timeout(PATIENCE), Ok(()));
}

/// A thread the system refuses to start (here: a stack larger than the address space) breaks
/// a pool with no other worker, rather than leaving its task queued forever.
#[cfg(all(any(target_os = "linux", windows), target_pointer_width = "64"))]
#[test]
fn a_thread_that_cannot_start_breaks_a_pool_with_no_worker() {
    let pool = ThreadPool::builder()
        .workers(2)
        .stack_size(1 << 52)
        .build()
        .unwrap();
    let futures: Vec<_> = (0..3).map(|i| pool.submit(move || i)).collect();
    for future in &futures {
        let error = future.result_timeout(PATIENCE).unwrap_err();
        assert!(error.is_broken(), "{error:?}");
        assert!(error.to_string().contains("os error"), "{error}");
    }
    assert!(pool.submit(|| 1).result().unwrap_err().is_broken());
    pool.shutdown(true, false);
}
