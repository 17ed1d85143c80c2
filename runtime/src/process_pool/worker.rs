//! The worker side: a program started by a process pool enters worker mode before `main`,
//! runs the tasks the pool sends, and exits when the pool closes the channel or goes away.

use std::os::fd::FromRawFd;
use std::os::unix::net::UnixStream;

use super::registry::{find, Call};
use super::wire::{self, kind, Channel, Frame, RecvError, TaskPayload};
use crate::panic;

/// The environment variable that tells a starting program it is a worker, and how to reach
/// its pool: `fd,parent_pid,max_frame,initializer` (see `Worker::spawn`).
pub(crate) const ENV: &str = "PARALLEL_WORKER";

/// Where a worker finds its end of the channel as it starts: its standard input.
pub(crate) const CHANNEL_FD: i32 = 0;

/// Exit codes of a worker that stops on its own.
pub(crate) mod exit {
    /// The pool closed the channel: normal end.
    pub(crate) const DONE: i32 = 0;
    /// The worker's environment was malformed.
    pub(crate) const BAD_SPEC: i32 = 101;
    /// The channel broke or carried a frame that makes no sense.
    pub(crate) const BAD_CHANNEL: i32 = 102;
    /// The initializer failed (the pool was told why).
    pub(crate) const INIT_FAILED: i32 = 103;
}

// Runs in every program that links this crate, before `main`. Anything but a worker returns
// at once; a worker never returns.
//
// SAFETY: this runs before `main`, where the standard library's runtime is only partly set
// up. It reads and removes one environment variable (single-threaded at this point, so the
// removal races with nothing), and, in a worker, runs the worker loop to completion and
// exits without returning to the program's start-up code.
#[ctor::ctor(unsafe)]
fn enter_worker_mode() {
    let Some(spec) = std::env::var_os(ENV) else {
        return;
    };
    // A worker's own pools start workers of their own, which must not mistake themselves for
    // this worker's siblings.
    std::env::remove_var(ENV);
    let code = match spec.to_str().and_then(Spec::parse) {
        Some(spec) => run(spec),
        None => exit::BAD_SPEC,
    };
    std::process::exit(code);
}

/// What the pool told the worker through `ENV`.
struct Spec {
    fd: i32,
    parent: u32,
    max_frame: usize,
    initializer: Option<String>,
}

impl Spec {
    fn parse(text: &str) -> Option<Self> {
        let mut parts = text.splitn(4, ',');
        Some(Self {
            fd: parts.next()?.parse().ok()?,
            parent: parts.next()?.parse().ok()?,
            max_frame: parts.next()?.parse().ok()?,
            initializer: parts
                .next()
                .filter(|name| !name.is_empty())
                .map(str::to_owned),
        })
    }
}

/// The worker: watch the parent, initialize, then serve tasks until the channel closes.
fn run(spec: Spec) -> i32 {
    arm_parent_death_signal();
    let Ok(fd) = take_channel(spec.fd) else {
        return exit::BAD_CHANNEL;
    };
    // SAFETY: `take_channel` returned a descriptor of its own making, a duplicate of the
    // channel that the pool created for this process alone; nothing else owns it.
    let stream = unsafe { UnixStream::from_raw_fd(fd) };
    watch_parent(fd, spec.parent);
    let mut channel = Channel::new(stream, spec.max_frame);
    if let Some(name) = &spec.initializer {
        if let Err(message) = initialize(name) {
            let _ = channel.send(kind::INIT_FAILED, 0, &[message.as_bytes()]);
            return exit::INIT_FAILED;
        }
    }
    if channel.send(kind::READY, 0, &[]).is_err() {
        return exit::BAD_CHANNEL;
    }
    loop {
        match channel.recv(None) {
            Ok(frame) if frame.kind == kind::TASK => {
                if reply(&mut channel, &frame).is_err() {
                    return exit::BAD_CHANNEL;
                }
                channel.recycle(frame.payload);
            }
            Err(RecvError::Closed) => return exit::DONE,
            Ok(_) | Err(_) => return exit::BAD_CHANNEL,
        }
    }
}

