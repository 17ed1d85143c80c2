//! Habits Python users bring, each kept: a map starts at the call, a result can be read
//! again, a future can be completed by hand, submitted work finishes when the program ends,
//! and a pool may be dropped from one of its own callbacks.

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use parallel::{
    as_completed, parallel, pmap, wait, MapOptions, ProcessPool, ReturnWhen, TaskError, ThreadPool,
};

/// Long enough that only a broken runtime reaches it; tests never wait it out.
const PATIENCE: Duration = Duration::from_secs(60);

/// The environment variable that makes this test binary play a program for a test.
const ROLE: &str = "PARALLEL_HABITS_ROLE";

/// A scratch path for this test process.
fn scratch(name: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "parallel-habits-{}-{}-{name}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    path.to_string_lossy().into_owned()
}

/// Waits until `done` holds, failing after `PATIENCE`.
fn await_that(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < PATIENCE, "{what} never happened");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Creates the file `path`.
#[parallel(processes = 1)]
fn touch(path: String) -> u32 {
    fs::write(&path, b"").unwrap();
    7
}

#[test]
fn a_thread_map_starts_at_the_call() {
    let pool = ThreadPool::builder().workers(2).build().unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&ran);
    let map = pool.map(
        move |x: u32| {
            counter.fetch_add(1, Ordering::SeqCst);
            x
        },
        0..4,
    );
    // Left alone: the work is done anyway.
    await_that("the map's work", || ran.load(Ordering::SeqCst) == 4);
    assert_eq!(map.map(Result::unwrap).collect::<Vec<_>>(), [0, 1, 2, 3]);
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_process_map_starts_at_the_call() {
    let pool = ProcessPool::builder().workers(2).build().unwrap();
    let paths: Vec<String> = (0..3).map(|_| scratch("map")).collect();
    let map = pool.map(touch, paths.iter().map(|path| (path.clone(),)));
    await_that("the map's work", || {
        paths.iter().all(|p| Path::new(p).exists())
    });
    assert_eq!(map.map(Result::unwrap).collect::<Vec<_>>(), [7, 7, 7]);
    let pmapped = scratch("pmap");
    let _unread = pmap!(touch, [pmapped.clone()]);
    await_that("pmap!'s work", || Path::new(&pmapped).exists());
    for path in paths.into_iter().chain([pmapped]) {
        let _ = fs::remove_file(path);
    }
}

#[test]
fn a_map_made_before_a_shutdown_completes_what_it_had_submitted() {
    let pool = ThreadPool::builder().workers(2).build().unwrap();
    let map = pool.map_with(|x: u32| x * 10, 0..6, MapOptions::new().chunksize(1));
    pool.shutdown(false, false);
    let results: Vec<_> = map.collect();
    // Six single-item batches fit in the look-ahead, so all went in before the shutdown.
    assert_eq!(results, (0..6).map(|x| Ok(x * 10)).collect::<Vec<_>>());
    let after = pool.map(|x: u32| x, 0..2).collect::<Vec<_>>();
    assert!(after
        .iter()
        .all(|r| r.as_ref().is_err_and(TaskError::is_shut_down)));
}

#[test]
fn dropping_a_map_that_started_cancels_what_has_not_run() {
    let pool = ThreadPool::builder().workers(1).build().unwrap();
    let (go, wait_for_go) = mpsc::channel::<()>();
    let blocker = pool.submit(move || wait_for_go.recv().is_ok());
    let ran = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&ran);
    let map = pool.map(
        move |x: u32| {
            counter.fetch_add(1, Ordering::SeqCst);
            x
        },
        0..4,
    );
    drop(map);
    go.send(()).unwrap();
    assert_eq!(blocker.result_timeout(PATIENCE), Ok(true));
    pool.shutdown(true, false);
    assert_eq!(
        ran.load(Ordering::SeqCst),
        0,
        "the queued batches were cancelled"
    );
}

