//! What only Linux has: a parent-death signal, a poll event for a peer that closed its end,
//! and the kernel's own limit on the slices of one vectored write. `unix.rs` has the plain
//! Unix stand-ins for other systems.

/// The poll event of a peer closing its end, which Linux reports apart from data.
pub(super) const HANG_UP: libc::c_short = libc::POLLRDHUP;

/// The flags of each `sendmsg`: a peer that died fails the send with `EPIPE` rather than
/// raising `SIGPIPE`.
pub(super) const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;

/// Nothing to set on a new socket: `SEND_FLAGS` does the work.
pub(super) fn prepare_socket(_fd: std::os::fd::RawFd) -> std::io::Result<()> {
    Ok(())
}

/// The most slices one `sendmsg` takes.
pub(super) const MAX_IOV: usize = libc::UIO_MAXIOV as usize;

/// Has the kernel kill this process (a worker) when the thread that started it ends, which
/// is the pool's driver thread, living as long as the pool's process.
pub(super) fn arm_parent_death() {
    // SAFETY: `prctl(PR_SET_PDEATHSIG, signal)` only sets this process's parent-death
    // signal; it touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
}
