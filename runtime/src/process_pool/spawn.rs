//! Starting a worker process: the program's own executable again, with the child end of a
//! socket pair as its only channel, the parent-death signal set, and stdout and stderr shared
//! with the pool's process.

use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use super::wire::Channel;
use super::worker::ENV;
use crate::error::WorkerExit;

/// A running worker process and the pool's end of its channel.
pub(crate) struct Worker {
    child: Child,
    pub(crate) channel: Channel,
    reaped: bool,
}

/// What a new worker needs to know.
pub(crate) struct Launch<'a> {
    pub(crate) max_frame: usize,
    pub(crate) initializer: Option<&'a str>,
}

impl Worker {
    /// Starts a worker. Call from a thread that lives as long as the worker: on Linux the
    /// worker is killed when the thread that started it ends (`PR_SET_PDEATHSIG`).
    pub(crate) fn spawn(launch: &Launch<'_>) -> io::Result<Self> {
        let (ours, theirs) = UnixStream::pair()?;
        let fd = theirs.as_raw_fd();
        let parent = std::process::id();
        let spec = format!(
            "{fd},{parent},{},{}",
            launch.max_frame,
            launch.initializer.unwrap_or("")
        );
        let mut command = Command::new(executable()?);
        command.env(ENV, spec).stdin(Stdio::null());
        // SAFETY: the closure runs in the child between `fork` and `exec`, where only
        // async-signal-safe calls are allowed: it calls `fcntl`, `prctl` and `getppid`, and
        // builds an `io::Error` from `errno` without allocating. It touches no memory that
        // another thread could be changing.
        unsafe {
            command.pre_exec(move || {
                // Both ends were created close-on-exec, so no other child of this process can
                // inherit them; only this child, and only its end, keeps it across `exec`.
                if libc::fcntl(fd, libc::F_SETFD, 0) == -1 {
                    return Err(io::Error::last_os_error());
                }
                #[cfg(target_os = "linux")]
                {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                        return Err(io::Error::last_os_error());
                    }
                }
                // The pool's process may have died before the signal was armed.
                if libc::getppid() as u32 != parent {
                    return Err(io::Error::other("the pool's process is gone"));
                }
                Ok(())
            });
        }
        let child = command.spawn()?;
        drop(theirs);
        Ok(Self {
            child,
            channel: Channel::new(ours, launch.max_frame),
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
