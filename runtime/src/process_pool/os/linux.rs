//! What only Linux has: a parent-death signal, a poll event for a peer that closed its end,
//! and the kernel's own limit on the slices of one vectored write. `unix.rs` has the plain
//! Unix stand-ins for other systems.

/// The poll event of a peer closing its end, which Linux reports apart from data.
pub(super) const HANG_UP: libc::c_short = libc::POLLRDHUP;

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
