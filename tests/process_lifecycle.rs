//! Lifecycle of worker processes: dropping or shutting down a pool leaves no zombie and no
//! stray process; workers never outlive their parent, whether it is SIGKILLed (workers idle or
//! in the middle of a task) or exits without dropping its pools; workers' stdout and stderr
//! reach the parent's; and a worker's channel is an unnamed socket that no other process
//! inherits. Tests that need a parent to kill run this test binary again as that parent (the
//! role is chosen by an environment variable), as rayon-core's `stack_overflow_crash` does.

mod common;

use std::collections::HashSet;
use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::process::Process;
use common::PATIENCE;
use parallel::{parallel, pmap, Future, ProcessPool, TaskError};

/// How soon workers must be gone once their parent is (the promise is "within a second";
/// the bound leaves room for a loaded machine).
const PROMPTLY: Duration = Duration::from_secs(5);

/// The environment variable that makes this test binary play a parent for a test.
const ROLE: &str = "PARALLEL_LIFECYCLE_ROLE";

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

/// The identity of its worker, after a nap of `ms`.
#[parallel(processes = 1)]
fn identity_after(ms: u64) -> (u32, u64) {
    thread::sleep(Duration::from_millis(ms));
    identity::sync()
}

fn process((pid, start): (u32, u64)) -> Process {
    Process { pid, start }
}

#[parallel(processes = 1)]
fn crash() -> u32 {
    std::process::abort()
}

