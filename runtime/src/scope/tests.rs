//! The scope's guarantees, small enough for miri: tasks that borrow, the scope waiting for
//! them even when their handles are forgotten, and no deadlock on a pool of one worker.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::thread_pool::ThreadPool;

fn pool(workers: usize) -> ThreadPool {
    // Not waited for at exit: miri cannot register an exit handler.
    ThreadPool::builder()
        .workers(workers)
        .wait_at_exit(false)
        .build()
        .unwrap()
}

/// Under miri, fewer rounds: each is a few threads' worth of interpreted work.
fn rounds(native: usize) -> usize {
    if cfg!(miri) {
        3
    } else {
        native
    }
}

#[test]
fn tasks_borrow_and_return_borrows() {
    let pool = pool(2);
    let data: Vec<u64> = (1..=10).collect();
    let name = String::from("ten");
    let (sum, largest, len) = pool.scope(|s| {
        let sum = s.submit(|| data.iter().sum::<u64>());
        let largest = s.submit(|| data.iter().max());
        let len = s.submit(|| name.len() + data.len());
        (
            sum.result().unwrap(),
            largest.result().unwrap(),
            len.result().unwrap(),
        )
    });
    assert_eq!((sum, largest, len), (55, Some(&10), 13));
}

#[test]
fn forget_futures_and_they_still_do_not_outlive_the_scope() {
    let pool = pool(2);
    for _ in 0..rounds(200) {
        let data = vec![1u8; 64];
        let finished = AtomicUsize::new(0);
        pool.scope(|s| {
            for _ in 0..4 {
                std::mem::forget(s.submit(|| {
                    let total: usize = data.iter().map(|&b| usize::from(b)).sum();
                    finished.fetch_add(total, Ordering::SeqCst);
                }));
            }
        });
        // Every task read `data` before the scope returned; freeing it now is safe, and miri
        // would report a task that read it later.
        drop(data);
        assert_eq!(finished.load(Ordering::SeqCst), 4 * 64);
    }
}

#[test]
fn forget_a_value_and_it_is_leaked_not_dropped_late() {
    struct Noisy<'a>(&'a AtomicBool);
    impl Drop for Noisy<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let pool = pool(1);
    let dropped = AtomicBool::new(false);
    pool.scope(|s| {
        std::mem::forget(s.submit(|| Noisy(&dropped)));
    });
    // The leaked future holds the value; nobody may drop it after the scope, when `dropped`
    // could be gone. (It is leaked, as `mem::forget` asked.)
    assert!(!dropped.load(Ordering::SeqCst));

    let dropped = AtomicBool::new(false);
    pool.scope(|s| {
        drop(s.submit(|| Noisy(&dropped)));
    });
    assert!(dropped.load(Ordering::SeqCst), "dropped inside the scope");
}

#[test]
fn a_task_waits_on_another_of_its_scope_on_one_worker() {
    let pool = pool(1);
    let data = [3u32, 4];
    let total = pool.scope(|s| {
        let first = s.submit(|| data[0] * data[0]);
        let data = &data;
        let second = s.submit(move || first.result().unwrap() + data[1] * data[1]);
        second.result().unwrap()
    });
    assert_eq!(total, 25);
}

#[test]
fn nested_scopes_finish_on_one_worker() {
    let pool = pool(1);
    let data = [1u32, 2, 3, 4];
    let total = pool.scope(|outer| {
        let halves = data.split_at(2);
        let left = outer.submit(|| {
            // A scope opened by the pool's only worker: it runs its tasks while it waits.
            pool.scope(|inner| {
                let parts: Vec<_> = halves
                    .0
                    .iter()
                    .map(|x| inner.submit(move || x * 10))
                    .collect();
                let _unwaited = inner.submit(|| halves.1.len());
                parts.iter().map(|part| part.result().unwrap()).sum::<u32>()
            })
        });
        left.result().unwrap() + halves.1.iter().sum::<u32>()
    });
    assert_eq!(total, 37);
}

#[test]
fn tasks_submit_to_their_own_scope() {
    let pool = pool(2);
    let seen = Mutex::new(Vec::new());
    pool.scope(|s| {
        let seen = &seen;
        drop(s.submit(move || {
            for i in 0..3 {
                drop(s.submit(move || seen.lock().unwrap().push(i)));
            }
        }));
    });
    let mut seen = seen.into_inner().unwrap();
    seen.sort();
    assert_eq!(
        seen,
        [0, 1, 2],
        "the scope waited for tasks submitted by its tasks"
    );
}

#[test]
fn a_panicking_task_is_its_futures_error() {
    let pool = pool(1);
    let fine = pool.scope(|s| {
        let bad = s.submit(|| -> u32 { panic!("scoped boom") });
        let good = s.submit(|| 7);
        assert_eq!(
            bad.result().unwrap_err().panic_message(),
            Some("scoped boom")
        );
        good.result().unwrap()
    });
    assert_eq!(fine, 7);
}

#[test]
fn a_panic_in_the_closure_waits_for_the_tasks() {
    let pool = pool(1);
    let (go, wait_for_go) = std::sync::mpsc::channel::<()>();
    let finished = AtomicBool::new(false);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pool.scope(|s| {
            let finished = &finished;
            drop(s.submit(move || {
                wait_for_go.recv().unwrap();
                finished.store(true, Ordering::SeqCst);
            }));
            go.send(()).unwrap();
            panic!("the closure gave up");
        })
    }));
    assert!(outcome.is_err(), "the panic goes on");
    assert!(
        finished.load(Ordering::SeqCst),
        "but only after the task finished"
    );
}

#[test]
fn cancelled_and_refused_tasks_count_out() {
    let pool = pool(1);
    let (go, wait_for_go) = std::sync::mpsc::channel::<()>();
    let (started, on_start) = std::sync::mpsc::channel::<()>();
    pool.scope(|s| {
        let busy = s.submit(move || {
            started.send(()).unwrap();
            wait_for_go.recv().unwrap();
        });
        on_start.recv().unwrap();
        let queued = s.submit(|| unreachable!("cancelled before it ran"));
        assert!(queued.cancel());
        assert!(queued.result().unwrap_err().is_cancelled());
        go.send(()).unwrap();
        busy.result().unwrap();
    });
    pool.shutdown(true, false);
    let refused = pool.scope(|s| s.submit(|| 1).result());
    assert!(refused.unwrap_err().is_shut_down());
}

#[test]
fn callbacks_may_borrow_and_run_before_the_scope_ends() {
    let pool = pool(2);
    let total = AtomicUsize::new(0);
    for _ in 0..rounds(100) {
        pool.scope(|s| {
            for i in 1..=3 {
                s.submit(move || i).add_done_callback(|outcome| {
                    total.fetch_add(*outcome.unwrap(), Ordering::SeqCst);
                });
            }
        });
    }
    assert_eq!(total.load(Ordering::SeqCst), 6 * rounds(100));
}