#[test]
fn a_result_can_be_read_again_by_reference_or_cloned() {
    let pool = ThreadPool::new();
    let mut future = pool.submit(|| vec![1, 2, 3]);
    assert_eq!(future.result_ref(), Ok(&vec![1, 2, 3]));
    assert_eq!(future.result_ref().map(Vec::len), Ok(3));
    assert_eq!(future.result_cloned(), Ok(vec![1, 2, 3]));
    assert_eq!(future.result_cloned(), Ok(vec![1, 2, 3]));
    assert_eq!(
        future.result(),
        Ok(vec![1, 2, 3]),
        "still there to move out"
    );
    assert_eq!(future.result_ref(), Err(TaskError::Taken));
    assert_eq!(future.result_cloned(), Err(TaskError::Taken));
    let mut failed = pool.submit(|| -> u8 { panic!("no") });
    let error = failed.result_ref().unwrap_err();
    assert_eq!(failed.result_ref(), Err(error.clone()));
    assert_eq!(failed.result_cloned(), Err(error));
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_process_result_can_be_read_again() {
    let path = scratch("twice");
    let mut future = touch(path.clone());
    assert_eq!(future.result_ref(), Ok(&7));
    assert_eq!(future.result_cloned(), Ok(7));
    assert_eq!(future.result(), Ok(7));
    let _ = fs::remove_file(path);
}

#[test]
fn readers_racing_a_callback_and_each_other_all_see_the_value() {
    let pool = ThreadPool::builder().workers(2).build().unwrap();
    for _ in 0..300 {
        let barrier = Arc::new(Barrier::new(3));
        let start = Arc::clone(&barrier);
        let future = pool.submit(move || {
            start.wait();
            "value".to_owned()
        });
        let (seen, on_seen) = mpsc::channel();
        future.add_done_callback(move |outcome| {
            seen.send(outcome.map(String::len).ok()).unwrap();
        });
        let future = Arc::new(future);
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let future = Arc::clone(&future);
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || {
                    barrier.wait();
                    future.result_cloned()
                })
            })
            .collect();
        for reader in readers {
            assert_eq!(reader.join().unwrap(), Ok("value".to_owned()));
        }
        assert_eq!(on_seen.recv_timeout(PATIENCE).unwrap(), Some(5));
        let mut future = Arc::into_inner(future).expect("the readers are done");
        assert_eq!(future.result_ref().map(String::as_str), Ok("value"));
    }
}

#[test]
fn a_promise_completes_its_future_once() {
    let (promise, future) = parallel::promise::<u32>();
    assert!(!future.is_done() && !future.is_running());
    assert!(promise.set_running());
    assert!(future.is_running());
    assert!(!future.cancel(), "running: no longer cancellable");
    promise.set_result(5).unwrap();
    assert_eq!(future.result(), Ok(5));

    let (promise, future) = parallel::promise::<u32>();
    promise.set_error(TaskError::panicked("lost")).unwrap();
    assert_eq!(future.result().unwrap_err().panic_message(), Some("lost"));

    let (promise, future) = parallel::promise::<u32>();
    assert!(future.cancel());
    assert!(promise.is_cancelled());
    assert!(!promise.set_running(), "cancelled first");
    assert_eq!(promise.set_result(1), Err(1));
    assert_eq!(future.result(), Err(TaskError::Cancelled));

    let (promise, future) = parallel::promise::<u32>();
    drop(promise);
    assert_eq!(future.result(), Err(TaskError::Abandoned));
}

#[test]
fn a_promised_future_works_with_as_completed_wait_callbacks_and_await() {
    let pool = ThreadPool::new();
    let (promise, promised) = parallel::promise::<u32>();
    let (seen, on_seen) = mpsc::channel();
    promised.add_done_callback(move |outcome| seen.send(outcome.ok().copied()).unwrap());
    let computed = pool.submit(|| 2u32);
    let waited = wait(
        [&promised, &computed],
        Some(PATIENCE),
        ReturnWhen::FirstCompleted,
    );
    assert_eq!(waited.done, [&computed]);
    let completer = thread::spawn(move || promise.set_result(1).unwrap());
    let order: Vec<u32> = as_completed([&promised, &computed])
        .map(|future| future.result_cloned().unwrap())
        .collect();
    assert_eq!(
        order.iter().copied().collect::<HashSet<_>>(),
        HashSet::from([1, 2])
    );
    completer.join().unwrap();
    assert_eq!(on_seen.recv_timeout(PATIENCE).unwrap(), Some(1));
    let (promise, awaited) = parallel::promise::<&str>();
    thread::spawn(move || promise.set_result("awaited").unwrap());
    assert_eq!(futures::executor::block_on(awaited), Ok("awaited"));
}

