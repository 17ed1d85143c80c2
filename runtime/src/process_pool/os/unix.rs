//! The process pool on Unix: a worker's channel is a socket pair, a worker a child process
//! started with `posix_spawn` (through std), a signal is `kill`, and a worker watches for its
//! pool's end with `poll`. What only Linux has comes from `linux.rs`, and from `portable`
//! below elsewhere.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

#[cfg(target_os = "linux")]
use super::linux as platform;
#[cfg(target_os = "macos")]
use super::macos as platform;
use super::{SharedMemory, Signal};
use crate::error::WorkerExit;

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
use self::portable as platform;

/// Where a worker finds its end of the channel as it starts: its standard input (`spawn`
/// puts it there).
pub(crate) const CHILD_CHANNEL: i32 = 0;

/// One end of a worker's channel: a Unix stream socket, close-on-exec.
pub(crate) struct Stream(UnixStream);

/// A connected pair of streams: the pool's end, then the worker's. Both are close-on-exec,
/// so no child inherits either unless `spawn` hands it over. Nothing is reachable by path or
/// port: only this process holds the other end.
pub(crate) fn channel() -> io::Result<(Stream, Stream)> {
    let (ours, theirs) = UnixStream::pair()?;
    platform::prepare_socket(ours.as_raw_fd())?;
    platform::prepare_socket(theirs.as_raw_fd())?;
    Ok((Stream(ours), Stream(theirs)))
}

