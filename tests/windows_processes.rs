//! What process pools guarantee, seen the Windows way: a worker that crashes (an access
//! violation, `abort`, `exit(3)`) fails only its task, with the exit code named; a task past
//! its timeout, or killed, has its worker ended and the next task runs in a new one; workers
//! end within a second of their parent being killed, and none is left once the pool is
//! dropped; a task reads nothing from its standard input (the channel is not there). Processes
//! are watched through handles (`OpenProcess`, `WaitForSingleObject`), never through a
//! process id alone: Windows reuses ids at once. Large payloads cross in shared memory between a
//! worker and a pool of its own.
#![cfg(windows)]

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use parallel::{parallel, Deadline, Future, ProcessPool, TaskError, WorkerExit};
use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, WAIT_OBJECT_0};
use windows_sys::Win32::System::JobObjects::IsProcessInJob;
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, OpenProcess, WaitForSingleObject, PROCESS_SYNCHRONIZE,
};

/// Long enough that only a broken runtime reaches it; tests never wait it out.
const PATIENCE: Duration = Duration::from_secs(60);

/// The environment variable that makes this test binary play the parent of a pool.
const ROLE: &str = "PARALLEL_WINDOWS_ROLE";

/// What the parent prints before the list of its workers' ids.
const WORKERS: &str = "workers:";

/// The outcome of `future`, failing the test (rather than hanging it) if it never comes.
fn outcome<T>(future: &Future<T>) -> Result<T, TaskError> {
    let outcome = future.result_timeout(PATIENCE);
    assert!(future.is_done(), "the task did not finish in {PATIENCE:?}");
    outcome
}

/// A process handle that can be waited on, closed when dropped. Opened while the process is
/// known to run, it names that process even after its id is reused.
struct Process(HANDLE);

impl Process {
    /// Opens process `pid`, which must be running.
    fn open(pid: u32) -> Self {
        // SAFETY: `OpenProcess` has no memory-safety preconditions.
        let handle = unsafe { OpenProcess(PROCESS_SYNCHRONIZE, 0, pid) };
        assert!(!handle.is_null(), "process {pid} could not be opened");
        Self(handle)
    }

    /// Whether the process ends within `timeout`.
    fn ends_within(&self, timeout: Duration) -> bool {
        let millis = u32::try_from(timeout.as_millis()).unwrap();
        // SAFETY: a valid process handle, owned by `self`.
        unsafe { WaitForSingleObject(self.0, millis) == WAIT_OBJECT_0 }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // SAFETY: the handle is ours (from `open`) and closed only here.
        unsafe { CloseHandle(self.0) };
    }
}

/// A scratch file path for this test process.
fn scratch(name: &str) -> std::path::PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "parallel-windows-{}-{}-{name}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

// The functions the tests run in workers.

/// This process, told apart from any other that had or will have its id (Windows reuses ids at
/// once): its id and start time.
#[parallel(processes = 1)]
fn process_here() -> String {
    common::process::here()
}

#[parallel(processes = 1)]
fn square(x: u64) -> u64 {
    x * x
}

#[parallel(processes = 1)]
fn worker_pid(hold: Duration) -> u32 {
    thread::sleep(hold);
    std::process::id()
}

/// Reads address 0.
#[parallel(processes = 1)]
fn read_null() -> u8 {
    let null = std::hint::black_box(std::ptr::null::<u8>());
    // SAFETY: none: reading address 0 is the crash this test wants. The address comes from
    // `black_box`, so the compiler cannot know it is null and emits the read, which raises
    // an access violation that ends the worker before anything reads the value.
    unsafe { std::ptr::read_volatile(null) }
}

#[parallel(processes = 1)]
fn exit_with(code: i32) -> u8 {
    std::process::exit(code)
}

#[parallel(processes = 1)]
fn abort() -> u8 {
    std::process::abort()
}

/// Writes its process into `marker` once it runs, then sleeps past any test's patience.
#[parallel(processes = 1)]
fn sleep_after_marking(marker: String) -> u8 {
    std::fs::write(&marker, process_here::sync()).unwrap();
    thread::sleep(PATIENCE * 2);
    0
}

/// How many bytes the task can read from its standard input.
#[parallel(processes = 1)]
fn read_stdin() -> usize {
    let mut read = Vec::new();
    std::io::stdin().read_to_end(&mut read).unwrap();
    read.len()
}

