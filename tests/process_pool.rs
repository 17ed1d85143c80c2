//! Behaviour of `ProcessPool`, and of a `ThreadPool` beside it wherever the two should agree:
//! submit and result, timed-out waits, states, cancelling queued tasks, `as_completed`, `wait`,
//! `map` (ordered, unordered, chunksize, timeout, early drop), shutdown, drop, submit after
//! shutdown, awaiting and callbacks; then what only processes have: the `#[parallel]` and
//! `pmap!` forms, `max_frame`, 64 MB each way, and 10,000 tasks with `max_tasks_per_child`.
//!
//! Tasks in another process cannot share memory with the test, so tasks and tests meet
//! through files in a directory of the test's own: a gate is a file that exists once opened,
//! and a task says it has started, or has run, by creating one.

mod common;

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use parallel::{
    as_completed, parallel, pmap, wait, Deadline, Future, Map, MapOptions, ProcessPool, ReturnWhen,
    TaskError, ThreadPool,
};

/// Long enough that only a broken runtime reaches it; tests never wait it out.
const PATIENCE: Duration = Duration::from_secs(60);

/// A directory for one test, removed when the test ends. Made before the pool, so that the
/// pool, dropped first, has finished its tasks before their files go.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "parallel-process-pool-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// The path of the file `name` in the directory (it need not exist).
    fn file(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_owned()
    }

    /// Creates the file `name`: opens the gate of that name.
    fn open(&self, name: &str) {
        fs::write(self.file(name), b"").unwrap();
    }

    fn exists(&self, name: &str) -> bool {
        Path::new(&self.file(name)).exists()
    }

    /// Waits until a task has created the file `name`.
    fn await_file(&self, name: &str) {
        await_path(&self.file(name));
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Waits, in any process, until `path` exists; panics after `PATIENCE`.
fn await_path(path: &str) {
    let start = Instant::now();
    while !Path::new(path).exists() {
        assert!(start.elapsed() < PATIENCE, "`{path}` never appeared");
        thread::sleep(Duration::from_millis(1));
    }
}

/// The outcome of `future`, failing the test (rather than hanging it) if it never comes.
fn outcome<T>(future: &Future<T>) -> Result<T, TaskError> {
    let outcome = future.result_timeout(PATIENCE);
    assert!(future.is_done(), "the task did not finish in {PATIENCE:?}");
    outcome
}

/// Where a call runs: the process and the thread.
fn place_here() -> String {
    format!("{}/{:?}", process_here(), thread::current().id())
}

/// This process, told apart from every other that had or will have its id: Windows reuses a
/// process id as soon as the process is gone, so an id alone does not name one worker.
fn process_here() -> String {
    common::process::here()
}

// The functions tests run. Each is registered for worker processes by the attribute; the
// thread pool runs the same body through `name::sync`. (Their own pools are never started:
// tests submit them to pools they build.)

#[parallel(processes = 1)]
fn square(x: u64) -> u64 {
    x * x
}

/// Creates the file `started` (unless empty), waits for the file `gate` (unless empty), then
/// returns `value`.
#[parallel(processes = 1)]
fn gated(started: String, gate: String, value: u32) -> u32 {
    if !started.is_empty() {
        fs::write(&started, b"").unwrap();
    }
    if !gate.is_empty() {
        await_path(&gate);
    }
    value
}

#[parallel(processes = 1)]
fn fail(message: String) -> u32 {
    panic!("{message}")
}

/// Panics on multiples of 3.
#[parallel(processes = 1)]
fn checked(x: u32) -> u32 {
    assert!(x % 3 != 0, "{x} is a multiple of 3");
    x
}

#[parallel(processes = 1)]
fn nap(ms: u64) -> u64 {
    thread::sleep(Duration::from_millis(ms));
    ms
}

#[parallel(processes = 1)]
fn place(_item: u32) -> String {
    place_here()
}

/// What a test body needs of a pool, for both kinds: each method submits (or maps) the
/// function of the same name, in a worker process or on a worker thread.
trait Pool: Sized {
    fn start(workers: usize) -> Self;
    fn square(&self, x: u64) -> Future<u64>;
    fn gated(&self, started: &str, gate: &str, value: u32) -> Future<u32>;
    fn fail(&self, message: &str) -> Future<u32>;
    fn map_gated<I>(&self, items: I, options: MapOptions) -> Map<'_, I::IntoIter, u32>
    where
        I: IntoIterator<Item = (String, String, u32)>;
    fn map_checked<I>(&self, items: I, options: MapOptions) -> Map<'_, I::IntoIter, u32>
    where
        I: IntoIterator<Item = (u32,)>;
    fn map_nap<I>(&self, items: I, options: MapOptions) -> Map<'_, I::IntoIter, u64>
    where
        I: IntoIterator<Item = (u64,)>;
    fn map_place<I>(&self, items: I, options: MapOptions) -> Map<'_, I::IntoIter, String>
    where
        I: IntoIterator<Item = (u32,)>;
    fn shutdown(&self, wait: bool, cancel_futures: bool);
    fn is_shut_down(&self) -> bool;

    /// A task that holds a worker until `gate` opens; returns once it runs.
    fn hold(&self, scratch: &Scratch, started: &str, gate: &str) -> Future<u32> {
        let future = self.gated(&scratch.file(started), &scratch.file(gate), 0);
        scratch.await_file(started);
        future
    }
}

impl Pool for ProcessPool {
    fn start(workers: usize) -> Self {
        ProcessPool::builder().workers(workers).build().unwrap()
    }

    fn square(&self, x: u64) -> Future<u64> {
        self.submit(square, (x,))
    }

    fn gated(&self, started: &str, gate: &str, value: u32) -> Future<u32> {
        self.submit(gated, (started.to_owned(), gate.to_owned(), value))
    }

    fn fail(&self, message: &str) -> Future<u32> {
        self.submit(fail, (message.to_owned(),))
    }

    fn map_gated<I>(&self, items: I, options: MapOptions) -> Map<'_, I::IntoIter, u32>
    where
        I: IntoIterator<Item = (String, String, u32)>,
    {
        self.map_with(gated, items, options)
    }

    fn map_checked<I>(&self, items: I, options: MapOptions) -> Map<'_, I::IntoIter, u32>
    where
        I: IntoIterator<Item = (u32,)>,
    {
        self.map_with(checked, items, options)
    }

    fn map_nap<I>(&self, items: I, options: MapOptions) -> Map<'_, I::IntoIter, u64>
    where
        I: IntoIterator<Item = (u64,)>,
    {
        self.map_with(nap, items, options)
    }

    fn map_place<I>(&self, items: I, options: MapOptions) -> Map<'_, I::IntoIter, String>
    where
        I: IntoIterator<Item = (u32,)>,
    {
        self.map_with(place, items, options)
    }

    fn shutdown(&self, wait: bool, cancel_futures: bool) {
        ProcessPool::shutdown(self, wait, cancel_futures);
    }

    fn is_shut_down(&self) -> bool {
        ProcessPool::is_shut_down(self)
    }
}

impl Pool for ThreadPool {
    fn start(workers: usize) -> Self {
        ThreadPool::builder().workers(workers).build().unwrap()
    }

    fn square(&self, x: u64) -> Future<u64> {
        self.submit(move || square::sync(x))
    }

    fn gated(&self, started: &str, gate: &str, value: u32) -> Future<u32> {
        let (started, gate) = (started.to_owned(), gate.to_owned());
        self.submit(move || gated::sync(started, gate, value))
    }

    fn fail(&self, message: &str) -> Future<u32> {
        let message = message.to_owned();
        self.submit(move || fail::sync(message))
    }

    fn map_gated<I>(&self, items: I, options: MapOptions) -> Map<'_, I::IntoIter, u32>
    where
        I: IntoIterator<Item = (String, String, u32)>,
    {
        self.map_with(|(s, g, v)| gated::sync(s, g, v), items, options)
    }

    fn map_checked<I>(&self, items: I, options: MapOptions) -> Map<'_, I::IntoIter, u32>
    where
        I: IntoIterator<Item = (u32,)>,
    {
        self.map_with(|(x,)| checked::sync(x), items, options)
    }

    fn map_nap<I>(&self, items: I, options: MapOptions) -> Map<'_, I::IntoIter, u64>
    where
        I: IntoIterator<Item = (u64,)>,
    {
        self.map_with(|(ms,)| nap::sync(ms), items, options)
    }

    fn map_place<I>(&self, items: I, options: MapOptions) -> Map<'_, I::IntoIter, String>
    where
        I: IntoIterator<Item = (u32,)>,
    {
        self.map_with(|(x,)| place::sync(x), items, options)
    }

    fn shutdown(&self, wait: bool, cancel_futures: bool) {
        ThreadPool::shutdown(self, wait, cancel_futures);
    }

    fn is_shut_down(&self) -> bool {
        ThreadPool::is_shut_down(self)
    }
}

/// For each generic test body `name::<P: Pool>()`, a module `name` with two tests: `threads`
/// and `processes`.
macro_rules! on_both_pools {
    ($($name:ident,)*) => {$(
        mod $name {
            #[test]
            #[cfg_attr(miri, ignore)]
            fn threads() {
                super::$name::<parallel::ThreadPool>();
            }

            #[test]
            #[cfg_attr(miri, ignore)]
            fn processes() {
                super::$name::<parallel::ProcessPool>();
            }
        }
    )*};
}

on_both_pools! {
    submit_returns_each_value,
    a_panic_fails_its_task_and_the_pool_goes_on,
    a_timed_out_wait_leaves_the_future_usable,
    states_follow_the_task,
    cancel_succeeds_only_while_pending,
    submit_after_shutdown_fails_at_once,
    shutdown_without_wait_lets_the_old_work_finish,
    shutdown_with_wait_returns_after_the_work_is_done,
    shutdown_cancel_futures_cancels_the_queue,
    shutdown_twice_is_harmless,
    dropping_the_pool_waits_for_the_work,
    as_completed_yields_in_completion_order,
    as_completed_times_out_and_keeps_the_pending,
    as_completed_yields_failed_and_cancelled_futures,
    wait_first_completed,
    wait_first_exception,
    wait_all_completed_and_a_timeout,
    map_yields_in_input_order,
    map_failures_stay_in_place,
    map_unordered_yields_the_first_finished_first,
    map_chunksize_keeps_a_batch_in_one_worker,
    map_timeout_is_counted_from_the_call,
    dropping_the_map_cancels_what_has_not_started,
    map_of_nothing_yields_nothing,
    map_after_shutdown_fails_every_item,
    a_future_can_be_awaited,
    a_done_callback_gets_the_outcome,
}

fn submit_returns_each_value<P: Pool>() {
    let pool = P::start(3);
    let futures: Vec<_> = (0..100).map(|x| pool.square(x)).collect();
    let values: Vec<u64> = futures.iter().map(|f| outcome(f).unwrap()).collect();
    assert_eq!(values, (0..100).map(|x| x * x).collect::<Vec<_>>());
}

fn a_panic_fails_its_task_and_the_pool_goes_on<P: Pool>() {
    let pool = P::start(1);
    for i in 0..3 {
        let error = outcome(&pool.fail(&format!("bad input {i}"))).unwrap_err();
        let TaskError::Panicked { message, .. } = &error else {
            panic!("expected a panic, got {error:?}");
        };
        assert_eq!(message, &format!("bad input {i}"));
        let text = error.to_string();
        assert!(text.starts_with("the task panicked "), "{text}");
        assert!(text.ends_with(&format!(": bad input {i}")), "{text}");
        assert_eq!(outcome(&pool.square(i)), Ok(i * i));
    }
}

fn a_timed_out_wait_leaves_the_future_usable<P: Pool>() {
    let scratch = Scratch::new();
    let pool = P::start(1);
    let held = pool.hold(&scratch, "started", "gate");
    assert_eq!(
        held.result_timeout(Duration::from_millis(20)),
        Err(TaskError::timed_out(Deadline::Wait))
    );
    assert!(!held.wait_timeout(Duration::from_millis(20)));
    assert!(!held.is_done(), "a timed-out wait changes nothing");
    scratch.open("gate");
    assert_eq!(outcome(&held), Ok(0));
}

fn states_follow_the_task<P: Pool>() {
    let scratch = Scratch::new();
    let pool = P::start(1);
    let held = pool.hold(&scratch, "started", "gate");
    assert!(held.is_running());
    assert!(!held.is_done());
    let queued = pool.square(3);
    assert!(!queued.is_running());
    assert!(!queued.is_done());
    assert!(!queued.is_cancelled());
    scratch.open("gate");
    assert_eq!(outcome(&queued), Ok(9));
    assert!(queued.is_done() && !queued.is_running() && !queued.is_cancelled());
    assert!(held.is_done());
}

fn cancel_succeeds_only_while_pending<P: Pool>() {
    let scratch = Scratch::new();
    let pool = P::start(1);
    let held = pool.hold(&scratch, "started", "gate");
    let queued: Vec<_> = (0..3)
        .map(|i| pool.gated(&scratch.file(&format!("ran-{i}")), "", i))
        .collect();
    assert!(queued[2].cancel());
    assert!(queued[2].is_cancelled() && queued[2].is_done());
    assert_eq!(queued[2].result(), Err(TaskError::Cancelled));
    assert!(!held.cancel(), "a running task cannot be cancelled");
    assert!(!held.is_cancelled());
    scratch.open("gate");
    assert_eq!(outcome(&held), Ok(0));
    assert_eq!(outcome(&queued[0]), Ok(0));
    assert_eq!(outcome(&queued[1]), Ok(1));
    pool.shutdown(true, false);
    assert!(scratch.exists("ran-0") && scratch.exists("ran-1"));
    assert!(!scratch.exists("ran-2"), "a cancelled task never runs");
}

fn submit_after_shutdown_fails_at_once<P: Pool>() {
    let pool = P::start(1);
    assert_eq!(outcome(&pool.square(2)), Ok(4));
    pool.shutdown(false, false);
    assert!(pool.is_shut_down());
    let late = pool.square(3);
    assert_eq!(late.try_result(), Some(Err(TaskError::ShutDown)));
    assert!(pool
        .fail("never runs")
        .error()
        .is_some_and(|e| e.is_shut_down()));
}

fn shutdown_without_wait_lets_the_old_work_finish<P: Pool>() {
    let scratch = Scratch::new();
    let pool = P::start(1);
    let held = pool.hold(&scratch, "started", "gate");
    let queued = pool.square(5);
    pool.shutdown(false, false);
    assert!(!held.is_done(), "shutdown without wait returned at once");
    assert_eq!(pool.square(6).try_result(), Some(Err(TaskError::ShutDown)));
    scratch.open("gate");
    assert_eq!(outcome(&held), Ok(0));
    assert_eq!(outcome(&queued), Ok(25), "queued work still runs");
}

fn shutdown_with_wait_returns_after_the_work_is_done<P: Pool>() {
    let scratch = Scratch::new();
    let pool = P::start(2);
    let futures: Vec<_> = (0..6)
        .map(|i| pool.gated(&scratch.file(&format!("ran-{i}")), "", i))
        .collect();
    pool.shutdown(true, false);
    for (i, future) in futures.iter().enumerate() {
        assert!(
            future.is_done(),
            "task {i} was not done when shutdown returned"
        );
        assert!(scratch.exists(&format!("ran-{i}")));
        assert_eq!(future.try_result(), Some(Ok(i as u32)));
    }
}

fn shutdown_cancel_futures_cancels_the_queue<P: Pool>() {
    let scratch = Scratch::new();
    let pool = P::start(1);
    let held = pool.hold(&scratch, "started", "gate");
    let queued: Vec<_> = (0..4)
        .map(|i| pool.gated(&scratch.file(&format!("ran-{i}")), "", i))
        .collect();
    pool.shutdown(false, true);
    for future in &queued {
        assert_eq!(future.try_result(), Some(Err(TaskError::Cancelled)));
    }
    scratch.open("gate");
    pool.shutdown(true, false);
    assert_eq!(outcome(&held), Ok(0), "the running task completes");
    for i in 0..4 {
        assert!(!scratch.exists(&format!("ran-{i}")), "task {i} ran");
    }
}

fn shutdown_twice_is_harmless<P: Pool>() {
    let pool = P::start(2);
    let future = pool.square(4);
    pool.shutdown(true, false);
    pool.shutdown(true, true);
    pool.shutdown(false, false);
    assert!(pool.is_shut_down());
    assert_eq!(future.try_result(), Some(Ok(16)));
}

fn dropping_the_pool_waits_for_the_work<P: Pool>() {
    let scratch = Scratch::new();
    let pool = P::start(2);
    let futures: Vec<_> = (0..6)
        .map(|i| pool.gated(&scratch.file(&format!("ran-{i}")), "", i))
        .collect();
    drop(pool);
    for (i, future) in futures.iter().enumerate() {
        assert_eq!(future.try_result(), Some(Ok(i as u32)));
        assert!(scratch.exists(&format!("ran-{i}")));
    }
}

fn as_completed_yields_in_completion_order<P: Pool>() {
    let scratch = Scratch::new();
    let pool = P::start(3);
    let futures: Vec<_> = (0..3)
        .map(|i| {
            let (started, gate) = (format!("started-{i}"), format!("gate-{i}"));
            pool.gated(&scratch.file(&started), &scratch.file(&gate), i)
        })
        .collect();
    // Each has started, so each runs in a worker of its own and can finish on its own.
    for i in 0..3 {
        scratch.await_file(&format!("started-{i}"));
    }
    let mut it = as_completed(&futures);
    for i in [2, 0, 1] {
        scratch.open(&format!("gate-{i}"));
        let future = it.next().unwrap();
        assert_eq!(future, &futures[i as usize]);
        assert_eq!(future.result(), Ok(i));
    }
    assert!(it.next().is_none());
}

fn as_completed_times_out_and_keeps_the_pending<P: Pool>() {
    let scratch = Scratch::new();
    let pool = P::start(2);
    let held = pool.hold(&scratch, "started", "gate");
    let done = pool.gated("", "", 3);
    done.wait();
    let started = Instant::now();
    let mut it = as_completed([&held, &done]).timeout(Duration::from_millis(100));
    assert_eq!(it.next(), Some(Ok(&done)));
    assert_eq!(
        it.next(),
        Some(Err(TaskError::timed_out(Deadline::AsCompleted {
            unfinished: 1,
            total: 2
        })))
    );
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert!(it.next().is_none());
    assert_eq!(it.into_pending(), [&held]);
    scratch.open("gate");
    assert_eq!(outcome(&held), Ok(0));
}

fn as_completed_yields_failed_and_cancelled_futures<P: Pool>() {
    let scratch = Scratch::new();
    let pool = P::start(1);
    let held = pool.hold(&scratch, "started", "gate");
    let failed = pool.fail("on purpose");
    let cancelled = pool.gated("", "", 2);
    assert!(cancelled.cancel());
    let mut it = as_completed([&failed, &cancelled, &held]);
    assert_eq!(it.next(), Some(&cancelled));
    scratch.open("gate");
    let rest: HashSet<_> = it.collect();
    assert_eq!(rest, HashSet::from([&held, &failed]));
    assert!(failed.error().is_some_and(|e| e.is_panicked()));
}

fn wait_first_completed<P: Pool>() {
    let scratch = Scratch::new();
    let pool = P::start(2);
    let held = pool.hold(&scratch, "started", "gate");
    let quick = pool.gated("", "", 4);
    let waited = wait(
        [("held", &held), ("quick", &quick)],
        Some(PATIENCE),
        ReturnWhen::FirstCompleted,
    );
    assert_eq!(waited.done, [("quick", &quick)]);
    assert_eq!(waited.not_done, [("held", &held)]);
    scratch.open("gate");
    assert_eq!(outcome(&held), Ok(0));
}

fn wait_first_exception<P: Pool>() {
    let scratch = Scratch::new();
    let pool = P::start(2);
    let held = pool.hold(&scratch, "started", "gate");
    let failed = pool.fail("first exception");
    let waited = wait([&held, &failed], Some(PATIENCE), ReturnWhen::FirstException);
    assert_eq!(waited.done, [&failed]);
    assert_eq!(waited.not_done, [&held]);
    scratch.open("gate");
    assert_eq!(outcome(&held), Ok(0));
    let waited = wait([&held, &failed], Some(PATIENCE), ReturnWhen::FirstException);
    assert_eq!(waited.done.len(), 2);
}

fn wait_all_completed_and_a_timeout<P: Pool>() {
    let scratch = Scratch::new();
    let pool = P::start(2);
    let held = pool.hold(&scratch, "started", "gate");
    let quick = pool.gated("", "", 5);
    // Done first, so the timed wait below is not a race with a worker's start (which takes
    // long under Wine).
    wait([&quick], Some(PATIENCE), ReturnWhen::AllCompleted);
    let waited = wait(
        [&held, &quick],
        Some(Duration::from_millis(100)),
        ReturnWhen::AllCompleted,
    );
    assert_eq!(waited.done, [&quick]);
    assert_eq!(waited.not_done, [&held]);
    scratch.open("gate");
    let waited = wait([&held, &quick], None, ReturnWhen::AllCompleted);
    assert_eq!(waited.done.len(), 2);
    assert_eq!(held.result(), Ok(0));
}

fn map_yields_in_input_order<P: Pool>() {
    let pool = P::start(4);
    // Later items finish first: their naps are shorter.
    let results: Vec<_> = pool
        .map_nap(
            [(400,), (300,), (200,), (100,), (0,)],
            MapOptions::new().chunksize(1),
        )
        .collect();
    assert_eq!(results, [Ok(400), Ok(300), Ok(200), Ok(100), Ok(0)]);
    let many: Vec<u64> = pool
        .map_nap((0..1000).map(|_| (0,)), MapOptions::new())
        .map(Result::unwrap)
        .collect();
    assert_eq!(many.len(), 1000);
}

fn map_failures_stay_in_place<P: Pool>() {
    let pool = P::start(2);
    let results: Vec<_> = pool
        .map_checked((0..12).map(|x| (x,)), MapOptions::new().chunksize(4))
        .collect();
    assert_eq!(results.len(), 12);
    for (x, result) in results.into_iter().enumerate() {
        match result {
            Ok(value) => assert_eq!(value as usize, x),
            Err(TaskError::Panicked { message, .. }) => {
                assert_eq!(x % 3, 0, "item {x} failed");
                assert!(message.starts_with(&format!("{x} is a multiple of 3")));
            }
            Err(other) => panic!("item {x}: {other:?}"),
        }
    }
}

fn map_unordered_yields_the_first_finished_first<P: Pool>() {
    let scratch = Scratch::new();
    let pool = P::start(2);
    // Item 0 cannot finish before the test opens its gate, which it does only after the map
    // has yielded something: that must be another item.
    let items = vec![
        (String::new(), scratch.file("gate"), 0),
        (String::new(), String::new(), 1),
        (String::new(), String::new(), 2),
    ];
    let mut it = pool
        .map_gated(items, MapOptions::new().chunksize(1))
        .ordered(false);
    let first = it.next().unwrap().unwrap();
    assert_ne!(first, 0);
    scratch.open("gate");
    let mut all: Vec<u32> = it.map(Result::unwrap).collect();
    all.push(first);
    all.sort_unstable();
    assert_eq!(all, [0, 1, 2]);
}

fn map_chunksize_keeps_a_batch_in_one_worker<P: Pool>() {
    let pool = P::start(2);
    let places: Vec<String> = pool
        .map_place((0..20).map(|x| (x,)), MapOptions::new().chunksize(5))
        .map(Result::unwrap)
        .collect();
    assert_eq!(places.len(), 20);
    for batch in places.chunks(5) {
        assert!(batch.iter().all(|p| p == &batch[0]), "{batch:?}");
    }
}

fn map_timeout_is_counted_from_the_call<P: Pool>() {
    let scratch = Scratch::new();
    let pool = P::start(1);
    let items = vec![
        (String::new(), String::new(), 1),
        (String::new(), scratch.file("gate"), 2),
        (String::new(), String::new(), 3),
    ];
    let called = Instant::now();
    let timeout = Duration::from_secs(3);
    let mut it = pool
        .map_gated(items, MapOptions::new().chunksize(1))
        .timeout(timeout);
    assert_eq!(it.next(), Some(Ok(1)));
    assert_eq!(it.next(), Some(Err(TaskError::timed_out(Deadline::Map))));
    assert!(called.elapsed() >= timeout);
    assert_eq!(it.next(), None, "the map ends at its timeout");
    drop(it);
    scratch.open("gate");
}

fn dropping_the_map_cancels_what_has_not_started<P: Pool>() {
    let scratch = Scratch::new();
    let pool = P::start(1);
    let items: Vec<_> = (0..8)
        .map(|i| {
            let (ran, gate) = (scratch.file(&format!("ran-{i}")), scratch.file("gate"));
            (ran, if i == 1 { gate } else { String::new() }, i)
        })
        .collect();
    let mut it = pool.map_gated(items, MapOptions::new().chunksize(1).lookahead(8));
    assert_eq!(it.next(), Some(Ok(0)));
    scratch.await_file("ran-1"); // item 1 runs, held at the gate
    drop(it);
    scratch.open("gate");
    pool.shutdown(true, false);
    assert!(scratch.exists("ran-0") && scratch.exists("ran-1"));
    // A process worker may have been handed item 2 along with item 1; nothing later ran.
    for i in 3..8 {
        assert!(!scratch.exists(&format!("ran-{i}")), "item {i} ran");
    }
}

fn map_of_nothing_yields_nothing<P: Pool>() {
    let pool = P::start(1);
    assert_eq!(pool.map_checked(Vec::new(), MapOptions::new()).count(), 0);
}

fn map_after_shutdown_fails_every_item<P: Pool>() {
    let pool = P::start(1);
    pool.shutdown(true, false);
    let results: Vec<_> = pool
        .map_checked([(1,), (2,), (4,)], MapOptions::new())
        .collect();
    assert_eq!(results, vec![Err(TaskError::ShutDown); 3]);
}

fn a_future_can_be_awaited<P: Pool>() {
    let pool = P::start(1);
    let future = pool.square(12);
    assert_eq!(futures::executor::block_on(future), Ok(144));
}

fn a_done_callback_gets_the_outcome<P: Pool>() {
    let pool = P::start(1);
    let (sender, receiver) = mpsc::channel();
    let done = pool.square(6);
    let on_done = sender.clone();
    done.add_done_callback(move |outcome| on_done.send(outcome.ok().copied()).unwrap());
    assert_eq!(receiver.recv_timeout(PATIENCE).unwrap(), Some(36));
    let failed = pool.fail("for the callback");
    failed.add_done_callback(move |outcome| {
        let panicked = outcome.is_err_and(TaskError::is_panicked);
        sender.send(panicked.then_some(0)).unwrap();
    });
    assert_eq!(receiver.recv_timeout(PATIENCE).unwrap(), Some(0));
    assert_eq!(
        outcome(&done),
        Ok(36),
        "the callback left the value in place"
    );
}

// What only processes have.

#[parallel(processes = 2)]
fn where_am_i() -> u32 {
    std::process::id()
}

#[parallel(processes = 2)]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_parallel_function_runs_in_its_own_worker_processes() {
    let me = std::process::id();
    let pids: HashSet<u32> = (0..8)
        .map(|_| where_am_i())
        .collect::<Vec<_>>()
        .iter()
        .map(|f| outcome(f).unwrap())
        .collect();
    assert!(!pids.contains(&me), "a call ran in the test's own process");
    assert!(
        pids.len() <= 2,
        "more processes than the pool's 2: {pids:?}"
    );
    assert_eq!(where_am_i::sync(), me, "`sync` runs right here");
    assert_eq!(add(40, 2).result(), Ok(42));
    assert_eq!(add::sync(40, 2), 42);
}