/// Runs one task and sends its reply.
fn reply(channel: &mut Channel, frame: &Frame) -> std::io::Result<()> {
    let Some(task) = TaskPayload::parse(&frame.payload) else {
        return channel.send(kind::CODEC, frame.id, &[b"the task frame is malformed"]);
    };
    let call = match task.call {
        0 => Call::One,
        1 => Call::Batch,
        _ => {
            return channel.send(
                kind::CODEC,
                frame.id,
                &[b"the task asks for an unknown kind of call"],
            )
        }
    };
    let Some(entry) = find(task.name) else {
        return channel.send(kind::UNKNOWN, frame.id, &[task.name.as_bytes()]);
    };
    // Under `panic::catch_parts`, a panic prints nothing: its message and location go back
    // to the pool in the reply.
    match panic::catch_parts(|| (entry.run)(call, task.input)) {
        // The channel would refuse the frame, and the worker would end on the error.
        Ok(Ok(output)) if output.len() > channel.max_frame() => {
            let message = format!(
                "the result takes {} bytes, over the pool's frame limit of {} bytes",
                output.len(),
                channel.max_frame()
            );
            channel.send(kind::CODEC, frame.id, &[message.as_bytes()])
        }
        Ok(Ok(output)) => channel.send(kind::DONE, frame.id, &[&output]),
        Ok(Err(message)) => channel.send(kind::CODEC, frame.id, &[message.as_bytes()]),
        Err((message, location)) => {
            let payload = wire::panicked(&message, location.as_deref());
            channel.send(kind::PANICKED, frame.id, &[&payload])
        }
    }
}

/// On Linux, has the kernel kill this worker when the pool's thread that started it ends.
/// (`watch_parent` then checks that the pool did not die before this.)
fn arm_parent_death_signal() {
    #[cfg(target_os = "linux")]
    // SAFETY: `prctl(PR_SET_PDEATHSIG, signal)` only sets this process's parent-death
    // signal; it touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
}

/// Moves the channel from `fd` (standard input, where the pool put it) to a new
/// close-on-exec descriptor, and puts `/dev/null` on standard input in its place, so the
/// worker's code reads nothing from stdin, as before, and cannot read the channel.
fn take_channel(fd: i32) -> std::io::Result<i32> {
    let error = std::io::Error::last_os_error;
    // SAFETY: `fcntl(F_DUPFD_CLOEXEC)` duplicates a descriptor; no memory is involved.
    let channel = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if channel == -1 {
        return Err(error());
    }
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
    Ok(channel)
}

/// Runs the initializer registered as `name`.
fn initialize(name: &str) -> Result<(), String> {
    let entry = find(name).ok_or_else(|| format!("no initializer is registered as `{name}`"))?;
    match panic::catch_parts(|| (entry.run)(Call::Init, &[])) {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(message)) => Err(message),
        Err((message, location)) => {
            let at = location.map(|at| format!(" at {at}")).unwrap_or_default();
            Err(format!("the initializer panicked{at}: {message}"))
        }
    }
}

/// The poll event of a peer closing its end: Linux reports it apart from data; elsewhere the
/// hang-up that `poll` always reports does.
#[cfg(target_os = "linux")]
const HANG_UP: libc::c_short = libc::POLLRDHUP;
#[cfg(not(target_os = "linux"))]
const HANG_UP: libc::c_short = libc::POLLHUP;

/// Makes the worker exit as soon as its pool's process is gone, even in the middle of a task:
/// a thread sleeps until the pool's end of the channel hangs up (the kernel closes it when
/// the pool's process dies) and, if the parent is gone, ends the worker. On Linux the
/// parent-death signal armed at start-up does the same; this also covers other systems.
fn watch_parent(fd: i32, parent: u32) {
    // SAFETY: `getppid` has no preconditions.
    if unsafe { libc::getppid() } as u32 != parent {
        // The pool died before we could watch it.
        std::process::exit(exit::BAD_CHANNEL);
    }
    let _ = std::thread::Builder::new()
        .name("parallel-watchdog".into())
        .spawn(move || loop {
            let mut poll = libc::pollfd {
                fd,
                events: HANG_UP,
                revents: 0,
            };
            // SAFETY: one valid `pollfd`, living across the call; `poll` writes only `revents`.
            let ready = unsafe { libc::poll(&mut poll, 1, -1) };
            if ready > 0 && poll.revents & (HANG_UP | libc::POLLHUP | libc::POLLERR) != 0 {
                // SAFETY: `getppid` has no preconditions.
                if unsafe { libc::getppid() } as u32 == parent {
                    // The pool closed the channel while idle: the main loop ends normally.
                    return;
                }
                // The pool's process is gone: nothing this worker does can reach anyone. Leave at
                // once, without running destructors that might wait on work.
                // SAFETY: `_exit` ends the process; it has no preconditions.
                unsafe { libc::_exit(exit::DONE) };
            }
        });
}
