//! Which part this process plays in an MPI job, decided once before `main` by the crate's
//! constructor (`process_pool/child.rs` calls `enter` when the process is no process-pool
//! worker), and the end of the job at exit.
//!
//! In this order:
//! 1. a process-pool worker (`PARALLEL_WORKER`) never gets here: it takes no part in MPI;
//! 2. the manual mode (`PARALLEL_MPI=manual`, or `parallel::mpi_manual_mode!()` in the
//!    program, which the linker gathers into `MANUAL`, visible before any code runs): the
//!    program initialises MPI itself and calls `MpiPool::comm_executor`;
//! 3. no launcher's rank variable (`OMPI_COMM_WORLD_RANK` from OpenMPI's `mpirun`,
//!    `PMIX_RANK` from PMIx launchers: OpenMPI 5, `srun --mpi=pmix`; `PMI_RANK` from MPICH's
//!    Hydra, Intel MPI, MS-MPI, `srun --mpi=pmi2`; never `SLURM_PROCID`, which every `srun`
//!    task has, MPI or not): no MPI, and `mpi` work runs on local worker processes;
//! 4. otherwise `MPI_Init_thread(MPI_THREAD_SERIALIZED)`: ranks other than 0 serve tasks
//!    here and exit, never returning to the program's start-up; rank 0 returns to `main`
//!    keeping the MPI handle, and at exit (`finish_job`, after every pool was waited for)
//!    stops the worker ranks and calls `MPI_Finalize`.

use std::sync::{Arc, Mutex, OnceLock};

use mpi::environment::Universe;
use mpi::Threading;

use super::comm::{self, Comm, TO_WORKER};
use super::driver::{Engine, Mode};
use super::{wire, worker};
use crate::sync::lock;

/// What this process is in an MPI job.
pub(crate) enum Role {
    /// No launcher started it (or it is a process-pool worker): `mpi` work runs locally.
    Alone,
    /// The program drives MPI itself and calls `MpiPool::comm_executor`.
    Manual,
    /// Rank 0 of a job the crate took over, with `workers` worker ranks (1 to `size - 1`).
    Root { workers: usize },
    /// A worker rank (whose tasks run inside the constructor).
    Worker,
    /// A launcher started it but MPI could not serve: why.
    Unusable(String),
}

/// Set once, by the constructor (`enter`); `Alone` if it never ran `enter`.
static ROLE: OnceLock<Role> = OnceLock::new();

/// This process's rank in the job the crate took over.
static RANK: OnceLock<usize> = OnceLock::new();

/// This process's rank, if it is a rank of a job the crate took over.
pub(crate) fn rank() -> Option<usize> {
    RANK.get().copied()
}

/// Rank 0's handle on MPI, dropped (`MPI_Finalize`) at exit, on the thread running the exit
/// handler.
static UNIVERSE: Mutex<Option<Universe>> = Mutex::new(None);

/// The root's engine: started on first use, stopped at exit (or by the manual mode's pool).
static ENGINE: Mutex<Slot> = Mutex::new(Slot::Idle);

enum Slot {
    Idle,
    Running(Arc<Engine>),
    /// Stopped: MPI may be finalised; nothing may start an engine again.
    Ended,
}

/// The launchers' rank variables (see the module's docs).
const RANK_VARIABLES: [&str; 3] = ["OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"];

/// This process's role.
pub(crate) fn role() -> &'static Role {
    ROLE.get().unwrap_or(&Role::Alone)
}

/// Decides the role, before `main` (single-threaded): a worker rank serves here and exits.
pub(crate) fn enter() {
    let manual =
        !super::MANUAL.is_empty() || std::env::var_os(super::ENV).is_some_and(|v| v == "manual");
    let role = if manual {
        Role::Manual
    } else if RANK_VARIABLES
        .iter()
        .all(|name| std::env::var_os(name).is_none())
    {
        Role::Alone
    } else {
        take_over()
    };
    let _ = ROLE.set(role);
}

