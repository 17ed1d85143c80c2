//! The `mpi` backend: `#[parallel(mpi)]`, `pmap!(..; mpi)` and `MpiPool`.
//!
//! Run under an MPI launcher, each test binary is one job (rank 0 runs the harness, the other
//! ranks serve before `main`), through cargo's target runner, scoped to this target:
//!
//! ```text
//! CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER="mpirun -n 3 --oversubscribe" \
//!     cargo test --features mpi --test mpi
//! ```
//!
//! Under plain `cargo test` the same tests run on the local fallback (worker processes).
//! Some tests start this binary again as a child in a role (`ROLE`): without a launcher (the
//! fallback and its notice), or as a job of its own under `mpirun` (the manual mode, a dead
//! worker rank, messages split in parts).
#![cfg(all(feature = "mpi", target_os = "linux"))]

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parallel::{as_completed, parallel, pmap, MpiPool, TaskError, ThreadPool, Waitable};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Long enough that only a broken runtime reaches it; tests never wait it out.
const PATIENCE: Duration = Duration::from_secs(120);

/// The role a child run of this binary plays (see the module's docs).
const ROLE: &str = "PARALLEL_MPI_TEST_ROLE";

#[parallel(mpi)]
fn square(x: u64) -> u64 {
    x * x
}

/// Where the task ran: this job's rank, or the local process.
#[parallel(mpi)]
fn whereabouts() -> (Option<usize>, u32) {
    (MpiPool::current_rank(), std::process::id())
}

fn triple(x: u64) -> u64 {
    3 * x
}

/// Whether this test binary is rank 0 of an MPI job (else: the fallback).
fn under_mpi() -> bool {
    MpiPool::current_rank() == Some(0)
}

#[test]
fn submit_and_result() {
    assert_eq!(square(7).result_timeout(PATIENCE), Ok(49));
    let pool = MpiPool::world();
    assert_eq!(pool.submit(square, (12,)).result_timeout(PATIENCE), Ok(144));
    assert_eq!(pool.is_local(), !under_mpi());
    if under_mpi() {
        assert_eq!(pool.num_workers(), 2);
        let (rank, pid) = whereabouts().result_timeout(PATIENCE).unwrap();
        assert!(matches!(rank, Some(1 | 2)), "ran on worker rank {rank:?}");
        assert_ne!(pid, std::process::id());
    }
}

#[test]
fn ordered_pmap_keeps_input_order() {
    let expected: Vec<u64> = (0..2000).map(|x| x * x).collect();
    let got: Vec<u64> = pmap!(square, 0..2000).map(Result::unwrap).collect();
    assert_eq!(got, expected, "a #[parallel(mpi)] function on its own pool");
    let got: Vec<u64> = pmap!(triple, 0..500; mpi).map(Result::unwrap).collect();
    assert_eq!(
        got,
        (0..500).map(triple).collect::<Vec<_>>(),
        "a plain function"
    );
    let got: Vec<u64> = pmap!(|x: u64| x + 1, 0..100; mpi, chunksize = 7, timeout = "100s")
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        got,
        (1..101).collect::<Vec<_>>(),
        "a closure, fixed batches"
    );
}

#[test]
fn unordered_pmap_yields_every_item() {
    let mut got: Vec<u64> = pmap!(triple, 0..1000; mpi, ordered = false, chunksize = 10)
        .map(Result::unwrap)
        .collect();
    got.sort_unstable();
    assert_eq!(got, (0..1000).map(triple).collect::<Vec<_>>());
}

#[cfg(feature = "progress")]
#[test]
fn progress_counts_the_items_of_an_mpi_map() {
    let mut tripled = pmap!(triple, 0..300; mpi, chunksize = 25, progress);
    let first: Vec<u64> = tripled.by_ref().take(100).map(Result::unwrap).collect();
    assert_eq!(first, (0..100).map(triple).collect::<Vec<_>>());
    assert_eq!(
        tripled.position(),
        100,
        "one step per item, though batches hold 25"
    );
    assert_eq!(tripled.count(), 200);
}

