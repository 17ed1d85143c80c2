//! The controls a process pool has beyond Python's `ProcessPoolExecutor`, and faults in code
//! a driver thread runs for the user: killing one running task (pebble's `cancel()`),
//! terminating or killing every worker and a shutdown with a bounded wait (Python 3.14,
//! pebble's `join(timeout)`), retries after a worker dies, idle workers that leave (loky's
//! `timeout`), a result whose `Deserialize` panics in the parent, dropping the last handle of
//! a pool inside one of its own callbacks, and a worker's panic that prints nothing while its
//! `eprintln!` still reaches the parent's stderr.

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use common::process::{self, Process};
use common::PATIENCE;
use parallel::{parallel, pmap, Future, ProcessPool, TaskError, WorkerExit};
use serde::{Deserialize, Deserializer, Serialize};

/// The environment variable that makes this test binary play a part for a test.
const ROLE: &str = "PARALLEL_CONTROLS_ROLE";

/// The outcome of `future`, failing the test (rather than hanging it) if it never comes.
fn outcome<T>(future: &Future<T>) -> Result<T, TaskError> {
    let outcome = future.result_timeout(PATIENCE);
    assert!(future.is_done(), "the task did not finish in {PATIENCE:?}");
    outcome
}

/// Waits until `future` is running (claimed by a driver and sent to its worker).
fn await_running<T>(future: &Future<T>) {
    let start = Instant::now();
    while !future.is_running() {
        assert!(start.elapsed() < PATIENCE, "the task never started");
        thread::yield_now();
    }
}

/// A scratch file path for this test process.
fn scratch(name: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "parallel-controls-{}-{}-{name}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    path.to_string_lossy().into_owned()
}

#[parallel(processes = 1)]
fn worker_pid() -> u32 {
    std::process::id()
}

#[parallel(processes = 1)]
fn square(x: u64) -> u64 {
    x * x
}

/// Writes `marker` (its own pid) once it runs, then spins until killed.
#[parallel(processes = 1)]
fn spin(marker: String) -> u64 {
    fs::write(&marker, std::process::id().to_string()).unwrap();
    loop {
        std::hint::spin_loop();
    }
}

