//! A tour of `parallel`: the `#[parallel]` attribute and `pmap!` on threads and processes,
//! crash isolation, timeouts, then the runtime under them (pools, futures, cancel,
//! callbacks, `map`, `as_completed`, `wait`, shutdown), `.await` and progress bars.
//!
//! Run it with `cargo run --release --example tour`. Each section prints what it shows; the
//! whole tour takes a few seconds. Tasks that must stay busy for a while wait on a channel
//! (a "gate") rather than sleep, so what each section prints does not depend on timing.
//!
//! The process sections need no set-up in `main`: worker processes are this program started
//! again, and they enter worker mode before `main` runs.

use std::cell::Cell;
use std::error::Error;
use std::fmt::Write as _;
use std::iter::repeat;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, LazyLock};
use std::thread;
use std::time::{Duration, Instant};

use parallel::{
    as_completed, default_pool, parallel, pmap, wait, MapOptions, ProcessPool, ReturnWhen,
    TaskError, ThreadPool,
};

/// What the tour prints: kept for its test, and shown line by line as it goes when the tour
/// runs as a program, so that its sections and its progress bars come in order.
struct Out {
    text: String,
    echo: bool,
}

impl std::fmt::Write for Out {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.text.push_str(s);
        if self.echo {
            print!("{s}"); // stdout is line-buffered: whole lines reach the terminal
        }
        Ok(())
    }
}

impl Out {
    /// Writes `line` while a progress bar runs, through `above` (the bar's `println`), which
    /// clears the bar first: a plain `println!` would leave a stale copy of the bar above it.
    fn above(&mut self, above: impl FnOnce(&str), line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
        if self.echo {
            above(line);
        }
    }
}

/// Results one per line-item: values as they are, errors as their message.
fn outcomes<T: std::fmt::Debug>(results: &[Result<T, TaskError>]) -> String {
    let shown: Vec<String> = results
        .iter()
        .map(|result| match result {
            Ok(value) => format!("{value:?}"),
            Err(error) => format!("<{error}>"),
        })
        .collect();
    format!("[{}]", shown.join(", "))
}

/// A channel a task blocks on until the tour opens it: `(open, gate)`.
fn gate() -> (Sender<()>, Receiver<()>) {
    channel()
}

/// The name of the thread this runs on.
fn thread_name() -> String {
    thread::current().name().unwrap_or("<unnamed>").to_owned()
}

// ---------------------------------------------------------------------------------------
// The attribute on threads.

/// Two threads of its own, named `dl-0` and `dl-1`.
#[parallel(threads = 2, name = "dl")]
fn download(file: String) -> String {
    thread::sleep(Duration::from_millis(50));
    format!("{file} downloaded on {}", thread_name())
}

/// No arguments: the process-wide default pool.
#[parallel]
fn double(x: i64) -> i64 {
    x * 2
}

/// A pool the program declares once and several functions share.
static IO: LazyLock<ThreadPool> = LazyLock::new(|| {
    ThreadPool::builder()
        .workers(4)
        .name_prefix("io")
        .build()
        .expect("starting four threads")
});

#[parallel(pool = IO)]
fn fetch(url: String) -> (usize, String) {
    (url.len(), thread_name())
}

#[parallel(pool = IO)]
fn checksum(bytes: Vec<u8>) -> u32 {
    bytes.iter().map(|&b| u32::from(b)).sum()
}

thread_local!(static CONNECTION: Cell<u32> = const { Cell::new(0) });

/// Runs once in each worker of `query`'s pool, before its first call.
fn connect() {
    CONNECTION.with(|c| c.set(7));
}

#[parallel(threads = 2, name = "db", initializer = connect)]
fn query(sql: String) -> String {
    format!("{sql} on connection {}", CONNECTION.with(Cell::get))
}