#[test]
fn several_iterables_are_zipped() {
    let got: Vec<u64> = pmap!(|a: u64, b: u64| a * b, 0..50, 100..; mpi)
        .map(Result::unwrap)
        .collect();
    assert_eq!(got, (0..50).map(|a| a * (a + 100)).collect::<Vec<_>>());
}

#[test]
fn pool_map_and_spread_over_the_ranks() {
    let pool = MpiPool::world();
    let options = parallel::MapOptions::new().chunksize(1);
    let expected = if under_mpi() {
        BTreeSet::from([Some(1), Some(2)])
    } else {
        BTreeSet::from([None])
    };
    // Other tests run at the same time and may keep a rank busy for a while: map again until
    // every rank has been seen.
    let started = Instant::now();
    let mut ranks = BTreeSet::new();
    while ranks != expected && started.elapsed() < PATIENCE {
        ranks.extend(
            pool.map_with(whereabouts, (0..40).map(|_| ()), options)
                .map(|result| result.unwrap().0),
        );
    }
    assert_eq!(ranks, expected, "every worker rank ran tasks");
}

#[parallel(mpi)]
fn nap(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

#[test]
fn as_completed_mixes_mpi_and_thread_futures() {
    let threads = ThreadPool::new();
    let (go, wait_for_go) = std::sync::mpsc::channel::<()>();
    let thread_future = threads.submit(move || wait_for_go.recv().map(|()| 7u64).unwrap_or(0));
    let mpi_future = nap(10);
    let futures: [&dyn Waitable; 2] = [&mpi_future, &thread_future];
    let mut order = Vec::new();
    for future in as_completed(futures) {
        let is_mpi = std::ptr::eq(
            future as *const dyn Waitable as *const (),
            &mpi_future as *const _ as *const (),
        );
        order.push(if is_mpi { "mpi" } else { "thread" });
        if is_mpi {
            go.send(()).unwrap(); // the thread task finishes only after the MPI one
        }
    }
    assert_eq!(order, ["mpi", "thread"]);
    assert_eq!(mpi_future.result(), Ok(10));
    assert_eq!(thread_future.result(), Ok(7));
}

#[parallel(mpi)]
fn explode(message: String) -> u32 {
    panic!("{message}")
}

#[test]
fn a_panic_fails_that_task_only() {
    let error = explode("no such file".into())
        .result_timeout(PATIENCE)
        .unwrap_err();
    assert_eq!(error.panic_message(), Some("no such file"));
    assert!(matches!(
        error,
        TaskError::Panicked {
            location: Some(_),
            process: Some(_),
            ..
        }
    ));
    assert_eq!(
        square(3).result_timeout(PATIENCE),
        Ok(9),
        "the rank serves on"
    );
    let results: Vec<_> =
        pmap!(|x: u64| if x == 3 { panic!("three") } else { x }, 0..6; mpi, chunksize = 2)
            .collect();
    assert_eq!(
        results[3].as_ref().unwrap_err().panic_message(),
        Some("three")
    );
    assert_eq!(results[4], Ok(4), "a batch's other items still come back");
}

/// Decodes from nothing, but its `Serialize` fails, so it cannot come back from a worker.
#[derive(Debug)]
struct Unencodable;

impl Serialize for Unencodable {
    fn serialize<S: Serializer>(&self, _serializer: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("a field that cannot be written"))
    }
}

impl<'de> Deserialize<'de> for Unencodable {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <()>::deserialize(deserializer).map(|()| Unencodable)
    }
}

#[parallel(mpi)]
fn make_unencodable() -> Unencodable {
    Unencodable
}

#[parallel(mpi)]
fn take_unencodable(_value: Unencodable) -> u32 {
    unreachable!("the argument never leaves rank 0")
}

#[test]
fn a_codec_failure_fails_that_task_only() {
    let error = make_unencodable().result_timeout(PATIENCE).unwrap_err();
    assert!(error.is_codec(), "{error}");
    assert!(error
        .to_string()
        .contains("could not encode the result: a field that cannot be written"));
    let error = take_unencodable(Unencodable)
        .result_timeout(PATIENCE)
        .unwrap_err();
    assert!(
        error.to_string().contains("could not encode the arguments"),
        "{error}"
    );
    assert_eq!(square(4).result_timeout(PATIENCE), Ok(16));
}