/// Squares `x` in a pool of the worker's own; returns the square, the id of the inner
/// worker's parent and this worker's id.
#[parallel(processes = 1)]
fn square_in_a_pool_of_its_own(x: u64) -> (u64, u32, u32) {
    let pool = one_worker();
    let square = pool.submit(square, (x,)).result().unwrap();
    let parent = pool.submit(parent_id, ()).result().unwrap();
    (square, parent, std::process::id())
}

/// Reverses `bytes` in a pool of the worker's own: a payload over the shared-memory threshold
/// crosses four times, each way between a pool and its worker, taking its handle from the
/// other process (`runtime/src/process_pool/README.md`, "Large payloads").
#[parallel(processes = 1)]
fn reverse_in_a_pool_of_its_own(bytes: Vec<u8>) -> Vec<u8> {
    let pool = one_worker();
    pool.submit(reverse, (bytes,)).result().unwrap()
}

#[parallel(processes = 1)]
fn reverse(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.reverse();
    bytes
}

#[parallel(processes = 1)]
fn parent_id() -> u32 {
    parallel::parent_id()
}

/// Whether this process is in a Job Object. (Its limits cannot be read from inside under
/// Wine 8, whose answer to `QueryInformationJobObject` for the caller's own job is all zeros:
/// `workers_end_within_a_second_of_their_parent` shows the kill-on-close limit at work.)
#[parallel(processes = 1)]
fn in_a_job() -> bool {
    let mut in_job = 0;
    // SAFETY: the pseudo-handle of this process is always valid; no job handle asks about
    // any job; the call writes one `BOOL`.
    let asked = unsafe { IsProcessInJob(GetCurrentProcess(), std::ptr::null_mut(), &mut in_job) };
    assert_ne!(asked, 0, "IsProcessInJob failed");
    in_job != 0
}

/// A pool of one worker, which is the one to crash.
fn one_worker() -> ProcessPool {
    ProcessPool::builder().workers(1).build().unwrap()
}

/// Runs `crash` between two normal tasks on one worker: it fails alone, with `exit`, and the
/// pool goes on in a new worker.
fn crashes_alone(crash: impl Fn(&ProcessPool) -> Future<u8>, exit: u32, name: &str) {
    let pool = one_worker();
    let before = outcome(&pool.submit(process_here, ())).unwrap();
    let crashed = crash(&pool);
    let after = pool.submit(square, (7,));
    let error = outcome(&crashed).unwrap_err();
    assert_eq!(error, TaskError::worker_died(WorkerExit::Code(exit as i32)));
    let message = error.to_string();
    assert!(
        message.ends_with(&format!("exited with code 0x{exit:08X} ({name})")),
        "{message}"
    );
    assert_eq!(outcome(&after), Ok(49), "the next task runs");
    let replacement = outcome(&pool.submit(process_here, ())).unwrap();
    assert_ne!(before, replacement, "in a new worker");
}

#[test]
fn an_access_violation_fails_only_its_task() {
    crashes_alone(
        |pool| pool.submit(read_null, ()),
        0xC000_0005,
        "STATUS_ACCESS_VIOLATION",
    );
}

#[test]
fn abort_fails_only_its_task() {
    // Rust's `abort` on Windows is `__fastfail(FAST_FAIL_FATAL_APP_EXIT)`, which ends the
    // process with `STATUS_STACK_BUFFER_OVERRUN` (Windows and Wine alike).
    crashes_alone(
        |pool| pool.submit(abort, ()),
        0xC000_0409,
        "STATUS_STACK_BUFFER_OVERRUN",
    );
}

#[test]
fn exit_fails_only_its_task() {
    let pool = one_worker();
    let exited = pool.submit(exit_with, (3,));
    let after = pool.submit(square, (3,));
    assert_eq!(
        outcome(&exited),
        Err(TaskError::worker_died(WorkerExit::Code(3)))
    );
    assert_eq!(outcome(&after), Ok(9));
}

#[test]
fn a_task_past_its_timeout_has_its_worker_killed() {
    let timeout = Duration::from_millis(500);
    let pool = ProcessPool::builder()
        .workers(1)
        .task_timeout(timeout)
        .build()
        .unwrap();
    let marker = scratch("timeout");
    let slow = pool.submit(
        sleep_after_marking,
        (marker.to_string_lossy().into_owned(),),
    );
    let next = pool.submit(process_here, ());
    assert_eq!(
        outcome(&slow),
        Err(TaskError::timed_out(Deadline::Task { timeout }))
    );
    let slow_worker = std::fs::read_to_string(&marker).unwrap();
    let _ = std::fs::remove_file(&marker);
    assert_ne!(
        outcome(&next).unwrap(),
        slow_worker,
        "the next task ran in a new worker"
    );
}

