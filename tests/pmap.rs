//! `pmap!`: what it maps, where it runs, its options, and its results.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use parallel::{parallel, pmap, TaskError};

fn thread_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("<unnamed>")
        .to_owned()
}

#[parallel(threads = 2)]
fn where_is(item: u32) -> (u32, String) {
    // Slow enough that both workers take part.
    std::thread::sleep(Duration::from_millis(2));
    (item, thread_name())
}

#[test]
fn a_parallel_function_runs_on_its_own_threads() {
    let results: Vec<(u32, String)> = pmap!(where_is, 0..40).map(Result::unwrap).collect();
    assert_eq!(
        results.iter().map(|(item, _)| *item).collect::<Vec<_>>(),
        (0..40).collect::<Vec<_>>()
    );
    let threads: HashSet<&str> = results.iter().map(|(_, name)| name.as_str()).collect();
    assert!(!threads.is_empty());
    for name in &threads {
        assert!(
            name == &"where_is-0" || name == &"where_is-1",
            "ran on {name}"
        );
    }
}

fn plain_where_is(item: u32) -> (u32, String) {
    (item, thread_name())
}

#[test]
fn a_plain_function_runs_on_the_default_pool() {
    for result in pmap!(plain_where_is, 0..10) {
        let (_, name) = result.unwrap();
        assert!(name.starts_with("parallel-"), "ran on {name}");
    }
}

#[test]
fn a_closure_runs_on_the_default_pool() {
    let names: Vec<String> = pmap!(|_: u8| thread_name(), 0..4)
        .map(Result::unwrap)
        .collect();
    assert!(names.iter().all(|name| name.starts_with("parallel-")));
}

#[test]
fn threads_option_gives_the_call_site_a_pool() {
    let names: Vec<String> = pmap!(|_: u8| thread_name(), 0..8; threads = 2)
        .map(Result::unwrap)
        .collect();
    assert!(
        names
            .iter()
            .all(|name| name == "pmap-0" || name == "pmap-1"),
        "{names:?}"
    );
}

fn square(x: u64) -> u64 {
    x * x
}

#[test]
fn results_come_in_input_order() {
    let squares: Vec<u64> = pmap!(square, 1..=4).collect::<Result<_, _>>().unwrap();
    assert_eq!(squares, [1, 4, 9, 16]);
    let many: Vec<u64> = pmap!(square, 0..10_000).collect::<Result<_, _>>().unwrap();
    assert_eq!(many, (0..10_000).map(square).collect::<Vec<_>>());
}

fn add(a: i32, b: i32) -> i32 {
    a + b
}

#[test]
fn several_iterables_are_zipped_to_the_shortest() {
    let sums: Vec<i32> = pmap!(add, 0..10, std::iter::repeat(1))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(sums, (1..=10).collect::<Vec<_>>());
    let sums: Vec<i32> = pmap!(|a, b, c| a + b + c, [1, 2, 3], [10, 20], [100, 200, 300])
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(sums, [111, 222]);
}

#[test]
fn a_failed_item_yields_its_error_and_the_map_goes_on() {
    let results: Vec<Result<u32, TaskError>> =
        pmap!(|x: u32| if x == 3 { panic!("three") } else { x }, 0..6).collect();
    assert_eq!(results.len(), 6);
    let error = results[3].as_ref().unwrap_err();
    assert_eq!(error.panic_message(), Some("three"));
    assert!(results
        .iter()
        .enumerate()
        .all(|(i, r)| i == 3 || *r == Ok(i as u32)));
}

#[test]
fn unordered_yields_every_item() {
    let mut got: Vec<u64> = pmap!(square, 0..1000; ordered = false)
        .map(Result::unwrap)
        .collect();
    got.sort_unstable();
    assert_eq!(got, (0..1000).map(square).collect::<Vec<_>>());
}

static RELEASE_ITEM_ZERO: Mutex<Option<mpsc::Receiver<()>>> = Mutex::new(None);

/// Item 0 waits to be released by the test.
fn held_at_zero(item: u32) -> u32 {
    if item == 0 {
        let release = RELEASE_ITEM_ZERO.lock().unwrap().take().unwrap();
        release.recv().unwrap();
    }
    item
}

#[test]
fn chunksize_keeps_items_of_a_batch_together() {
    let (release, held) = mpsc::channel();
    *RELEASE_ITEM_ZERO.lock().unwrap() = Some(held);
    // Batches [0..7) and [7..14) run on the two threads; the first is held at item 0, so the
    // first seven results must be the whole second batch. (One item per task would give
    // 1, 2, 3, … instead.)
    let mut results =
        pmap!(held_at_zero, 0..14; threads = 2, chunksize = 7, ordered = false).map(Result::unwrap);
    let first: Vec<u32> = results.by_ref().take(7).collect();
    release.send(()).unwrap();
    let rest: Vec<u32> = results.collect();
    assert_eq!(first, (7..14).collect::<Vec<_>>());
    assert_eq!(rest, (0..7).collect::<Vec<_>>());
}

