//! Process tasks that park, for tests that kill a worker while it runs one: a task writes
//! its worker's process id to a scratch file before it parks, so a test kills the worker only
//! once the task has reached it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Instant;

use parallel::{parallel, Future};

use super::PATIENCE;

/// Waits until the task of `future` has begun in its worker, which then wrote its process id
/// to `path` (`Future::is_running` says only that a driver took it: it may not have reached
/// the worker yet, and a worker killed before it does would pass it to the next worker).
pub fn await_started<T: std::fmt::Debug>(future: &Future<T>, path: &str) -> u32 {
    let start = Instant::now();
    loop {
        let written = std::fs::read_to_string(path).ok();
        if let Some(pid) = written.and_then(|text| text.trim().parse().ok()) {
            return pid;
        }
        assert!(!future.is_done(), "the task ended: {:?}", future.result());
        assert!(start.elapsed() < PATIENCE, "the task never started");
        thread::yield_now();
    }
}

/// A scratch file path for this test process.
pub fn scratch(name: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "parallel-{}-{}-{}-{name}",
        env!("CARGO_CRATE_NAME"),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    path.to_string_lossy().into_owned()
}

#[parallel(processes = 1)]
pub fn worker_pid() -> u32 {
    std::process::id()
}

/// Writes its process id to `path` (whole, by a rename), then never returns.
#[parallel(processes = 1)]
pub fn park_after_writing(path: String) {
    let partial = format!("{path}.partial");
    std::fs::write(&partial, std::process::id().to_string()).unwrap();
    std::fs::rename(&partial, &path).unwrap();
    loop {
        thread::park();
    }
}

#[parallel(processes = 1)]
pub fn forever() {
    loop {
        thread::park();
    }
}