/// The worker of a `spin` (or `forever`) task, once it wrote its pid: it is running then (it
/// spins or parks until killed), so the pid names it.
fn spinner(marker: &str) -> Process {
    let start = Instant::now();
    loop {
        if let Some(pid) = fs::read_to_string(marker)
            .ok()
            .and_then(|text| text.parse().ok())
        {
            return Process::running(pid);
        }
        assert!(
            start.elapsed() < PATIENCE,
            "the spinning task never started"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn killing_a_running_task_kills_its_worker_and_the_pool_goes_on() {
    let pool = ProcessPool::builder().workers(1).build().unwrap();
    let marker = scratch("spin");
    let running = pool.submit(spin, (marker.clone(),));
    let worker = spinner(&marker);
    assert!(
        !running.cancel(),
        "cancel keeps Python's meaning: pending only"
    );
    assert!(running.kill());
    assert!(running.is_cancelled());
    assert_eq!(outcome(&running), Err(TaskError::Cancelled));
    worker.await_gone();
    assert_eq!(outcome(&pool.submit(square, (7,))), Ok(49));
    assert_ne!(
        outcome(&pool.submit(worker_pid, ())),
        Ok(worker.pid),
        "a new worker"
    );
    assert!(running.kill(), "killing again still says it is cancelled");
    let _ = fs::remove_file(marker);
}

/// Creates the file `started`, waits for the file `gate`, then returns `value`.
#[parallel(processes = 1)]
fn gated(started: String, gate: String, value: u32) -> u32 {
    fs::write(&started, b"").unwrap();
    await_file(&gate);
    value
}

/// Waits, in any process, until `path` exists; panics after `PATIENCE`.
fn await_file(path: &str) {
    let start = Instant::now();
    while !PathBuf::from(path).exists() {
        assert!(start.elapsed() < PATIENCE, "`{path}` never appeared");
        thread::sleep(Duration::from_millis(1));
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn killing_a_task_waiting_behind_another_spares_the_running_one() {
    let pool = ProcessPool::builder().workers(1).build().unwrap();
    let files: Vec<String> = (0..4).map(|_| scratch("gate")).collect();
    let [first_started, first_gate, started, gate] = [0, 1, 2, 3].map(|i| files[i].clone());
    // While `first` holds the only worker, two tasks queue; when it ends, the worker takes
    // `running` and, every worker being busy, `waiting` is handed to it behind `running`.
    let first = pool.submit(gated, (first_started.clone(), first_gate.clone(), 1));
    await_file(&first_started);
    let running = pool.submit(gated, (started.clone(), gate.clone(), 2));
    let waiting = pool.submit(square, (3,));
    let queued = pool.submit(square, (4,));
    fs::write(&first_gate, b"").unwrap();
    assert_eq!(outcome(&first), Ok(1));
    await_file(&started);
    await_running(&waiting);
    assert!(waiting.kill());
    assert_eq!(outcome(&waiting), Err(TaskError::Cancelled));
    assert!(queued.kill(), "a queued task is simply cancelled");
    assert!(!running.is_done(), "the task the worker runs is spared");
    fs::write(&gate, b"").unwrap();
    assert_eq!(outcome(&running), Ok(2));
    assert_eq!(outcome(&pool.submit(square, (5,))), Ok(25));
    assert_eq!(queued.result(), Err(TaskError::Cancelled));
    for file in files {
        let _ = fs::remove_file(file);
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn kill_races_with_completion_many_times() {
    let pool = ProcessPool::builder().workers(2).build().unwrap();
    for round in 0..200 {
        let futures: Vec<_> = (0..4).map(|x| pool.submit(square, (x,))).collect();
        // Kill one as it may be finishing: it either completed or was cancelled, and the
        // others complete either way (a worker killed for it hands its next task on).
        let victim = &futures[round % 4];
        let killed = victim.kill();
        for (x, future) in (0..).zip(&futures) {
            match outcome(future) {
                Ok(value) => assert_eq!(value, x * x),
                Err(error) => {
                    assert!(std::ptr::eq(future, victim), "round {round}: {error:?}");
                    assert!(killed && error.is_cancelled(), "round {round}: {error:?}");
                }
            }
        }
    }
    assert_eq!(outcome(&pool.submit(square, (9,))), Ok(81));
}

#[test]
#[cfg_attr(miri, ignore)]
fn killing_a_running_thread_task_is_refused() {
    let pool = parallel::ThreadPool::builder().workers(1).build().unwrap();
    let (started, on_start) = mpsc::channel();
    let (go, wait_for_go) = mpsc::channel::<()>();
    let running = pool.submit(move || {
        started.send(()).unwrap();
        wait_for_go.recv().is_ok()
    });
    let queued = pool.submit(|| 1);
    on_start.recv_timeout(PATIENCE).unwrap();
    assert!(!running.kill(), "a thread cannot be stopped from outside");
    assert!(queued.kill(), "but a queued task is cancelled");
    go.send(()).unwrap();
    assert_eq!(outcome(&running), Ok(true));
}

#[parallel(processes = 1)]
fn forever(marker: String) {
    fs::write(&marker, std::process::id().to_string()).unwrap();
    loop {
        thread::park();
    }
}

fn stop_all(exit: WorkerExit, stop: fn(&ProcessPool)) {
    let pool = ProcessPool::builder().workers(2).build().unwrap();
    let markers = [scratch("forever"), scratch("forever")];
    let running: Vec<_> = markers
        .iter()
        .map(|marker| pool.submit(forever, (marker.clone(),)))
        .collect();
    let workers: Vec<Process> = markers.iter().map(|marker| spinner(marker)).collect();
    let queued: Vec<_> = (0..3).map(|x| pool.submit(square, (x,))).collect();
    stop(&pool);
    assert!(pool.is_shut_down());
    for future in &running {
        assert_eq!(outcome(future), Err(TaskError::worker_died(exit)));
    }
    for future in &queued {
        assert_eq!(outcome(future), Err(TaskError::Cancelled));
    }
    assert!(pool
        .submit(square, (1,))
        .result()
        .unwrap_err()
        .is_shut_down());
    pool.shutdown(true, false);
    for worker in workers {
        assert!(worker.is_gone(), "{worker:?} outlived the pool");
    }
    for marker in markers {
        let _ = fs::remove_file(marker);
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn terminate_workers_fails_running_tasks_and_cancels_queued_ones() {
    stop_all(
        process::terminated_by_its_pool(),
        ProcessPool::terminate_workers,
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn kill_workers_fails_running_tasks_and_cancels_queued_ones() {
    stop_all(process::killed_by_its_pool(), ProcessPool::kill_workers);
}

/// A task shown running (`is_running`: its worker's driver has claimed it) fails with its
/// worker's death when every worker is killed, even when the kill came before the task had
/// reached the worker. Repeated: the kill falls at every point of the task's way there.
#[test]
#[cfg_attr(miri, ignore)]
fn a_task_shown_running_fails_with_its_worker_when_every_worker_is_killed() {
    for round in 0..40 {
        let pool = ProcessPool::builder().workers(1).build().unwrap();
        let marker = scratch("forever");
        let running = pool.submit(forever, (marker.clone(),));
        while !running.is_running() {
            thread::yield_now();
        }
        pool.kill_workers();
        assert_eq!(
            outcome(&running),
            Err(TaskError::worker_died(process::killed_by_its_pool())),
            "round {round}"
        );
        let _ = fs::remove_file(marker);
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_shutdown_with_a_bounded_wait_reports_whether_everything_finished() {
    let pool = ProcessPool::builder().workers(1).build().unwrap();
    let marker = scratch("forever");
    let stuck = pool.submit(forever, (marker.clone(),));
    let worker = spinner(&marker);
    let started = Instant::now();
    assert!(!pool.shutdown_timeout(Duration::from_millis(200), false));
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(
        !stuck.is_done(),
        "the bounded wait gave up, the work goes on"
    );
    pool.kill_workers();
    assert!(pool.shutdown_timeout(PATIENCE, false));
    assert!(stuck.result().unwrap_err().is_worker_died());
    assert!(worker.is_gone());
    let idle = ProcessPool::builder().workers(2).build().unwrap();
    assert_eq!(outcome(&idle.submit(square, (2,))), Ok(4));
    assert!(
        idle.shutdown_timeout(PATIENCE, false),
        "an idle pool ends at once"
    );
    let _ = fs::remove_file(marker);
}

/// Counts its tries in the file `marker`, and aborts (killing its worker) on the first
/// `deaths` of them.
#[parallel(processes = 1)]
fn flaky(marker: String, deaths: usize) -> usize {
    let tries = fs::read_to_string(&marker).map_or(0, |text| text.len()) + 1;
    fs::write(&marker, "x".repeat(tries)).unwrap();
    if tries <= deaths {
        std::process::abort();
    }
    tries
}

fn tries(marker: &str) -> usize {
    fs::read_to_string(marker).map_or(0, |text| text.len())
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_task_whose_worker_died_is_retried_in_a_new_worker() {
    let pool = ProcessPool::builder()
        .workers(1)
        .retries(2)
        .build()
        .unwrap();
    let marker = scratch("flaky");
    assert_eq!(outcome(&pool.submit(flaky, (marker.clone(), 2))), Ok(3));
    let _ = fs::remove_file(&marker);
    let error = outcome(&pool.submit(flaky, (marker.clone(), 5))).unwrap_err();
    assert!(
        matches!(
            error,
            TaskError::WorkerDied {
                exit,
                attempts: 3,
                ..
            } if exit == process::aborted()
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("the last of 3 attempts"),
        "{error}"
    );
    assert_eq!(tries(&marker), 3, "1 try and 2 retries, no more");
    assert_eq!(outcome(&pool.submit(square, (6,))), Ok(36));
    let _ = fs::remove_file(marker);
}

/// Counts its tries in `marker`, then panics.
#[parallel(processes = 1)]
fn counted_panic(marker: String) -> u32 {
    let tries = fs::read_to_string(&marker).map_or(0, |text| text.len()) + 1;
    fs::write(&marker, "x".repeat(tries)).unwrap();
    panic!("try {tries}")
}

/// Counts its tries in `marker`, then sleeps past any timeout.
#[parallel(processes = 1)]
fn counted_sleep(marker: String) -> u32 {
    let tries = fs::read_to_string(&marker).map_or(0, |text| text.len()) + 1;
    fs::write(&marker, "x".repeat(tries)).unwrap();
    thread::sleep(PATIENCE);
    0
}

#[test]
#[cfg_attr(miri, ignore)]
fn panics_timeouts_and_kills_are_never_retried() {
    let pool = ProcessPool::builder()
        .workers(1)
        .retries(3)
        .task_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let panicked = scratch("panic");
    assert!(outcome(&pool.submit(counted_panic, (panicked.clone(),)))
        .unwrap_err()
        .is_panicked());
    assert_eq!(tries(&panicked), 1);
    let slept = scratch("sleep");
    assert!(outcome(&pool.submit(counted_sleep, (slept.clone(),)))
        .unwrap_err()
        .is_timed_out());
    assert_eq!(tries(&slept), 1);
    let marker = scratch("spin");
    let running = pool.submit(spin, (marker.clone(),));
    let worker = spinner(&marker);
    assert!(running.kill());
    worker.await_gone();
    assert_eq!(outcome(&pool.submit(square, (2,))), Ok(4));
    assert!(!PathBuf::from(&marker).exists() || spinner(&marker).pid == worker.pid);
    for path in [panicked, slept, marker] {
        let _ = fs::remove_file(path);
    }
}

#[parallel(processes = 1, retries = 2)]
fn flaky_with_retries(marker: String) -> usize {
    flaky::sync(marker, 2)
}

#[test]
#[cfg_attr(miri, ignore)]
fn retries_from_the_attribute_and_from_pmap() {
    let marker = scratch("attribute");
    assert_eq!(outcome(&flaky_with_retries(marker.clone())), Ok(3));
    let markers: Vec<String> = (0..3).map(|_| scratch("pmap")).collect();
    let results: Vec<_> =
        pmap!(flaky, markers.clone(), std::iter::repeat(1); processes = 2, retries = 1).collect();
    assert_eq!(results, [Ok(2), Ok(2), Ok(2)]);
    for path in markers.into_iter().chain([marker]) {
        let _ = fs::remove_file(path);
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn an_idle_worker_leaves_and_a_new_one_starts_on_demand() {
    let pool = ProcessPool::builder()
        .workers(1)
        .idle_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let first = outcome(&pool.submit(worker_pid, ())).unwrap();
    // It may have left already; if its id names a later process, that one is waited for.
    Process::running(first).await_gone();
    let second = outcome(&pool.submit(worker_pid, ())).unwrap();
    let second_worker = Process::running(second);
    assert_ne!(first, second);
    // Busy workers stay: tasks one after the other within the timeout share one worker.
    let busy: Vec<u32> = (0..5)
        .map(|_| outcome(&pool.submit(worker_pid, ())).unwrap())
        .collect();
    assert!(busy.windows(2).filter(|w| w[0] != w[1]).count() <= 4);
    pool.shutdown(true, false);
    assert!(second_worker.is_gone());
}

/// A value whose `Deserialize` panics on 13: the worker encodes it fine, the parent's
/// decoding (on the pool's driver thread) panics.
#[derive(Debug, PartialEq, Serialize)]
struct Unlucky(u32);

impl<'de> Deserialize<'de> for Unlucky {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = u32::deserialize(deserializer)?;
        assert_ne!(value, 13, "decoding 13 is unlucky");
        Ok(Self(value))
    }
}

#[parallel(processes = 1)]
fn unlucky(x: u32) -> Unlucky {
    Unlucky(x)
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_panic_decoding_a_result_fails_that_task_and_the_driver_goes_on() {
    let pool = ProcessPool::builder().workers(1).build().unwrap();
    for _ in 0..3 {
        // The second is in flight on the same worker when the first's reply is decoded.
        let bad = pool.submit(unlucky, (13,));
        let next = pool.submit(unlucky, (14,));
        let error = outcome(&bad).unwrap_err();
        assert!(error.is_codec(), "{error:?}");
        assert!(
            error.to_string().contains("decoding 13 is unlucky"),
            "{error}"
        );
        assert_eq!(outcome(&next), Ok(Unlucky(14)));
    }
    assert_eq!(outcome(&pool.submit(unlucky, (1,))), Ok(Unlucky(1)));
}

#[test]
#[cfg_attr(miri, ignore)]
fn dropping_the_last_handle_of_a_pool_in_its_own_callback_does_not_block() {
    let pool = Arc::new(ProcessPool::builder().workers(1).build().unwrap());
    let worker = Process::running(outcome(&pool.submit(worker_pid, ())).unwrap());
    let (dropped, on_drop) = mpsc::channel();
    let future = pool.submit(square, (3,));
    let last = Arc::clone(&pool);
    drop(pool);
    future.add_done_callback(move |_| {
        drop(last); // on the pool's driver thread: shuts the pool down without waiting for it
        dropped.send(()).unwrap();
    });
    on_drop
        .recv_timeout(PATIENCE)
        .expect("the drop returned on the driver thread");
    assert_eq!(outcome(&future), Ok(9));
    worker.await_gone();
}

/// Says something on stderr, then panics.
#[parallel(processes = 1)]
fn noisy(token: String) -> u32 {
    eprintln!("{token} said on stderr");
    panic!("{token} panicked on purpose")
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_panic_prints_nothing_but_a_workers_own_output_still_shows() {
    if let Some(token) = std::env::var_os(ROLE) {
        let token = token.into_string().unwrap();
        let error = outcome(&noisy(token.clone())).unwrap_err();
        assert_eq!(
            error.panic_message(),
            Some(format!("{token} panicked on purpose").as_str())
        );
        let pool = parallel::ThreadPool::new();
        let on_thread = pool.submit(move || -> u8 { panic!("a thread task panicked") });
        assert!(outcome(&on_thread).unwrap_err().is_panicked());
        let mapped: Vec<_> =
            pmap!(|x: u32| if x == 1 { panic!("item 1") } else { x }, 0..3).collect();
        assert!(mapped[1].is_err());
        return;
    }
    let token = format!("token-{}", std::process::id());
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "a_panic_prints_nothing_but_a_workers_own_output_still_shows",
            "--exact",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(ROLE, &token)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{token} said on stderr")),
        "stderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}
