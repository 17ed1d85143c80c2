//! `#[parallel]`: where calls run, what they return, and every argument of the attribute.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Barrier, LazyLock, Mutex};
use std::time::{Duration, Instant};

use parallel::{parallel, ThreadPool};

fn thread_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("<unnamed>")
        .to_owned()
}

#[parallel]
fn on_default_pool() -> String {
    thread_name()
}

#[test]
fn no_argument_runs_on_the_default_pool() {
    assert!(on_default_pool().result().unwrap().starts_with("parallel-"));
}

/// Holds two calls at a barrier, so both must be running at once, on different threads.
static TWO: Barrier = Barrier::new(2);

#[parallel(threads = 2)]
fn meet_another() -> String {
    TWO.wait();
    thread_name()
}

#[test]
fn threads_n_gives_the_function_n_threads_of_its_own() {
    let futures = [meet_another(), meet_another()];
    let names: HashSet<String> = futures.iter().map(|f| f.result().unwrap()).collect();
    assert_eq!(
        names,
        HashSet::from(["meet_another-0".to_owned(), "meet_another-1".to_owned()])
    );
}

#[parallel(threads, name = "worker")]
fn named() -> String {
    thread_name()
}

#[test]
fn name_sets_the_thread_name_prefix() {
    assert!(named().result().unwrap().starts_with("worker-"));
}

static IO: LazyLock<ThreadPool> = LazyLock::new(|| {
    ThreadPool::builder()
        .workers(2)
        .name_prefix("io")
        .build()
        .unwrap()
});

#[parallel(pool = IO)]
fn fetch(url: String) -> (String, usize) {
    (thread_name(), url.len())
}

#[parallel(pool = IO)]
fn store(bytes: Vec<u8>) -> (String, usize) {
    (thread_name(), bytes.len())
}

#[test]
fn pool_is_shared_by_the_functions_that_name_it() {
    let (fetched_on, length) = fetch("a.org".into()).result().unwrap();
    let (stored_on, size) = store(vec![1, 2]).result().unwrap();
    assert_eq!((length, size), (5, 2));
    assert!(fetched_on.starts_with("io-") && stored_on.starts_with("io-"));
}

static INITIALIZED: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static READY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn prepare() {
    INITIALIZED.fetch_add(1, Ordering::SeqCst);
    READY.with(|ready| ready.set(true));
}

#[parallel(threads = 3, initializer = prepare)]
fn is_prepared() -> bool {
    READY.with(std::cell::Cell::get)
}

#[test]
fn initializer_runs_in_each_worker_before_its_first_task() {
    let futures: Vec<_> = (0..20).map(|_| is_prepared()).collect();
    assert!(futures.iter().all(|f| f.result() == Ok(true)));
    // Workers are started with the pool, each running the initializer once.
    let deadline = Instant::now() + Duration::from_secs(30);
    while INITIALIZED.load(Ordering::SeqCst) < 3 && Instant::now() < deadline {
        std::thread::yield_now();
    }
    assert_eq!(INITIALIZED.load(Ordering::SeqCst), 3);
}

static RELEASE: Mutex<Option<mpsc::Receiver<()>>> = Mutex::new(None);

#[parallel(threads = 1, timeout = "100ms")]
fn stuck_until_released() -> u32 {
    if let Some(release) = RELEASE.lock().unwrap().take() {
        release.recv().ok();
    }
    7
}

#[test]
fn timeout_fails_the_future_and_the_body_runs_on() {
    let (release, wait) = mpsc::channel();
    *RELEASE.lock().unwrap() = Some(wait);
    let started = Instant::now();
    let stuck = stuck_until_released();
    assert!(stuck.result().unwrap_err().is_timed_out());
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the deadline fired"
    );
    release.send(()).unwrap();
    // The worker is free again once the body has returned, and a quick call succeeds.
    assert_eq!(stuck_until_released().result(), Ok(7));
}