#[test]
#[cfg_attr(miri, ignore)]
fn any_pool_runs_any_registered_function() {
    let pool = ProcessPool::builder().workers(2).build().unwrap();
    assert_eq!(pool.workers(), 2);
    assert_eq!(outcome(&pool.submit(square, (7,))), Ok(49));
    assert_eq!(outcome(&pool.submit(add, (-1, 1))), Ok(0));
    let pid = outcome(&pool.submit(where_am_i, ())).unwrap();
    assert_ne!(pid, std::process::id());
    let sums: Vec<i64> = pool
        .map(add, (0..10).zip(std::iter::repeat(1)))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(sums, (1..=10).collect::<Vec<_>>());
}

fn triple(x: u64) -> u64 {
    3 * x
}

#[test]
#[cfg_attr(miri, ignore)]
fn pmap_runs_functions_and_closures_in_processes() {
    let me = std::process::id();
    let squares: Vec<u64> = pmap!(square, 1..=4).collect::<Result<_, _>>().unwrap();
    assert_eq!(squares, [1, 4, 9, 16]);
    let triples: Vec<u64> = pmap!(triple, 0..100; processes = 2)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(triples, (0..100).map(|x| 3 * x).collect::<Vec<_>>());
    let doubles: Vec<u64> = pmap!(|x: u64| x * 2, 0..5; processes)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(doubles, [0, 2, 4, 6, 8]);
    let sums: Vec<u64> = pmap!(|a: u64, b: u64| a + b, 0..4, [10, 20, 30]; processes = 2)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(sums, [10, 21, 32]);
    let pids: HashSet<u32> = pmap!(|_: u8| std::process::id(), 0..8; processes = 2, chunksize = 1)
        .map(Result::unwrap)
        .collect();
    assert!(!pids.contains(&me) && pids.len() <= 2, "{pids:?}");
    let mut unordered: Vec<u64> = pmap!(square, 0..50; ordered = false, chunksize = 3)
        .map(Result::unwrap)
        .collect();
    unordered.sort_unstable();
    assert_eq!(unordered, (0..50).map(|x| x * x).collect::<Vec<_>>());
}

