//! A decorator-like wrapper that reports where each call runs: thread name and process id.
//!
//! Python decorates the function with a wrapper that prints
//! `threading.current_thread().name` and `os.getpid()` before and after the call. In Rust the
//! wrapper is a function that takes the body as a closure, and the `#[parallel]` function's
//! body goes through it. (`process_info` does the same across processes.)

use std::fmt::Debug;
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use parallel::{parallel, TaskError};

/// Lines written by the wrapper, in the order they happened (the calls run at once on
/// several threads, so a shared log keeps their lines whole and in order).
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn log(line: String) {
    LOG.lock().expect("no holder of the log panics").push(line);
}

/// The thread's name and the process id, as the code running here sees them.
fn here() -> String {
    let thread = thread::current();
    let name = thread.name().unwrap_or("<unnamed>");
    format!("thread {name}, process {}", std::process::id())
}

/// Runs `func(arg)`, logging where it runs before and after.
fn show_where<A: Debug, R: Debug>(name: &str, arg: A, func: impl FnOnce(A) -> R) -> R {
    let call = format!("{name}({arg:?})");
    log(format!("start {call} on {}", here()));
    let result = func(arg);
    log(format!("end   {call} = {result:?} on {}", here()));
    result
}

#[parallel(threads = 3, name = "worker")]
fn cube(x: u64) -> u64 {
    show_where("cube", x, |x| {
        // Long enough that the three calls overlap and so spread over the workers.
        thread::sleep(Duration::from_millis(100));
        x * x * x
    })
}

/// Calls `cube` on 1..=3 and returns every line the wrapper logged.
fn where_it_runs() -> Result<Vec<String>, TaskError> {
    log(format!("caller on {}", here()));
    // `*cube` is the function pointer behind the name: calling it returns a future.
    let futures: Vec<_> = (1..=3).map(cube).collect();
    for future in futures {
        future.result()?;
    }
    let lines = std::mem::take(&mut *LOG.lock().expect("no holder of the log panics"));
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
