//! The worker process's side: a program started by a process pool enters worker mode before
//! `main` (`enter_worker_mode`), runs the tasks the pool sends, and exits when the pool closes
//! the channel or goes away (its watchdog). Also how the pool tells a program it is a
//! worker: the `ENV` variable and its `spec`.

use std::io;

use super::initializer::Initializer;
use super::os::{self, ParentWatch};
use super::registry::{self, Ran};
use super::wire::{Answer, Channel, Frame, RecvError};

/// The environment variable that tells a starting program it is a worker, and how to reach
/// its pool: `fd,parent_pid,max_frame,initializer` (see `spec`).
pub(crate) const ENV: &str = "PARALLEL_WORKER";

/// Exit codes of a worker that stops on its own.
mod exit {
    /// The pool closed the channel: normal end.
    pub(super) const DONE: i32 = 0;
    /// The worker's environment was malformed.
    pub(super) const BAD_SPEC: i32 = 101;
    /// The channel broke or carried a frame that makes no sense.
    pub(super) const BAD_CHANNEL: i32 = 102;
    /// The initializer failed (the pool was told why).
    pub(super) const INIT_FAILED: i32 = 103;
}

/// What the initializer field of `ENV` holds for an initializer that comes as the worker's
/// first frame (`Initializer::Call`). No registered name is this: names are module paths.
const SENT: &str = "@";

/// The value of `ENV` for a worker of this process: where it finds its channel, this
/// process's id, the frame limit, and the initializer to run (empty for none; a registered
/// initializer's name; or `SENT`).
pub(crate) fn spec(max_frame: usize, initializer: Option<&Initializer>) -> String {
    let parent = std::process::id();
    let channel = os::CHILD_CHANNEL;
    let initializer = match initializer {
        None => "",
        Some(Initializer::Named(name)) => name,
        Some(Initializer::Call { .. }) => SENT,
    };
    format!("{channel},{parent},{max_frame},{initializer}")
}

// Runs in every program that links this crate, before `main`. Anything but a worker returns
// at once (with the `mpi` feature, after deciding the program's part in an MPI job:
// `mpi_pool/launch.rs`); a worker never returns.
//
// SAFETY: this runs before `main`, where the standard library's runtime is only partly set
// up. It reads and removes one environment variable (single-threaded at this point, so the
// removal races with nothing), and, in a worker (or an MPI worker rank), runs the worker loop
// to completion and exits without returning to the program's start-up code.
#[ctor::ctor(unsafe)]
fn enter_worker_mode() {
    let Some(spec) = std::env::var_os(ENV) else {
        // A process worker never takes part in MPI; anything else may be a rank of a job.
        #[cfg(all(feature = "mpi", target_os = "linux"))]
        crate::mpi_pool::launch::enter();
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
    initializer: Option<Init>,
}

/// The initializer a worker runs, as `ENV` says.
enum Init {
    /// A `fn()` registered as an initializer under this name.
    Named(String),
    /// A registered function and its arguments, in the first frame (`SENT`).
    Sent,
}

impl Spec {
    fn parse(text: &str) -> Option<Self> {
        let mut parts = text.splitn(4, ',');
        Some(Self {
            fd: parts.next()?.parse().ok()?,
            parent: parts.next()?.parse().ok()?,
            max_frame: parts.next()?.parse().ok()?,
            initializer: match parts.next()? {
                "" => None,
                SENT => Some(Init::Sent),
                name => Some(Init::Named(name.to_owned())),
            },
        })
    }
}

/// The worker: watch the parent, initialize, then serve tasks until the channel closes.
fn run(spec: Spec) -> i32 {
    os::arm_parent_death();
    let Ok(stream) = os::take_channel(spec.fd) else {
        return exit::BAD_CHANNEL;
    };
    let mut channel = Channel::new(stream, spec.max_frame);
    watch_parent(channel.watch_parent(spec.parent));
    let initialized = match &spec.initializer {
        None => Ok(()),
        Some(Init::Named(name)) => registry::initialize(name),
        Some(Init::Sent) => match channel.recv_task() {
            Ok(frame) => initialize_sent(&frame),
            Err(_) => return exit::BAD_CHANNEL,
        },
    };
    if let Err(message) = initialized {
        let _ = channel.send_init_failed(&message);
        return exit::INIT_FAILED;
    }
    if channel.send_ready().is_err() {
        return exit::BAD_CHANNEL;
    }
    loop {
        match channel.recv_task() {
            Ok(frame) => {
                if reply(&mut channel, &frame).is_err() {
                    return exit::BAD_CHANNEL;
                }
                channel.recycle(frame);
            }
            Err(RecvError::Closed) => return exit::DONE,
            Err(_) => return exit::BAD_CHANNEL,
        }
    }
}

/// Runs the initializer that came as the worker's first frame (a registered function called
/// with its arguments); `Err` says why it failed.
fn initialize_sent(frame: &Frame) -> Result<(), String> {
    let task = frame.task()?;
    match registry::run(task.name, task.call, task.input) {
        Ran::Done(_) => Ok(()),
        Ran::Codec(message) => Err(message),
        Ran::Unknown => Err(format!(
            "no `#[parallel(processes)]` function is registered as `{}`",
            task.name
        )),
        Ran::Panicked(message, location) => {
            let at = location.map(|at| format!(" at {at}")).unwrap_or_default();
            Err(format!("the initializer panicked{at}: {message}"))
        }
    }
}

/// Runs one task and sends its answer.
fn reply(channel: &mut Channel, frame: &Frame) -> io::Result<()> {
    let task = match frame.task() {
        Ok(task) => task,
        Err(problem) => return channel.send_answer(frame.id, Answer::Codec(&problem)),
    };
    match registry::run(task.name, task.call, task.input) {
        // The channel would refuse the frame, and the worker would end on the error.
        Ran::Done(output) if output.len() > channel.max_frame() => {
            let message = format!(
                "the result takes {} bytes, over the pool's frame limit of {} bytes",
                output.len(),
                channel.max_frame()
            );
            channel.send_answer(frame.id, Answer::Codec(&message))
        }
        Ran::Done(output) => {
            let sent = channel.send_answer(frame.id, Answer::Done(&output));
            registry::recycle_output(output);
            sent
        }
        Ran::Codec(message) => channel.send_answer(frame.id, Answer::Codec(&message)),
        Ran::Unknown => channel.send_answer(frame.id, Answer::Unknown(task.name)),
        Ran::Panicked(message, location) => {
            let location = location.as_deref();
            channel.send_answer(
                frame.id,
                Answer::Panicked {
                    message: &message,
                    location,
                },
            )
        }
    }
}

/// Makes the worker exit as soon as its pool's process is gone, even in the middle of a task:
/// a thread sleeps on the `ParentWatch` (on Unix until the pool's end of the channel hangs
/// up, which the system does when the pool's process dies; on Windows on the pool's process
/// handle) and, if the parent is gone, ends the worker. The system's own means (Linux's
/// parent-death signal, Windows' kill-on-close Job Object) do the same; this also covers
/// other systems, and a pool that died before those were in place.
fn watch_parent(watch: Option<ParentWatch>) {
    let Some(watch) = watch else {
        // The pool died before we could watch it.
        std::process::exit(exit::BAD_CHANNEL);
    };
    let _ = std::thread::Builder::new()
        .name("parallel-watchdog".into())
        .spawn(move || {
            if !watch.wait() {
                // The pool closed the channel while idle: the main loop ends normally.
                return;
            }
            // The pool's process is gone: nothing this worker does can reach anyone. Leave at
            // once, without running destructors that might wait on work.
            os::exit_now(exit::DONE);
        });
}
