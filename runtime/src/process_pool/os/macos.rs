//! What macOS has in place of Linux's: a kqueue watch of the parent process (`EVFILT_PROC`,
//! `NOTE_EXIT`) instead of a parent-death signal, and `SO_NOSIGPIPE` on each socket instead
//! of `MSG_NOSIGNAL` on each send. `unix.rs` uses these through the same names as
//! `linux.rs`'s. Compiled and linted here for macOS, not run: this machine cannot.

use std::os::fd::RawFd;

/// The hang-up that `poll` reports for a socket whose peer is gone.
pub(super) const HANG_UP: libc::c_short = libc::POLLHUP;

/// The least POSIX allows (`_XOPEN_IOV_MAX`); a frame is three slices at most.
pub(super) const MAX_IOV: usize = 16;

/// The flags of each `sendmsg`: none, since `SO_NOSIGPIPE` is set on the socket
/// (`prepare_socket`).
pub(super) const SEND_FLAGS: libc::c_int = 0;

/// The flags of each `recvmsg`: none (macOS has no `MSG_CMSG_CLOEXEC`; it never receives
/// descriptors, since large payloads go through the channel there).
pub(super) const RECV_FLAGS: libc::c_int = 0;

/// Keeps a write to a socket whose peer died from raising `SIGPIPE` (it fails with `EPIPE`).
pub(super) fn prepare_socket(fd: RawFd) -> std::io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: `setsockopt` reads `size_of::<c_int>()` bytes from a valid `c_int` that outlives
    // the call; `fd` is a socket this process owns.
    let set = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_NOSIGPIPE,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if set == -1 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Ends this worker as soon as its parent (the pool's process) exits: a thread waits on a
/// kqueue for the parent's `NOTE_EXIT`. A parent already gone makes the registration fail
/// (`ESRCH`), and the worker leaves at once. (`unix::parent_id`'s check, run after this,
/// covers a parent replaced before we looked.)
pub(super) fn arm_parent_death() {
    // SAFETY: `kqueue` takes no arguments and returns a new descriptor or -1.
    let queue = unsafe { libc::kqueue() };
    if queue == -1 {
        return; // the watchdog on the channel still ends an orphaned worker
    }
    let parent = std::os::unix::process::parent_id();
    // Built by value and passed by pointer: `kevent` is a packed struct, whose fields must
    // not be borrowed.
    let watch = libc::kevent {
        ident: parent as libc::uintptr_t,
        filter: libc::EVFILT_PROC,
        flags: libc::EV_ADD | libc::EV_ONESHOT,
        fflags: libc::NOTE_EXIT,
        data: 0,
        udata: std::ptr::null_mut(),
    };
    // SAFETY: one valid change record, read by the call; no event buffer (0 events).
    let added =
        unsafe { libc::kevent(queue, &watch, 1, std::ptr::null_mut(), 0, std::ptr::null()) };
    if added == -1 {
        // ESRCH: the parent is gone already.
        super::unix::exit_now(0);
    }
    let _ = std::thread::Builder::new()
        .name("parallel-parent-watch".into())
        .spawn(move || loop {
            let mut event = std::mem::MaybeUninit::<libc::kevent>::uninit();
            // SAFETY: no change records; room for one event, which the call writes into
            // `event` before returning a count of 1.
            let got = unsafe {
                libc::kevent(
                    queue,
                    std::ptr::null(),
                    0,
                    event.as_mut_ptr(),
                    1,
                    std::ptr::null(),
                )
            };
            if got == 1 {
                super::unix::exit_now(0);
            }
        });
}