#[test]
#[cfg_attr(miri, ignore)]
fn dropping_a_pool_leaves_no_zombie_and_no_stray() {
    // A fresh worker per task, so that many workers come and go: recycled, crashed, and
    // still running when the pool is dropped.
    let pool = ProcessPool::builder()
        .workers(2)
        .max_tasks_per_child(1)
        .build()
        .unwrap();
    let mut workers: HashSet<Process> = (0..6)
        .map(|_| pool.submit(identity, ()))
        .collect::<Vec<_>>()
        .iter()
        .map(|f| process(outcome(f).unwrap()))
        .collect();
    assert_eq!(workers.len(), 6, "each task ran in a worker of its own");
    assert!(outcome(&pool.submit(crash, ()))
        .unwrap_err()
        .is_worker_died());
    let last = pool.submit(identity_after, (200,));
    drop(pool);
    workers.insert(process(last.try_result().expect("drop waited").unwrap()));
    for worker in workers {
        assert!(worker.is_gone(), "{worker:?} outlived its pool");
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn shutdown_with_wait_leaves_no_process() {
    let pool = ProcessPool::builder().workers(2).build().unwrap();
    let futures: Vec<_> = (0..4).map(|_| pool.submit(identity_after, (50,))).collect();
    pool.shutdown(true, false);
    for future in &futures {
        let worker = process(future.try_result().expect("shutdown waited").unwrap());
        assert!(worker.is_gone(), "{worker:?} outlived the shutdown");
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn shutdown_without_wait_lets_workers_finish_then_exit() {
    let pool = ProcessPool::builder().workers(2).build().unwrap();
    let futures: Vec<_> = (0..4)
        .map(|_| pool.submit(identity_after, (100,)))
        .collect();
    pool.shutdown(false, false);
    let workers: Vec<Process> = futures
        .iter()
        .map(|f| process(outcome(f).unwrap()))
        .collect();
    let start = Instant::now();
    while !workers.iter().all(|w| w.is_gone()) {
        assert!(
            start.elapsed() < PATIENCE,
            "workers still there: {workers:?}"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

/// Waits until every one of `workers` has ended, failing after `PROMPTLY`.
fn assert_end_promptly(workers: &[Process], after: &str) {
    let start = Instant::now();
    loop {
        let alive: Vec<_> = workers.iter().filter(|w| !w.has_ended()).collect();
        if alive.is_empty() {
            return;
        }
        assert!(
            start.elapsed() < PROMPTLY,
            "workers alive {PROMPTLY:?} after {after}: {alive:?}"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

/// This test binary again, running only `test` in the role `role`, its stdout piped.
fn spawn_parent(test: &str, role: &str) -> Parent {
    let child = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    Parent(child)
}

/// A parent process for a test; killed and reaped if the test ends early.
struct Parent(Child);

impl Parent {
    /// Reads the parent's stdout until a line `workers: pid:start ...`, and returns them.
    fn workers(&mut self) -> Vec<Process> {
        let stdout = self.0.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        // Read to the end, so that the parent never writes into a closed pipe. Workers share
        // the pipe, so it may outlive the parent: the test waits for the line, not the end.
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        loop {
            let line = lines
                .recv_timeout(PATIENCE)
                .expect("the parent never listed its workers");
            // The test harness may have begun the line.
            if let Some((_, list)) = line.split_once("workers: ") {
                return list.split_whitespace().map(Process::decode).collect();
            }
        }
    }
}

impl Drop for Parent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// In the role of a parent: prints its worker processes once there are `count`.
fn list_workers(count: usize) {
    let me = Process::current();
    let start = Instant::now();
    let workers = loop {
        let children = me.children();
        if children.len() >= count {
            break children;
        }
        assert!(start.elapsed() < PATIENCE, "{count} workers never started");
        thread::sleep(Duration::from_millis(1));
    };
    let list: Vec<String> = workers.iter().map(|w| w.encode()).collect();
    println!("workers: {}", list.join(" "));
}

/// Creates `busy-<pid>` in `dir`, then naps until killed.
#[parallel(processes = 1)]
fn busy(dir: String) -> u32 {
    fs::write(format!("{dir}/busy-{}", std::process::id()), b"").unwrap();
    thread::sleep(PATIENCE);
    0
}

/// The role of `workers_exit_when_their_parent_is_killed`: two pools of two workers, one idle
/// and one with a task in each worker (which says so with a file in `dir`); lists the four
/// workers, then waits to be killed.
fn parent_to_be_killed(dir: &str) {
    let idle = ProcessPool::builder().workers(2).build().unwrap();
    assert!(outcome(&idle.submit(identity, ())).is_ok());
    let busy_pool = ProcessPool::builder().workers(2).build().unwrap();
    // Four tasks: a worker holds at most two, so both workers get one.
    let _busy: Vec<_> = (0..4)
        .map(|_| busy_pool.submit(busy, (dir.to_owned(),)))
        .collect();
    let start = Instant::now();
    while fs::read_dir(dir).unwrap().count() < 2 {
        assert!(start.elapsed() < PATIENCE, "the workers never got busy");
        thread::sleep(Duration::from_millis(1));
    }
    list_workers(4);
    thread::sleep(PATIENCE);
    std::process::exit(1); // never killed: the test has failed
}

#[test]
#[cfg_attr(miri, ignore)]
fn workers_exit_when_their_parent_is_killed() {
    if let Some(dir) = std::env::var_os(ROLE) {
        return parent_to_be_killed(dir.to_str().unwrap());
    }
    let dir = std::env::temp_dir().join(format!("parallel-busy-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let test = "workers_exit_when_their_parent_is_killed";
    let mut parent = spawn_parent(test, dir.to_str().unwrap());
    let workers = parent.workers();
    assert_eq!(workers.len(), 4, "{workers:?}");
    assert!(workers.iter().all(|w| !w.has_ended()));
    parent.0.kill().unwrap();
    parent.0.wait().unwrap();
    assert_end_promptly(&workers, "their parent was SIGKILLed");
    fs::remove_dir_all(dir).unwrap();
}

#[parallel(processes = 2)]
fn static_pool_identity() -> (u32, u64) {
    identity::sync()
}

/// The role of `workers_exit_when_their_parent_exits_without_dropping_its_pools`: pools in
/// statics (a `#[parallel]` function's and a `pmap!` call site's), never dropped.
fn parent_that_exits() {
    assert!(outcome(&static_pool_identity()).is_ok());
    let doubled: Vec<u32> = pmap!(|x: u32| x * 2, 0..4; processes = 2)
        .map(Result::unwrap)
        .collect();
    assert_eq!(doubled, [0, 2, 4, 6]);
    list_workers(4);
}

#[test]
#[cfg_attr(miri, ignore)]
fn workers_exit_when_their_parent_exits_without_dropping_its_pools() {
    if std::env::var_os(ROLE).is_some() {
        return parent_that_exits();
    }
    let test = "workers_exit_when_their_parent_exits_without_dropping_its_pools";
    let mut parent = spawn_parent(test, "exits");
    let workers = parent.workers();
    assert_eq!(workers.len(), 4, "{workers:?}");
    let status = parent.0.wait().unwrap();
    assert!(status.success(), "the parent failed: {status}");
    assert_end_promptly(&workers, "their parent exited");
}

/// Prints `token` with its pid on stdout, and on stderr.
#[parallel(processes = 1)]
fn speak(token: String) -> u32 {
    println!("{token} on stdout from worker {}", std::process::id());
    eprintln!("{token} on stderr from worker {}", std::process::id());
    std::process::id()
}

#[test]
#[cfg_attr(miri, ignore)]
fn worker_output_reaches_the_parents_stdout_and_stderr() {
    if let Some(token) = std::env::var_os(ROLE) {
        let pid = outcome(&speak(token.into_string().unwrap())).unwrap();
        assert_ne!(pid, std::process::id());
        return;
    }
    let token = format!("token-{}", std::process::id());
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "worker_output_reaches_the_parents_stdout_and_stderr",
            "--exact",
            "--test-threads=1",
        ])
        .env(ROLE, &token)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The test harness may have begun the line the worker ends.
    let said =
        |text: &str, stream: &str| text.contains(&format!("{token} on {stream} from worker "));
    assert!(said(&stdout, "stdout"), "stdout: {stdout}");
    assert!(said(&stderr, "stderr"), "stderr: {stderr}");
}

/// What a worker finds about its channel (Linux: `/proc`; Windows has no socket, and
/// `windows_processes.rs` checks what it has instead): whether the worker variable is still set, how many
/// sockets it holds, and whether any of them has a path.
#[cfg(target_os = "linux")]
#[parallel(processes = 1)]
fn channel_report() -> (bool, usize, bool) {
    let sockets: Vec<String> = fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let target = fs::read_link(entry.path()).ok()?;
            let inode = target
                .to_str()?
                .strip_prefix("socket:[")?
                .strip_suffix(']')?;
            Some(inode.to_owned())
        })
        .collect();
    // `/proc/net/unix`: Num RefCount Protocol Flags Type St Inode [Path].
    let table = fs::read_to_string("/proc/net/unix").unwrap();
    let named = table.lines().skip(1).any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields.len() > 7 && sockets.iter().any(|inode| inode == fields[6])
    });
    (
        std::env::var_os("PARALLEL_WORKER").is_some(),
        sockets.len(),
        named,
    )
}

#[test]
#[cfg(target_os = "linux")]
#[cfg_attr(miri, ignore)]
fn a_worker_holds_one_unnamed_socket_and_no_other_workers_channel() {
    // Workers recycled after each task while the other slot's worker lives: a channel that
    // leaked into a sibling would show as a second socket.
    let pool = ProcessPool::builder()
        .workers(2)
        .max_tasks_per_child(1)
        .build()
        .unwrap();
    let reports: Vec<_> = (0..6).map(|_| pool.submit(channel_report, ())).collect();
    for report in &reports {
        let (variable_set, sockets, named) = outcome(report).unwrap();
        assert!(!variable_set, "the worker's variable is removed at start");
        assert_eq!(
            sockets, 1,
            "a worker holds its own channel and nothing else"
        );
        assert!(!named, "the channel has no path another process could open");
    }
}
