//! Behaviour of `ThreadPool::map`: input order, one result per item, failures, completion
//! order, batching, bounded look-ahead, the timeout, and dropping it early (CPython's
//! `ExecutorTest.test_map*`, in Rust).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;

use parallel::{default_pool, Deadline, MapOptions, TaskError, ThreadPool};

mod common;
use common::{Gate, PATIENCE};

fn pool(workers: usize) -> ThreadPool {
    ThreadPool::builder().workers(workers).build().unwrap()
}

#[test]
fn results_come_in_input_order() {
    let pool = pool(4);
    // Later items finish first: their sleeps are shorter.
    let results: Vec<_> = pool
        .map(
            |ms: u64| {
                thread::sleep(Duration::from_millis(ms));
                ms
            },
            [40, 30, 20, 10, 0],
        )
        .collect();
    assert_eq!(results, [Ok(40), Ok(30), Ok(20), Ok(10), Ok(0)]);
}

#[test]
fn squares_in_order() {
    let pool = ThreadPool::new();
    let squares: Vec<u64> = pool
        .map(|x: u64| x * x, 1..=4)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(squares, [1, 4, 9, 16]);
}

#[test]
fn many_cheap_items_keep_their_order() {
    let pool = pool(2);
    let got: Vec<u64> = pool
        .map(|x: u64| x * 3, 0..100_000)
        .map(Result::unwrap)
        .collect();
    assert!(got.iter().copied().eq((0..100_000).map(|x| x * 3)));
}

#[test]
fn a_failed_item_yields_its_error_and_the_map_goes_on() {
    let pool = pool(2);
    let results: Vec<_> = pool
        .map(
            |x: u32| {
                if x % 4 == 1 {
                    panic!("item {x} failed");
                }
                x
            },
            0..10,
        )
        .collect();
    assert_eq!(results.len(), 10, "one result per item");
    for (x, result) in (0u32..).zip(&results) {
        if x % 4 == 1 {
            let error = result.as_ref().unwrap_err();
            assert_eq!(
                error.panic_message(),
                Some(format!("item {x} failed").as_str())
            );
        } else {
            assert_eq!(*result, Ok(x));
        }
    }
}

#[test]
fn failures_inside_a_batch_stay_in_place() {
    let pool = pool(2);
    let results: Vec<_> = pool
        .map_with(
            |x: u32| if x == 5 || x == 6 { panic!("{x}") } else { x },
            0..12,
            MapOptions::new().chunksize(4),
        )
        .collect();
    let expected: Vec<_> = (0..12)
        .map(|x| {
            if x == 5 || x == 6 {
                Err(x.to_string())
            } else {
                Ok(x)
            }
        })
        .collect();
    let messages: Vec<_> = results
        .iter()
        .map(|result| match result {
            Ok(x) => Ok(*x),
            Err(error) => Err(error.panic_message().unwrap_or_default().to_owned()),
        })
        .collect();
    assert_eq!(messages, expected);
}

#[test]
fn unordered_yields_every_item() {
    let pool = pool(3);
    let mut got: Vec<u32> = pool
        .map(|x: u32| x + 1, 0..1000)
        .ordered(false)
        .map(Result::unwrap)
        .collect();
    got.sort_unstable();
    assert_eq!(got, (1..=1000).collect::<Vec<_>>());
}

#[test]
fn unordered_yields_in_completion_order() {
    let pool = pool(2);
    let gate = Gate::default();
    let first = gate.clone();
    let mut it = pool
        .map_with(
            move |x: u32| {
                if x == 0 {
                    first.wait();
                }
                x
            },
            0..2,
            MapOptions::new().chunksize(1),
        )
        .ordered(false);
    assert_eq!(it.next(), Some(Ok(1)), "item 1 finished first");
    gate.open();
    assert_eq!(it.next(), Some(Ok(0)));
    assert_eq!(it.next(), None);
}