#[parallel]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[test]
fn sync_is_the_original_function_on_the_calling_thread() {
    assert_eq!(add::sync(2, 3), 5);
    #[parallel]
    fn here() -> String {
        thread_name()
    }
    assert_eq!(here::sync(), thread_name());
    assert_ne!(here().result().unwrap(), thread_name());
}

#[test]
fn the_function_is_a_function_and_coerces_to_a_pointer() {
    let submit: fn(i64, i64) -> parallel::Future<i64> = add;
    assert_eq!(submit(1, 1).result(), Ok(2));
    let futures: Vec<_> = [(1, 2), (3, 4)]
        .into_iter()
        .map(|(a, b)| add(a, b))
        .collect();
    assert_eq!(futures[1].result(), Ok(7));
}

#[parallel]
fn fails(message: String) -> u8 {
    panic!("{message}")
}

#[test]
fn a_panic_becomes_the_futures_error() {
    let error = fails("bad input".into()).result().unwrap_err();
    assert_eq!(error.panic_message(), Some("bad input"));
}

#[parallel]
fn describe<T: std::fmt::Debug + Send + 'static>(value: T) -> String {
    format!("{value:?}")
}

#[parallel]
fn show(value: impl std::fmt::Display + Send + 'static) -> String {
    value.to_string()
}

#[test]
fn generic_and_impl_trait_functions_run_on_threads() {
    assert_eq!(describe(vec![1, 2]).result().unwrap(), "[1, 2]");
    assert_eq!(describe("text").result().unwrap(), "\"text\"");
    assert_eq!(describe::sync(3u8), "3");
    assert_eq!(show(2.5).result().unwrap(), "2.5");
}

#[parallel]
fn unit() {}

#[parallel]
fn patterns((a, b): (u32, u32), mut total: u32) -> u32 {
    total += a * b;
    total
}

#[test]
fn unit_returns_and_argument_patterns_work() {
    assert_eq!(unit().result(), Ok(()));
    assert_eq!(patterns((3, 4), 1).result(), Ok(13));
}

#[parallel(threads = 1)]
fn recurse(n: u32) -> u32 {
    if n == 0 {
        0
    } else {
        // Waits on a call queued on its own one-worker pool: runs it inline, no deadlock.
        n + recurse(n - 1).result().unwrap()
    }
}

#[test]
fn a_call_waiting_on_its_own_pool_does_not_deadlock() {
    assert_eq!(recurse(10).result(), Ok(55));
}

#[test]
fn futures_can_be_awaited() {
    let value = futures::executor::block_on(async { add(20, 22).await });
    assert_eq!(value, Ok(42));
}

/// Counts may be constant expressions, evaluated at compile time.
const WORKERS: usize = 3;
const CORES: usize = 2;

#[parallel(threads = WORKERS)]
fn on_const_threads() -> String {
    thread_name()
}

#[parallel(threads = 2 * CORES)]
fn on_computed_threads() -> String {
    thread_name()
}

#[test]
fn threads_take_a_constant_expression() {
    assert_eq!(on_const_threads::pool().workers(), WORKERS);
    assert_eq!(on_computed_threads::pool().workers(), 2 * CORES);
    assert!(on_const_threads()
        .result()
        .unwrap()
        .starts_with("on_const_threads-"));
    assert!(on_computed_threads()
        .result()
        .unwrap()
        .starts_with("on_computed_threads-"));
}

#[parallel(threads = 2)]
fn until_shut_down() -> u8 {
    7
}

#[test]
fn the_pool_of_a_function_can_be_reached() {
    assert_eq!(until_shut_down::pool().workers(), 2);
    assert!(std::ptr::eq(
        on_default_pool::pool(),
        parallel::default_pool()
    ));
    assert!(std::ptr::eq(fetch::pool(), &*IO));
    assert_eq!(until_shut_down().result(), Ok(7));
    until_shut_down::pool().shutdown(true, false);
    assert!(until_shut_down().result().unwrap_err().is_shut_down());
}
