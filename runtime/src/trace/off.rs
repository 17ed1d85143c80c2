//! The stand-ins of `on.rs` without the feature `tracing`: empty, inlined, and of no size.

use std::fmt::Display;

use crate::error::WorkerExit;

/// A task's span: nothing.
pub(crate) struct TaskSpan;

/// An entered span: nothing.
pub(crate) struct Entered;

impl TaskSpan {
    #[inline(always)]
    pub(crate) fn thread(_pool: usize, _function: &'static str) -> Self {
        Self
    }

    #[inline(always)]
    pub(crate) fn thread_batch(_pool: usize, _function: &'static str, _items: usize) -> Self {
        Self
    }

    #[inline(always)]
    pub(crate) fn process(_function: &'static str, _batch: bool) -> Self {
        Self
    }

    #[inline(always)]
    pub(crate) fn set_pool(&self, _pool: usize, _kind: &'static str) {}

    #[inline(always)]
    pub(crate) fn enter(&self) -> Entered {
        Entered
    }
}

/// `f` itself.
#[inline(always)]
pub(crate) fn in_span<F>(_span: TaskSpan, f: F) -> F {
    f
}

#[inline(always)]
pub(crate) fn thread_started(_pool: usize) {}

#[inline(always)]
pub(crate) fn worker_started(_pool: usize, _slot: usize, _pid: u32) {}

#[inline(always)]
pub(crate) fn worker_replaced(_pool: usize, _slot: usize, _pid: u32, _previous: u32, _why: &str) {}

#[inline(always)]
pub(crate) fn worker_died(_pool: usize, _slot: usize, _pid: u32, _exit: &WorkerExit) {}

#[inline(always)]
pub(crate) fn worker_killed(_pool: usize, _slot: usize, _pid: u32, _reason: &dyn Display) {}

#[inline(always)]
pub(crate) fn worker_recycled(_pool: usize, _slot: usize, _pid: u32, _tasks: usize) {}

#[inline(always)]
pub(crate) fn worker_idle(_pool: usize, _slot: usize, _pid: u32) {}

#[inline(always)]
pub(crate) fn worker_retired(_pool: usize, _slot: usize, _pid: u32) {}

#[inline(always)]
pub(crate) fn worker_failed(_pool: usize, _slot: usize, _reason: &str) {}