#[test]
fn unordered_reports_failures_too() {
    let pool = pool(2);
    let results: Vec<_> = pool
        .map(|x: u32| if x == 3 { panic!("three") } else { x }, 0..6)
        .ordered(false)
        .collect();
    assert_eq!(results.len(), 6);
    let errors: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].panic_message(), Some("three"));
}

#[test]
fn an_explicit_chunksize_runs_items_in_batches_of_that_size() {
    let pool = pool(2);
    // Each item records the thread it ran on and a per-thread sequence number: the items of
    // one batch run back to back on one thread.
    let log = Arc::new(Mutex::new(HashMap::new()));
    let results: Vec<u32> = {
        let log = Arc::clone(&log);
        pool.map_with(
            move |x: u32| {
                let mut log = log.lock().unwrap();
                let id = thread::current().id();
                let seq = log.values().filter(|(t, _)| *t == id).count();
                log.insert(x, (id, seq));
                x
            },
            0..20,
            MapOptions::new().chunksize(5),
        )
        .map(Result::unwrap)
        .collect()
    };
    assert_eq!(results, (0..20).collect::<Vec<_>>());
    let log = log.lock().unwrap();
    for batch in 0..4 {
        let (thread, seq) = log[&(batch * 5)];
        for offset in 1..5 {
            assert_eq!(
                log[&(batch * 5 + offset)],
                (thread, seq + offset as usize),
                "item {} ran apart from its batch",
                batch * 5 + offset
            );
        }
    }
}

#[test]
#[should_panic(expected = "`chunksize` must be at least 1")]
fn a_zero_chunksize_is_refused() {
    let _ = MapOptions::new().chunksize(0);
}

#[test]
#[should_panic(expected = "`lookahead` must be at least 1")]
fn a_zero_lookahead_is_refused() {
    let _ = MapOptions::new().lookahead(0);
}

#[test]
fn options_set_after_the_map_began_are_refused() {
    let pool = pool(1);
    let mut it = pool.map(|x: u32| x, 0..3);
    assert_eq!(it.next(), Some(Ok(0)));
    let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || it.ordered(false)));
    let payload = refused.err().expect("setting an option late panics");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("after the map began"), "{message}");
}

#[test]
fn an_endless_input_runs_in_bounded_memory() {
    let pool = pool(2);
    let produced = Arc::new(AtomicUsize::new(0));
    let (chunk, lookahead, wanted) = (10, 3, 100);
    let got: Vec<u64> = {
        let produced = Arc::clone(&produced);
        pool.map_with(
            |x: u64| x * 2,
            (0u64..).inspect(move |_| {
                produced.fetch_add(1, Ordering::SeqCst);
            }),
            MapOptions::new().chunksize(chunk).lookahead(lookahead),
        )
        .take(wanted)
        .map(Result::unwrap)
        .collect()
    };
    assert!(got.iter().copied().eq((0..wanted as u64).map(|x| x * 2)));
    // At most `lookahead` batches in flight beyond the batch being yielded.
    let limit = wanted + (lookahead + 1) * chunk;
    let produced = produced.load(Ordering::SeqCst);
    assert!(
        (wanted..=limit).contains(&produced),
        "the map read {produced} items to yield {wanted}; limit {limit}"
    );
}

#[test]
fn an_endless_repeat_with_default_options_stays_bounded() {
    let pool = pool(2);
    let produced = Arc::new(AtomicUsize::new(0));
    let wanted = 200_000;
    let sum: u64 = {
        let produced = Arc::clone(&produced);
        pool.map(
            |x: u64| x + 1,
            std::iter::repeat(1u64).inspect(move |_| {
                produced.fetch_add(1, Ordering::SeqCst);
            }),
        )
        .take(wanted)
        .map(Result::unwrap)
        .sum()
    };
    assert_eq!(sum, 2 * wanted as u64);
    // The default look-ahead is 4 batches per worker, and no batch holds more than 65,536
    // items: far less than the endless input, which is what matters.
    let limit = wanted + (4 * pool.workers() + 1) * 65_536;
    let produced = produced.load(Ordering::SeqCst);
    assert!(
        produced <= limit,
        "the map read {produced} items to yield {wanted}; limit {limit}"
    );
}

