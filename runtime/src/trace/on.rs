//! The runtime's spans and events, through `tracing` (the table is in `mod.rs`). Every call
//! into the subscriber goes through `quietly`.

use std::fmt::Display;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tracing::field::Empty;
use tracing::Span;

use crate::error::WorkerExit;
use crate::panic;

/// The target of task spans.
const TASK: &str = "parallel::task";
/// The target of worker events.
const WORKER: &str = "parallel::worker";
/// The `kind` of a process pool's events.
const PROCESSES: &str = "processes";

/// Runs `f`, which calls the subscriber, turning a panic in it into `None`: a subscriber's
/// panic must not end a runtime thread, and the span or event it was given is simply lost.
/// The first such panic in the program is reported on stderr, the others are not (one per
/// event would flood it). `panic::catch_aside` keeps the location of a task's own panic
/// that may be unwinding meanwhile.
fn quietly<R>(f: impl FnOnce() -> R) -> Option<R> {
    static REPORTED: AtomicBool = AtomicBool::new(false);
    match panic::catch_aside(f) {
        Ok(value) => Some(value),
        Err((message, location)) => {
            if !REPORTED.swap(true, Ordering::Relaxed) {
                let at = location.map(|at| format!(" at {at}")).unwrap_or_default();
                eprintln!(
                    "parallel: a `tracing` subscriber panicked{at} (this span or event is \
                     lost, and later panics of subscribers are not reported): {message}"
                );
            }
            None
        }
    }
}

/// A new task id, unique in the program. Called inside the span macros, which evaluate a
/// field only when the subscriber wants the span, so a program with no interested
/// subscriber takes no id.
fn next_task() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A task's span (`None` if the subscriber panicked making it). Closed, quietly, when dropped.
pub(crate) struct TaskSpan(Option<Span>);

/// A `TaskSpan` entered on this thread until dropped (exited quietly).
pub(crate) struct Entered<'a>(Option<tracing::span::Entered<'a>>);

impl TaskSpan {
    /// The span of a task of thread pool `pool` that calls `function` (a type name).
    pub(crate) fn thread(pool: usize, function: &'static str) -> Self {
        Self(quietly(|| {
            tracing::debug_span!(
                target: TASK, "task", kind = "threads", pool, function, task = next_task()
            )
        }))
    }

    /// The span of a thread map's batch of `items` items.
    pub(crate) fn thread_batch(pool: usize, function: &'static str, items: usize) -> Self {
        Self(quietly(|| {
            tracing::debug_span!(
                target: TASK, "batch", kind = "threads", pool, function, items,
                task = next_task()
            )
        }))
    }

    /// The span of a process task calling the registered `function` (a map's batch if
    /// `batch`); its pool is recorded when it is queued (`set_pool`).
    pub(crate) fn process(function: &'static str, batch: bool) -> Self {
        Self(quietly(|| {
            if batch {
                tracing::debug_span!(
                    target: TASK, "batch", kind = Empty, pool = Empty, function,
                    task = next_task()
                )
            } else {
                tracing::debug_span!(
                    target: TASK, "task", kind = Empty, pool = Empty, function,
                    task = next_task()
                )
            }
        }))
    }

    /// Records the pool the task was queued on, and its kind.
    pub(crate) fn set_pool(&self, pool: usize, kind: &'static str) {
        if let Some(span) = &self.0 {
            quietly(|| {
                span.record("pool", pool);
                span.record("kind", kind);
            });
        }
    }

    /// Enters the span on this thread until the guard is dropped.
    pub(crate) fn enter(&self) -> Entered<'_> {
        Entered(self.0.as_ref().and_then(|span| quietly(|| span.enter())))
    }
}

impl Drop for TaskSpan {
    fn drop(&mut self) {
        if let Some(span) = self.0.take() {
            quietly(move || drop(span));
        }
    }
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        if let Some(entered) = self.0.take() {
            // Also while a task's panic unwinds (see `mod.rs`).
            quietly(move || drop(entered));
        }
    }
}

/// `f`, run inside `span`, which closes when `f` has run (or is dropped unrun).
pub(crate) fn in_span<T>(span: TaskSpan, f: impl FnOnce() -> T) -> impl FnOnce() -> T {
    move || {
        let _entered = span.enter();
        f()
    }
}

/// Called on the new worker thread.
pub(crate) fn thread_started(pool: usize) {
    quietly(|| {
        let thread = std::thread::current();
        let thread = thread.name().unwrap_or_default();
        tracing::debug!(target: WORKER, kind = "threads", pool, thread, "worker started")
    });
}

pub(crate) fn worker_started(pool: usize, slot: usize, pid: u32) {
    quietly(
        || tracing::debug!(target: WORKER, kind = PROCESSES, pool, slot, pid, "worker started"),
    );
}

pub(crate) fn worker_replaced(pool: usize, slot: usize, pid: u32, previous: u32, why: &str) {
    quietly(|| {
        tracing::info!(
            target: WORKER, kind = PROCESSES, pool, slot, pid, previous, reason = why,
            "worker replaced"
        )
    });
}

pub(crate) fn worker_died(pool: usize, slot: usize, pid: u32, exit: &WorkerExit) {
    quietly(|| {
        tracing::warn!(
            target: WORKER, kind = PROCESSES, pool, slot, pid, exit = %exit, "worker died"
        )
    });
}

/// `reason`: the error its running task got, or why all workers were stopped.
pub(crate) fn worker_killed(pool: usize, slot: usize, pid: u32, reason: &dyn Display) {
    quietly(|| {
        tracing::info!(
            target: WORKER, kind = PROCESSES, pool, slot, pid, reason = %reason, "worker killed"
        )
    });
}

pub(crate) fn worker_recycled(pool: usize, slot: usize, pid: u32, tasks: usize) {
    quietly(|| {
        tracing::debug!(
            target: WORKER, kind = PROCESSES, pool, slot, pid, tasks, "worker recycled"
        )
    });
}

pub(crate) fn worker_idle(pool: usize, slot: usize, pid: u32) {
    quietly(
        || tracing::debug!(target: WORKER, kind = PROCESSES, pool, slot, pid, "idle worker let go"),
    );
}

pub(crate) fn worker_retired(pool: usize, slot: usize, pid: u32) {
    quietly(
        || tracing::debug!(target: WORKER, kind = PROCESSES, pool, slot, pid, "worker retired"),
    );
}

pub(crate) fn worker_failed(pool: usize, slot: usize, reason: &str) {
    quietly(|| {
        tracing::error!(
            target: WORKER, kind = PROCESSES, pool, slot, reason, "worker could not start"
        )
    });
}
