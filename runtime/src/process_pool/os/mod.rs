//! Every call the process pool makes into the operating system, behind small types that say
//! nothing of the system: a `Stream` (one end of a worker's channel) and `channel` to make a
//! pair, `spawn` and the `Child` it returns, `send_signal` with a `Signal` through the child's
//! `ProcessHandle`, and what a worker does as it starts (`take_channel`, `arm_parent_death`,
//! the watchdog's `ParentWatch`, `exit_now`), and `parent_id` for the crate's users. Nothing
//! else in the process pool calls the system.
//!
//! One file per family: `unix.rs`, with `linux.rs` for what only Linux has (the parent-death
//! signal, the poll event of a peer's hang-up, `MSG_NOSIGNAL`), `macos.rs` for macOS's
//! equivalents (a kqueue watch of the parent, `SO_NOSIGPIPE`), and plain Unix stand-ins
//! elsewhere; `windows.rs` (a named pipe, a kill-on-close Job Object, a wait on the parent's
//! process handle).

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "macos")]
mod macos;
#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows;

#[cfg(unix)]
pub(crate) use self::unix::{
    arm_parent_death, channel, exit_now, parent_id, send_signal, spawn, take_channel, Child,
    ParentWatch, ProcessHandle, Stream, CHILD_CHANNEL,
};
#[cfg(windows)]
pub(crate) use self::windows::{
    arm_parent_death, channel, exit_now, parent_id, send_signal, spawn, take_channel, Child,
    ParentWatch, ProcessHandle, Stream, CHILD_CHANNEL,
};

/// A signal that stops a worker process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Asks it to end (`SIGTERM` on Unix); a worker that handles it may take its time. On
    /// Windows, which has no such request for a console program, it ends it at once.
    Terminate,
    /// Ends it at once, which it cannot refuse (`SIGKILL` on Unix, `TerminateProcess` on
    /// Windows).
    Kill,
}