#[test]
#[cfg_attr(miri, ignore)]
fn bad_settings_are_refused() {
    let zero = ProcessPool::builder().workers(0).build().unwrap_err();
    assert_eq!(zero.kind(), std::io::ErrorKind::InvalidInput);
    let none = ProcessPool::builder().max_tasks_per_child(0).build();
    assert_eq!(none.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
}

#[parallel(processes = 1)]
fn length(bytes: Vec<u8>) -> usize {
    bytes.len()
}

#[parallel(processes = 1)]
fn filled(len: usize) -> Vec<u8> {
    vec![7; len]
}

#[test]
#[cfg_attr(miri, ignore)]
fn max_frame_refuses_big_arguments_and_big_results() {
    let pool = ProcessPool::builder()
        .workers(1)
        .max_frame(1024)
        .build()
        .unwrap();
    assert_eq!(outcome(&pool.submit(length, (vec![0; 100],))), Ok(100));
    let big_argument = outcome(&pool.submit(length, (vec![0; 4096],))).unwrap_err();
    assert!(big_argument.is_codec(), "{big_argument:?}");
    assert_eq!(outcome(&pool.submit(filled, (100,))), Ok(vec![7; 100]));
    let big_result = outcome(&pool.submit(filled, (4096,))).unwrap_err();
    assert!(big_result.is_codec(), "{big_result:?}");
    assert!(big_result.to_string().contains("limit"), "{big_result}");
    // The pool goes on, and a map's oversized batch fails only its items.
    assert_eq!(outcome(&pool.submit(length, (vec![1; 10],))), Ok(10));
    let results: Vec<_> = pool
        .map_with(
            length,
            [(vec![0; 10],), (vec![0; 2048],), (vec![0; 20],)],
            MapOptions::new().chunksize(1),
        )
        .collect();
    assert_eq!(results[0], Ok(10));
    assert!(results[1].as_ref().is_err_and(TaskError::is_codec));
    assert_eq!(results[2], Ok(20));
}

/// A checksum that notices a byte out of place.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().enumerate().fold(0u64, |sum, (i, &b)| {
        sum.wrapping_mul(31).wrapping_add(u64::from(b) ^ i as u64)
    })
}