static INITIALIZED: AtomicUsize = AtomicUsize::new(0);

fn setup() {
    INITIALIZED.fetch_add(1, Ordering::SeqCst);
}

/// How many times `setup` ran where this runs, and where that is.
#[parallel(mpi, initializer = setup)]
fn setups() -> (usize, Option<usize>) {
    (INITIALIZED.load(Ordering::SeqCst), MpiPool::current_rank())
}

/// How many times `setup` ran where this runs (a function of another pool, which has no
/// initializer of its own), and where that is.
#[parallel(mpi)]
fn setups_seen_elsewhere() -> (usize, Option<usize>) {
    (INITIALIZED.load(Ordering::SeqCst), MpiPool::current_rank())
}

#[test]
fn the_initializer_runs_once_on_every_worker_rank() {
    let futures: Vec<_> = (0..20).map(|_| setups()).collect();
    for future in futures {
        let (runs, rank) = future.result_timeout(PATIENCE).unwrap();
        assert_eq!(runs, 1, "on {rank:?}");
    }
    if !under_mpi() {
        return; // local worker processes start (and initialise) as work comes
    }
    // Every worker rank ran it once when the pool was made, whichever ranks its tasks took.
    // Other tests keep ranks busy meanwhile: ask again until both have answered.
    let pool = MpiPool::world();
    let options = parallel::MapOptions::new().chunksize(1);
    let started = Instant::now();
    let mut seen = BTreeSet::new();
    while seen.len() < 2 && started.elapsed() < PATIENCE {
        for result in pool.map_with(setups_seen_elsewhere, (0..20).map(|_| ()), options) {
            let (runs, rank) = result.unwrap();
            assert_eq!(runs, 1, "on {rank:?}");
            seen.insert(rank);
        }
    }
    assert_eq!(seen, BTreeSet::from([Some(1), Some(2)]));
}

fn failing_setup() {
    panic!("no licence server")
}

#[parallel(mpi, initializer = failing_setup)]
fn needs_licence() -> u32 {
    1
}

#[test]
fn a_failing_initializer_breaks_its_pool() {
    let error = needs_licence().result_timeout(PATIENCE).unwrap_err();
    assert!(error.is_broken(), "{error}");
    assert!(error.to_string().contains("no licence server"), "{error}");
    assert_eq!(
        square(5).result_timeout(PATIENCE),
        Ok(25),
        "other pools are unaffected"
    );
}