/// Initialises MPI; a worker rank serves and exits; rank 0 keeps the handle.
fn take_over() -> Role {
    let Some((universe, threading)) = mpi::initialize_with_threading(Threading::Serialized) else {
        return Role::Unusable("MPI was initialised before `parallel` could".to_owned());
    };
    let world = Comm::world();
    let (rank, size) = (world.rank(), world.size());
    let _ = RANK.set(usize::try_from(rank).unwrap_or(0));
    if rank != 0 {
        if threading < Threading::Serialized {
            comm::abort(71); // rank 0 reports it; no rank can serve
        }
        let _ = ROLE.set(Role::Worker);
        worker::serve(&world, 0);
        drop(universe); // MPI_Finalize
        std::process::exit(0);
    }
    *lock(&UNIVERSE) = Some(universe);
    crate::exit::register_last(finish_job);
    if threading < Threading::Serialized {
        return Role::Unusable(format!(
            "this MPI grants only {threading:?} threading, and `parallel` needs MPI_THREAD_SERIALIZED"
        ));
    }
    Role::Root {
        workers: usize::try_from(size - 1).unwrap_or(0),
    }
}

/// The root's engine, started on first use; `None` once the job has ended.
pub(crate) fn engine() -> Result<Arc<Engine>, String> {
    let mut slot = lock(&ENGINE);
    match &*slot {
        Slot::Running(engine) => Ok(Arc::clone(engine)),
        Slot::Ended => Err("the MPI job has ended (the program is exiting)".to_owned()),
        Slot::Idle => {
            let ranks = match role() {
                Role::Root { workers } => (1..=*workers as i32).collect(),
                _ => return Err("this process is not the root of an MPI job".to_owned()),
            };
            let engine = Engine::start(Mode::Owned, ranks).map_err(|error| error.to_string())?;
            *slot = Slot::Running(Arc::clone(&engine));
            Ok(engine)
        }
    }
}

/// The manual mode's engine, on the root: started by `MpiPool::comm_executor`.
pub(crate) fn start_manual(ranks: Vec<i32>) -> Result<Arc<Engine>, String> {
    let mut slot = lock(&ENGINE);
    if !matches!(*slot, Slot::Idle) {
        return Err("`MpiPool::comm_executor` was called before in this program".to_owned());
    }
    let engine = Engine::start(Mode::Shared, ranks).map_err(|error| error.to_string())?;
    *slot = Slot::Running(Arc::clone(&engine));
    crate::exit::register_last(end_engine);
    Ok(engine)
}

/// The manual mode's engine, if it is running.
pub(crate) fn running() -> Option<Arc<Engine>> {
    match &*lock(&ENGINE) {
        Slot::Running(engine) => Some(Arc::clone(engine)),
        _ => None,
    }
}

/// Stops the engine, if one runs (waiting for the tasks in flight and telling every worker
/// rank to stop), and marks the job ended. Returns whether an engine ran.
pub(crate) fn end_engine_now() -> bool {
    let slot = std::mem::replace(&mut *lock(&ENGINE), Slot::Ended);
    match slot {
        Slot::Running(engine) => {
            engine.stop();
            true
        }
        _ => false,
    }
}

fn end_engine() {
    end_engine_now();
}

/// At exit, on rank 0 of a job the crate took over: stop the worker ranks (through the engine
/// if it started, else from here, the only thread that used MPI), then `MPI_Finalize`.
///
/// The exit handler runs on the thread that ends the program: the main thread when `main`
/// returns, which is the thread that initialised MPI, as the standard asks. If another thread
/// calls `std::process::exit`, this runs there; OpenMPI and MPICH finalise from any thread of
/// a `MPI_THREAD_SERIALIZED` program (not from the driver's own thread: a done-callback that
/// calls `exit` leaves the job to the launcher, which reports rank 0 ended unfinalised).
fn finish_job() {
    if running().is_some_and(|engine| engine.is_driver_thread()) {
        return;
    }
    if !end_engine_now() {
        if let Role::Root { workers } = role() {
            let world = Comm::world();
            let stop = wire::stop();
            for rank in 1..=*workers as i32 {
                world.send(&stop, rank, TO_WORKER);
            }
        }
    }
    drop(lock(&UNIVERSE).take());
}