#[test]
fn dropping_the_last_handle_of_a_thread_pool_in_its_own_callback_does_not_block() {
    let pool = Arc::new(ThreadPool::builder().workers(1).build().unwrap());
    let (dropped, on_drop) = mpsc::channel();
    let future = pool.submit(|| 3);
    let last = Arc::clone(&pool);
    drop(pool);
    future.add_done_callback(move |_| {
        drop(last);
        dropped.send(()).unwrap();
    });
    on_drop
        .recv_timeout(PATIENCE)
        .expect("the drop returned on the worker");
    assert_eq!(future.result_timeout(PATIENCE), Ok(3));
}

/// Writes `path` after a moment.
#[parallel]
fn write_later(path: String) {
    thread::sleep(Duration::from_millis(100));
    fs::write(path, b"written").unwrap();
}

#[parallel(threads = 1)]
fn write_later_on_own_threads(path: String) {
    write_later::sync(path);
}

#[parallel(processes = 1)]
fn write_later_in_a_process(path: String) {
    write_later::sync(path);
}

/// The role of `submitted_work_finishes_when_the_program_ends`: submits to every kind of
/// pool the crate owns, drops each future, and returns (ending the program) at once.
fn program_that_leaves_work_behind(dir: &str, wait_at_exit: bool) {
    parallel::wait_at_exit(wait_at_exit);
    drop(write_later(format!("{dir}/default-pool")));
    drop(write_later_on_own_threads(format!("{dir}/own-threads")));
    drop(write_later_in_a_process(format!("{dir}/own-process")));
    // A map left alone (not dropped, which would cancel what has not started).
    std::mem::forget(pmap!(write_later::sync, [format!("{dir}/pmap-site")]; threads = 1));
    drop(default_pool_submit(format!("{dir}/submitted")));
}

fn default_pool_submit(path: String) -> parallel::Future<()> {
    parallel::default_pool().submit(move || write_later::sync(path))
}

fn run_program(test: &str, role: &str) {
    let status = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--test-threads=1"])
        .env(ROLE, role)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the program failed: {status}");
}

#[test]
#[cfg_attr(miri, ignore)]
fn submitted_work_finishes_when_the_program_ends() {
    let test = "submitted_work_finishes_when_the_program_ends";
    if let Some(role) = std::env::var_os(ROLE) {
        let role = role.into_string().unwrap();
        let (wait, dir) = role.split_once(':').unwrap();
        return program_that_leaves_work_behind(dir, wait == "wait");
    }
    let names = [
        "default-pool",
        "own-threads",
        "own-process",
        "pmap-site",
        "submitted",
    ];
    let dir = scratch("exit");
    fs::create_dir_all(&dir).unwrap();
    run_program(test, &format!("wait:{dir}"));
    for name in names {
        let path = format!("{dir}/{name}");
        assert_eq!(
            fs::read(&path).ok().as_deref(),
            Some(&b"written"[..]),
            "{name}"
        );
        fs::remove_file(path).unwrap();
    }
    // Opted out: the program ends at once, and none of it is written (a worker process
    // may still be mid-task when it goes; it is killed with its parent).
    run_program(test, &format!("leave:{dir}"));
    thread::sleep(Duration::from_millis(300));
    for name in names {
        assert!(!Path::new(&format!("{dir}/{name}")).exists(), "{name}");
    }
    fs::remove_dir_all(dir).unwrap();
}
