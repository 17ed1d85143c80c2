//! Faults in worker processes fail only the task they touch: a panic, an abort, a segfault,
//! `exit(3)`, SIGKILL (from inside, and from outside as the OOM killer sends it), a task past
//! its deadline, garbage on the channel (an unknown kind, an oversized length, a reply to the
//! wrong task, a truncated frame), an unknown function name, and a failing initializer (which
//! breaks the pool without a respawn loop). Every other task completes, and a dead worker is
//! reaped and replaced.

mod common;

use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use common::process::{self, Process};
use common::PATIENCE;
use parallel::{
    parallel, Deadline, Future, MapOptions, ProcessPool, RemoteFn, TaskError, WorkerExit,
};

/// The outcome of `future`, failing the test (rather than hanging it) if it never comes.
fn outcome<T>(future: &Future<T>) -> Result<T, TaskError> {
    let outcome = future.result_timeout(PATIENCE);
    assert!(future.is_done(), "the task did not finish in {PATIENCE:?}");
    outcome
}

#[parallel(processes = 1)]
fn identity() -> (u32, u64) {
    let me = Process::current();
    (me.pid, me.start)
}

/// The worker process that runs the next task on `pool` (a pool of one worker).
fn worker_of(pool: &ProcessPool) -> Process {
    let (pid, start) = outcome(&pool.submit(identity, ())).unwrap();
    Process { pid, start }
}

#[parallel(processes = 1)]
fn square(x: u64) -> u64 {
    x * x
}

#[parallel(processes = 1)]
fn nap(ms: u64) -> u64 {
    thread::sleep(Duration::from_millis(ms));
    ms
}

/// Misbehaves as `how` says, in the worker process that runs it.
#[parallel(processes = 1)]
fn misbehave(how: String) -> u64 {
    match how.as_str() {
        "panic" => panic!("a deliberate panic"),
        "abort" => std::process::abort(),
        "segfault" => process::segfault(),
        "exit" => std::process::exit(3),
        "kill" => process::kill_self(),
        "garbage-kind" => garbage(&[0xEE; 13]),
        "garbage-length" => garbage(&header(4, 0, u32::MAX)),
        "garbage-id" => garbage(&header(4, u64::MAX, 0)),
        "garbage-truncated" => {
            let mut bytes = header(4, 0, 1000).to_vec();
            bytes.extend_from_slice(&[0; 10]);
            write_on_channel(&bytes);
            std::process::exit(0)
        }
        other => panic!("unknown misbehaviour {other}"),
    }
}

/// A frame header as the channel has it: kind, id, payload length.
fn header(kind: u8, id: u64, len: u32) -> [u8; 13] {
    let mut header = [0; 13];
    header[0] = kind;
    header[1..9].copy_from_slice(&id.to_le_bytes());
    header[9..].copy_from_slice(&len.to_le_bytes());
    header
}

/// Writes `bytes` on the worker's channel to its pool, then waits to be killed for it.
fn garbage(bytes: &[u8]) -> ! {
    write_on_channel(bytes);
    thread::sleep(PATIENCE);
    panic!("the pool did not kill a worker that wrote garbage")
}

/// Writes `bytes` on the channel of the worker process running this: its only socket.
#[cfg(unix)]
fn write_on_channel(bytes: &[u8]) {
    use std::os::fd::FromRawFd;

    let sockets: Vec<i32> = fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let fd = entry.file_name().to_str()?.parse().ok()?;
            let target = fs::read_link(entry.path()).ok()?;
            target.to_str()?.starts_with("socket:").then_some(fd)
        })
        .collect();
    assert_eq!(sockets.len(), 1, "a worker's only socket is its channel");
    // SAFETY: the descriptor stays open for the life of the worker, and `ManuallyDrop` leaves
    // it open after this write.
    let mut channel = std::mem::ManuallyDrop::new(unsafe { fs::File::from_raw_fd(sockets[0]) });
    channel.write_all(bytes).unwrap();
}

