//! `#[parallel(processes ..)]`: each argument of the attribute, through real worker processes.

use std::time::Duration;

use parallel::{parallel, pmap, ProcessPool};

thread_local! {
    static PREPARED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

fn prepare() {
    PREPARED.with(|prepared| prepared.set(prepared.get() + 1));
}

#[parallel(processes = 2, initializer = prepare)]
fn times_prepared() -> (u32, u32) {
    (PREPARED.with(std::cell::Cell::get), std::process::id())
}

#[test]
#[cfg_attr(miri, ignore)]
fn initializer_runs_once_in_each_worker_process_before_its_tasks() {
    let futures: Vec<_> = (0..10).map(|_| times_prepared()).collect();
    for future in &futures {
        let (prepared, pid) = future.result().unwrap();
        assert_eq!(prepared, 1, "worker {pid} ran the initializer once");
        assert_ne!(pid, std::process::id());
    }
}

fn refuse() {
    panic!("no database");
}

#[parallel(processes = 1, initializer = refuse)]
fn never_runs() -> u32 {
    1
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_failing_initializer_breaks_the_pool_with_its_reason() {
    let error = never_runs().result().unwrap_err();
    assert!(error.is_broken(), "{error}");
    assert!(error.to_string().contains("no database"), "{error}");
    assert!(
        never_runs().result().unwrap_err().is_broken(),
        "and stays broken"
    );
}

#[parallel(processes = 1, max_tasks_per_child = 2)]
fn worker_pid() -> u32 {
    std::process::id()
}

#[test]
#[cfg_attr(miri, ignore)]
fn max_tasks_per_child_recycles_workers() {
    let pids: Vec<u32> = (0..6).map(|_| worker_pid().result().unwrap()).collect();
    assert_eq!(pids[0], pids[1]);
    assert_ne!(pids[1], pids[2], "a fresh worker after two tasks");
    assert_eq!(pids[2], pids[3]);
    assert_ne!(pids[3], pids[4]);
}

#[parallel(processes = 1, timeout = "300ms")]
fn sleep_ms(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

#[test]
#[cfg_attr(miri, ignore)]
fn timeout_kills_the_worker_and_fails_only_that_call() {
    assert!(sleep_ms(60_000).result().unwrap_err().is_timed_out());
    assert_eq!(sleep_ms(1).result(), Ok(1));
}

#[parallel(processes = 2)]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[test]
#[cfg_attr(miri, ignore)]
fn the_function_runs_on_its_pool_any_pool_and_synchronously() {
    assert_eq!(add(40, 2).result(), Ok(42));
    assert_eq!(add::sync(1, 2), 3);
    let pool = ProcessPool::builder().workers(1).build().unwrap();
    assert_eq!(pool.submit(add, (5, 6)).result(), Ok(11));
    let sums: Vec<i64> = pmap!(add, 0..5, 10..15).map(Result::unwrap).collect();
    assert_eq!(sums, [10, 12, 14, 16, 18]);
    let on_threads: Vec<i64> = pmap!(add, 0..3, 0..3; threads = 2)
        .map(Result::unwrap)
        .collect();
    assert_eq!(on_threads, [0, 2, 4]);
}

#[parallel(processes = 1)]
fn shout(text: String) -> String {
    text.to_uppercase()
}

#[test]
#[cfg_attr(miri, ignore)]
fn futures_of_process_calls_can_be_awaited() {
    let text = futures::executor::block_on(async { shout("hi".into()).await });
    assert_eq!(text.unwrap(), "HI");
}
