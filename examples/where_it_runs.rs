//! A decorator-like wrapper that reports where each call runs: thread name and process id.
//!
//! Python decorates the function with a wrapper that prints
//! `threading.current_thread().name` and `os.getpid()` before and after the call. In Rust
//! the wrapper is a function that takes a function and returns a closure.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use parallel::{TaskError, ThreadPool};

/// Lines written by the wrappers, in the order they happened (workers run concurrently, so a
/// shared log keeps their lines whole and in order).
type Log = Arc<Mutex<Vec<String>>>;

/// The thread's name and the process id, as a task sees them.
fn here() -> String {
    let thread = thread::current();
    let name = thread.name().unwrap_or("<unnamed>");
    format!("thread {name}, process {}", std::process::id())
}

/// Wraps `func` so each call logs where it runs, before and after.
fn show_where<A, R>(
    name: &'static str,
    log: &Log,
    func: impl Fn(A) -> R + Send + Sync + 'static,
) -> impl Fn(A) -> R + Send + Sync + 'static
where
    A: std::fmt::Debug,
    R: std::fmt::Debug,
{
    let log = Arc::clone(log);
    move |arg| {
        let call = format!("{name}({arg:?})");
        push(&log, format!("start {call} on {}", here()));
        let result = func(arg);
        push(&log, format!("end   {call} = {result:?} on {}", here()));
        result
    }
}

fn push(log: &Log, line: String) {
    log.lock().expect("no holder of the log panics").push(line);
}

fn cube(x: u64) -> u64 {
    // Long enough that the three calls overlap and so spread over the workers.
    thread::sleep(Duration::from_millis(100));
    x * x * x
}

/// Runs `cube` over 1..=3 through the wrapper and returns every line it would print.
fn where_it_runs() -> Result<Vec<String>, TaskError> {
    let log = Log::default();
    push(&log, format!("caller on {}", here()));

    let pool = ThreadPool::builder()
        .workers(3)
        .name_prefix("worker")
        .build()
        .expect("starting three threads");
    let cube = Arc::new(show_where("cube", &log, cube));
    let futures: Vec<_> = (1..=3)
        .map(|x| {
            let cube = Arc::clone(&cube);
            pool.submit(move || cube(x))
        })
        .collect();
    for future in futures {
        future.result()?;
    }

    let lines = log.lock().expect("no holder of the log panics").clone();
    Ok(lines)
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<(), TaskError> {
    for line in where_it_runs()? {
        println!("{line}");
    }
    Ok(())
}

#[test]
fn every_call_runs_on_a_named_worker_of_this_process() {
    let lines = where_it_runs().unwrap();
    let pid = std::process::id();
    assert_eq!(lines.len(), 1 + 2 * 3, "{lines:?}");
    assert!(lines[0].starts_with("caller on thread "), "{lines:?}");
    for line in &lines[1..] {
        assert!(line.contains("on thread worker-"), "{line}");
        assert!(line.ends_with(&format!("process {pid}")), "{line}");
    }
    for x in 1..=3u64 {
        let start = format!("start cube({x}) on ");
        let end = format!("end   cube({x}) = {} on ", x * x * x);
        let start_at = lines.iter().position(|l| l.starts_with(&start));
        let end_at = lines.iter().position(|l| l.starts_with(&end));
        assert!(start_at < end_at && start_at.is_some(), "{lines:?}");
    }
}