#[test]
fn timeout_counts_from_the_call() {
    let results: Vec<Result<(), TaskError>> =
        pmap!(|ms: u64| std::thread::sleep(Duration::from_millis(ms)), [0, 10_000]; threads = 1, timeout = "300ms")
            .collect();
    assert_eq!(results.len(), 2);
    assert!(results[0].is_ok());
    assert!(results[1].as_ref().unwrap_err().is_timed_out());
}

#[test]
fn an_endless_input_is_consumed_lazily() {
    static PULLED: AtomicUsize = AtomicUsize::new(0);
    let first: Vec<u64> = pmap!(
        square,
        (0..).inspect(|_| {
            PULLED.fetch_add(1, Ordering::SeqCst);
        })
    )
    .take(5)
    .map(Result::unwrap)
    .collect();
    assert_eq!(first, [0, 1, 4, 9, 16]);
    assert!(
        PULLED.load(Ordering::SeqCst) < 1_000_000,
        "only a bounded prefix is pulled"
    );
}

#[parallel]
fn describe<T: std::fmt::Debug + Send + 'static>(value: T) -> String {
    format!("{value:?}")
}

#[test]
fn a_generic_parallel_function_maps_through_sync() {
    let texts: Vec<String> = pmap!(describe::sync, [1, 2]).map(Result::unwrap).collect();
    assert_eq!(texts, ["1", "2"]);
}

#[test]
fn items_may_be_owned_values_from_a_vec() {
    let files = vec!["a.pdf".to_string(), "b.pdf".to_string()];
    let sizes: Vec<usize> = pmap!(|f: String| f.len(), files)
        .map(Result::unwrap)
        .collect();
    assert_eq!(sizes, [5, 5]);
}

#[cfg(feature = "progress")]
#[test]
fn progress_counts_items_and_the_map_still_yields_them_all() {
    let mut squares = pmap!(square, 0..500; chunksize = 50, progress);
    let first: Vec<u64> = squares.by_ref().take(120).map(Result::unwrap).collect();
    assert_eq!(first.len(), 120);
    assert_eq!(
        squares.position(),
        120,
        "one step per item, though batches hold 50"
    );
    assert_eq!(squares.count(), 380);
}

#[test]
fn pmap_collects_into_a_vec() {
    fn square(x: u64) -> u64 {
        x * x
    }
    let squares = pmap!(square, 0..10_000u64).collect_vec().unwrap();
    assert_eq!(squares, (0..10_000u64).map(square).collect::<Vec<_>>());
    let sums = pmap!(|a: u32, b: u32| a + b, 0..5, 10..15; chunksize = 2).collect_vec();
    assert_eq!(sums, Ok(vec![10, 12, 14, 16, 18]));
}

#[test]
fn pool_option_runs_on_a_given_thread_pool() {
    use parallel::ThreadPool;
    use std::sync::LazyLock;
    static SHARED: LazyLock<ThreadPool> = LazyLock::new(|| {
        ThreadPool::builder()
            .workers(2)
            .name_prefix("shared")
            .build()
            .unwrap()
    });
    // A static, a local pool and a reference to one; a closure, a plain function and a
    // `#[parallel]` function (whose body then runs on the given pool, not its own).
    let names: Vec<String> = pmap!(|_: u8| thread_name(), 0..8; pool = SHARED)
        .map(Result::unwrap)
        .collect();
    assert!(
        names.iter().all(|name| name.starts_with("shared-")),
        "{names:?}"
    );
    let local = ThreadPool::builder()
        .workers(1)
        .name_prefix("local")
        .build()
        .unwrap();
    let on_local: Vec<(u32, String)> = pmap!(plain_where_is, 0..3; pool = local)
        .map(Result::unwrap)
        .collect();
    assert!(on_local.iter().all(|(_, name)| name.starts_with("local-")));
    let given = &local;
    let parallel_fn: Vec<(u32, String)> = pmap!(where_is, 0..3; pool = given, chunksize = 1)
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        parallel_fn
            .iter()
            .map(|(item, _)| *item)
            .collect::<Vec<_>>(),
        [0, 1, 2]
    );
    assert!(parallel_fn
        .iter()
        .all(|(_, name)| name.starts_with("local-")));
}

#[test]
fn counts_take_constant_expressions() {
    const WORKERS: usize = 2;
    const CHUNK: usize = 3;
    let names: Vec<String> =
        pmap!(|_: u8| thread_name(), 0..12; threads = WORKERS, chunksize = CHUNK * 2)
            .map(Result::unwrap)
            .collect();
    assert_eq!(names.len(), 12);
    assert!(
        names.iter().all(|name| name.starts_with("pmap-")),
        "{names:?}"
    );
}
