//! Scopes: tasks and maps that borrow the caller's data, with the whole future API, and the
//! scope's promise that it returns only when all of them are done.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use parallel::{as_completed, pmap, wait, MapOptions, ReturnWhen, TaskError, ThreadPool};

fn pool(workers: usize) -> ThreadPool {
    ThreadPool::builder().workers(workers).build().unwrap()
}

#[test]
fn scoped_submit_borrows_two_locals() {
    let numbers: Vec<u64> = (1..=100).collect();
    let weights = vec![2u64; 100];
    let total = parallel::scope(|s| {
        let dot = s.submit(|| {
            numbers
                .iter()
                .zip(&weights)
                .map(|(n, w)| n * w)
                .sum::<u64>()
        });
        let count = s.submit(|| numbers.len() + weights.len());
        (dot.result().unwrap(), count.result().unwrap())
    });
    assert_eq!(total, (10_100, 200));
}

#[test]
fn a_task_may_write_through_a_borrow() {
    let mut slots = vec![0usize; 8];
    pool(3).scope(|s| {
        for (i, slot) in slots.iter_mut().enumerate() {
            drop(s.submit(move || *slot = i * i));
        }
    });
    assert_eq!(slots, [0, 1, 4, 9, 16, 25, 36, 49]);
}

#[test]
fn the_whole_future_api_works_on_scoped_futures() {
    let pool = pool(2);
    let words = ["alpha", "beta", "gamma", "delta"];
    pool.scope(|s| {
        // as_completed with keys, and the HashMap idiom.
        let futures: HashMap<_, _> = words
            .iter()
            .map(|word| (s.submit(move || word.len()), *word))
            .collect();
        let mut seen: Vec<(&str, usize)> = as_completed(futures.keys())
            .map(|future| (futures[future], future.result().unwrap()))
            .collect();
        seen.sort();
        assert_eq!(
            seen,
            [("alpha", 5), ("beta", 4), ("delta", 5), ("gamma", 5)]
        );

        // wait, try_result, result_timeout, error, is_done.
        let quick = s.submit(|| words.concat().len());
        let (go, wait_for_go) = mpsc::channel::<()>();
        let slow = s.submit(move || usize::from(wait_for_go.recv().is_ok()));
        let waited = wait([&quick, &slow], None, ReturnWhen::FirstCompleted);
        assert!(waited.done.contains(&&quick));
        assert!(slow
            .result_timeout(Duration::from_millis(10))
            .unwrap_err()
            .is_timed_out());
        go.send(()).unwrap();
        assert_eq!(slow.result_timeout(Duration::from_secs(30)), Ok(1));
        assert_eq!(quick.try_result(), Some(Ok(19)));
        assert!(quick.is_done());
        assert_eq!(s.submit(|| 1).error(), None);

        // result_cloned and result_ref leave the value.
        let mut text = s.submit(|| words.join("-"));
        assert_eq!(text.result_cloned().unwrap(), "alpha-beta-gamma-delta");
        assert_eq!(text.result_ref().unwrap().len(), 22);
    });
}

#[test]
fn a_scoped_future_can_be_awaited() {
    let data = [1u32, 2, 3];
    let sum = parallel::scope(|s| {
        let future = s.submit(|| data.iter().sum::<u32>());
        futures::executor::block_on(future)
    });
    assert_eq!(sum, Ok(6));
}

#[test]
fn nested_scopes_borrow_from_each_other() {
    let outer_data = [1u32, 2, 3, 4];
    let total = parallel::scope(|outer| {
        let halves = outer_data.split_at(2);
        let inner = outer.submit(|| {
            let bonus = 10;
            parallel::scope(|inner| {
                let a = inner.submit(|| halves.0.iter().sum::<u32>() + bonus);
                let b = inner.submit(|| halves.1.iter().sum::<u32>());
                a.result().unwrap() + b.result().unwrap()
            })
        });
        inner.result().unwrap()
    });
    assert_eq!(total, 20);
}

#[test]
fn a_task_waits_on_another_of_its_scope_on_a_one_worker_pool() {
    let pool = pool(1);
    let data: Vec<u64> = (1..=10).collect();
    for _ in 0..50 {
        let result = pool.scope(|s| {
            let first = s.submit(|| data.iter().sum::<u64>());
            let second = s.submit(move || first.result().unwrap() * 2);
            second.result().unwrap()
        });
        assert_eq!(result, 110);
    }
}