impl Stream {
    /// Reads what has arrived into `buffer`, blocking while nothing has (`Ok(0)` at the end
    /// of the stream), and appends the descriptors that
    /// came with it (`SCM_RIGHTS`, each close-on-exec) to `descriptors`. A message whose
    /// descriptors did not all fit is an error (`InvalidData`): one of them was lost.
    pub(crate) fn read_with(
        &self,
        buffer: &mut [u8],
        descriptors: &mut VecDeque<OwnedFd>,
    ) -> io::Result<usize> {
        // Room for `MAX_DESCRIPTORS` descriptors, aligned for `cmsghdr`.
        let mut control = [0u64; 8];
        let mut iov = libc::iovec {
            iov_base: buffer.as_mut_ptr().cast(),
            iov_len: buffer.len(),
        };
        // SAFETY: an all-zero `msghdr` is valid (no name, no data, no control data).
        let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
        message.msg_iov = &mut iov;
        message.msg_iovlen = 1;
        message.msg_control = control.as_mut_ptr().cast();
        message.msg_controllen = std::mem::size_of_val(&control) as _;
        // SAFETY: `message` points at one `iovec` over `buffer` and at `control`, both valid
        // for writes of their lengths and outliving the call.
        let read = unsafe { libc::recvmsg(self.0.as_raw_fd(), &mut message, platform::RECV_FLAGS) };
        if read < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `recvmsg` filled `message`'s control data (`msg_controllen` bytes of
        // `control`); the `CMSG_*` macros walk exactly those.
        let mut header = unsafe { libc::CMSG_FIRSTHDR(&message) };
        while !header.is_null() {
            // SAFETY: `header` is a complete control message inside `control` (CMSG_NXTHDR).
            let (level, kind, len) = unsafe {
                (
                    (*header).cmsg_level,
                    (*header).cmsg_type,
                    (*header).cmsg_len,
                )
            };
            if level == libc::SOL_SOCKET && kind == libc::SCM_RIGHTS {
                // SAFETY: `CMSG_LEN` is arithmetic; `CMSG_DATA` points inside `header`'s own
                // message, within `control`.
                let (empty, data) = unsafe { (libc::CMSG_LEN(0), libc::CMSG_DATA(header)) };
                // `cmsg_len` is a `usize` on Linux and a `u32` on macOS.
                #[allow(clippy::unnecessary_cast)]
                let count =
                    (len as usize).saturating_sub(empty as usize) / std::mem::size_of::<RawFd>();
                for index in 0..count {
                    // SAFETY: the message carries `count` descriptors, which the kernel just
                    // installed in this process for us alone; the read may be unaligned.
                    let fd = unsafe { data.cast::<RawFd>().add(index).read_unaligned() };
                    // SAFETY: as above: a new descriptor nothing else owns.
                    descriptors.push_back(unsafe { OwnedFd::from_raw_fd(fd) });
                }
            }
            // SAFETY: `header` is within `message`'s control data, as above.
            header = unsafe { libc::CMSG_NXTHDR(&message, header) };
        }
        if message.msg_flags & libc::MSG_CTRUNC != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "a message carried more descriptors than a frame has",
            ));
        }
        Ok(read as usize)
    }

    /// One vectored write of `slices`, like `write_vectored`, with `memory`'s descriptor
    /// attached (`SCM_RIGHTS`) when given: the peer receives its own descriptor of the region.
    pub(crate) fn write_with(
        &self,
        slices: &[IoSlice<'_>],
        memory: Option<&SharedMemory>,
    ) -> io::Result<usize> {
        match memory {
            None => self.write_vectored(slices),
            Some(memory) => self.write_descriptor(slices, memory.descriptor().as_raw_fd()),
        }
    }

    /// The region handed over with a shared frame: the oldest descriptor received (the frame
    /// carries no handover bytes on Unix); `None` if none came, which is a broken stream.
    pub(crate) fn handed_over(
        &self,
        _token: [u8; super::HANDOVER],
        descriptors: &mut VecDeque<OwnedFd>,
    ) -> Option<Result<OwnedFd, String>> {
        descriptors.pop_front().map(Ok)
    }

    /// In tests: a write of `slices` with any descriptor attached, as a broken peer might.
    #[cfg(all(test, target_os = "linux"))]
    pub(crate) fn write_descriptor_for_tests(
        &self,
        slices: &[IoSlice<'_>],
        fd: OwnedFd,
    ) -> io::Result<usize> {
        self.write_descriptor(slices, fd.as_raw_fd())
    }

    /// In tests: the socket's descriptor.
    #[cfg(all(test, target_os = "linux"))]
    pub(crate) fn into_fd(self) -> OwnedFd {
        self.0.into()
    }

    /// One vectored write of `slices` with `fd` attached (`SCM_RIGHTS`); `fd` must be open
    /// for the call.
    fn write_descriptor(&self, slices: &[IoSlice<'_>], fd: RawFd) -> io::Result<usize> {
        let mut control = [0u64; 4];
        // SAFETY: an all-zero `msghdr` is valid (no name, no control data).
        let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
        message.msg_iov = slices.as_ptr() as *mut libc::iovec;
        message.msg_iovlen = slices.len().min(platform::MAX_IOV) as _;
        message.msg_control = control.as_mut_ptr().cast();
        // SAFETY: `CMSG_SPACE` is arithmetic.
        message.msg_controllen =
            unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as _;
        // SAFETY: `control` (32 bytes, aligned for `cmsghdr`) has room for the one header and
        // descriptor that `msg_controllen` announces, so `CMSG_FIRSTHDR` is not null and the
        // writes stay inside it.
        unsafe {
            let header = libc::CMSG_FIRSTHDR(&message);
            (*header).cmsg_level = libc::SOL_SOCKET;
            (*header).cmsg_type = libc::SCM_RIGHTS;
            (*header).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as _;
            libc::CMSG_DATA(header).cast::<RawFd>().write_unaligned(fd);
        }
        // SAFETY: `message` points at `msg_iovlen` valid `iovec`s borrowed from `slices`
        // (`IoSlice` is ABI-compatible with `iovec` on Unix) and at `control`, all outliving
        // the call, which only reads them.
        let sent = unsafe { libc::sendmsg(self.0.as_raw_fd(), &message, platform::SEND_FLAGS) };
        if sent < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(sent as usize)
        }
    }

    /// One vectored write of `slices`; returns how many bytes went. A peer that died makes it
    /// fail with `EPIPE` instead of raising `SIGPIPE`, which would kill the pool's process in
    /// a host that does not ignore it: `MSG_NOSIGNAL` on the send, or on macOS
    /// `SO_NOSIGPIPE` on the socket (`platform::SEND_FLAGS`, `platform::prepare_socket`).
    pub(crate) fn write_vectored(&self, slices: &[IoSlice<'_>]) -> io::Result<usize> {
        // SAFETY: an all-zero `msghdr` is valid (no name, no control data).
        let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
        // `IoSlice` is guaranteed ABI-compatible with `iovec` on Unix.
        message.msg_iov = slices.as_ptr() as *mut libc::iovec;
        message.msg_iovlen = slices.len().min(platform::MAX_IOV) as _;
        // SAFETY: `message` points at `msg_iovlen` valid `iovec`s borrowed from `slices`,
        // which outlive the call; `sendmsg` only reads them.
        let sent = unsafe { libc::sendmsg(self.0.as_raw_fd(), &message, platform::SEND_FLAGS) };
        if sent < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(sent as usize)
        }
    }

    /// Whether the stream is readable (data, end of stream or an error), waiting up to
    /// `timeout` (forever if `None`). `Ok(false)` when the time ran out.
    pub(crate) fn poll_readable(&self, timeout: Option<Duration>) -> io::Result<bool> {
        let mut poll = libc::pollfd {
            fd: self.0.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let millis = match timeout {
            None => -1,
            Some(timeout) => i32::try_from(timeout.as_millis().max(u128::from(!timeout.is_zero())))
                .unwrap_or(i32::MAX),
        };
        // SAFETY: `poll` is given one valid, initialised `pollfd` that outlives the call, and
        // the count 1; it writes only `revents`.
        let ready = unsafe { libc::poll(&mut poll, 1, millis) };
        match ready {
            -1 => Err(io::Error::last_os_error()),
            0 => Ok(false),
            _ => Ok(true),
        }
    }

    /// Closes the sending direction: the peer reads the end of the stream after what was
    /// sent.
    pub(crate) fn close_write(&self) {
        let _ = self.0.shutdown(std::net::Shutdown::Write);
    }

    /// A watch on this stream for its peer's hang-up, for another thread.
    fn hang_up(&self) -> HangUp {
        HangUp(self.0.as_raw_fd())
    }
}

/// A watch on a stream for its peer closing its end (the kernel closes it when the peer's
/// process dies), for a thread other than the stream's reader: a worker's watchdog. Holds
/// the descriptor, which is valid while the stream lives: a worker keeps its channel until
/// it exits.
#[derive(Debug, Clone, Copy)]
struct HangUp(RawFd);

impl HangUp {
    /// Blocks until the peer has closed its end, or the stream broke.
    fn wait(&self) {
        let gone = platform::HANG_UP | libc::POLLHUP | libc::POLLERR;
        loop {
            let mut poll = libc::pollfd {
                fd: self.0,
                events: platform::HANG_UP,
                revents: 0,
            };
            // SAFETY: one valid `pollfd`, living across the call; `poll` writes only `revents`.
            let ready = unsafe { libc::poll(&mut poll, 1, -1) };
            if ready > 0 && poll.revents & gone != 0 {
                return;
            }
        }
    }
}

/// In a worker: a watch on its pool's process, for the watchdog thread. On Unix it sleeps
/// until the pool's end of the channel hangs up (the kernel closes it when the pool's
/// process dies), then asks whether the parent is still the pool.
pub(crate) struct ParentWatch {
    parent: u32,
    hang_up: HangUp,
}

impl ParentWatch {
    /// Watches `parent` through `channel`; `None` if `parent` is no longer this process's
    /// parent (the pool died before we could watch it). Call after `arm_parent_death`, so a
    /// pool that died before the signal was armed is noticed here.
    pub(crate) fn new(parent: u32, channel: &Stream) -> Option<Self> {
        (parent_id() == parent).then(|| Self {
            parent,
            hang_up: channel.hang_up(),
        })
    }

    /// Blocks until the pool's process is gone (`true`), or its channel closed while it
    /// lives (`false`: the pool let the worker go, and the worker's loop ends by itself).
    pub(crate) fn wait(&self) -> bool {
        self.hang_up.wait();
        parent_id() != self.parent
    }
}

/// A worker process.
pub(crate) struct Child(std::process::Child);

/// Starts `program` with `env` (a name and its value) added to its environment and the
/// worker's end of a `channel` as its standard input; its stdout and stderr are this
/// process's own.
pub(crate) fn spawn(program: &Path, env: (&str, &str), channel: Stream) -> io::Result<Child> {
    let mut command = Command::new(program);
    // The worker's end of the channel goes in as its standard input: the spawn places it on
    // descriptor 0 of this child only, while both ends stay close-on-exec here, so no other
    // child of the program inherits it. The worker moves it elsewhere and puts `/dev/null`
    // on its standard input before any other code runs (`take_channel`).
    //
    // Nothing runs in the child between fork and exec, so the standard library starts it
    // with `posix_spawn`, which does not copy the pool's page tables as `fork` does: with a
    // `pre_exec` hook, starting a worker took 35 µs more for each MB the program had in
    // memory (70 ms for a 2 GB program).
    command
        .env(env.0, env.1)
        .stdin(Stdio::from(OwnedFd::from(channel.0)));
    super::remove_launcher_variables(&mut command);
    let child = command.spawn()?;
    drop(command); // closes this process's copy of the worker's end
    Ok(Child(child))
}

impl Child {
    /// The process id.
    pub(crate) fn id(&self) -> u32 {
        self.0.id()
    }

    /// What `send_signal` needs to reach this process from another thread.
    pub(crate) fn handle(&self) -> io::Result<ProcessHandle> {
        Ok(ProcessHandle(self.0.id()))
    }

    /// Kills the process (`SIGKILL`), unless it has been reaped.
    pub(crate) fn kill(&mut self) {
        let _ = self.0.kill();
    }

    /// Waits for the process to end (reaping it) and says how it ended.
    pub(crate) fn wait(&mut self) -> WorkerExit {
        match self.0.wait() {
            Ok(status) => match (status.code(), status.signal()) {
                (Some(code), _) => WorkerExit::Code(code),
                (None, Some(signal)) => WorkerExit::Signal(signal),
                (None, None) => WorkerExit::Code(-1),
            },
            Err(_) => WorkerExit::Code(-1),
        }
    }
}

/// How `send_signal` reaches a child: its process id, which names it only until it is
/// reaped (`Signaller` keeps that).
#[derive(Debug)]
pub(crate) struct ProcessHandle(u32);

/// Sends `signal` to the process `target`. The caller must know that `target` still names
/// its own child, not yet reaped, so that no process that merely reuses the id is signalled
/// (`Signaller` keeps this).
pub(crate) fn send_signal(target: &ProcessHandle, signal: Signal) {
    let Ok(pid) = libc::pid_t::try_from(target.0) else {
        return;
    };
    let number = match signal {
        Signal::Terminate => libc::SIGTERM,
        Signal::Kill => libc::SIGKILL,
    };
    // SAFETY: `kill` has no memory-safety preconditions; that `pid` names our own child, not
    // yet reaped, is our caller's to keep (see above).
    unsafe { libc::kill(pid, number) };
}

/// In a starting worker: moves the channel from `fd` (standard input, where `spawn` put it)
/// to a new close-on-exec descriptor, and puts `/dev/null` on standard input in its place, so
/// the worker's code reads nothing from stdin, as before, and cannot read the channel.
pub(crate) fn take_channel(fd: i32) -> io::Result<Stream> {
    let error = io::Error::last_os_error;
    // SAFETY: `fcntl(F_DUPFD_CLOEXEC)` duplicates a descriptor; no memory is involved.
    let channel = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if channel == -1 {
        return Err(error());
    }
    // SAFETY: `fcntl` just made `channel`, a duplicate of the channel that the pool created
    // for this process alone; nothing else owns it.
    let channel = unsafe { OwnedFd::from_raw_fd(channel) };
    // SAFETY: the path is a valid NUL-terminated string that outlives the call.
    let null = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if null == -1 {
        return Err(error());
    }
    // SAFETY: `dup2` and `close` act on descriptors only: `null` is ours, and `fd` now has a
    // duplicate (`channel`), so replacing it loses nothing.
    unsafe {
        let moved = libc::dup2(null, fd);
        libc::close(null);
        if moved == -1 {
            return Err(error());
        }
    }
    Ok(Stream(UnixStream::from(channel)))
}

/// In a starting worker: has the system end it when its pool's process dies, where the
/// system can (Linux's parent-death signal). Make the `ParentWatch` after this: a pool that
/// died before is noticed that way.
pub(crate) fn arm_parent_death() {
    platform::arm_parent_death();
}

/// The id of this process's parent.
pub(crate) fn parent_id() -> u32 {
    std::os::unix::process::parent_id()
}

/// Ends this process at once, with `code`, running no destructor and no exit handler.
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` ends the process; it has no preconditions.
    unsafe { libc::_exit(code) }
}

/// The plain Unix stand-ins for what `linux.rs` and `macos.rs` have.
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
mod portable {
    /// The hang-up that `poll` always reports.
    pub(super) const HANG_UP: libc::c_short = libc::POLLHUP;

    /// The least POSIX allows (`_XOPEN_IOV_MAX`); a frame is three slices at most.
    pub(super) const MAX_IOV: usize = 16;

    /// The flags of each `sendmsg`.
    pub(super) const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;

    /// The flags of each `recvmsg`: received descriptors are close-on-exec.
    pub(super) const RECV_FLAGS: libc::c_int = libc::MSG_CMSG_CLOEXEC;

    /// Nothing to set: `SEND_FLAGS` keeps a dead peer from raising `SIGPIPE`.
    pub(super) fn prepare_socket(_fd: std::os::fd::RawFd) -> std::io::Result<()> {
        Ok(())
    }

    /// No parent-death signal: the watchdog alone ends a worker whose pool died.
    pub(super) fn arm_parent_death() {}
}