#[test]
fn killing_a_running_task_ends_its_worker() {
    let pool = one_worker();
    let marker = scratch("kill");
    let running = pool.submit(
        sleep_after_marking,
        (marker.to_string_lossy().into_owned(),),
    );
    let start = Instant::now();
    while !marker.exists() {
        assert!(start.elapsed() < PATIENCE, "the task never started");
        thread::sleep(Duration::from_millis(5));
    }
    // The file exists once written; wait for its contents.
    let killed_worker = loop {
        let text = std::fs::read_to_string(&marker).unwrap_or_default();
        if !text.is_empty() {
            break text;
        }
        thread::sleep(Duration::from_millis(5));
    };
    let _ = std::fs::remove_file(&marker);
    let pid: u32 = killed_worker.split(':').next().unwrap().parse().unwrap();
    let process = Process::open(pid);
    assert!(running.kill(), "a running task can be killed");
    assert_eq!(outcome(&running), Err(TaskError::Cancelled));
    assert!(process.ends_within(PATIENCE), "the worker was ended");
    let next = outcome(&pool.submit(process_here, ())).unwrap();
    assert_ne!(next, killed_worker, "the next task ran in a new worker");
}

#[test]
fn a_task_reads_nothing_from_standard_input() {
    let pool = one_worker();
    assert_eq!(outcome(&pool.submit(read_stdin, ())), Ok(0));
    assert_eq!(
        outcome(&pool.submit(square, (5,))),
        Ok(25),
        "the channel is intact"
    );
}

#[test]
fn a_worker_is_in_a_job_that_ends_it_with_its_parent() {
    assert_eq!(outcome(&one_worker().submit(in_a_job, ())), Ok(true));
    assert_eq!(
        outcome(
            &ProcessPool::builder()
                .workers(1)
                .build()
                .unwrap()
                .submit(in_a_job, ())
        ),
        Ok(true),
        "a second pool's workers too"
    );
}

#[test]
fn a_worker_can_have_a_pool_of_its_own() {
    let pool = one_worker();
    for x in 0..3 {
        let (square, inner_parent, outer) =
            outcome(&pool.submit(square_in_a_pool_of_its_own, (x,))).unwrap();
        assert_eq!(square, x * x);
        assert_eq!(
            inner_parent, outer,
            "the inner worker is the outer one's child"
        );
    }
    assert_eq!(outcome(&pool.submit(parent_id, ())), Ok(std::process::id()));
}

#[test]
fn large_payloads_cross_between_a_worker_and_a_pool_of_its_own() {
    let pool = one_worker();
    for len in [100_000, 3 << 20] {
        let bytes: Vec<u8> = (0..len).map(|at| (at % 251) as u8).collect();
        let mut expected = bytes.clone();
        expected.reverse();
        let twice = outcome(&pool.submit(reverse_in_a_pool_of_its_own, (bytes.clone(),)));
        assert!(
            twice.unwrap() == expected,
            "{len} bytes reversed in the inner worker"
        );
        assert!(outcome(&pool.submit(reverse, (bytes,))).unwrap() == expected);
    }
}

#[test]
fn no_worker_is_left_once_the_pool_is_dropped() {
    let pool = ProcessPool::builder().workers(2).build().unwrap();
    let futures: Vec<_> = (0..4)
        .map(|_| pool.submit(worker_pid, (Duration::from_millis(100),)))
        .collect();
    let pids: HashSet<u32> = futures.iter().map(|f| outcome(f).unwrap()).collect();
    // The pool keeps its workers until it is dropped, so each id still names its worker.
    let workers: Vec<Process> = pids.iter().map(|&pid| Process::open(pid)).collect();
    drop(pool);
    for worker in &workers {
        assert!(
            worker.ends_within(Duration::ZERO),
            "a worker outlived its pool"
        );
    }
}

/// The parent of a pool, when this binary runs with `ROLE` set (by
/// `workers_end_within_a_second_of_their_parent`): prints its workers' ids, then waits to be
/// killed. Does nothing in a normal run.
#[test]
fn parent_of_a_pool() {
    if std::env::var_os(ROLE).is_none() {
        return;
    }
    let pool = ProcessPool::builder().workers(2).build().unwrap();
    let futures: Vec<_> = (0..4)
        .map(|_| pool.submit(worker_pid, (Duration::from_millis(200),)))
        .collect();
    let pids: HashSet<u32> = futures.iter().map(|f| outcome(f).unwrap()).collect();
    let pids: Vec<String> = pids.iter().map(u32::to_string).collect();
    println!("{WORKERS} {}", pids.join(" "));
    thread::sleep(PATIENCE);
    unreachable!("the test kills this process first");
}

