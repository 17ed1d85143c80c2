//! `Worker`: the pool's handle on one worker process (the program's own executable again,
//! with the worker's end of a new channel as its only channel, and stdout and stderr shared
//! with the pool's process), and its `Signaller`, through which other threads reach it.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::child;
use super::initializer::Initializer;
use super::os::{self, Signal};
use super::registry::Call;
use super::wire::{Channel, Outgoing, Start, Task};
use crate::error::WorkerExit;
use crate::sync::lock;

/// A running worker process and the pool's end of its channel.
pub(crate) struct Worker {
    child: os::Child,
    pub(crate) channel: Channel,
    /// How other threads reach the process (to kill a task, or all workers), until it is
    /// reaped.
    pub(crate) signaller: Arc<Signaller>,
    reaped: bool,
}

/// Lets threads other than a worker's driver send the worker a signal (`Future::kill`,
/// `ProcessPool::terminate_workers`), without ever signalling a process that merely reuses
/// its id.
///
/// Invariant: `process` is `Some` only while the process has not been reaped, so it still
/// names this worker (on Unix it is the process id, which is not reused before the process is
/// reaped; on Windows a process handle). The driver clears it under the lock before reaping
/// (`Worker::reap`), and signals are sent under the same lock.
#[derive(Debug)]
pub(crate) struct Signaller {
    process: Mutex<Option<os::ProcessHandle>>,
    /// Set when the worker was killed to stop one task (`Future::kill`): whatever else the
    /// worker was running died for that task's sake, not its own.
    killed_for_task: AtomicBool,
}

impl Signaller {
    /// Kills the worker to stop the task it runs (see `killed_for_task`).
    pub(crate) fn kill_for_task(&self) {
        self.killed_for_task.store(true, Ordering::Release);
        self.signal(Signal::Kill);
    }

    /// Whether the worker was killed to stop a task.
    pub(crate) fn was_killed_for_task(&self) -> bool {
        self.killed_for_task.load(Ordering::Acquire)
    }

    /// Sends `signal` to the worker if it has not been reaped yet.
    pub(crate) fn signal(&self, signal: Signal) {
        let process = lock(&self.process);
        if let Some(process) = &*process {
            // `process` names our own child, not yet reaped: the invariant above, kept while
            // we hold the lock.
            os::send_signal(process, signal);
        }
    }

    /// Stops all further signals: called before the process is reaped.
    fn disarm(&self) {
        *lock(&self.process) = None;
    }
}

/// What a new worker needs to know.
pub(crate) struct Launch<'a> {
    pub(crate) max_frame: usize,
    pub(crate) initializer: Option<&'a Initializer>,
}

impl Worker {
    /// Starts a worker and waits for its `READY`; an error says why the pool cannot have
    /// workers. Call from a thread that lives as long as the worker: on Linux the worker is
    /// killed when the thread that started it ends (the parent-death signal, which the
    /// worker arms as it starts).
    pub(crate) fn start(launch: &Launch<'_>) -> Result<Self, String> {
        let mut worker = Self::spawn(launch).map_err(|error| error.to_string())?;
        if let Some(Initializer::Call { name, input }) = launch.initializer {
            let task = Task {
                call: Call::One,
                name,
                input,
            };
            let outgoing = Outgoing { task, memory: None };
            // The worker waits for this frame before anything else: if it cannot go, stop the
            // worker rather than wait for a `READY` that would never come.
            if let Err(error) = worker.channel.send_task(0, &outgoing) {
                worker.kill();
                let exit = worker.reap();
                return Err(format!(
                    "could not send the initializer to a worker process (it {exit}): {error}"
                ));
            }
        }
        match worker.channel.recv_start() {
            Start::Ready => Ok(worker),
            Start::InitFailed(message) => {
                worker.reap();
                Err(format!("a worker's initializer failed: {message}"))
            }
            Start::Garbage => {
                worker.kill();
                worker.reap();
                Err("a worker process sent garbage while starting".to_owned())
            }
            Start::Ended => {
                let exit = worker.reap();
                Err(format!("a worker process {exit} while starting"))
            }
        }
    }

    /// Starts the process, with its end of a new channel.
    fn spawn(launch: &Launch<'_>) -> io::Result<Self> {
        let (ours, theirs) = os::channel()?;
        let spec = child::spec(launch.max_frame, launch.initializer);
        let program = std::env::current_exe()?;
        let starting = crate::exit::starting_a_process();
        let mut child = os::spawn(&program, (child::ENV, &spec), theirs)?;
        drop(starting);
        let process = match child.handle() {
            Ok(process) => process,
            Err(error) => {
                child.kill();
                child.wait();
                return Err(error);
            }
        };
        let signaller = Arc::new(Signaller {
            process: Mutex::new(Some(process)),
            killed_for_task: AtomicBool::new(false),
        });
        Ok(Self {
            child,
            channel: Channel::new(ours, launch.max_frame),
            signaller,
            reaped: false,
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the worker (it may be in the middle of a task).
    pub(crate) fn kill(&mut self) {
        self.child.kill();
    }

    /// Waits for the worker to end and says how it ended.
    pub(crate) fn reap(&mut self) -> WorkerExit {
        self.signaller.disarm();
        let exit = self.child.wait();
        self.reaped = true;
        exit
    }

    /// Lets an idle worker finish: it reads the end of the channel and exits.
    pub(crate) fn retire(&mut self) {
        self.channel.close();
        self.reap();
    }
}

impl Drop for Worker {
    /// A worker is never left running or unreaped: one not retired or reaped by then is
    /// killed and reaped here.
    fn drop(&mut self) {
        if !self.reaped {
            self.kill();
            self.reap();
        }
    }
}