/// Writes `bytes` on the channel of the worker process running this: the pipe that the C
/// runtime's descriptor 0 still names (the pool handed it over as standard input, and the
/// worker moved it off the standard input handle only). The pipe is open for overlapped I/O,
/// so the write is too, and is waited for.
#[cfg(windows)]
fn write_on_channel(bytes: &[u8]) {
    use windows_sys::Win32::Foundation::{CloseHandle, GetLastError, ERROR_IO_PENDING};
    use windows_sys::Win32::Storage::FileSystem::WriteFile;
    use windows_sys::Win32::System::Threading::CreateEventW;
    use windows_sys::Win32::System::IO::{GetOverlappedResult, OVERLAPPED};

    extern "C" {
        // The C runtime's own call (not a system call, so not in windows-sys).
        fn _get_osfhandle(fd: i32) -> isize;
    }
    // SAFETY: `_get_osfhandle` has no preconditions; it returns -1 for a closed descriptor.
    let pipe = unsafe { _get_osfhandle(0) };
    assert_ne!(pipe, -1, "descriptor 0 names the channel");
    let pipe = pipe as windows_sys::Win32::Foundation::HANDLE;
    let mut written = 0;
    let mut sent = 0;
    while sent < bytes.len() {
        // SAFETY: a new unnamed manual-reset event, closed below.
        let event = unsafe { CreateEventW(std::ptr::null(), 1, 0, std::ptr::null()) };
        assert!(!event.is_null());
        let mut overlapped = OVERLAPPED {
            hEvent: event,
            ..OVERLAPPED::default()
        };
        let rest = &bytes[sent..];
        // SAFETY: `rest` and `overlapped` outlive the write, which is waited for below
        // before either goes away.
        let started = unsafe {
            WriteFile(
                pipe,
                rest.as_ptr(),
                rest.len() as u32,
                std::ptr::null_mut(),
                &mut overlapped,
            )
        };
        // SAFETY: `GetLastError` has no preconditions.
        assert!(started != 0 || unsafe { GetLastError() } == ERROR_IO_PENDING);
        // SAFETY: the write started on `pipe` with `overlapped`; this waits for it to end.
        let ended = unsafe { GetOverlappedResult(pipe, &overlapped, &mut written, 1) };
        assert_ne!(ended, 0, "the write on the channel failed");
        // SAFETY: the event is ours, and the write that used it has ended.
        unsafe { CloseHandle(event) };
        sent += written as usize;
    }
}