/// `len` bytes that repeat only every 251 bytes.
fn pattern_of(len: usize) -> Vec<u8> {
    let period: Vec<u8> = (0..251u32).map(|i| (i * 7 % 256) as u8).collect();
    let mut bytes = period.repeat(len / period.len() + 1);
    bytes.truncate(len);
    bytes
}

#[parallel(processes = 1)]
fn checksum_of(bytes: Vec<u8>) -> (usize, u64) {
    (bytes.len(), checksum(&bytes))
}

#[parallel(processes = 1)]
fn pattern(len: usize) -> Vec<u8> {
    pattern_of(len)
}

#[test]
#[cfg_attr(miri, ignore)]
fn sixty_four_megabytes_each_way() {
    const SIZE: usize = 64 << 20;
    let pool = ProcessPool::builder().workers(1).build().unwrap();
    let argument = pattern_of(SIZE);
    let expected = (SIZE, checksum(&argument));
    assert_eq!(
        outcome(&pool.submit(checksum_of, (argument,))),
        Ok(expected)
    );
    let result = outcome(&pool.submit(pattern, (SIZE,))).unwrap();
    assert_eq!((result.len(), checksum(&result)), expected);
}

#[parallel(processes = 1)]
fn square_where(x: u64) -> (u64, String) {
    (x * x, process_here())
}

