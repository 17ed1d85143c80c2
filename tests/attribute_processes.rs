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

/// Counts may be constant expressions, evaluated at compile time.
const WORKERS: usize = 1;

#[parallel(processes = WORKERS + 1)]
fn computed_workers(x: u64) -> u64 {
    x + 1
}

#[test]
#[cfg_attr(miri, ignore)]
fn processes_take_a_constant_expression() {
    assert_eq!(computed_workers::pool().workers(), WORKERS + 1);
    assert_eq!(computed_workers(1).result(), Ok(2));
}

#[parallel(processes = 1)]
fn until_pool_shut_down(x: u64) -> u64 {
    x * 2
}

#[test]
#[cfg_attr(miri, ignore)]
fn the_process_pool_of_a_function_can_be_reached_and_shut_down() {
    let pool: &'static ProcessPool = until_pool_shut_down::pool();
    assert_eq!(pool.workers(), 1);
    assert_eq!(until_pool_shut_down(21).result(), Ok(42));
    assert_eq!(pool.submit(until_pool_shut_down, (4,)).result(), Ok(8));
    pool.shutdown(true, false);
    assert!(pool.is_shut_down());
    assert!(until_pool_shut_down(1).result().unwrap_err().is_shut_down());
}

/// A frame of at most 1 KiB on this function's channel.
#[parallel(processes = 1, max_frame = 1 << 10)]
fn byte_count(bytes: Vec<u8>) -> usize {
    bytes.len()
}

#[test]
#[cfg_attr(miri, ignore)]
fn max_frame_bounds_what_crosses_to_the_workers() {
    assert_eq!(byte_count(vec![0; 100]).result(), Ok(100));
    let error = byte_count(vec![0; 4096]).result().unwrap_err();
    assert!(error.is_codec(), "{error}");
    assert_eq!(byte_count(vec![1; 10]).result(), Ok(10), "the pool goes on");
}

#[parallel(processes = 1)]
fn where_it_ran(x: u32) -> (u32, u32) {
    (x, std::process::id())
}

/// `pmap!(process_fn, ..; threads = N)` runs the function's body on threads of this process:
/// the options choose where a map runs (the way to run a process function locally).
#[test]
#[cfg_attr(miri, ignore)]
fn pmap_with_threads_runs_a_process_function_in_this_process() {
    let local: Vec<(u32, u32)> = pmap!(where_it_ran, 0..4; threads = 2)
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        local,
        (0..4).map(|x| (x, std::process::id())).collect::<Vec<_>>()
    );
    let remote: Vec<(u32, u32)> = pmap!(where_it_ran, 0..4).map(Result::unwrap).collect();
    assert!(remote.iter().all(|&(_, pid)| pid != std::process::id()));
}