/// Runs the misbehaving task `how` among twenty good ones on a two-worker pool, where only it
/// may fail; then on a one-worker pool, where the task queued behind it must succeed, in a
/// new worker, the old one reaped. Returns the error the misbehaving task got.
fn only_the_misbehaving_task_fails(how: &str) -> TaskError {
    let pool = ProcessPool::builder().workers(2).build().unwrap();
    let before: Vec<_> = (0..10).map(|x| pool.submit(square, (x,))).collect();
    let faulty = pool.submit(misbehave, (how.to_owned(),));
    let after: Vec<_> = (10..20).map(|x| pool.submit(square, (x,))).collect();
    let error = outcome(&faulty).unwrap_err();
    for (x, future) in (0..).zip(before.iter().chain(&after)) {
        assert_eq!(outcome(future), Ok(x * x), "task {x}, beside `{how}`");
    }

    let single = ProcessPool::builder().workers(1).build().unwrap();
    let first = worker_of(&single);
    let faulty = single.submit(misbehave, (how.to_owned(),));
    let queued = single.submit(square, (9,));
    let again = outcome(&faulty).unwrap_err();
    if error.is_worker_died() {
        assert_eq!(again, error, "`{how}` fails alike");
    } else {
        // Messages name task ids, which differ between pools.
        let kind = std::mem::discriminant;
        assert_eq!(
            kind(&again),
            kind(&error),
            "`{how}`: {again:?}, then {error:?}"
        );
    }
    assert_eq!(outcome(&queued), Ok(81), "the task queued behind `{how}`");
    let second = worker_of(&single);
    assert_ne!(first, second, "a new worker took over");
    assert!(first.is_gone(), "the dead worker was reaped");
    error
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_panic_fails_its_task_with_the_message_and_the_worker_lives_on() {
    let pool = ProcessPool::builder().workers(1).build().unwrap();
    let worker = worker_of(&pool);
    let error = outcome(&pool.submit(misbehave, ("panic".to_owned(),))).unwrap_err();
    let TaskError::Panicked {
        message,
        location,
        process,
        ..
    } = &error
    else {
        panic!("expected a panic, got {error:?}");
    };
    assert_eq!(message, "a deliberate panic");
    assert_eq!(
        *process,
        Some(worker.pid),
        "the worker's id, in a field of its own"
    );
    let location = location.as_deref().expect("where it panicked");
    assert!(
        location.starts_with("tests/process_faults.rs:"),
        "{location}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "the task panicked in worker process {} at {location}: a deliberate panic",
            worker.pid
        )
    );
    assert_eq!(outcome(&pool.submit(square, (3,))), Ok(9));
    assert_eq!(worker_of(&pool), worker, "a panic does not cost the worker");
    let beside = ProcessPool::builder().workers(2).build().unwrap();
    let others: Vec<_> = (0..10).map(|x| beside.submit(square, (x,))).collect();
    assert!(outcome(&beside.submit(misbehave, ("panic".to_owned(),)))
        .unwrap_err()
        .is_panicked());
    for (x, future) in (0..).zip(&others) {
        assert_eq!(outcome(future), Ok(x * x));
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn an_abort_is_signal_6() {
    let error = only_the_misbehaving_task_fails("abort");
    assert_eq!(error, TaskError::worker_died(process::aborted()));
    let expected = if cfg!(windows) {
        "exited with code 0xC0000409 (STATUS_STACK_BUFFER_OVERRUN)"
    } else {
        "was killed by signal 6 (SIGABRT)"
    };
    assert_eq!(
        error.to_string(),
        format!("the worker process running the task {expected}")
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_segfault_is_signal_11() {
    let error = only_the_misbehaving_task_fails("segfault");
    assert_eq!(error, TaskError::worker_died(process::segfaulted()));
    let name = if cfg!(windows) {
        "(STATUS_ACCESS_VIOLATION)"
    } else {
        "(SIGSEGV)"
    };
    assert!(error.to_string().ends_with(name), "{error}");
}

#[test]
#[cfg_attr(miri, ignore)]
fn exit_3_is_code_3() {
    let error = only_the_misbehaving_task_fails("exit");
    assert_eq!(error, TaskError::worker_died(WorkerExit::Code(3)));
    assert_eq!(
        error.to_string(),
        "the worker process running the task exited with code 3"
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_sigkill_from_inside_is_signal_9() {
    let error = only_the_misbehaving_task_fails("kill");
    assert_eq!(
        error,
        TaskError::worker_died(process::killed_from_outside())
    );
}

/// Writes its worker's pid to `path`, then naps until it is killed.
#[parallel(processes = 1)]
fn report_then_wait(path: String) -> u32 {
    fs::write(&path, std::process::id().to_string()).unwrap();
    thread::sleep(PATIENCE);
    0
}

/// What the test reads from `path` once a task has written it.
fn await_content(path: &PathBuf) -> String {
    let start = Instant::now();
    loop {
        if let Ok(text) = fs::read_to_string(path) {
            if !text.is_empty() {
                return text;
            }
        }
        assert!(
            start.elapsed() < PATIENCE,
            "nothing was written to {path:?}"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_sigkill_from_outside_fails_the_running_task_only() {
    // What the OOM killer does: SIGKILL, from another process, in the middle of a task.
    let path = std::env::temp_dir().join(format!("parallel-oom-{}", std::process::id()));
    let pool = ProcessPool::builder().workers(2).build().unwrap();
    let victim = pool.submit(report_then_wait, (path.to_str().unwrap().to_owned(),));
    // Our worker, alive (its task is napping), so the id names it.
    let worker = Process::running(await_content(&path).parse().unwrap());
    let others: Vec<_> = (0..10).map(|x| pool.submit(square, (x,))).collect();
    worker.kill();
    assert_eq!(
        outcome(&victim),
        Err(TaskError::worker_died(process::killed_from_outside()))
    );
    for (x, future) in (0..).zip(&others) {
        assert_eq!(outcome(future), Ok(x * x));
    }
    let _ = fs::remove_file(path);
}

/// Waits until `worker`, just killed, is dead and its channel closed. On Linux: a zombie whose
/// other threads are gone too (its main thread turns zombie before the others let go of the
/// descriptors; a task handed over in between would be lost with the worker, as one handed to
/// a dying worker is). On Windows: ended, which it is once all its threads and handles are.
fn await_dead(worker: Process) {
    let start = Instant::now();
    while !dead_and_closed(worker) {
        assert!(start.elapsed() < PATIENCE, "the killed worker never died");
        thread::sleep(Duration::from_millis(1));
    }
}

#[cfg(unix)]
fn dead_and_closed(worker: Process) -> bool {
    let Ok(status) = fs::read_to_string(format!("/proc/{}/status", worker.pid)) else {
        return false;
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .map(str::trim)
    };
    field("State:").is_some_and(|state| state.starts_with('Z')) && field("Threads:") == Some("1")
}

#[cfg(windows)]
fn dead_and_closed(worker: Process) -> bool {
    worker.has_ended()
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_worker_killed_while_idle_costs_no_task() {
    let pool = ProcessPool::builder().workers(1).build().unwrap();
    let first = worker_of(&pool);
    first.kill();
    await_dead(first);
    assert_eq!(outcome(&pool.submit(square, (12,))), Ok(144));
    assert_ne!(worker_of(&pool), first);
    assert!(first.is_gone(), "the killed worker was reaped");
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_task_past_its_deadline_is_timed_out_and_its_worker_killed() {
    let pool = ProcessPool::builder()
        .workers(1)
        .task_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let first = worker_of(&pool);
    let sleeper = pool.submit(nap, (PATIENCE.as_millis() as u64,));
    let queued = pool.submit(square, (5,));
    assert_eq!(
        outcome(&sleeper),
        Err(TaskError::timed_out(Deadline::Task {
            timeout: Duration::from_millis(300)
        }))
    );
    assert_eq!(outcome(&queued), Ok(25), "the task queued behind it runs");
    let second = worker_of(&pool);
    assert_ne!(second, first, "a new worker took over");
    assert!(first.is_gone(), "the overdue worker was killed and reaped");

    let beside = ProcessPool::builder()
        .workers(2)
        .task_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let sleeper = beside.submit(nap, (PATIENCE.as_millis() as u64,));
    let others: Vec<_> = (0..20).map(|x| beside.submit(square, (x,))).collect();
    assert!(outcome(&sleeper).unwrap_err().is_timed_out());
    for (x, future) in (0..).zip(&others) {
        assert_eq!(outcome(future), Ok(x * x));
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_deadline_counts_from_when_the_worker_starts_the_task() {
    // Two naps of 3 s on one worker, each with 5 s: the second ends 6 s after it was
    // submitted, but 3 s after its worker started it.
    let pool = ProcessPool::builder()
        .workers(1)
        .task_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let naps: Vec<_> = (0..2).map(|_| pool.submit(nap, (3000,))).collect();
    for future in &naps {
        assert_eq!(outcome(future), Ok(3000));
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn garbage_of_an_unknown_kind_fails_its_task_with_codec() {
    let error = only_the_misbehaving_task_fails("garbage-kind");
    assert!(error.is_codec(), "{error:?}");
    assert!(error.to_string().contains("unknown kind 238"), "{error}");
}

#[test]
#[cfg_attr(miri, ignore)]
fn an_oversized_length_fails_its_task_without_allocating() {
    let error = only_the_misbehaving_task_fails("garbage-length");
    assert!(error.is_codec(), "{error:?}");
    assert!(error.to_string().contains("exceeds the limit"), "{error}");
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_reply_to_another_task_fails_its_task_with_codec() {
    let error = only_the_misbehaving_task_fails("garbage-id");
    assert!(error.is_codec(), "{error:?}");
    assert!(error.to_string().contains("answered task"), "{error}");
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_truncated_frame_fails_its_task_and_never_hangs() {
    let error = only_the_misbehaving_task_fails("garbage-truncated");
    assert_eq!(error, TaskError::worker_died(WorkerExit::Code(0)));
}

/// A function no worker has: what a caller built from another version of the program
/// would ask for.
#[derive(Clone, Copy)]
struct Unregistered;

impl RemoteFn<(u64,)> for Unregistered {
    type Output = u64;

    fn name(&self) -> Option<&'static str> {
        Some("process_faults::no_such_function#fn(u64) -> u64")
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn an_unknown_function_is_a_clear_error_and_the_worker_lives_on() {
    let pool = ProcessPool::builder().workers(1).build().unwrap();
    let worker = worker_of(&pool);
    let error = outcome(&pool.submit(Unregistered, (1,))).unwrap_err();
    assert!(error.is_codec(), "{error:?}");
    assert_eq!(
        error.to_string(),
        "could not move data to or from a worker: the worker process has no function \
         registered as `process_faults::no_such_function#fn(u64) -> u64`"
    );
    let mapped: Vec<_> = pool.map(Unregistered, [(1,), (2,)]).collect();
    assert!(mapped
        .iter()
        .all(|r| r.as_ref().is_err_and(TaskError::is_codec)));
    assert_eq!(outcome(&pool.submit(square, (4,))), Ok(16));
    assert_eq!(worker_of(&pool), worker);
}

/// Aborts on 7, and returns anything else.
#[parallel(processes = 1)]
fn abort_on_7(x: u32) -> u32 {
    if x == 7 {
        std::process::abort();
    }
    x
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_crash_in_a_map_fails_only_the_batch_it_was_in() {
    let pool = ProcessPool::builder().workers(2).build().unwrap();
    let died = TaskError::worker_died(process::aborted());
    let one_by_one: Vec<_> = pool
        .map_with(
            abort_on_7,
            (0..20).map(|x| (x,)),
            MapOptions::new().chunksize(1),
        )
        .collect();
    for (x, result) in (0..).zip(one_by_one) {
        let expected = if x == 7 { Err(died.clone()) } else { Ok(x) };
        assert_eq!(result, expected, "item {x}");
    }
    let batched: Vec<_> = pool
        .map_with(
            abort_on_7,
            (0..20).map(|x| (x,)),
            MapOptions::new().chunksize(5),
        )
        .collect();
    for (x, result) in (0..).zip(batched) {
        let expected = if (5..10).contains(&x) {
            Err(died.clone())
        } else {
            Ok(x)
        };
        assert_eq!(result, expected, "item {x}");
    }
}

// A failing initializer. Each start of a worker is counted in a file named after the pool's
// process, so the test sees how many workers were started.

/// The file that counts worker starts for the test process `parent`, per initializer.
fn start_log(parent: u32, which: &str) -> PathBuf {
    std::env::temp_dir().join(format!("parallel-starts-{which}-{parent}"))
}

/// Records a worker start (in the worker) under `which`.
fn count_start(which: &str) {
    let path = start_log(parallel::parent_id(), which);
    let mut log = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    // One write of the whole line: workers of a pool start at once, and appends of separate
    // writes could interleave.
    log.write_all(format!("{}\n", std::process::id()).as_bytes())
        .unwrap();
}

/// The pids of the workers started so far under `which`.
fn starts(which: &str) -> Vec<u32> {
    fs::read_to_string(start_log(std::process::id(), which))
        .unwrap_or_default()
        .lines()
        .map(|line| line.parse().unwrap())
        .collect()
}

fn refuse() {
    count_start("panic");
    panic!("no database");
}

#[parallel(processes = 2, initializer = refuse)]
fn needs_a_database() -> u32 {
    1
}

fn quit() {
    count_start("exit");
    std::process::exit(7);
}

#[parallel(processes = 2, initializer = quit)]
fn needs_to_start() -> u32 {
    1
}

/// Checks that `call` fails with `Broken` mentioning `reason`, that at most one worker per
/// slot was started, and that no more start afterwards: no respawn loop.
fn broken_without_a_respawn_loop(which: &str, call: fn() -> Future<u32>, reason: &[&str]) {
    let futures: Vec<_> = (0..6).map(|_| call()).collect();
    for future in &futures {
        let error = outcome(future).unwrap_err();
        assert!(error.is_broken(), "{error:?}");
        for part in reason {
            assert!(error.to_string().contains(part), "{error}");
        }
    }
    let started = starts(which).len();
    assert!((1..=2).contains(&started), "{started} workers for 2 slots");
    // Time is what this checks: a respawn loop would start many workers during it. (The
    // second slot's first worker may still be starting: at most one per slot, ever.)
    thread::sleep(Duration::from_secs(1));
    let late = call();
    assert!(
        late.try_result()
            .is_some_and(|r| r.is_err_and(|e| e.is_broken())),
        "a broken pool refuses new work at once"
    );
    let started = starts(which);
    assert!(
        started.len() <= 2,
        "workers were started again: {started:?}"
    );
    for pid in started {
        // A worker that may have ended already: if its id names a later process, that one
        // is waited for too, which costs time but cannot fail the test.
        Process::running(pid).await_gone();
    }
    let _ = fs::remove_file(start_log(std::process::id(), which));
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_panicking_initializer_breaks_the_pool_without_a_respawn_loop() {
    broken_without_a_respawn_loop(
        "panic",
        needs_a_database,
        &[
            "a worker's initializer failed: the initializer panicked at tests/process_faults.rs:",
            ": no database",
        ],
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn an_initializer_that_exits_breaks_the_pool_without_a_respawn_loop() {
    broken_without_a_respawn_loop(
        "exit",
        needs_to_start,
        &["a worker process exited with code 7 while starting"],
    );
}
