//! Progress bars through the facade (feature `progress`): a label and printing above the bar on
//! every kind of iterator that takes a bar, from the loop and from the tasks. Under `cargo
//! test` stderr is not a terminal, so the bars are hidden; what they draw on a terminal is
//! tested on an in-memory one in `runtime/src/progress.rs` and in a real one (tmux) by
//! `tests/tour_terminal.rs`.

#![cfg(feature = "progress")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use parallel::{as_completed, pmap, ThreadPool};

fn pool(workers: usize) -> ThreadPool {
    ThreadPool::builder().workers(workers).build().unwrap()
}

#[test]
fn a_labelled_map_counts_and_yields_every_item_in_order() {
    let pool = pool(2);
    let mut squares = pool.map(|x: u64| x * x, 0..100).progress().label("squares");
    let first: Vec<u64> = squares.by_ref().take(10).map(Result::unwrap).collect();
    squares.println("ten items in");
    assert_eq!(first, (0..10).map(|x| x * x).collect::<Vec<_>>());
    assert_eq!(squares.position(), 10);
    let rest = squares.label("squares, relabelled").collect_vec().unwrap();
    assert_eq!(rest.len(), 90);
    assert_eq!(rest[89], 99 * 99);
}

#[test]
fn a_handle_prints_from_the_loop_and_from_the_tasks() {
    let pool = pool(4);
    let lines = Arc::new(AtomicUsize::new(0));
    let doubled = pool
        .map(|x: u32| x * 2, 0..200)
        .progress()
        .label("doubling");
    let bar = doubled.handle();
    // The tasks print through clones of the handle, from the workers' threads.
    let printed: Vec<_> = (0..8)
        .map(|i| {
            let (bar, lines) = (bar.clone(), Arc::clone(&lines));
            pool.submit(move || {
                bar.suspend(|| lines.fetch_add(1, Ordering::SeqCst));
                bar.println(format!("a note from task {i}"));
            })
        })
        .collect();
    let mut total = 0;
    for value in doubled {
        total += value.unwrap();
        if total % 50 == 0 {
            bar.println(format!("running total {total}"));
        }
    }
    for future in printed {
        future.result().unwrap();
    }
    assert_eq!(total, 2 * (0..200).sum::<u32>());
    assert_eq!(
        lines.load(Ordering::SeqCst),
        8,
        "each task's closure ran once"
    );
    assert_eq!(bar.suspend(|| "returned"), "returned");
}

#[test]
fn a_label_and_a_handle_on_as_completed_scoped_maps_and_pmap() {
    let pool = pool(2);
    let futures: Vec<_> = (0..20u32).map(|i| pool.submit(move || i)).collect();
    let finished = as_completed(&futures).progress().label("as_completed");
    let bar = finished.handle();
    let mut seen: Vec<u32> = finished
        .map(|future| {
            let value = future.result().unwrap();
            bar.println(format!("{value} finished"));
            value
        })
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..20).collect::<Vec<_>>());

    let readings: Vec<u64> = (1..=300).collect();
    let total: u64 = parallel::scope(|s| {
        let scaled = s.map(|x: &u64| x * 3, &readings).progress().label("scaled");
        scaled.println("scaling");
        scaled.map(Result::unwrap).sum()
    });
    assert_eq!(total, 3 * readings.iter().sum::<u64>());

    let mut cubes = pmap!(|x: u64| x * x * x, 0..50; threads = 2, progress).label("cubes");
    assert_eq!(cubes.next(), Some(Ok(0)));
    cubes.suspend(|| println!("one cube in"));
    assert_eq!(cubes.position(), 1);
    assert_eq!(cubes.count(), 49);
}
