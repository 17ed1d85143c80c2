//! A subscriber that panics whenever the runtime calls it (on every other new span, and on
//! each recorded field, event, entering, leaving and closing of a span) loses its spans and
//! events, and nothing else: no worker thread or driver thread ends, every future finishes,
//! and dead, recycled and timed-out workers are still replaced. `tracing` does not catch a
//! subscriber's panic; the runtime does (`runtime/src/trace/`).

mod common;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use common::parked::{await_started, forever, park_after_writing, scratch, worker_pid};
use common::process::Process;
use common::PATIENCE;
use parallel::{ProcessPool, TaskError, ThreadPool};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// How many times the runtime called the subscriber.
static CALLS: AtomicUsize = AtomicUsize::new(0);

struct Panicking;

fn explode(what: &str) -> ! {
    CALLS.fetch_add(1, Ordering::Relaxed);
    panic!("the subscriber fails in `{what}`");
}

impl Subscriber for Panicking {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    /// Every other span is made, so that entering, leaving, recording and closing are tried.
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        static SPANS: AtomicU64 = AtomicU64::new(1);
        let id = SPANS.fetch_add(1, Ordering::Relaxed);
        if id % 2 == 0 {
            explode("new_span");
        }
        Id::from_u64(id)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {
        explode("record")
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {
        explode("event")
    }
    fn enter(&self, _: &Id) {
        explode("enter")
    }
    fn exit(&self, _: &Id) {
        explode("exit")
    }
    fn try_close(&self, _: Id) -> bool {
        explode("try_close")
    }
}

fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| tracing::subscriber::set_global_default(Panicking).unwrap());
}

#[test]
fn thread_tasks_finish_and_their_workers_live_on() {
    install();
    let before = CALLS.load(Ordering::Relaxed);
    let pool = ThreadPool::builder().workers(1).build().unwrap();
    for round in 0..20 {
        assert_eq!(pool.submit(move || round * 2).result(), Ok(round * 2));
    }
    // Leaving the span of a task that panics happens while its panic unwinds; the subscriber
    // panics again there.
    for _ in 0..10 {
        let panicked = pool
            .submit(|| panic!("the task's own panic"))
            .result()
            .unwrap_err();
        assert_eq!(panicked.panic_message(), Some("the task's own panic"));
        let TaskError::Panicked { location, .. } = &panicked else {
            panic!("{panicked:?}");
        };
        let location = location.as_deref().unwrap_or_default();
        assert!(
            location.contains("tracing_panics.rs"),
            "the task's own: {location}"
        );
    }
    let doubled: Vec<u32> = pool
        .map(|x: u32| x * 2, 0..100)
        .map(Result::unwrap)
        .collect();
    assert_eq!(doubled.len(), 100);
    assert_eq!(pool.submit(|| "still here").result(), Ok("still here"));
    assert!(
        CALLS.load(Ordering::Relaxed) > before,
        "the subscriber was called"
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn process_tasks_finish_and_dead_workers_are_replaced() {
    install();
    let before = CALLS.load(Ordering::Relaxed);
    let pool = ProcessPool::builder().workers(1).build().unwrap();
    let first = pool
        .submit(worker_pid, ())
        .result_timeout(PATIENCE)
        .unwrap();
    let marker = scratch("doomed");
    let doomed = pool.submit(park_after_writing, (marker.clone(),));
    assert_eq!(await_started(&doomed, &marker), first, "one worker");
    Process::running(first).kill();
    assert!(doomed
        .result_timeout(PATIENCE)
        .unwrap_err()
        .is_worker_died());
    let second = pool
        .submit(worker_pid, ())
        .result_timeout(PATIENCE)
        .unwrap();
    assert_ne!(first, second, "a replacement started");
    let pids: Vec<u32> = pool
        .map(worker_pid, (0..5).map(|_| ()))
        .map(Result::unwrap)
        .collect();
    assert_eq!(pids, [second; 5]);
    assert!(
        CALLS.load(Ordering::Relaxed) > before,
        "the subscriber was called"
    );
    assert!(pool.shutdown_timeout(PATIENCE, false), "every driver ends");
    let _ = std::fs::remove_file(&marker);
}

#[test]
#[cfg_attr(miri, ignore)]
fn recycled_and_timed_out_workers_are_replaced() {
    install();
    let pool = ProcessPool::builder()
        .workers(1)
        .max_tasks_per_child(1)
        .task_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let first = pool
        .submit(worker_pid, ())
        .result_timeout(PATIENCE)
        .unwrap();
    let second = pool
        .submit(worker_pid, ())
        .result_timeout(PATIENCE)
        .unwrap();
    assert_ne!(first, second);
    let timed_out = pool
        .submit(forever, ())
        .result_timeout(PATIENCE)
        .unwrap_err();
    assert!(timed_out.is_timed_out(), "{timed_out:?}");
    assert!(pool.submit(worker_pid, ()).result_timeout(PATIENCE).is_ok());
    assert!(pool.shutdown_timeout(PATIENCE, false), "every driver ends");
}