#[test]
fn dropping_the_map_early_cancels_the_items_not_started() {
    let pool = pool(1);
    let gate = Gate::default();
    let executed = Arc::new(AtomicUsize::new(0));
    let (started, on_start) = mpsc::channel();
    let mut it = {
        let (gate, executed) = (gate.clone(), Arc::clone(&executed));
        pool.map_with(
            move |x: u32| {
                executed.fetch_add(1, Ordering::SeqCst);
                if x == 1 {
                    started.send(()).unwrap();
                    gate.wait();
                }
                x
            },
            0..8,
            MapOptions::new().chunksize(1).lookahead(8),
        )
    };
    assert_eq!(it.next(), Some(Ok(0)));
    on_start.recv_timeout(PATIENCE).unwrap(); // item 1 runs; items 2.. wait in the queue
    drop(it);
    gate.open();
    pool.shutdown(true, false);
    assert_eq!(
        executed.load(Ordering::SeqCst),
        2,
        "only the items started before the drop ran"
    );
}

#[test]
fn the_timeout_is_measured_from_the_call() {
    let pool = pool(1);
    let executed = Arc::new(AtomicUsize::new(0));
    let mut it = {
        let executed = Arc::clone(&executed);
        pool.map(
            move |ms: u64| {
                executed.fetch_add(1, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(ms));
                ms
            },
            [300, 300, 300],
        )
        .timeout(Duration::from_millis(500))
    };
    // The second item ends about 600 ms after the call: within 500 ms of its own `next`, but
    // not within 500 ms of the call.
    assert_eq!(it.next(), Some(Ok(300)));
    assert_eq!(it.next(), Some(Err(TaskError::timed_out(Deadline::Map))));
    assert_eq!(it.next(), None, "the map ends at its timeout");
    drop(it);
    pool.shutdown(true, false);
    assert_eq!(
        executed.load(Ordering::SeqCst),
        2,
        "the third item was cancelled before it started"
    );
}

#[test]
fn two_iterables_zipped() {
    let pool = ThreadPool::new();
    let add = |(a, b): (i32, i32)| a + b;
    let sums: Vec<i32> = pool
        .map(add, (0..10).zip(std::iter::repeat(1)))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(sums, (1..=10).collect::<Vec<_>>());
}

#[test]
fn an_empty_input_yields_nothing() {
    let pool = pool(1);
    assert_eq!(pool.map(|x: u8| x, Vec::new()).count(), 0);
    assert_eq!(pool.map(|x: u8| x, Vec::new()).ordered(false).count(), 0);
}

#[test]
fn owned_values_move_through() {
    let pool = pool(2);
    let words = ["a", "bb", "ccc"].map(String::from);
    let shouted: Vec<String> = pool
        .map(|s: String| s.to_uppercase(), words)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(shouted, ["A", "BB", "CCC"]);
}

#[test]
fn the_default_pool_maps() {
    let total: u64 = default_pool()
        .map(|x: u64| x, 0..1000)
        .map(Result::unwrap)
        .sum();
    assert_eq!(total, 499_500);
}

#[test]
fn a_map_after_shutdown_fails_every_item() {
    let pool = pool(1);
    pool.shutdown(true, false);
    let results: Vec<_> = pool.map(|x: u32| x, 0..3).collect();
    assert_eq!(results, vec![Err(TaskError::ShutDown); 3]);
}

#[test]
fn a_map_inside_a_task_of_the_same_pool_does_not_deadlock() {
    let pool = Arc::new(pool(1));
    let outer = {
        let inner = Arc::clone(&pool);
        pool.submit(move || {
            let ordered: u32 = inner.map(|x: u32| x * 2, 0..50).map(Result::unwrap).sum();
            let unordered: u32 = inner
                .map(|x: u32| x, 0..50)
                .ordered(false)
                .map(Result::unwrap)
                .sum();
            (ordered, unordered)
        })
    };
    assert_eq!(outer.result_timeout(PATIENCE), Ok((2450, 1225)));
}

// `collect_vec`: the whole map into a `Vec`, or the first failure.