#[test]
fn a_panic_in_a_task_is_its_error_and_the_others_finish() {
    let data = [1, 2, 3];
    let (bad, good) = pool(2).scope(|s| {
        let bad = s.submit(|| {
            if data.len() == 3 {
                panic!("three items");
            }
            0
        });
        let good = s.submit(|| data.iter().sum::<i32>());
        (bad.result(), good.result())
    });
    assert_eq!(bad.unwrap_err().panic_message(), Some("three items"));
    assert_eq!(good, Ok(6));
}

#[test]
fn a_panic_in_the_scope_is_resumed_only_after_every_task_finished() {
    let events = Mutex::new(Vec::new());
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pool(2).scope(|s| {
            let events = &events;
            for i in 0..3 {
                drop(s.submit(move || {
                    std::thread::sleep(Duration::from_millis(20));
                    events.lock().unwrap().push(format!("task {i}"));
                }));
            }
            events.lock().unwrap().push("closure panics".to_owned());
            panic!("the scope's closure failed");
        })
    }));
    let payload = outcome.unwrap_err();
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"the scope's closure failed")
    );
    events.lock().unwrap().push("panic resumed".to_owned());
    let events = events.into_inner().unwrap();
    assert_eq!(events[0], "closure panics");
    assert_eq!(events.len(), 5);
    assert!(events[1..4].iter().all(|e| e.starts_with("task")));
    assert_eq!(events[4], "panic resumed");
}

#[test]
fn forgetting_what_a_scope_hands_out_does_not_let_tasks_outlive_it() {
    let pool = pool(2);
    for round in 0..200 {
        let data: Vec<u64> = (0..256).collect();
        let done = AtomicUsize::new(0);
        pool.scope(|s| {
            std::mem::forget(s.submit(|| {
                done.fetch_add(data.iter().sum::<u64>() as usize, Ordering::SeqCst);
            }));
            std::mem::forget(s.map(|x: &u64| x + 1, &data));
            let mut map = s.map_iter(|x: &u64| *x, data.iter());
            let _ = map.next();
            std::mem::forget(map);
        });
        assert_eq!(done.load(Ordering::SeqCst), 32_640, "round {round}");
        // Freed here: no task may read it after the scope.
        drop(data);
    }
}

#[test]
fn a_scope_waits_for_tasks_submitted_by_its_tasks() {
    let counter = AtomicUsize::new(0);
    pool(2).scope(|s| {
        let counter = &counter;
        for _ in 0..4 {
            drop(s.submit(move || {
                for _ in 0..4 {
                    drop(s.submit(move || counter.fetch_add(1, Ordering::SeqCst)));
                }
            }));
        }
    });
    assert_eq!(counter.load(Ordering::SeqCst), 16);
}

#[test]
fn scoped_maps_read_slices_in_place_in_order() {
    let data: Vec<u64> = (0..10_000).collect();
    let factor = 3;
    let pool = pool(2);
    let tripled: Vec<u64> = pool.scope(|s| {
        s.map(|x: &u64| x * factor, &data)
            .collect::<Result<_, _>>()
            .unwrap()
    });
    assert_eq!(tripled, data.iter().map(|x| x * 3).collect::<Vec<_>>());

    // The items are the slice's own: the same addresses.
    let base = data.as_ptr() as usize;
    let offsets: Vec<usize> = pool.scope(|s| {
        s.map(
            |x: &u64| (x as *const u64 as usize - base) / 8,
            &data[..100],
        )
        .map(Result::unwrap)
        .collect()
    });
    assert_eq!(offsets, (0..100).collect::<Vec<_>>());
}

#[test]
fn scoped_maps_over_arrays_vectors_and_ranges() {
    let array = [1u8, 2, 3];
    let vector = vec!["a".to_owned(), "bb".to_owned()];
    let (from_array, from_vec, from_range, inclusive) = parallel::scope(|s| {
        (
            s.map(|x: &u8| u32::from(*x), &array)
                .map(Result::unwrap)
                .sum::<u32>(),
            s.map(|x: &String| x.len(), &vector)
                .map(Result::unwrap)
                .collect::<Vec<_>>(),
            s.map(|x: u64| x * 2, 0..5u64)
                .map(Result::unwrap)
                .collect::<Vec<_>>(),
            s.map(|x: i32| -x, -2..=2)
                .map(Result::unwrap)
                .collect::<Vec<_>>(),
        )
    });
    assert_eq!(from_array, 6);
    assert_eq!(from_vec, [1, 2]);
    assert_eq!(from_range, [0, 2, 4, 6, 8]);
    assert_eq!(inclusive, [2, 1, 0, -1, -2]);
    let empty: Vec<u8> = Vec::new();
    assert_eq!(parallel::scope(|s| s.map(|x: &u8| *x, &empty).count()), 0);
}

