//! A process pool's typed initializer (`ProcessPoolBuilder::initializer`, Python's
//! `initializer` and `initargs`) and waiting until its workers are up
//! (`ProcessPool::wait_ready`, the builder's `wait_ready(true)`: mpi4py's `bootup(wait=True)`),
//! with the ways a worker can fail to start: an initializer that panics, one that exits, one
//! that is not a process function, arguments that cannot be encoded.

mod common;

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use common::PATIENCE;
use parallel::{parallel, ProcessPool, TaskError};
use serde::{Serialize, Serializer};

/// A scratch file path for this test process.
fn scratch(name: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "parallel-bootup-{}-{}-{name}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    path.to_string_lossy().into_owned()
}

/// The lines of `path` (none if it does not exist).
fn lines(path: &str) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// An initializer that appends its worker's process id to `path`, a line each.
#[parallel(processes = 1)]
fn log_pid(path: String) {
    use std::io::Write;
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    // One write of the whole line: `writeln!` may write the id and the newline apart, and
    // another worker's line could come between them.
    file.write_all(format!("{}\n", std::process::id()).as_bytes())
        .unwrap();
}

static SCALE: AtomicU64 = AtomicU64::new(1);

#[parallel(processes = 1)]
fn set_scale(scale: u64) {
    SCALE.store(scale, Ordering::Relaxed);
}

#[parallel(processes = 1)]
fn scaled(x: u64) -> (u64, u32) {
    (x * SCALE.load(Ordering::Relaxed), std::process::id())
}

#[parallel(processes = 1)]
fn refuse(why: String) {
    panic!("refused: {why}");
}

#[parallel(processes = 1)]
fn exit_with(code: i32) {
    std::process::exit(code);
}

/// Waits in the worker until `path` exists: an initializer that the test lets finish.
#[parallel(processes = 1)]
fn wait_for_file(path: String) {
    while !Path::new(&path).exists() {
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[parallel(processes = 1)]
fn pid() -> u32 {
    std::process::id()
}

/// Not a process function: it runs on threads, and no worker process can find it.
#[parallel]
fn on_threads() {}

/// An argument whose encoding fails.
struct Unencodable;

impl Serialize for Unencodable {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("this value stays home"))
    }
}

impl<'de> serde::Deserialize<'de> for Unencodable {
    fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Ok(Self)
    }
}

#[parallel(processes = 1)]
fn take_unencodable(_value: Unencodable) {}

#[test]
#[cfg_attr(miri, ignore)]
fn wait_ready_returns_after_every_initializer_ran() {
    let log = scratch("ready");
    let pool = ProcessPool::builder()
        .workers(3)
        .initializer(log_pid, (log.clone(),))
        .build()
        .unwrap();
    pool.wait_ready().unwrap();
    let pids = lines(&log);
    assert_eq!(
        pids.len(),
        3,
        "each worker's initializer ran before: {pids:?}"
    );
    // Nothing started since: the workers that ran the initializers are the ones serving.
    let served = pool.submit(pid, ()).result().unwrap();
    assert!(
        pids.contains(&served.to_string()),
        "{served} not in {pids:?}"
    );
    assert_eq!(pool.wait_ready(), Ok(()), "again: at once");
    drop(pool);
    let _ = fs::remove_file(&log);
}

#[test]
#[cfg_attr(miri, ignore)]
fn the_builder_can_wait_for_the_workers() {
    let log = scratch("builder");
    let pool = ProcessPool::builder()
        .workers(2)
        .initializer(log_pid, (log.clone(),))
        .wait_ready(true)
        .build()
        .unwrap();
    assert_eq!(
        lines(&log).len(),
        2,
        "`build` returned after both initializers"
    );
    assert_eq!(pool.wait_ready_timeout(Duration::ZERO), Ok(true));
    drop(pool);
    let _ = fs::remove_file(&log);
}

