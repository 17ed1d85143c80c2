//! What the runtime tells `tracing` (feature `tracing`): a span per task, on thread and
//! process pools, and events for the lives of workers. Without the feature, `off.rs` stands
//! in: the same names, empty and inlined, so nothing of it is built and the call sites need
//! no `cfg`.
//!
//! | what | level | target | name or message | fields |
//! |---|---|---|---|---|
//! | a task | DEBUG | `parallel::task` | span `task` | `kind` (`threads`, `processes` or `mpi`), `pool`, `function`, `task` |
//! | a thread map's batch | DEBUG | `parallel::task` | span `batch` | the same, and `items` |
//! | a process map's batch | DEBUG | `parallel::task` | span `batch` | the same as a task |
//! | a worker thread starts | DEBUG | `parallel::worker` | `worker started` | `kind`, `pool`, `thread` |
//! | a worker process starts | DEBUG | `parallel::worker` | `worker started` | `kind`, `pool`, `slot`, `pid` |
//! | it replaces one | INFO | `parallel::worker` | `worker replaced` | the same, `previous`, `reason` |
//! | it dies (crash, exit, kill from outside) | WARN | `parallel::worker` | `worker died` | `kind`, `pool`, `slot`, `pid`, `exit` |
//! | its pool kills it (deadline, `Future::kill`, garbage, `kill_workers`) | INFO | `parallel::worker` | `worker killed` | `kind`, `pool`, `slot`, `pid`, `reason` |
//! | it is recycled (`max_tasks_per_child`) | DEBUG | `parallel::worker` | `worker recycled` | `kind`, `pool`, `slot`, `pid`, `tasks` |
//! | it leaves when idle (`idle_timeout`) | DEBUG | `parallel::worker` | `idle worker let go` | `kind`, `pool`, `slot`, `pid` |
//! | it retires at shutdown | DEBUG | `parallel::worker` | `worker retired` | `kind`, `pool`, `slot`, `pid` |
//! | it cannot start: the pool breaks | ERROR | `parallel::worker` | `worker could not start` | `kind`, `pool`, `slot`, `reason` |
//!
//! `pool` is the pool's id (unique among the pools of the program), `task` a task's id
//! (unique in the program), `slot` the index of the worker's place in its pool, `pid` its
//! process id. A task's span is made where the task is submitted, so its parent is the
//! submitter's current span; a thread task runs inside it, and a process task's span is
//! entered by its driver thread while it sends the task and finishes it, so the death of the
//! worker running it is an event inside the task's span. Worker processes record nothing:
//! they never run `main`, where a program installs its subscriber.
//!
//! A subscriber is the program's code running on the runtime's threads, so each call into
//! `tracing` is made under `catch_unwind` (`on::quietly`): a subscriber that panics loses
//! that span or event, never a driver or a worker thread, and never leaves a future
//! unfinished; the first such panic is reported on stderr. (`tracing` itself does not
//! catch.) A span is also left while its task's panic unwinds; a second panic caught inside
//! that destructor is allowed (only one escaping it aborts), and the task's panic keeps its
//! location (`panic::catch_aside`).

#[cfg(feature = "tracing")]
mod on;
#[cfg(feature = "tracing")]
pub(crate) use self::on::*;

#[cfg(not(feature = "tracing"))]
mod off;
#[cfg(not(feature = "tracing"))]
pub(crate) use self::off::*;