#[test]
fn a_panicking_item_of_a_scoped_map_fails_alone() {
    let data: Vec<i32> = (0..1000).collect();
    let results: Vec<_> = parallel::scope(|s| {
        s.map(
            |x: &i32| {
                if x % 100 == 7 {
                    panic!("bad item {x}");
                }
                x * 2
            },
            &data,
        )
        .collect()
    });
    assert_eq!(results.len(), 1000);
    for (i, result) in results.iter().enumerate() {
        match result {
            Ok(value) => assert_eq!(*value, 2 * i as i32),
            Err(error) => {
                assert_eq!(i % 100, 7);
                assert_eq!(
                    error.panic_message(),
                    Some(format!("bad item {i}").as_str())
                );
            }
        }
    }
    assert_eq!(results.iter().filter(|r| r.is_err()).count(), 10);
}

#[test]
fn scoped_map_options_hold() {
    let data: Vec<u32> = (0..2000).collect();
    // The scope waits for the slow item (a thread cannot be stopped), so it is short.
    let pauses = [0u64, 400];
    let pool = pool(2);
    pool.scope(|s| {
        let options = MapOptions::new().chunksize(7).lookahead(3);
        let ordered: Vec<u32> = s
            .map_with(|x: &u32| x + 1, &data, options)
            .map(Result::unwrap)
            .collect();
        assert_eq!(ordered, (1..=2000).collect::<Vec<_>>());

        let mut unordered: Vec<u32> = s
            .map(|x: &u32| x + 1, &data)
            .ordered(false)
            .map(Result::unwrap)
            .collect();
        unordered.sort();
        assert_eq!(unordered, ordered);

        let timed: Vec<_> = s
            .map(
                |ms: &u64| std::thread::sleep(Duration::from_millis(*ms)),
                &pauses,
            )
            .timeout(Duration::from_millis(50))
            .collect();
        assert!(timed[0].is_ok());
        assert!(timed[1].as_ref().unwrap_err().is_timed_out());
        assert_eq!(timed.len(), 2, "the map ends at its timeout");
    });
}

#[test]
fn dropping_a_scoped_map_cancels_what_has_not_started() {
    let started = AtomicUsize::new(0);
    let data: Vec<u32> = (0..1000).collect();
    pool(1).scope(|s| {
        let mut map = s.map_with(
            |_: &u32| {
                started.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(1));
            },
            &data,
            MapOptions::new().chunksize(1).lookahead(4),
        );
        map.next().unwrap().unwrap();
        drop(map);
    });
    let ran = started.load(Ordering::SeqCst);
    assert!(ran < 10, "{ran} items ran after the map was dropped");
}

#[test]
fn scoped_sums_reduce_on_the_workers_with_the_same_answer() {
    let data: Vec<u64> = (0..200_000).collect();
    let pool = pool(2);
    let expected: u64 = data.iter().map(|x| x * x).sum();
    for _ in 0..20 {
        let total = pool.scope(|s| s.map(|x: &u64| x * x, &data).sum::<Result<u64, _>>());
        assert_eq!(total, Ok(expected));
    }
    let product = pool.scope(|s| {
        s.map(|x: &u64| x + 1, &data[..10])
            .product::<Result<u64, _>>()
    });
    assert_eq!(product, Ok(3_628_800));
    // The first failure by position is the sum's error, as for a sequential sum.
    let failed = pool.scope(|s| {
        s.map(
            |x: &u64| {
                if *x == 150_000 || *x == 190_000 {
                    panic!("at {x}")
                } else {
                    *x
                }
            },
            &data,
        )
        .sum::<Result<u64, TaskError>>()
    });
    assert_eq!(failed.unwrap_err().panic_message(), Some("at 150000"));
    // After some items were taken, the rest is summed.
    let rest = pool.scope(|s| {
        let mut map = s.map(|x: &u64| *x, &data);
        let first = map.next().unwrap().unwrap() + map.next().unwrap().unwrap();
        first + map.sum::<Result<u64, _>>().unwrap()
    });
    assert_eq!(rest, data.iter().sum::<u64>());
    // With a timeout, item by item.
    let timed = pool.scope(|s| {
        s.map(|x: &u64| *x, &data)
            .timeout(Duration::from_secs(60))
            .sum::<Result<u64, _>>()
    });
    assert_eq!(timed, Ok(data.iter().sum()));
}