fn attribute(out: &mut Out) -> Result<(), Box<dyn Error>> {
    writeln!(
        out,
        "== #[parallel]: calling a function returns a future =="
    )?;
    let future = download("a.pdf".into()); // returns at once
    writeln!(
        out,
        "download(\"a.pdf\") returned; result: {}",
        future.result()?
    )?;
    // The original function is still there, running on the caller's thread.
    writeln!(
        out,
        "download::sync(\"b.pdf\"): {}",
        download::sync("b.pdf".into())
    )?;
    writeln!(
        out,
        "double(21) on the default pool: {}",
        double(21).result()?
    )?;

    let (length, name) = fetch("example.org".into()).result()?;
    let sum = checksum(vec![1, 2, 3]).result()?;
    writeln!(
        out,
        "fetch and checksum share the IO pool: {length} on {name}, sum {sum}"
    )?;
    writeln!(
        out,
        "with an initializer: {}",
        query("select 1".into()).result()?
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// pmap!

fn square(x: u64) -> u64 {
    x * x
}

/// Why a map with a timeout gives fewer results than it has items.
const MAP_TIMEOUT: &str = "(3 items, 2 results: a map ends at its timeout, as Python's does; \
    what it did not yield is cancelled or left to finish unread)";

fn pmaps(out: &mut Out) -> Result<(), Box<dyn Error>> {
    writeln!(out, "\n== pmap!: a parallel map ==")?;
    // A plain function runs on the default pool; results come in input order.
    let squares: Vec<u64> = pmap!(square, 1..=4).collect::<Result<_, _>>()?;
    writeln!(out, "pmap!(square, 1..=4): {squares:?}")?;

    // A `#[parallel]` function runs on its own pool.
    let files = ["c.pdf", "d.pdf"].map(String::from);
    for line in pmap!(download, files) {
        writeln!(out, "pmap!(download, files): {}", line?)?;
    }

    // Several iterables are zipped, up to the shortest (Python's map(f, xs, ys)).
    let sums: Vec<i32> =
        pmap!(|a: i32, b: i32| a + b, 0..5, repeat(10)).collect::<Result<_, _>>()?;
    writeln!(out, "pmap!(|a, b| a + b, 0..5, repeat(10)): {sums:?}")?;

    // A failing item is that item's error; the others complete.
    let results: Vec<Result<u32, TaskError>> =
        pmap!(|x: u32| if x == 2 { panic!("two") } else { x }, 0..4).collect();
    writeln!(out, "an item that panics: {}", outcomes(&results))?;
    writeln!(
        out,
        "(nothing was printed when it panicked: the message and place are in the error)"
    )?;

    // Options: a call site pool of 2 threads, batches of 1000, completion order.
    let sum: u64 = pmap!(square, 0..100_000u64; threads = 2, chunksize = 1000, ordered = false)
        .sum::<Result<_, _>>()?;
    writeln!(
        out,
        "sum of 100,000 squares, unordered in batches of 1000: {sum}"
    )?;

    // A timeout for the whole map, from the `pmap!` call: what is not done by then fails.
    let timed: Vec<Result<u64, TaskError>> = pmap!(
        |ms: u64| { thread::sleep(Duration::from_millis(ms)); ms },
        [0, 1000, 0];
        threads = 1, chunksize = 1, timeout = "200ms"
    )
    .collect();
    writeln!(
        out,
        "items of 0, 1000, 0 ms with timeout = \"200ms\": {}",
        outcomes(&timed)
    )?;
    writeln!(out, "{MAP_TIMEOUT}")?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Borrowing: scopes.

fn borrowing(out: &mut Out) -> Result<(), Box<dyn Error>> {
    writeln!(out, "\n== Borrowing: scopes ==")?;
    let readings: Vec<u64> = (1..=1_000).collect();
    let scale = 3;
    // Tasks and maps in a scope borrow `readings` and `scale`: the scope returns only when
    // they have all finished.
    let (largest, total, scaled) = parallel::scope(|s| {
        let largest = s.submit(|| readings.iter().max());
        // Read in place (no copy of the items); `sum` adds on the workers.
        let total = s
            .map(|x: &u64| x * scale, &readings)
            .sum::<Result<u64, _>>();
        let scaled: Vec<u64> = pmap!(|x| x * scale, &readings[..4]; scope = s)
            .map(Result::unwrap)
            .collect();
        (largest.result(), total, scaled)
    });
    writeln!(out, "the largest reading, borrowed back: {:?}", largest?)?;
    writeln!(out, "the sum of readings × {scale}, in place: {}", total?)?;
    writeln!(out, "pmap!(.., &readings[..4]; scope = s): {scaled:?}")?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Processes.

/// Runs in one of two worker processes of its own: its arguments and result travel with
/// serde, so they must be serializable (checked at compile time).
#[parallel(processes = 2)]
fn cube_where(x: u64) -> (u64, u32, u32) {
    (x * x * x, std::process::id(), parallel::parent_id())
}

#[parallel(processes = 2)]
fn shout(text: String) -> String {
    format!("{} in process {}", text.to_uppercase(), std::process::id())
}

#[parallel(processes = 1)]
fn pid() -> u32 {
    std::process::id()
}

fn processes(out: &mut Out) -> Result<(), Box<dyn Error>> {
    writeln!(out, "\n== processes: the same calls, in other processes ==")?;
    let me = std::process::id();
    let (cube, pid_there, parent) = cube_where(3).result()?;
    writeln!(
        out,
        "cube_where(3) = {cube}, in process {pid_there} (this one is {me})"
    )?;
    writeln!(
        out,
        "another process: {}, whose parent is this program: {}",
        pid_there != me,
        parent == me
    )?;

    // pmap! with `processes`: a function path, or a closure that captures nothing.
    let squares: Vec<u64> = pmap!(square, 1..=4; processes = 2).collect::<Result<_, _>>()?;
    writeln!(out, "pmap!(square, 1..=4; processes = 2): {squares:?}")?;
    let lengths: Vec<usize> =
        pmap!(|s: String| s.len(), ["one", "three"].map(String::from); processes = 2)
            .collect::<Result<_, _>>()?;
    writeln!(out, "a typed closure in processes: {lengths:?}")?;

    // The runtime's pool runs any `#[parallel(processes)]` function; recycling after each
    // task (Python's max_tasks_per_child) puts every task in a fresh process.
    let pool = ProcessPool::builder()
        .workers(1)
        .max_tasks_per_child(1)
        .build()?;
    let first = pool.submit(pid, ()).result()?;
    let second = pool.submit(pid, ()).result()?;
    writeln!(
        out,
        "max_tasks_per_child(1): a fresh worker for each task: {}",
        first != second
    )?;

    // Thread and process futures are one type: as_completed and wait take both at once.
    let jobs = [
        ("a thread", download("e.pdf".into())),
        ("a process", shout("hello".into())),
    ];
    for (key, future) in as_completed(jobs) {
        writeln!(out, "as_completed, from {key}: {}", future.result()?)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// A worker crash.

/// Item 3 takes its whole worker process down, as a segfault or `abort` would.
#[parallel(processes = 2)]
fn fragile(n: u32) -> u32 {
    match n {
        3 => std::process::exit(3),
        5 => panic!("five is bad"),
        _ => n * 10,
    }
}

fn crash(out: &mut Out) -> Result<(), Box<dyn Error>> {
    writeln!(out, "\n== a worker crash fails one task only ==")?;
    let futures: Vec<_> = (0..8).map(|n| (n, fragile(n))).collect();
    for (n, future) in futures {
        match future.result() {
            Ok(value) => writeln!(out, "fragile({n}) = {value}")?,
            Err(error) => writeln!(out, "fragile({n}): {error}")?,
        }
    }
    writeln!(
        out,
        "(fragile(3) calls exit(3), ending its worker process: only its own task fails, and a \
         new worker takes the dead one's place)"
    )?;
    writeln!(
        out,
        "(fragile(5) panics: its task fails, its worker lives on)"
    )?;
    // The dead worker was replaced; the pool goes on.
    writeln!(
        out,
        "and after them, the pool goes on: fragile(8) = {}",
        fragile(8).result()?
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Stopping a running task; retries.

/// Busy for ever: only killing its worker process stops it.
#[parallel(processes = 1)]
fn busy_forever() -> u32 {
    loop {
        std::hint::spin_loop();
    }
}

/// Crashes its worker on the first two tries (counted in the file `marker`), then succeeds.
#[parallel(processes = 1, retries = 2)]
fn flaky(marker: String) -> String {
    let tries = std::fs::read_to_string(&marker).map_or(0, |text| text.len()) + 1;
    std::fs::write(&marker, "x".repeat(tries)).expect("the marker is writable");
    if tries < 3 {
        std::process::abort(); // as a segfault or the OOM killer would
    }
    format!("done on try {tries}")
}

fn kill_and_retry(out: &mut Out) -> Result<(), Box<dyn Error>> {
    writeln!(out, "\n== stopping a running task; retries ==")?;
    let running = busy_forever();
    while !running.is_running() {
        thread::yield_now();
    }
    writeln!(
        out,
        "cancel() on a running task: {} (Python's meaning)",
        running.cancel()
    )?;
    writeln!(
        out,
        "kill() on it: {}, its worker process is killed",
        running.kill()
    )?;
    writeln!(
        out,
        "the killed task: {} (kill() stops it, so its future reads cancelled)",
        running.result().unwrap_err()
    )?;

    let marker = std::env::temp_dir().join(format!("parallel-tour-{}", std::process::id()));
    let marker = marker.to_string_lossy().into_owned();
    let outcome = flaky(marker.clone()).result()?;
    let _ = std::fs::remove_file(&marker);
    writeln!(
        out,
        "flaky() with retries = 2, its worker dying twice: {outcome}"
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Timeouts.

/// A thread cannot be stopped: past the deadline the future fails, the body runs on.
#[parallel(timeout = "50ms")]
fn nap(ms: u64) -> u64 {
    thread::sleep(Duration::from_millis(ms));
    ms
}

/// A process can: past the deadline its worker is killed and replaced. This one spins the
/// CPU, which no thread-based timeout could stop.
#[parallel(processes = 1, timeout = "300ms")]
fn spin(ms: u64) -> u32 {
    let end = Instant::now() + Duration::from_millis(ms);
    while Instant::now() < end {
        std::hint::spin_loop();
    }
    std::process::id()
}
fn pools_and_submit(out: &mut Out) -> Result<(), Box<dyn Error>> {
    writeln!(out, "\n== the runtime: a pool, submit and result ==")?;
    // Python's ThreadPoolExecutor(max_workers=4, thread_name_prefix="tour", initializer=..).
    let pool = ThreadPool::builder()
        .workers(4)
        .name_prefix("tour")
        .initializer(|| CONNECTION.with(|c| c.set(42)))
        .build()
        .expect("starting four threads");
    let future = pool.submit(|| (6 * 7, thread_name(), CONNECTION.with(Cell::get)));
    let (answer, name, connection) = future.result()?;
    writeln!(out, "6 * 7 = {answer}, computed on {name}")?;
    writeln!(
        out,
        "the initializer ran first on that worker: connection {connection}"
    )?;
    writeln!(
        out,
        "done: {}, running: {}",
        future.is_done(),
        future.is_running()
    )?;

    // The process-wide default pool needs no set-up.
    let name = default_pool().submit(thread_name).result()?;
    writeln!(out, "the default pool's workers are named like {name}")?;

    // A panic inside a task becomes that task's error; the worker lives on.
    let failed = pool.submit(|| -> u32 { panic!("bad input") });
    writeln!(out, "a panicking task: {}", failed.result().unwrap_err())?;
    writeln!(
        out,
        "(nothing was printed when it panicked: the message and place are in the error)"
    )?;
    writeln!(
        out,
        "the pool still works: {}",
        pool.submit(|| "yes").result()?
    )?;
    Ok(())
}

fn timeouts(out: &mut Out) -> Result<(), Box<dyn Error>> {
    writeln!(out, "\n== timeouts: of a wait, of a task ==")?;
    let pool = ThreadPool::new();
    let (open, gate) = gate();
    let future = pool.submit(move || gate.recv().map(|()| "finally"));
    match future.result_timeout(Duration::from_millis(100)) {
        Err(error) => writeln!(out, "after 100 ms: {error}")?,
        Ok(_) => writeln!(out, "after 100 ms: done already?")?,
    }
    // A timed-out wait leaves the future as it was: we can wait again.
    open.send(()).expect("the task holds the gate");
    let value = future.result()?.expect("the gate was opened");
    writeln!(out, "waiting again: {value}")?;

    // A deadline on the task itself, counted from when it starts running.
    let slow = pool.submit_with_timeout(
        || thread::sleep(Duration::from_millis(300)),
        Duration::from_millis(50),
    );
    writeln!(
        out,
        "a task given 50 ms that needs 300 ms: {}",
        slow.result().unwrap_err()
    )?;
    writeln!(
        out,
        "(a thread cannot be stopped: at 50 ms the future fails, the body runs on to its end \
         and its value is dropped)"
    )?;

    // The same deadline with the attribute: `timeout = "50ms"`.
    writeln!(
        out,
        "nap(300) with timeout = \"50ms\": {}",
        nap(300).result().unwrap_err()
    )?;

    // In a process, the deadline stops the work too: the worker is killed and replaced.
    let before = spin(0).result()?;
    let error = spin(60_000).result().unwrap_err();
    let after = spin(0).result()?;
    writeln!(
        out,
        "spin(60 s) with timeout = \"300ms\" in a process: {error}"
    )?;
    writeln!(
        out,
        "its worker was killed and a fresh one took over: {}",
        before != after
    )?;
    Ok(())
}

fn cancel(out: &mut Out) -> Result<(), Box<dyn Error>> {
    writeln!(out, "\n== cancel ==")?;
    // One worker, kept busy, so the next task stays queued.
    let pool = ThreadPool::builder()
        .workers(1)
        .build()
        .expect("starting a thread");
    let (started, on_start) = channel();
    let (open, gate) = gate();
    let busy = pool.submit(move || {
        started.send(()).expect("the tour listens");
        gate.recv().is_ok()
    });
    let queued = pool.submit(|| "never runs");
    on_start.recv().expect("the busy task starts");

    writeln!(out, "cancel a queued task: {}", queued.cancel())?;
    writeln!(
        out,
        "cancel a running task: {} (as in Python)",
        busy.cancel()
    )?;
    open.send(()).expect("the task holds the gate");
    writeln!(out, "the running task finished anyway: {}", busy.result()?)?;
    writeln!(out, "the queued task: {}", queued.result().unwrap_err())?;
    writeln!(out, "cancelled: {}", queued.is_cancelled())?;
    Ok(())
}

fn callbacks(out: &mut Out) -> Result<(), Box<dyn Error>> {
    writeln!(out, "\n== done-callbacks ==")?;
    let pool = ThreadPool::new();
    let (report, reports) = channel();
    let (open, gate) = gate();
    let future = pool.submit(move || gate.recv().map(|()| 21 * 2).unwrap_or(0));

    // Added before the task is done: runs on the worker that finishes it.
    let sender = report.clone();
    future.add_done_callback(move |outcome| {
        let line = format!("callback 1 got {:?} on a worker", outcome.ok());
        sender.send(line).expect("the tour listens");
    });
    open.send(()).expect("the task holds the gate");
    writeln!(out, "{}", reports.recv().expect("callback 1 runs"))?;

    // Added after: runs at once, on this thread.
    let here = thread::current().id();
    future.add_done_callback(move |outcome| {
        let line = format!(
            "callback 2 got {:?} at once, on the caller's thread: {}",
            outcome.ok(),
            thread::current().id() == here
        );
        report.send(line).expect("the tour listens");
    });
    writeln!(out, "{}", reports.recv().expect("callback 2 runs"))?;
    writeln!(
        out,
        "the value is still there for result: {}",
        future.result()?
    )?;
    Ok(())
}

fn maps(out: &mut Out) -> Result<(), Box<dyn Error>> {
    writeln!(out, "\n== map ==")?;
    let pool = ThreadPool::builder()
        .workers(4)
        .build()
        .expect("starting four threads");

    // In input order, one `Result` per item; a failed item does not stop the others.
    let results: Vec<Result<u32, TaskError>> = pool
        .map(|x: u32| if x == 3 { panic!("three") } else { x * x }, 1..=5)
        .collect();
    for (x, result) in (1..=5).zip(&results) {
        match result {
            Ok(square) => writeln!(out, "{x} -> {square}")?,
            Err(error) => writeln!(out, "{x} -> {error}")?,
        }
    }

    // In completion order (Python's imap_unordered): the quickest item comes out first.
    let unordered: Vec<u64> = pool
        .map_with(
            |ms: u64| {
                thread::sleep(Duration::from_millis(ms));
                ms
            },
            [300, 200, 100, 0],
            MapOptions::new().chunksize(1),
        )
        .ordered(false)
        .collect::<Result<_, _>>()?;
    writeln!(
        out,
        "unordered, items sleeping 300, 200, 100, 0 ms: {unordered:?}"
    )?;

    // Cheap items are batched automatically; `chunksize` fixes the batch size instead.
    let started = Instant::now();
    let sum: u64 = pool
        .map_with(
            |x: u64| x * x,
            0..1_000_000u64,
            MapOptions::new().chunksize(10_000),
        )
        .sum::<Result<_, _>>()?;
    writeln!(out, "sum of 1,000,000 squares in batches of 10,000: {sum}")?;
    writeln!(out, "(took {} ms)", started.elapsed().as_millis())?;

    // An endless input is fine: only a bounded number of items is ever in flight.
    let first: Vec<u64> = pool
        .map(|x: u64| x * 10, 0..)
        .take(5)
        .collect::<Result<_, _>>()?;
    writeln!(out, "the first five of an endless map: {first:?}")?;

    // The timeout counts from the `map` call; items still pending then are cancelled.
    let one = ThreadPool::builder()
        .workers(1)
        .build()
        .expect("starting a thread");
    let timed: Vec<Result<u64, TaskError>> = one
        .map_with(
            |ms: u64| {
                thread::sleep(Duration::from_millis(ms));
                ms
            },
            [0, 1000, 0],
            MapOptions::new().chunksize(1),
        )
        .timeout(Duration::from_millis(200))
        .collect();
    writeln!(
        out,
        "items of 0, 1000, 0 ms with a 200 ms timeout: {}",
        outcomes(&timed)
    )?;
    writeln!(out, "{MAP_TIMEOUT}")?;
    Ok(())
}

fn completion_order(out: &mut Out) -> Result<(), Box<dyn Error>> {
    writeln!(out, "\n== as_completed ==")?;
    let pool = ThreadPool::new();
    let (open, gate) = gate();
    let stuck = pool.submit(move || gate.recv().is_ok());
    let quick = pool.submit(|| true);
    let also_quick = pool.submit(|| true);
    quick.wait();
    also_quick.wait();

    // `(key, future)` pairs: the key says which input finished (Python's `futures[future]`).
    let jobs = [
        ("stuck", &stuck),
        ("quick", &quick),
        ("also quick", &also_quick),
    ];
    let mut finished = as_completed(jobs).timeout(Duration::from_millis(200));
    for item in finished.by_ref() {
        match item {
            Ok((name, future)) => writeln!(out, "{name} finished: {:?}", future.result())?,
            Err(error) => writeln!(out, "then, after 200 ms: {error}")?,
        }
    }
    let pending: Vec<&str> = finished
        .into_pending()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    writeln!(out, "not finished in 200 ms: {pending:?}")?;
    open.send(()).expect("the task holds the gate");
    Ok(())
}

fn waits(out: &mut Out) -> Result<(), Box<dyn Error>> {
    writeln!(out, "\n== wait ==")?;
    let pool = ThreadPool::new();
    let (open, gate) = gate();
    let slow = pool.submit(move || gate.recv().map(|()| 1).unwrap_or(0));
    let fast = pool.submit(|| 2);
    let failing = pool.submit(|| -> i32 { panic!("no luck") });
    let names = |items: &[(&'static str, &parallel::Future<i32>)]| -> Vec<&'static str> {
        items.iter().map(|(name, _)| *name).collect()
    };

    let two = [("slow", &slow), ("fast", &fast)];
    let waited = wait(two, None, ReturnWhen::FirstCompleted);
    writeln!(
        out,
        "FirstCompleted: done {:?}, not done {:?}",
        names(&waited.done),
        names(&waited.not_done)
    )?;

    let two = [("slow", &slow), ("failing", &failing)];
    let waited = wait(two, None, ReturnWhen::FirstException);
    writeln!(
        out,
        "FirstException: done {:?}, not done {:?}",
        names(&waited.done),
        names(&waited.not_done)
    )?;

    let all = [("slow", &slow), ("fast", &fast), ("failing", &failing)];
    let waited = wait(
        all,
        Some(Duration::from_millis(100)),
        ReturnWhen::AllCompleted,
    );
    writeln!(
        out,
        "AllCompleted within 100 ms: not done {:?}",
        names(&waited.not_done)
    )?;
    open.send(()).expect("the task holds the gate");
    let waited = wait(all, None, ReturnWhen::AllCompleted);
    writeln!(out, "AllCompleted: done {:?}", names(&waited.done))?;
    Ok(())
}

fn nested(out: &mut Out) -> Result<(), Box<dyn Error>> {
    writeln!(out, "\n== a task waiting on its own pool ==")?;
    // One worker: the outer task occupies it while it waits on the inner one. Python
    // deadlocks here; a worker of this pool runs the queued inner task itself.
    let pool = Arc::new(
        ThreadPool::builder()
            .workers(1)
            .build()
            .expect("starting a thread"),
    );
    let same_pool = Arc::clone(&pool);
    let outer = pool.submit(move || {
        let inner = same_pool.submit(|| "inner result");
        format!("outer got {:?}", inner.result())
    });
    let value = outer.result_timeout(Duration::from_secs(30))?;
    writeln!(out, "{value}")?;
    Ok(())
}

fn awaiting(out: &mut Out) -> Result<(), Box<dyn Error>> {
    writeln!(out, "\n== .await ==")?;
    let pool = ThreadPool::new();
    let a = pool.submit(|| 20);
    let b = pool.submit(|| 22);
    // Any executor works; here the small one from the `futures` crate.
    let sum = futures::executor::block_on(async { Ok::<_, TaskError>(a.await? + b.await?) })?;
    writeln!(out, "awaited 20 + 22 = {sum}")?;
    // Calls of `#[parallel]` functions, threads or processes, are awaited the same way.
    let (cube, _, _) = futures::executor::block_on(cube_where(4))?;
    let doubled = futures::executor::block_on(double(50))?;
    writeln!(
        out,
        "awaited a process call, cube_where(4) = {cube}, and a thread call, double(50) = {doubled}"
    )?;
    Ok(())
}

/// Slow enough that a progress bar has something to show.
fn slow_square(x: u64) -> u64 {
    thread::sleep(Duration::from_millis(5));
    x * x
}

/// The `progress` feature (on by default): a bar on stderr while a map or `as_completed`
/// runs, counting items. It is drawn only when stderr is a terminal.
fn progress(out: &mut Out) -> Result<(), Box<dyn Error>> {
    writeln!(out, "\n== progress bars ==")?;
    // `label` names a bar; `println` prints above it while it runs.
    let mut squares = pmap!(slow_square, 0..400; threads = 4, progress).label("squares");
    let first: u64 = squares.by_ref().take(100).map(Result::unwrap).sum();
    let line = format!(
        "printed above the running bar, which shows {} of 400",
        squares.position()
    );
    out.above(|line| squares.println(line), &line);
    let rest: u64 = squares.map(Result::unwrap).sum();
    writeln!(out, "sum of 400 slow squares with a bar: {}", first + rest)?;

    // In a `for` loop, the loop holds the bar: print through a handle.
    let pool = ThreadPool::new();
    let futures: Vec<_> = (0..50u64)
        .map(|x| pool.submit(move || slow_square(x)))
        .collect();
    let finished = as_completed(&futures).progress().label("as_completed");
    let bar = finished.handle();
    let mut count = 0;
    for _ in finished {
        count += 1;
        if count == 25 {
            out.above(|line| bar.println(line), "half of the futures finished");
        }
    }
    writeln!(out, "as_completed with a bar: {count} futures")?;
    Ok(())
}

fn shutdown(out: &mut Out) -> Result<(), Box<dyn Error>> {
    writeln!(out, "\n== shutdown ==")?;
    let pool = ThreadPool::builder()
        .workers(1)
        .build()
        .expect("starting a thread");
    let (started, on_start) = channel();
    let (open, gate) = gate();
    let running = pool.submit(move || {
        started.send(()).expect("the tour listens");
        gate.recv().is_ok()
    });
    let queued = pool.submit(|| "never runs");
    on_start.recv().expect("the running task starts");

    // Python's shutdown(wait=False, cancel_futures=True).
    pool.shutdown(false, true);
    writeln!(
        out,
        "after shutdown(wait = false, cancel_futures = true), the queued task: {}",
        queued.result().unwrap_err()
    )?;
    writeln!(
        out,
        "submit after shutdown: {}",
        pool.submit(|| 1).result().unwrap_err()
    )?;
    open.send(()).expect("the task holds the gate");
    writeln!(
        out,
        "the running task still completes: {}",
        running.result()?
    )?;

    // Dropping a pool is shutdown(wait=True): the work already submitted runs to its end.
    let pool = ThreadPool::builder()
        .workers(2)
        .build()
        .expect("starting two threads");
    let futures: Vec<_> = (0..4).map(|i| pool.submit(move || i * 100)).collect();
    drop(pool);
    let results: Vec<i32> = futures
        .iter()
        .map(|f| f.result())
        .collect::<Result<_, _>>()?;
    writeln!(
        out,
        "after dropping the pool, its work is done: {results:?}"
    )?;
    Ok(())
}

/// Runs every section, each writing what it shows into `out` (so the test below can check
/// it).
fn tour(out: &mut Out) -> Result<(), Box<dyn Error>> {
    attribute(out)?;
    pmaps(out)?;
    borrowing(out)?;
    processes(out)?;
    crash(out)?;
    kill_and_retry(out)?;
    timeouts(out)?;
    pools_and_submit(out)?;
    cancel(out)?;
    callbacks(out)?;
    maps(out)?;
    completion_order(out)?;
    waits(out)?;
    nested(out)?;
    awaiting(out)?;
    progress(out)?;
    shutdown(out)?;
    Ok(())
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<(), Box<dyn Error>> {
    let started = Instant::now();
    tour(&mut Out {
        text: String::new(),
        echo: true,
    })?;
    println!("\n(the tour took {:.1} s)", started.elapsed().as_secs_f64());
    Ok(())
}

#[test]
fn the_tour_runs_and_shows_each_feature() {
    let started = Instant::now();
    let mut out = Out {
        text: String::new(),
        echo: false,
    };
    tour(&mut out).unwrap();
    let out = out.text;
    let expected = [
        // #[parallel]
        "download(\"a.pdf\") returned; result: a.pdf downloaded on dl-",
        "download::sync(\"b.pdf\"): b.pdf downloaded on ",
        "double(21) on the default pool: 42",
        "fetch and checksum share the IO pool: 11 on io-",
        ", sum 6",
        "with an initializer: select 1 on connection 7",
        // pmap!
        "pmap!(square, 1..=4): [1, 4, 9, 16]",
        "pmap!(download, files): c.pdf downloaded on dl-",
        "pmap!(download, files): d.pdf downloaded on dl-",
        "pmap!(|a, b| a + b, 0..5, repeat(10)): [10, 11, 12, 13, 14]",
        "an item that panics: [0, 1, <the task panicked at examples/tour.rs:",
        ": two>, 3]",
        "sum of 100,000 squares, unordered in batches of 1000: 333328333350000",
        "items of 0, 1000, 0 ms with timeout = \"200ms\": [0, <the map's timeout passed before its next item finished, so the map ends here>]",
        // borrowing
        "the largest reading, borrowed back: Some(1000)",
        "the sum of readings × 3, in place: 1501500",
        "pmap!(.., &readings[..4]; scope = s): [3, 6, 9, 12]",
        // processes
        "cube_where(3) = 27, in process ",
        "another process: true, whose parent is this program: true",
        "pmap!(square, 1..=4; processes = 2): [1, 4, 9, 16]",
        "a typed closure in processes: [3, 5]",
        "max_tasks_per_child(1): a fresh worker for each task: true",
        "as_completed, from a thread: e.pdf downloaded on dl-",
        "as_completed, from a process: HELLO in process ",
        // a crash
        "fragile(2) = 20",
        "fragile(3): the worker process running the task exited with code 3",
        "fragile(4) = 40",
        "fragile(5): the task panicked in worker process ",
        ": five is bad",
        // kill and retries
        "cancel() on a running task: false (Python's meaning)",
        "kill() on it: true, its worker process is killed",
        "the killed task: the task was cancelled (kill() stops it, so its future reads cancelled)",
        "flaky() with retries = 2, its worker dying twice: done on try 3",
        "fragile(7) = 70",
        "(fragile(3) calls exit(3), ending its worker process: only its own task fails",
        "(fragile(5) panics: its task fails, its worker lives on)",
        "and after them, the pool goes on: fragile(8) = 80",
        // timeouts
        "after 100 ms: gave up waiting: the task has not finished yet and goes on",
        "waiting again: finally",
        "a task given 50 ms that needs 300 ms: the task ran longer than its timeout of 50ms",
        "(a thread cannot be stopped: at 50 ms the future fails, the body runs on",
        "nap(300) with timeout = \"50ms\": the task ran longer than its timeout of 50ms",
        "spin(60 s) with timeout = \"300ms\" in a process: the task ran longer than its timeout of 300ms",
        "its worker was killed and a fresh one took over: true",
        // the runtime
        "6 * 7 = 42, computed on tour-",
        "connection 42",
        "the default pool's workers are named like parallel-",
        "a panicking task: the task panicked at examples/tour.rs:",
        "(nothing was printed when it panicked: the message and place are in the error)",
        "the pool still works: yes",
        "cancel a queued task: true",
        "cancel a running task: false",
        "the running task finished anyway: true",
        "the queued task: the task was cancelled",
        "callback 1 got Some(42) on a worker",
        "callback 2 got Some(42) at once, on the caller's thread: true",
        "the value is still there for result: 42",
        "3 -> the task panicked at examples/tour.rs:",
        "5 -> 25",
        "sum of 1,000,000 squares in batches of 10,000: 333332833333500000",
        "the first five of an endless map: [0, 10, 20, 30, 40]",
        "with a 200 ms timeout: [0, <the map's timeout passed",
        "(3 items, 2 results: a map ends at its timeout, as Python's does;",
        "quick finished: Ok(true)",
        "also quick finished: Ok(true)",
        "then, after 200 ms: 1 (of 3) futures unfinished when the timeout of `as_completed` passed",
        r#"not finished in 200 ms: ["stuck"]"#,
        r#"FirstCompleted: done ["fast"], not done ["slow"]"#,
        r#"FirstException: done ["failing"], not done ["slow"]"#,
        r#"AllCompleted within 100 ms: not done ["slow"]"#,
        r#"AllCompleted: done ["slow", "fast", "failing"]"#,
        r#"outer got Ok("inner result")"#,
        "awaited 20 + 22 = 42",
        "awaited a process call, cube_where(4) = 64, and a thread call, double(50) = 100",
        // progress bars
        "printed above the running bar, which shows 100 of 400",
        "half of the futures finished",
        "sum of 400 slow squares with a bar: 21253400",
        "as_completed with a bar: 50 futures",
        "after shutdown(wait = false, cancel_futures = true), the queued task: the task was cancelled",
        "submit after shutdown: the pool was shut down",
        "the running task still completes: true",
        "after dropping the pool, its work is done: [0, 100, 200, 300]",
    ];
    for line in expected {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
    // The unordered map yields every item, whatever the order.
    let unordered = out
        .lines()
        .find(|l| l.starts_with("unordered"))
        .expect("the unordered section ran");
    for ms in ["300", "200", "100", "0"] {
        assert!(unordered.contains(ms), "{unordered}");
    }
    // The tour is meant to be quick; this bound only catches a hang.
    assert!(started.elapsed() < Duration::from_secs(100));
}