#[parallel(mpi, timeout = "300ms")]
fn slow(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

#[test]
fn a_timeout_stops_waiting_and_the_rank_serves_on() {
    let error = slow(3_000).result_timeout(PATIENCE).unwrap_err();
    assert!(error.is_timed_out(), "{error}");
    assert_eq!(slow(1).result_timeout(PATIENCE), Ok(1));
}

#[test]
fn shutdown_cancels_the_queued_work_and_refuses_more() {
    let pool = MpiPool::world();
    let futures: Vec<_> = (0..40).map(|_| pool.submit(nap, (50,))).collect();
    pool.shutdown(true, true);
    assert!(pool.is_shut_down());
    let done = futures
        .iter()
        .filter(|future| future.result() == Ok(50))
        .count();
    let cancelled = futures
        .iter()
        .filter(|future| future.is_cancelled())
        .count();
    assert_eq!(done + cancelled, 40, "every task ran or was cancelled");
    assert!(cancelled > 0, "the queue was cancelled");
    assert_eq!(pool.submit(nap, (0,)).result(), Err(TaskError::ShutDown));
    assert_eq!(nap(0).result_timeout(PATIENCE), Ok(0), "other pools go on");
}

/// The launcher's variables a process sees.
fn launcher_variables() -> Vec<String> {
    std::env::vars()
        .map(|(name, _)| name)
        .filter(|name| {
            ["OMPI_", "PMIX_", "PMI_"]
                .iter()
                .any(|prefix| name.starts_with(prefix))
        })
        .collect()
}

#[parallel(processes = 1)]
fn launcher_variables_in_a_worker_process() -> Vec<String> {
    launcher_variables()
}

#[test]
fn worker_processes_of_a_rank_inherit_no_launcher_variables() {
    if under_mpi() {
        assert!(!launcher_variables().is_empty(), "rank 0 has them");
    }
    let seen = launcher_variables_in_a_worker_process().result_timeout(PATIENCE);
    assert_eq!(seen, Ok(Vec::new()));
}

#[test]
fn pools_are_send_and_sync() {
    fn is_send_sync<T: Send + Sync>() {}
    is_send_sync::<MpiPool>();
    is_send_sync::<parallel::MpiPoolBuilder>();
}

#[test]
fn an_eight_megabyte_argument_round_trips() {
    #[parallel(mpi)]
    fn checksum(bytes: Vec<u8>) -> (usize, u64) {
        (bytes.len(), bytes.iter().map(|&b| u64::from(b)).sum())
    }
    let bytes: Vec<u8> = (0..8 << 20).map(|i| (i % 251) as u8).collect();
    let expected = (bytes.len(), bytes.iter().map(|&b| u64::from(b)).sum());
    assert_eq!(checksum(bytes).result_timeout(PATIENCE), Ok(expected));
}

/// This binary started again with `role`, in a clean environment: no launcher's variables
/// (a nested `mpirun` would take itself for part of this job), OpenMPI allowed to run as
/// root on more ranks than cores.
fn child(role: &str, under_mpirun: bool) -> Command {
    let exe = std::env::current_exe().unwrap();
    let mut command = if under_mpirun {
        let mut command = Command::new("mpirun");
        command.args(["-n", "3", "--oversubscribe"]).arg(exe);
        command
    } else {
        Command::new(exe)
    };
    command.args([
        role,
        "--exact",
        "--include-ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for (name, _) in std::env::vars_os() {
        let name_text = name.to_string_lossy();
        if ["OMPI_", "PMIX_", "PMI_", "PARALLEL_"]
            .iter()
            .any(|prefix| name_text.starts_with(prefix))
        {
            command.env_remove(&name);
        }
    }
    command
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env(ROLE, role)
        .stdin(Stdio::null());
    command
}

/// Runs `command`, failing the test if it takes longer than `limit`; its status and output.
fn run_within(mut command: Command, limit: Duration) -> (std::process::ExitStatus, String, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            let output = child.wait_with_output().unwrap();
            let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
            return (output.status, text(&output.stdout), text(&output.stderr));
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the child ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether this run is the child of `role`.
fn is_child(role: &str) -> bool {
    std::env::var(ROLE).is_ok_and(|value| value == role)
}

#[test]
fn without_a_launcher_the_work_runs_locally_with_a_notice() {
    let (status, stdout, stderr) = run_within(child("fallback_child", false), PATIENCE);
    assert!(status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("fallback ok"), "{stdout}");
    let notice = "parallel: no MPI launcher (mpirun, mpiexec, srun) started this program, so `mpi` work runs in local worker processes";
    assert_eq!(stderr.matches(notice).count(), 1, "one notice: {stderr}");

    let mut required = child("required_child", false);
    required.env("PARALLEL_MPI", "require");
    let (status, stdout, stderr) = run_within(required, PATIENCE);
    assert!(status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("required ok"), "{stdout}");
}

#[test]
#[ignore = "a child role: see `without_a_launcher_the_work_runs_locally_with_a_notice`"]
fn fallback_child() {
    if !is_child("fallback_child") {
        return;
    }
    let pool = MpiPool::world();
    assert!(pool.is_local());
    assert_eq!(pool.submit(square, (9,)).result_timeout(PATIENCE), Ok(81));
    let (rank, pid) = whereabouts().result_timeout(PATIENCE).unwrap();
    assert_eq!(rank, None);
    assert_ne!(pid, std::process::id(), "a local worker process");
    println!("fallback ok");
}

#[test]
#[ignore = "a child role: see `without_a_launcher_the_work_runs_locally_with_a_notice`"]
fn required_child() {
    if !is_child("required_child") {
        return;
    }
    let error = square(2).result_timeout(PATIENCE).unwrap_err();
    assert!(error.is_broken(), "{error}");
    assert!(
        error.to_string().contains("PARALLEL_MPI=require"),
        "{error}"
    );
    println!("required ok");
}

#[test]
fn a_dead_worker_rank_ends_the_job() {
    let started = Instant::now();
    let (status, stdout, stderr) =
        run_within(child("dead_rank_child", true), Duration::from_secs(30));
    assert!(!status.success(), "the job must fail: {stdout}\n{stderr}");
    assert!(!stdout.contains("survived"), "{stdout}");
    eprintln!("the job ended with {status} after {:?}", started.elapsed());
}

#[parallel(mpi)]
fn die() -> u32 {
    std::process::abort()
}

#[test]
#[ignore = "a child role: see `a_dead_worker_rank_ends_the_job`"]
fn dead_rank_child() {
    if !is_child("dead_rank_child") {
        return;
    }
    let result = die().result_timeout(PATIENCE);
    println!("survived: {result:?}"); // never printed: the launcher ends the job first
}

#[test]
fn messages_longer_than_a_part_are_split() {
    let mut command = child("split_child", true);
    command.env("PARALLEL_MPI_MAX_PART", "1000");
    let (status, stdout, stderr) = run_within(command, PATIENCE);
    assert!(status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("split ok"), "{stdout}");
}

#[parallel(mpi)]
fn reverse(bytes: Vec<u8>) -> Vec<u8> {
    bytes.into_iter().rev().collect()
}

#[test]
#[ignore = "a child role: see `messages_longer_than_a_part_are_split`"]
fn split_child() {
    if !is_child("split_child") {
        return;
    }
    assert!(under_mpi());
    for len in [0, 999, 1000, 1001, 70_000, 300_001] {
        let bytes: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
        let expected: Vec<u8> = bytes.iter().rev().copied().collect();
        assert_eq!(
            reverse(bytes).result_timeout(PATIENCE),
            Ok(expected),
            "{len} bytes"
        );
    }
    println!("split ok");
}

#[test]
fn the_manual_mode_serves_a_program_that_drives_mpi() {
    let mut command = child("manual_child", true);
    command.env("PARALLEL_MPI", "manual");
    let (status, stdout, stderr) = run_within(command, PATIENCE);
    assert!(status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout.matches("manual root ok").count(), 1, "{stdout}");
    assert_eq!(stdout.matches("manual worker ok").count(), 2, "{stdout}");
}

#[test]
#[ignore = "a child role: see `the_manual_mode_serves_a_program_that_drives_mpi`"]
fn manual_child() {
    use parallel::mpi::traits::{Communicator, CommunicatorCollectives};
    if !is_child("manual_child") {
        return;
    }
    assert_eq!(MpiPool::current_rank(), None, "every rank runs the harness");
    let (universe, _) =
        parallel::mpi::initialize_with_threading(parallel::mpi::Threading::Multiple)
            .expect("MPI starts");
    let rank = universe.world().rank();
    match MpiPool::comm_executor().unwrap() {
        Some(pool) => {
            assert_eq!(rank, 0);
            assert_eq!(pool.num_workers(), 2);
            assert_eq!(pool.submit(square, (11,)).result_timeout(PATIENCE), Ok(121));
            let got: Vec<u64> = pool
                .map(square, (0..100).map(|x| (x,)))
                .map(Result::unwrap)
                .collect();
            assert_eq!(got, (0..100).map(|x| x * x).collect::<Vec<_>>());
            assert_eq!(
                square(6).result_timeout(PATIENCE),
                Ok(36),
                "the world pool shares the ranks"
            );
            drop(pool); // the worker ranks return from `comm_executor`
            println!("manual root ok");
        }
        None => {
            assert_ne!(rank, 0);
            println!("manual worker ok");
        }
    }
    // The program's own MPI still works after the pool.
    universe.world().barrier();
}
