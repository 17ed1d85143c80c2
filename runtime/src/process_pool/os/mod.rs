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
//! process handle, unnamed sections for large payloads). `SharedMemory` is a sealed memfd on
//! Linux, an unnamed section on Windows, and a stand-in that cannot be made on macOS.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "macos")]
mod macos;
#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows;

#[cfg(target_os = "linux")]
pub(crate) use self::linux::SharedMemory;
#[cfg(not(any(target_os = "linux", windows)))]
pub(crate) use self::stand_in::SharedMemory;
#[cfg(unix)]
pub(crate) use self::unix::{
    arm_parent_death, channel, exit_now, parent_id, send_signal, spawn, take_channel, Child,
    ParentWatch, ProcessHandle, Stream, CHILD_CHANNEL,
};
#[cfg(windows)]
pub(crate) use self::windows::SharedMemory;
#[cfg(windows)]
pub(crate) use self::windows::{
    arm_parent_death, channel, exit_now, parent_id, send_signal, spawn, take_channel, Child,
    ParentWatch, ProcessHandle, Stream, CHILD_CHANNEL,
};
#[cfg(unix)]
pub(crate) use std::os::fd::OwnedFd as Descriptor;
#[cfg(windows)]
pub(crate) use std::os::windows::io::OwnedHandle as Descriptor;

/// Whether large payloads travel in shared memory here (`SharedMemory`: a sealed memfd on
/// Linux, an unnamed section on Windows); elsewhere (macOS, which cannot be run where this is
/// built and tested) they go through the channel, whatever their size.
pub(crate) const HAS_SHARED_MEMORY: bool = cfg!(any(target_os = "linux", windows));

/// How many bytes of a shared frame hand its region over (`SharedMemory::handover`, taken
/// by `Stream::handed_over`): none on Unix, where the descriptor travels beside the frame
/// (`SCM_RIGHTS`); on Windows, whose pipes carry no handles, the sender's handle value (a
/// `u64`), which the receiver takes from the sender's process.
pub(crate) const HANDOVER: usize = if cfg!(windows) { 8 } else { 0 };

/// Where shared memory is not built yet (macOS): a `SharedMemory` that cannot be made or
/// opened, so that the rest of the pool compiles the same everywhere and sends every payload
/// through the channel (`HAS_SHARED_MEMORY` is `false`).
#[cfg(not(any(target_os = "linux", windows)))]
mod stand_in {
    use std::convert::Infallible;
    use std::io;

    use super::Descriptor;

    /// Never made: every method is unreachable.
    #[derive(Debug)]
    pub(crate) struct SharedMemory(Infallible);

    impl SharedMemory {
        pub(crate) fn create(_len: usize) -> io::Result<Self> {
            Err(io::ErrorKind::Unsupported.into())
        }

        pub(crate) fn open(_fd: Descriptor, _len: usize) -> Result<Self, String> {
            Err("this system's pools send no shared memory".to_owned())
        }

        pub(crate) fn len(&self) -> usize {
            match self.0 {}
        }

        pub(crate) fn identity(&self) -> Option<(u64, u64)> {
            match self.0 {}
        }

        pub(crate) fn descriptor(&self) -> std::os::fd::BorrowedFd<'_> {
            match self.0 {}
        }

        pub(crate) fn handover(&self) -> [u8; super::HANDOVER] {
            match self.0 {}
        }

        pub(crate) fn bytes(&self) -> &[u8] {
            match self.0 {}
        }

        pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
            match self.0 {}
        }
    }
}

/// The device and inode of the file behind a received descriptor (`None` if it has none, and
/// always on Windows: see `SharedMemory::identity`): how a channel knows a region it has
/// mapped already.
pub(crate) fn identity(descriptor: &Descriptor) -> Option<(u64, u64)> {
    #[cfg(target_os = "linux")]
    return self::linux::identity(std::os::fd::AsFd::as_fd(descriptor));
    #[cfg(not(target_os = "linux"))]
    {
        let _ = descriptor;
        None
    }
}

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

/// Keeps an MPI launcher's variables from a worker about to start. In a rank of an MPI job
/// they would make the worker take itself for a rank too, and its MPI start-up (its own, or a
/// library's) dies on them ("orte_init failed"). A worker is no rank: it never sees them.
#[cfg(unix)]
fn remove_launcher_variables(command: &mut std::process::Command) {
    for (name, _) in std::env::vars_os() {
        if is_launcher_variable(&name) {
            command.env_remove(name);
        }
    }
}

/// Whether the environment variable `name` is an MPI launcher's (see
/// `remove_launcher_variables`).
fn is_launcher_variable(name: &std::ffi::OsStr) -> bool {
    ["OMPI_", "PMIX_", "PMI_"]
        .iter()
        .any(|prefix| name.as_encoded_bytes().starts_with(prefix.as_bytes()))
}