#[test]
fn collect_vec_gives_every_value_in_input_order() {
    let pool = pool(2);
    for items in [0u64, 1, 7, 1_000, 100_000] {
        let got = pool.map(|x: u64| x * 3, 0..items).collect_vec().unwrap();
        assert_eq!(
            got,
            (0..items).map(|x| x * 3).collect::<Vec<_>>(),
            "{items} items"
        );
    }
    // Batches of one, and an input that does not say its length.
    let options = MapOptions::new().chunksize(1);
    let got = pool
        .map_with(|x: u32| x + 1, (0..50).filter(|x| x % 2 == 0), options)
        .collect_vec()
        .unwrap();
    assert_eq!(
        got,
        (0..50)
            .filter(|x| x % 2 == 0)
            .map(|x| x + 1)
            .collect::<Vec<_>>()
    );
}

#[test]
fn collect_vec_gives_the_first_failure_by_position_and_cancels_the_rest() {
    let pool = pool(2);
    let ran = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&ran);
    let options = MapOptions::new().chunksize(10);
    let error = pool
        .map_with(
            move |x: u32| {
                counted.fetch_add(1, Ordering::Relaxed);
                match x {
                    25 => panic!("item 25"),
                    30 => panic!("item 30"),
                    _ => x,
                }
            },
            0..1_000_000,
            options,
        )
        .collect_vec()
        .unwrap_err();
    assert_eq!(error.panic_message(), Some("item 25"));
    // The look-ahead bounds what ran: nowhere near the million items.
    assert!(ran.load(Ordering::Relaxed) < 100_000, "{ran:?}");
}

#[test]
fn collect_vec_drops_every_value_it_does_not_return() {
    // Values that count their drops: on a failure, the ones collected so far and the ones
    // in batches after it are all dropped, once.
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let made = Arc::new(AtomicUsize::new(0));
    let (d, m) = (Arc::clone(&drops), Arc::clone(&made));
    let pool = pool(2);
    let result = pool
        .map_with(
            move |x: u32| {
                if x == 500 {
                    panic!("item 500");
                }
                m.fetch_add(1, Ordering::Relaxed);
                Counted(Arc::clone(&d))
            },
            0..2_000,
            MapOptions::new().chunksize(64),
        )
        .collect_vec();
    assert!(result.is_err());
    drop(result);
    // Batches still running when the map was dropped finish on the workers: wait for them.
    pool.shutdown(true, false);
    assert_eq!(drops.load(Ordering::Relaxed), made.load(Ordering::Relaxed));
    // And a success hands every value over, dropping none.
    drops.store(0, Ordering::Relaxed);
    let d = Arc::clone(&drops);
    let values = pool_of_two()
        .map(move |_: u32| Counted(Arc::clone(&d)), 0..1_000)
        .collect_vec()
        .unwrap();
    assert_eq!(drops.load(Ordering::Relaxed), 0);
    assert_eq!(values.len(), 1_000);
    drop(values);
    assert_eq!(drops.load(Ordering::Relaxed), 1_000);
}

fn pool_of_two() -> &'static ThreadPool {
    static POOL: std::sync::OnceLock<ThreadPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| pool(2))
}

#[test]
fn collect_vec_stops_at_the_timeout() {
    let pool = pool(1);
    let gate = Gate::default();
    let held = gate.clone();
    let error = pool
        .map_with(
            move |x: u32| {
                if x == 3 {
                    held.wait();
                }
                x
            },
            0..10,
            MapOptions::new()
                .chunksize(1)
                .timeout(Duration::from_millis(100)),
        )
        .collect_vec()
        .unwrap_err();
    assert!(error.is_timed_out(), "{error:?}");
    gate.open();
}

#[test]
fn collect_vec_unordered_gives_every_value() {
    let mut got = pool(2)
        .map(|x: u64| x + 1, 0..10_000)
        .ordered(false)
        .collect_vec()
        .unwrap();
    got.sort_unstable();
    assert_eq!(got, (1..=10_000).collect::<Vec<_>>());
}
