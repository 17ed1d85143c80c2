//! Starting a worker process: the program's own executable again, with the child end of a
//! socket pair as its only channel, and stdout and stderr shared with the pool's process.

use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::wire::Channel;
use super::worker::{CHANNEL_FD, ENV};
use crate::error::WorkerExit;
use crate::sync::lock;

/// A running worker process and the pool's end of its channel.
pub(crate) struct Worker {
    child: Child,
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
/// Invariant: `pid` is `Some` only while the process has not been reaped, so the id still
/// names this worker (a process's id is not reused before it is reaped). The driver clears it
/// under the lock before reaping (`Worker::reap`), and signals are sent under the same lock.
#[derive(Debug)]
pub(crate) struct Signaller {
    pid: Mutex<Option<u32>>,
    /// Set when the worker was killed to stop one task (`Future::kill`): whatever else the
    /// worker was running died for that task's sake, not its own.
    killed_for_task: AtomicBool,
}

impl Signaller {
    /// Kills the worker to stop the task it runs (see `killed_for_task`).
    pub(crate) fn kill_for_task(&self) {
        self.killed_for_task.store(true, Ordering::Release);
        self.signal(libc::SIGKILL);
    }

    /// Whether the worker was killed to stop a task.
    pub(crate) fn was_killed_for_task(&self) -> bool {
        self.killed_for_task.load(Ordering::Acquire)
    }

    /// Sends `signal` to the worker if it has not been reaped yet.
    pub(crate) fn signal(&self, signal: i32) {
        let pid = lock(&self.pid);
        if let Some(pid) = *pid {
            let Ok(pid) = libc::pid_t::try_from(pid) else {
                return;
            };
            // SAFETY: `kill` has no memory-safety preconditions; `pid` names our own child,
            // not yet reaped (the invariant above, kept while we hold the lock).
            unsafe { libc::kill(pid, signal) };
        }
    }

    /// Stops all further signals: called before the process is reaped.
    fn disarm(&self) {
        *lock(&self.pid) = None;
    }
}

/// What a new worker needs to know.
pub(crate) struct Launch<'a> {
    pub(crate) max_frame: usize,
    pub(crate) initializer: Option<&'a str>,
}

impl Worker {
    /// Starts a worker. Call from a thread that lives as long as the worker: on Linux the
    /// worker is killed when the thread that started it ends (`PR_SET_PDEATHSIG`, which the
    /// worker arms as it starts).
    pub(crate) fn spawn(launch: &Launch<'_>) -> io::Result<Self> {
        let (ours, theirs) = UnixStream::pair()?;
        let parent = std::process::id();
        let spec = format!(
            "{CHANNEL_FD},{parent},{},{}",
            launch.max_frame,
            launch.initializer.unwrap_or("")
        );
        let mut command = Command::new(executable()?);
        // The worker's end of the channel goes in as its standard input: the spawn places it
        // on descriptor 0 of this child only, while both ends stay close-on-exec here, so no
        // other child of the program inherits it. The worker moves it elsewhere and puts
        // `/dev/null` on its standard input before any other code runs (`worker.rs`).
        //
        // Nothing runs in the child between fork and exec, so the standard library starts it
        // with `posix_spawn`, which does not copy the pool's page tables as `fork` does: with
        // a `pre_exec` hook, starting a worker took 35 µs more for each MB the program had
        // in memory (70 ms for a 2 GB program).
        command
            .env(ENV, spec)
            .stdin(Stdio::from(OwnedFd::from(theirs)));
        let child = command.spawn()?;
        drop(command); // closes this process's copy of the worker's end
        let signaller = Arc::new(Signaller {
            pid: Mutex::new(Some(child.id())),
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
        let _ = self.child.kill();
    }

    /// Waits for the worker to end and says how it ended.
    pub(crate) fn reap(&mut self) -> WorkerExit {
        self.signaller.disarm();
        let status = self.child.wait();
        self.reaped = true;
        match status {
            Ok(status) => match (status.code(), status.signal()) {
                (Some(code), _) => WorkerExit::Code(code),
                (None, Some(signal)) => WorkerExit::Signal(signal),
                (None, None) => WorkerExit::Code(-1),
            },
            Err(_) => WorkerExit::Code(-1),
        }
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

/// The path of the running program.
fn executable() -> io::Result<PathBuf> {
    std::env::current_exe()
}
