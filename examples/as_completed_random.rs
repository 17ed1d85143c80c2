//! `as_completed` over calls of random duration: prints each call as it finishes.
//!
//! Python keeps a dict `futures = {pool.submit(task, n): n for n in range(5)}` and looks the
//! input up with `futures[future]`. Here each future travels with its key as a
//! `(key, future)` pair, and `as_completed` hands the pair back.

use std::thread;
use std::time::Duration;

use parallel::{as_completed, parallel, TaskError};
use rand::Rng;

/// A task that takes `ms` milliseconds and reports how long it slept; five threads, so all
/// five calls run at once.
#[parallel(threads = 5)]
fn task(ms: u64) -> u64 {
    thread::sleep(Duration::from_millis(ms));
    ms
}

/// Runs five tasks of random duration and returns one line per task, in finishing order.
fn as_completed_random() -> Result<Vec<String>, TaskError> {
    let mut rng = rand::thread_rng();
    let jobs: Vec<_> = (0..5).map(|n| (n, task(rng.gen_range(50..500)))).collect();

    let mut lines = Vec::new();
    // Futures come out in the order they finish; the key says which task it was.
    for (n, future) in as_completed(jobs) {
        let ms = future.result()?;
        lines.push(format!("task {n} finished after {ms} ms"));
    }
    Ok(lines)
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<(), TaskError> {
    for line in as_completed_random()? {
        println!("{line}");
    }
    Ok(())
}

#[test]
fn every_task_is_reported_once() {
    let lines = as_completed_random().unwrap();
    assert_eq!(lines.len(), 5);
    for n in 0..5 {
        let prefix = format!("task {n} finished after ");
        assert_eq!(
            lines.iter().filter(|l| l.starts_with(&prefix)).count(),
            1,
            "{lines:?}"
        );
    }
}