#[test]
fn scoped_maps_over_any_iterator() {
    let text = String::from("the quick brown fox");
    let lengths: Vec<usize> = parallel::scope(|s| {
        s.map_iter(str::len, text.split(' '))
            .map(Result::unwrap)
            .collect()
    });
    assert_eq!(lengths, [3, 5, 5, 3]);
}

#[test]
fn pmap_in_a_scope_borrows() {
    let data: Vec<u64> = (0..1000).collect();
    let offset = 5;
    let pool = pool(2);
    pool.scope(|s| {
        // A closure over a slice: in place.
        let shifted: Vec<u64> = pmap!(|x| x + offset, &data; scope = s)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(shifted[999], 1004);
        // A function over any iterator, and several iterables zipped.
        fn twice(x: &u64) -> u64 {
            x * 2
        }
        let doubled: Vec<u64> = pmap!(twice, data.iter().filter(|x| *x % 2 == 0); scope = s)
            .map(Result::unwrap)
            .collect();
        assert_eq!(doubled.len(), 500);
        let sums: Vec<u64> =
            pmap!(|a: &u64, b: &u64| a + b, &data, &data; scope = s, chunksize = 10)
                .map(Result::unwrap)
                .collect();
        assert_eq!(sums[10], 20);
        // Options: order and timeout.
        let mut unordered: Vec<u64> =
            pmap!(twice, &data; scope = s, ordered = false, timeout = "60s")
                .map(Result::unwrap)
                .collect();
        unordered.sort();
        assert_eq!(unordered[999], 1998);
        // And a progress bar (drawn only on a terminal).
        #[cfg(feature = "progress")]
        {
            let total: u64 = pmap!(twice, &data; scope = s, progress)
                .map(Result::unwrap)
                .sum();
            assert_eq!(total, 999_000);
        }
    });
}

#[test]
fn process_maps_take_borrowed_items() {
    #[parallel::parallel(processes = 1)]
    fn length(text: String) -> usize {
        text.len()
    }
    let words = vec!["one".to_owned(), "three".to_owned()];
    let lengths: Vec<usize> = pmap!(length, &words; processes = 1)
        .map(Result::unwrap)
        .collect();
    assert_eq!(lengths, [3, 5]);
    let pool = parallel::ProcessPool::builder().workers(1).build().unwrap();
    let lengths: Vec<usize> = pool
        .map(length, words.iter().map(|w| (w,)))
        .map(Result::unwrap)
        .collect();
    assert_eq!(lengths, [3, 5]);
}

#[test]
fn scoped_callbacks_borrow() {
    let fired = AtomicBool::new(false);
    parallel::scope(|s| {
        s.submit(|| 1)
            .add_done_callback(|_| fired.store(true, Ordering::SeqCst));
    });
    assert!(fired.load(Ordering::SeqCst));
}

#[test]
fn a_shut_down_pool_refuses_scoped_work_with_an_error() {
    let pool = pool(1);
    pool.shutdown(true, false);
    let data = [1, 2];
    pool.scope(|s| {
        assert!(s.submit(|| data[0]).result().unwrap_err().is_shut_down());
        let results: Vec<_> = s.map(|x: &i32| *x, &data).collect();
        assert!(results
            .iter()
            .all(|r| r.as_ref().unwrap_err().is_shut_down()));
    });
}

#[test]
fn a_scoped_map_collects_into_a_vec_in_place_order() {
    let data: Vec<u64> = (0..100_000).collect();
    let factor = 3;
    let got = parallel::scope(|s| s.map(|x: &u64| x * factor, &data).collect_vec()).unwrap();
    assert_eq!(got, data.iter().map(|x| x * 3).collect::<Vec<_>>());
    let error = parallel::scope(|s| {
        s.map(|x: &u64| if *x == 777 { panic!("777") } else { *x }, &data)
            .collect_vec()
    })
    .unwrap_err();
    assert_eq!(error.panic_message(), Some("777"));
}