#[test]
#[cfg_attr(miri, ignore)]
fn wait_ready_timeout_gives_up_while_a_worker_starts_and_can_wait_again() {
    let gate = scratch("gate");
    let pool = ProcessPool::builder()
        .workers(1)
        .initializer(wait_for_file, (gate.clone(),))
        .build()
        .unwrap();
    assert_eq!(
        pool.wait_ready_timeout(Duration::from_millis(50)),
        Ok(false),
        "the initializer waits for the gate"
    );
    fs::write(&gate, "open").unwrap();
    assert_eq!(pool.wait_ready_timeout(PATIENCE), Ok(true));
    assert_ne!(pool.submit(pid, ()).result().unwrap(), std::process::id());
    drop(pool);
    let _ = fs::remove_file(&gate);
}

#[test]
#[cfg_attr(miri, ignore)]
fn every_worker_gets_the_initializer_and_its_arguments_replacements_too() {
    let pool = ProcessPool::builder()
        .workers(1)
        .max_tasks_per_child(1)
        .initializer(set_scale, (10,))
        .build()
        .unwrap();
    let results: Vec<(u64, u32)> = (1..=3)
        .map(|x| pool.submit(scaled, (x,)).result().unwrap())
        .collect();
    let values: Vec<u64> = results.iter().map(|&(value, _)| value).collect();
    assert_eq!(values, [10, 20, 30]);
    let mut pids: Vec<u32> = results.iter().map(|&(_, pid)| pid).collect();
    pids.dedup();
    assert_eq!(
        pids.len(),
        3,
        "each task ran in a fresh, initialized worker"
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_panicking_initializer_is_an_error_with_its_message_not_a_hang() {
    let pool = ProcessPool::builder()
        .workers(2)
        .initializer(refuse, ("no database".to_owned(),))
        .build()
        .unwrap();
    let error = pool.wait_ready().unwrap_err();
    let TaskError::Broken { reason, .. } = &error else {
        panic!("expected a broken pool, got {error:?}");
    };
    assert!(reason.contains("refused: no database"), "{reason}");
    assert!(
        reason.contains("process_bootup.rs"),
        "the location: {reason}"
    );
    let task = pool.submit(pid, ()).result_timeout(PATIENCE).unwrap_err();
    assert!(task.is_broken(), "{task:?}");
}

#[test]
#[cfg_attr(miri, ignore)]
fn building_with_wait_ready_reports_a_worker_that_cannot_start() {
    let error = ProcessPool::builder()
        .workers(1)
        .initializer(refuse, ("at build".to_owned(),))
        .wait_ready(true)
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::Other);
    let inner = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<TaskError>());
    assert!(inner.is_some_and(TaskError::is_broken), "{error:?}");
    assert!(error.to_string().contains("refused: at build"), "{error}");
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_worker_that_exits_while_starting_breaks_the_pool_with_its_exit_code() {
    let pool = ProcessPool::builder()
        .workers(2)
        .initializer(exit_with, (3,))
        .build()
        .unwrap();
    let error = pool.wait_ready().unwrap_err();
    assert!(error.is_broken(), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("exited with code 3 while starting"),
        "{error}"
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn an_initializer_that_no_worker_can_find_is_refused_at_build() {
    let error = ProcessPool::builder()
        .initializer(on_threads, ())
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(
        error
            .to_string()
            .contains("is not a `#[parallel(processes)]` function"),
        "{error}"
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn initializer_arguments_that_cannot_be_encoded_are_refused_at_build() {
    let error = ProcessPool::builder()
        .initializer(take_unencodable, (Unencodable,))
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(
        error.to_string().contains("this value stays home"),
        "{error}"
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn initializer_arguments_over_the_frame_limit_are_refused_at_build() {
    let error = ProcessPool::builder()
        .initializer(log_pid, ("x".repeat(4096),))
        .max_frame(1024)
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(
        error.to_string().contains("frame limit of 1024 bytes"),
        "{error}"
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn waiting_for_workers_that_were_killed_never_hangs() {
    for _ in 0..5 {
        let pool = ProcessPool::builder().workers(2).build().unwrap();
        pool.kill_workers();
        // Some workers may have been up before the kill; the others never will be.
        match pool.wait_ready_timeout(PATIENCE) {
            Ok(true) | Err(TaskError::ShutDown) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}
