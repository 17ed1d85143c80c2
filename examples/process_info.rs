//! A wrapper that reports the process id and parent process id around each call, showing
//! that the calls run in other processes, whose parent is this program.
//!
//! Python's `multiprocessing` docs print `os.getpid()` and `os.getppid()` from an `info`
//! helper in the main program and in each worker. Here the wrapper runs in the worker and
//! returns its lines with the result, so the caller prints them in order (a worker's own
//! `println!` also reaches this program's stdout, but interleaved as it happens).

use std::fmt::Debug;

use parallel::{parallel, TaskError};
use serde::{Deserialize, Serialize};

/// A call's result with the lines its wrapper wrote. Our own type travels back from the
/// worker because it derives `Serialize` and `Deserialize`.
#[derive(Debug, Serialize, Deserialize)]
struct Traced<R> {
    result: R,
    lines: Vec<String>,
}

/// Where the code running here is: this process and its parent.
fn info(title: &str) -> String {
    format!(
        "{title}: process {}, parent {}",
        std::process::id(),
        parallel::parent_id()
    )
}

/// Runs `func(arg)` between two lines saying where it ran.
fn traced<A: Debug, R: Debug>(name: &str, arg: A, func: impl FnOnce(A) -> R) -> Traced<R> {
    let call = format!("{name}({arg:?})");
    let before = info(&format!("start {call}"));
    let result = func(arg);
    let after = info(&format!("end   {call} = {result:?}"));
    Traced {
        result,
        lines: vec![before, after],
    }
}

/// Two worker processes of its own; each call goes through the wrapper.
#[parallel(processes = 2)]
fn cube(x: u64) -> Traced<u64> {
    traced("cube", x, |x| x * x * x)
}

/// Calls `cube` on 1..=3 and returns the lines to print: the caller's, then each call's.
fn process_info() -> Result<Vec<String>, TaskError> {
    let mut lines = vec![info("main program")];
    // `*cube` is the function pointer behind the name: calling it returns a future.
    let futures: Vec<_> = (1..=3).map(cube).collect();
    for future in futures {
        let traced = future.result()?;
        lines.extend(traced.lines);
    }
    Ok(lines)
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<(), TaskError> {
    for line in process_info()? {
        println!("{line}");
    }
    Ok(())
}

#[test]
fn calls_run_in_child_processes_of_this_program() {
    let lines = process_info().unwrap();
    let me = std::process::id();
    assert_eq!(lines.len(), 1 + 2 * 3, "{lines:?}");
    assert_eq!(lines[0], info("main program"));
    for (x, pair) in (1..=3u64).zip(lines[1..].chunks(2)) {
        assert!(
            pair[0].starts_with(&format!("start cube({x}): process ")),
            "{pair:?}"
        );
        assert!(
            pair[1].starts_with(&format!("end   cube({x}) = {}: process ", x * x * x)),
            "{pair:?}"
        );
        for line in pair {
            // Another process, whose parent is this one.
            assert!(!line.contains(&format!("process {me},")), "{line}");
            assert!(line.ends_with(&format!(", parent {me}")), "{line}");
        }
    }
}
