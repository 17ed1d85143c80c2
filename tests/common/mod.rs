//! Helpers shared by the behaviour tests: a latch that tasks wait on, futures made with it,
//! and (`process`) worker processes watched alike on Unix and Windows.
#![allow(dead_code)] // each test file uses some of these

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use parallel::{Future, ThreadPool};

pub mod parked;
pub mod process;

/// Long enough that only a broken runtime reaches it; tests never wait it out.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A latch that tasks wait on until the test opens it.
#[derive(Clone, Default)]
pub struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    pub fn open(&self) {
        *self.0 .0.lock().unwrap() = true;
        self.0 .1.notify_all();
    }

    pub fn wait(&self) {
        let (open, cond) = &*self.0;
        let (_open, timeout) = cond
            .wait_timeout_while(open.lock().unwrap(), PATIENCE, |open| !*open)
            .unwrap();
        assert!(!timeout.timed_out(), "the test never opened the gate");
    }
}

/// A task that returns `value` once `gate` opens.
pub fn gated<T: Send + 'static>(pool: &ThreadPool, gate: &Gate, value: T) -> Future<T> {
    let gate = gate.clone();
    pool.submit(move || {
        gate.wait();
        value
    })
}

/// A future that is done with `value`.
pub fn finished<T: Send + 'static>(pool: &ThreadPool, value: T) -> Future<T> {
    let future = pool.submit(move || value);
    future.wait();
    future
}
