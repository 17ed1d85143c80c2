//! A worker rank: serves the root's tasks until the root says `STOP`. In a program the crate
//! took over (`launch.rs`) this runs inside the constructor, before `main`, which a worker
//! rank never reaches; in the manual mode, inside `MpiPool::comm_executor`.
//!
//! The rank blocks in MPI's receive between tasks and runs them one at a time, in the order
//! they came: the root keeps several in flight, queued in MPI's buffers, so the rank never
//! waits for the root between two tasks.

use std::collections::HashMap;

use super::comm::{self, Comm, TO_ROOT, TO_WORKER};
use super::wire::{self, Answer, Request, Task};
use crate::process_pool::registry::{self, Ran};

/// The largest receive buffer a rank keeps between tasks (as a process worker does).
const KEEP: usize = 64 << 20;

/// Serves tasks from `root` on `comm` until it says `STOP`.
pub(crate) fn serve(comm: &Comm, root: i32) {
    let pid = std::process::id();
    // Each initializer this rank has run, and how that went: an initializer runs once per
    // rank, before the first task of a pool that names it.
    let mut initialized: HashMap<String, Result<(), String>> = HashMap::new();
    let mut bytes = Vec::new();
    loop {
        let first = comm.wait_from(root, TO_WORKER);
        if let Err(problem) = wire::receive_into(comm, first, TO_WORKER, &mut bytes) {
            fatal(&problem);
        }
        let reply = match wire::request(&bytes) {
            Ok(Request::Stop) => return,
            Ok(Request::Task(id, task)) => {
                let init = task
                    .initializer
                    .or((task.call == registry::Call::Init).then_some(task.name));
                let ready = init.map(|name| {
                    initialized
                        .entry(name.to_owned())
                        .or_insert_with(|| registry::initialize(name))
                        .clone()
                });
                match ready {
                    Some(Err(message)) => wire::answer(id, pid, Answer::Broken(&message)),
                    _ => answer(id, pid, &task),
                }
            }
            Err(problem) => fatal(problem),
        };
        wire::send_now(comm, &reply, root, TO_ROOT);
        if bytes.capacity() > KEEP {
            bytes = Vec::new();
        }
    }
}

/// Runs `task` (its pool's initializer, if any, has run) and builds the reply.
fn answer(id: u64, pid: u32, task: &Task<'_>) -> Vec<u8> {
    if task.call == registry::Call::Init {
        return wire::answer(id, pid, Answer::Done(Vec::new()));
    }
    match registry::run(task.name, task.call, task.input) {
        Ran::Done(output) => wire::answer(id, pid, Answer::Done(output)),
        Ran::Codec(message) => wire::answer(id, pid, Answer::Codec(&message)),
        Ran::Unknown => wire::answer(id, pid, Answer::Unknown(task.name)),
        Ran::Panicked(message, location) => wire::answer(
            id,
            pid,
            Answer::Panicked {
                message: &message,
                location: location.as_deref(),
            },
        ),
    }
}

/// Ends the job: this rank cannot follow the root any more.
fn fatal(problem: &str) -> ! {
    eprintln!("parallel: an MPI worker rank got {problem}; ending the job");
    comm::abort(70)
}