#[test]
fn workers_end_within_a_second_of_their_parent() {
    let mut parent = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "parent_of_a_pool",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, "parent")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(parent.stdout.take().unwrap()).lines();
    let pids = loop {
        let line = lines
            .next()
            .expect("the parent printed its workers")
            .unwrap();
        // The test harness writes the test's name first, on the same line.
        if let Some((_, pids)) = line.split_once(WORKERS) {
            break pids
                .split_whitespace()
                .map(|pid| pid.parse::<u32>().unwrap())
                .collect::<Vec<_>>();
        }
    };
    assert!(!pids.is_empty());
    // The parent keeps its pool until it is killed, so each id still names its worker.
    let workers: Vec<Process> = pids.iter().map(|&pid| Process::open(pid)).collect();
    parent.kill().unwrap();
    let killed = Instant::now();
    parent.wait().unwrap();
    for worker in &workers {
        assert!(
            worker.ends_within(Duration::from_secs(1).saturating_sub(killed.elapsed())),
            "a worker outlived its parent by a second"
        );
    }
}

/// The parent of a pool that ends as its workers start, when this binary runs with `ROLE` set
/// to `ends:<µs>` (by `no_worker_is_left_by_a_parent_that_ends_as_they_start`): a thread
/// starts a pool of two, and the program ends `µs` after that thread began, without waiting
/// for it or for its work (`wait_at_exit(false)`). Does nothing in a normal run.
#[test]
fn parent_that_ends_as_its_workers_start() {
    let Some(micros) = std::env::var(ROLE)
        .ok()
        .and_then(|role| role.strip_prefix("ends:")?.parse().ok())
    else {
        return;
    };
    let (began, on_begun) = std::sync::mpsc::channel();
    thread::spawn(move || {
        began.send(()).unwrap();
        let pool = ProcessPool::builder().workers(2).build().unwrap();
        let _ = pool.submit(square, (3,)).result();
        std::mem::forget(pool);
    });
    parallel::wait_at_exit(false);
    on_begun.recv().unwrap();
    // The moment of the end is the variable under test; nothing waits on this sleep. The
    // program ends as `main` returns, once the test harness has reported this test.
    thread::sleep(Duration::from_micros(micros));
}

/// A program that ends while a worker of its is being created leaves no worker behind: each
/// worker is in the program's job from its creation on (`PROC_THREAD_ATTRIBUTE_JOB_LIST`), and
/// the end of the program waits for a start under way (`exit.rs`). Ends are spread over the
/// time a pool takes to start, so some fall inside a start.
#[test]
fn no_worker_is_left_by_a_parent_that_ends_as_they_start() {
    let mut left = Vec::new();
    for run in 0..24u64 {
        let micros = run * 2_500;
        let mut parent = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "parent_that_ends_as_its_workers_start",
                "--test-threads=1",
            ])
            .env(ROLE, format!("ends:{micros}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        // Taken before the wait: the handle that `parent` holds keeps the id from being reused.
        let me = common::process::Process::running(parent.id());
        assert_ne!(me.start, u64::MAX, "the parent's start time was read");
        assert!(parent.wait().unwrap().success());
        // The job ends the parent's workers as it ends; a worker left out of it never goes.
        let gone_by = Instant::now() + Duration::from_secs(10);
        loop {
            let children = me.children();
            if children.is_empty() {
                break;
            }
            if Instant::now() > gone_by {
                for child in &children {
                    child.kill();
                }
                left.push((micros, children));
                break;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
    assert!(
        left.is_empty(),
        "workers outlived a parent that ended as they started (µs after the start: workers): \
         {left:?}"
    );
}

/// The round trip of one tiny task, measured: 1,000 `submit(square, (x,)).result()` in a row
/// on one warm worker.
#[test]
#[ignore = "a measurement: run with --ignored --nocapture round_trip"]
fn round_trip() {
    let pool = one_worker();
    assert_eq!(outcome(&pool.submit(square, (2,))), Ok(4)); // the worker has started
    let calls = 1_000;
    let start = Instant::now();
    for x in 0..calls {
        assert_eq!(pool.submit(square, (x,)).result(), Ok(x * x));
    }
    let per_call = start.elapsed() / calls as u32;
    eprintln!(
        "round trip: {:.1} µs per call",
        per_call.as_secs_f64() * 1e6
    );
}
