//! A first tour of `parallel`'s runtime: pools, futures, callbacks, `map`, `as_completed`,
//! `wait`, shutdown, tasks that wait on their own pool, and `.await`.
//!
//! Run it with `cargo run --release --example tour`. Each section prints what it shows; the
//! whole tour takes a few seconds. Tasks that must stay busy for a while wait on a channel
//! (a "gate") rather than sleep, so what each section prints does not depend on timing.

use std::cell::Cell;
use std::error::Error;
use std::fmt::Write as _;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use parallel::{as_completed, default_pool, wait, ReturnWhen, TaskError, ThreadPool};

/// A channel a task blocks on until the tour opens it: `(open, gate)`.
fn gate() -> (Sender<()>, Receiver<()>) {
    channel()
}

/// The name of the thread this runs on.
fn thread_name() -> String {
    thread::current().name().unwrap_or("<unnamed>").to_owned()
}

fn pools_and_submit(out: &mut String) -> Result<(), Box<dyn Error>> {
    writeln!(out, "== a pool, submit and result ==")?;
    thread_local!(static CONNECTION: Cell<u32> = const { Cell::new(0) });
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
        "(Rust's panic hook also reports that panic on stderr, as for any thread)"
    )?;
    writeln!(
        out,
        "the pool still works: {}",
        pool.submit(|| "yes").result()?
    )?;
    Ok(())
}

fn timeouts(out: &mut String) -> Result<(), Box<dyn Error>> {
    writeln!(out, "\n== waiting with a timeout ==")?;
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
    Ok(())
}

fn cancel(out: &mut String) -> Result<(), Box<dyn Error>> {
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

fn callbacks(out: &mut String) -> Result<(), Box<dyn Error>> {
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

fn maps(out: &mut String) -> Result<(), Box<dyn Error>> {
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
        .map(
            |ms: u64| {
                thread::sleep(Duration::from_millis(ms));
                ms
            },
            [300, 200, 100, 0],
        )
        .chunksize(1)
        .ordered(false)
        .collect::<Result<_, _>>()?;
    writeln!(
        out,
        "unordered, items sleeping 300, 200, 100, 0 ms: {unordered:?}"
    )?;

    // Cheap items are batched automatically; `chunksize` fixes the batch size instead.
    let started = Instant::now();
    let sum: u64 = pool
        .map(|x: u64| x * x, 0..1_000_000u64)
        .chunksize(10_000)
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
        .map(
            |ms: u64| {
                thread::sleep(Duration::from_millis(ms));
                ms
            },
            [0, 1000, 0],
        )
        .chunksize(1)
        .timeout(Duration::from_millis(200))
        .collect();
    writeln!(
        out,
        "items of 0, 1000, 0 ms with a 200 ms timeout: {timed:?}"
    )?;
    Ok(())
}

fn completion_order(out: &mut String) -> Result<(), Box<dyn Error>> {
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
            Err(error) => writeln!(out, "then: {error}")?,
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

fn waits(out: &mut String) -> Result<(), Box<dyn Error>> {
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

fn nested(out: &mut String) -> Result<(), Box<dyn Error>> {
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

fn awaiting(out: &mut String) -> Result<(), Box<dyn Error>> {
    writeln!(out, "\n== .await ==")?;
    let pool = ThreadPool::new();
    let a = pool.submit(|| 20);
    let b = pool.submit(|| 22);
    // Any executor works; here the small one from the `futures` crate.
    let sum = futures::executor::block_on(async { Ok::<_, TaskError>(a.await? + b.await?) })?;
    writeln!(out, "awaited 20 + 22 = {sum}")?;
    Ok(())
}

fn shutdown(out: &mut String) -> Result<(), Box<dyn Error>> {
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
    writeln!(out, "queued task: {}", queued.result().unwrap_err())?;
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

/// Runs every section and returns what the tour prints (each section writes into `out`, so
/// the test below can check it).
fn tour() -> Result<String, Box<dyn Error>> {
    let mut out = String::new();
    pools_and_submit(&mut out)?;
    timeouts(&mut out)?;
    cancel(&mut out)?;
    callbacks(&mut out)?;
    maps(&mut out)?;
    completion_order(&mut out)?;
    waits(&mut out)?;
    nested(&mut out)?;
    awaiting(&mut out)?;
    shutdown(&mut out)?;
    Ok(out)
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<(), Box<dyn Error>> {
    print!("{}", tour()?);
    Ok(())
}

#[test]
fn the_tour_runs_and_shows_each_feature() {
    let started = Instant::now();
    let out = tour().unwrap();
    let expected = [
        "6 * 7 = 42, computed on tour-",
        "connection 42",
        "the default pool's workers are named like parallel-",
        "a panicking task: the task panicked: bad input",
        "the pool still works: yes",
        "after 100 ms: the deadline passed before the task finished",
        "waiting again: finally",
        "a task given 50 ms that needs 300 ms: the deadline passed",
        "cancel a queued task: true",
        "cancel a running task: false",
        "the running task finished anyway: true",
        "the queued task: the task was cancelled before it started",
        "callback 1 got Some(42) on a worker",
        "callback 2 got Some(42) at once, on the caller's thread: true",
        "the value is still there for result: 42",
        "3 -> the task panicked: three",
        "5 -> 25",
        "sum of 1,000,000 squares in batches of 10,000: 333332833333500000",
        "the first five of an endless map: [0, 10, 20, 30, 40]",
        "with a 200 ms timeout: [Ok(0), Err(TimedOut)]",
        "quick finished: Ok(true)",
        "also quick finished: Ok(true)",
        "then: the deadline passed",
        r#"not finished in 200 ms: ["stuck"]"#,
        r#"FirstCompleted: done ["fast"], not done ["slow"]"#,
        r#"FirstException: done ["failing"], not done ["slow"]"#,
        r#"AllCompleted within 100 ms: not done ["slow"]"#,
        r#"AllCompleted: done ["slow", "fast", "failing"]"#,
        r#"outer got Ok("inner result")"#,
        "awaited 20 + 22 = 42",
        "queued task: the task was cancelled before it started",
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
    assert!(started.elapsed() < Duration::from_secs(60));
}