#[test]
#[cfg_attr(miri, ignore)]
fn ten_thousand_tasks_through_recycled_workers() {
    let pool = ProcessPool::builder()
        .workers(2)
        .max_tasks_per_child(7)
        .build()
        .unwrap();
    let futures: Vec<_> = (0..10_000u64)
        .map(|x| pool.submit(square_where, (x,)))
        .collect();
    let mut per_worker: HashMap<String, usize> = HashMap::new();
    for (x, future) in futures.iter().enumerate() {
        let (value, pid) = outcome(future).unwrap();
        assert_eq!(value, (x * x) as u64);
        *per_worker.entry(pid).or_default() += 1;
    }
    assert!(
        per_worker.values().all(|&tasks| tasks <= 7),
        "a worker ran more than 7 tasks"
    );
    assert!(
        per_worker.len() >= 10_000 / 7,
        "{} workers",
        per_worker.len()
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn each_batch_of_a_map_runs_whole_in_one_worker() {
    // A fresh worker per task: each batch is one task, so it has a process of its own.
    let pool = ProcessPool::builder()
        .workers(2)
        .max_tasks_per_child(1)
        .build()
        .unwrap();
    let places: Vec<String> = pool
        .map_with(place, (0..20).map(|x| (x,)), MapOptions::new().chunksize(5))
        .map(Result::unwrap)
        .collect();
    let batches: Vec<&[String]> = places.chunks(5).collect();
    for batch in &batches {
        assert!(batch.iter().all(|p| p == &batch[0]), "{batch:?}");
    }
    let distinct: HashSet<&String> = batches.iter().map(|batch| &batch[0]).collect();
    assert_eq!(distinct.len(), 4, "each batch ran in a worker of its own");
}
