//! The process-side figures of issue 4, on 2 workers, beside procspawn 1.x and Python's
//! `ProcessPoolExecutor` and `multiprocessing.Pool` (`benches/python/processes.py`):
//!
//! - p1: 10,000 tiny tasks, submitted one by one, then every result taken; also a `map` of
//!   10,000 tiny items, which travel in batches;
//! - p2: one task at a time: submit, take the result, repeat (the round trip), beside its
//!   floor, a bare socketpair ping-pong between two processes (`floor.rs`);
//! - p3: a new 2-worker pool, from creation to the first result;
//! - p4: an 8 MB `Vec<f64>` sent to a worker and its sum sent back; also the same `Vec`
//!   there and back (an echo: `p4 echo` in the summary);
//! - p5: 8 CPU-bound tasks of about 25 ms: speedup over running them in turn on this
//!   thread, against the machine's parallelism (plain threads, 4 tasks each);
//! - p6: what an idle pool costs: CPU time of this process (the pool's drivers) and of its
//!   workers over 10 s without tasks, from `/proc/<pid>/task/*/schedstat`.

use std::cell::Cell;
use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

use parallel::{parallel, ProcessPool, ThreadPool};

use crate::floor::{Flavour, Peer as Floor};
use crate::support::{
    contender, heading, measure, ms, settle, table_head, timed, us, verdict, Options, Peer, Python,
    Row, Sense,
};
use crate::threads::{calibrate, work};

const WORKERS: usize = 2;

// What our workers run. `processes = 2` sizes the functions' own pools, which only a3 and
// a4 use; here every call goes to an explicit pool through `submit`.

#[parallel(processes = 2)]
fn tiny(i: u64) -> u64 {
    i
}

#[parallel(processes = 2)]
fn total(values: Vec<f64>) -> f64 {
    values.iter().sum()
}

#[parallel(processes = 2)]
fn echo(values: Vec<f64>) -> Vec<f64> {
    values
}

#[parallel(processes = 2)]
fn burn(seed: u64, rounds: u32) -> u64 {
    work(seed, rounds)
}

#[parallel(processes = 2)]
fn pid_after(ms: u64) -> u32 {
    thread::sleep(Duration::from_millis(ms));
    std::process::id()
}

// What procspawn's workers run: it takes a `fn(A) -> R` and one serializable argument.

fn ps_tiny(i: u64) -> u64 {
    i
}

fn ps_total(values: Vec<f64>) -> f64 {
    values.iter().sum()
}

fn ps_total_shmem(bytes: procspawn::serde::Shmem) -> f64 {
    bytes
        .chunks_exact(8)
        .map(|chunk| f64::from_ne_bytes(chunk.try_into().expect("eight bytes")))
        .sum()
}

fn ps_burn((seed, rounds): (u64, u32)) -> u64 {
    work(seed, rounds)
}

fn pool() -> ProcessPool {
    ProcessPool::builder()
        .workers(WORKERS)
        .build()
        .expect("a process pool")
}

fn ps_pool() -> procspawn::Pool {
    procspawn::Pool::new(WORKERS).expect("a procspawn pool")
}

/// Runs the selected process figures and returns their summary rows.
pub fn run(options: &Options) -> Vec<Row> {
    // Python has no p6.
    let ids = ["p1", "p2", "p3", "p4", "p5"];
    let python = if options.python && options.runs_group("processes", &ids) {
        let figures: Vec<String> = ids
            .iter()
            .filter(|id| options.runs(id))
            .map(|id| id.to_string())
            .collect();
        let mut args = vec!["--workers".to_owned(), WORKERS.to_string()];
        args.extend(figures);
        settle(options, "Python processes.py");
        Python::run("processes.py", &args, options.quick)
    } else {
        Python::default()
    };
    python.explain();
    let mut rows = Vec::new();
    if options.runs("p1") {
        settle(options, "p1");
        rows.extend(tiny_tasks(options, &python));
    }
    if options.runs("p2") {
        settle(options, "p2");
        rows.push(round_trip(options, &python));
    }
    if options.runs("p3") {
        settle(options, "p3");
        rows.push(start_up(options, &python));
    }
    if options.runs("p4") {
        settle(options, "p4");
        rows.extend(payload(options, &python));
    }
    if options.runs("p5") {
        settle(options, "p5");
        rows.push(cpu_bound(options, &python));
    }
    if options.runs("p6") {
        settle(options, "p6");
        rows.push(idle(options));
    }
    rows
}

// ---------------------------------------------------------------------------------------------
// p1. 10,000 tiny tasks

const TASKS: u64 = 10_000;
const TASKS_SUM: u64 = TASKS * (TASKS - 1) / 2;
const PROCSPAWN_WAVE: u64 = 1_000;

fn tiny_tasks(options: &Options, python: &Python) -> Vec<Row> {
    let ours = pool();
    let theirs = ps_pool();
    let mut contenders = vec![
        contender("parallel: submit each, then result each", || {
            let (time, sum) = timed(|| {
                let futures: Vec<_> = (0..TASKS).map(|i| ours.submit(tiny, (i,))).collect();
                futures
                    .iter()
                    .map(|future| future.result().expect("a tiny task"))
                    .sum::<u64>()
            });
            assert_eq!(sum, TASKS_SUM);
            time
        }),
        contender(
            "procspawn: spawn each on a Pool, then join each (waves of 1,000)",
            || {
                // Each pending procspawn task holds its own IPC channels, several descriptors
                // each: 10,000 at once exceed the descriptor limit (20,000 here), so the tasks go
                // in waves of 1,000.
                let (time, sum) = timed(|| {
                    (0..TASKS)
                        .step_by(PROCSPAWN_WAVE as usize)
                        .map(|first| {
                            let handles: Vec<_> = (first..TASKS.min(first + PROCSPAWN_WAVE))
                                .map(|i| theirs.spawn(i, ps_tiny))
                                .collect();
                            handles
                                .into_iter()
                                .map(|handle| handle.join().expect("a tiny task"))
                                .sum::<u64>()
                        })
                        .sum::<u64>()
                });
                assert_eq!(sum, TASKS_SUM);
                time
            },
        ),
        contender("parallel: `map` (items travel in batches)", || {
            let (time, sum) = timed(|| {
                ours.map(tiny, (0..TASKS).map(|i| (i,)))
                    .map(Result::unwrap)
                    .sum::<u64>()
            });
            assert_eq!(sum, TASKS_SUM);
            time
        }),
    ];
    let medians = measure(&mut contenders, options.rounds(5), 1);
    let per_task: Vec<f64> = medians
        .iter()
        .map(|time| us(*time) / TASKS as f64)
        .collect();

    heading(&format!(
        "p1. {TASKS} tiny tasks on {WORKERS} worker processes"
    ));
    table_head(&["contender", "µs/task", "× parallel submit"]);
    for (contender, &per) in contenders.iter().zip(&per_task) {
        println!(
            "| {} | {per:.2} | {:.2} |",
            contender.name,
            per / per_task[0]
        );
    }
    let peers = [
        (
            "ppe_tiny",
            "ProcessPoolExecutor: submit each, then result each",
        ),
        (
            "mp_tiny",
            "multiprocessing.Pool: apply_async each, then get each",
        ),
        (
            "ppe_map",
            "ProcessPoolExecutor: `map`, chunksize as mp.Pool's default",
        ),
        ("mp_map", "multiprocessing.Pool: `map`, default chunksize"),
    ];
    for (name, what) in peers {
        if let Some(per) = python.get(name) {
            println!(
                "| {} | {per:.2} | {:.2} |",
                python.label(what),
                per / per_task[0]
            );
        }
    }
    let met = per_task[0] <= 3.0;
    println!(
        "\ntarget: at most 3 µs per task: {:.2} µs ({})",
        per_task[0],
        verdict(met)
    );
    vec![
        Row::new(
            "p1 10,000 tiny tasks, 2 workers",
            "µs/task",
            Sense::Cost,
            per_task[0],
        )
        .peer(Peer::Procspawn, Some(per_task[1]))
        .peer(Peer::PyProcessPool, python.get("ppe_tiny"))
        .peer(Peer::PyMpPool, python.get("mp_tiny"))
        .target(format!("≤ 3 µs: {}", verdict(met))),
        Row::new(
            "p1 `map` of 10,000 tiny items",
            "µs/item",
            Sense::Cost,
            per_task[2],
        )
        .peer(Peer::PyProcessPool, python.get("ppe_map"))
        .peer(Peer::PyMpPool, python.get("mp_map")),
    ]
}

// ---------------------------------------------------------------------------------------------
// p2. one task at a time

const ROUND_TRIPS: u64 = 1_000;

fn round_trip(options: &Options, python: &Python) -> Row {
    let ours = pool();
    let theirs = ps_pool();
    let mut contenders = vec![
        contender("parallel: submit, result, repeat", || {
            timed(|| {
                for i in 0..ROUND_TRIPS {
                    let value = ours.submit(tiny, (i,)).result().expect("a tiny task");
                    assert_eq!(value, i);
                }
            })
            .0
        }),
        contender("procspawn: spawn on a Pool, join, repeat", || {
            timed(|| {
                for i in 0..ROUND_TRIPS {
                    let value = theirs.spawn(i, ps_tiny).join().expect("a tiny task");
                    assert_eq!(value, i);
                }
            })
            .0
        }),
        // The floor: each run starts its own child (not timed), so that a polling child never
        // spins while another contender is measured.
        contender(
            "floor: socketpair ping-pong, both processes polling",
            || Floor::start(Flavour::Poll).round_trips(ROUND_TRIPS),
        ),
        contender(
            "floor: socketpair ping-pong, both processes blocking",
            || Floor::start(Flavour::Block).round_trips(ROUND_TRIPS),
        ),
    ];
    let medians = measure(&mut contenders, options.rounds(7), 1);
    let per: Vec<f64> = medians
        .iter()
        .map(|time| us(*time) / ROUND_TRIPS as f64)
        .collect();

    heading(&format!(
        "p2. one task at a time, {ROUND_TRIPS} round trips on {WORKERS} worker processes"
    ));
    table_head(&["contender", "µs per round trip", "× parallel"]);
    for (contender, &value) in contenders.iter().zip(&per) {
        println!(
            "| {} | {value:.1} | {:.2} |",
            contender.name,
            value / per[0]
        );
    }
    let peers = [
        ("ppe_round_trip", "ProcessPoolExecutor: submit(..).result()"),
        ("mp_round_trip", "multiprocessing.Pool: apply(..)"),
    ];
    for (name, what) in peers {
        if let Some(value) = python.get(name) {
            println!(
                "| {} | {value:.1} | {:.2} |",
                python.label(what),
                value / per[0]
            );
        }
    }
    // NaN where the floor is not measured (not Unix).
    let floor = if per[2] > 0.0 {
        per[0] / per[2]
    } else {
        f64::NAN
    };
    let met = per[0] <= 8.0;
    println!(
        "\ntarget: at most 8 µs per round trip: {:.1} µs ({}); {floor:.1}× the polling floor \
         (SPEC §5: about 2×), {:.1}× the blocking one",
        per[0],
        verdict(met),
        per[0] / per[3],
    );
    Row::new(
        "p2 one task at a time, round trip",
        "µs",
        Sense::Cost,
        per[0],
    )
    .peer(Peer::Procspawn, Some(per[1]))
    .peer(Peer::PyProcessPool, python.get("ppe_round_trip"))
    .peer(Peer::PyMpPool, python.get("mp_round_trip"))
    .target(format!(
        "≤ 8 µs: {}; {floor:.1}× the polling ping-pong ({:.1} µs), blocking {:.1} µs",
        verdict(met),
        per[2],
        per[3]
    ))
}

// ---------------------------------------------------------------------------------------------
// p3. pool start-up

fn start_up(options: &Options, python: &Python) -> Row {
    // Pools are dropped after the clock stops; the last drop times are kept for the table.
    let drops = [Cell::new(Duration::ZERO), Cell::new(Duration::ZERO)];
    let mut contenders = vec![
        contender("parallel: `ProcessPool` of 2, submit, result", || {
            let start = Instant::now();
            let pool = pool();
            assert_eq!(pool.submit(tiny, (7,)).result(), Ok(7));
            let time = start.elapsed();
            drops[0].set(timed(|| drop(pool)).0);
            time
        }),
        contender("procspawn: `Pool::new(2)`, spawn, join", || {
            let start = Instant::now();
            let pool = ps_pool();
            assert_eq!(pool.spawn(7, ps_tiny).join().expect("a tiny task"), 7);
            let time = start.elapsed();
            drops[1].set(timed(|| drop(pool)).0);
            time
        }),
    ];
    let medians = measure(&mut contenders, options.rounds(9), 2);

    heading(&format!(
        "p3. a {WORKERS}-worker pool from creation to the first result"
    ));
    table_head(&["contender", "ms", "× parallel", "then drop (ms, last run)"]);
    let names = [
        "parallel: `ProcessPool` of 2, submit, result",
        "procspawn: `Pool::new(2)`, spawn, join",
    ];
    for (i, name) in names.iter().enumerate() {
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} |",
            ms(medians[i]),
            medians[i].as_secs_f64() / medians[0].as_secs_f64(),
            ms(drops[i].get())
        );
    }
    let peers = [
        (
            "ppe_startup",
            "ProcessPoolExecutor(2) (fork): submit, result",
        ),
        ("mp_startup", "multiprocessing.Pool(2) (fork): apply"),
    ];
    for (name, what) in peers {
        if let Some(value) = python.get(name) {
            println!(
                "| {} | {value:.2} | {:.2} | |",
                python.label(what),
                value / ms(medians[0])
            );
        }
    }
    let met = ms(medians[0]) <= 3.0;
    println!(
        "\ntarget: at most 3 ms: {:.2} ms ({})",
        ms(medians[0]),
        verdict(met)
    );
    Row::new(
        "p3 2-worker pool to first result",
        "ms",
        Sense::Cost,
        ms(medians[0]),
    )
    .peer(Peer::Procspawn, Some(ms(medians[1])))
    .peer(Peer::PyProcessPool, python.get("ppe_startup"))
    .peer(Peer::PyMpPool, python.get("mp_startup"))
    .target(format!("≤ 3 ms: {}", verdict(met)))
}

// ---------------------------------------------------------------------------------------------
// p4. an 8 MB argument

const FLOATS: usize = 1_000_000;
const PAYLOAD_BYTES: f64 = (FLOATS * 8) as f64;

fn payload(options: &Options, python: &Python) -> Vec<Row> {
    let values: Vec<f64> = (0..FLOATS).map(|i| i as f64 * 0.5).collect();
    let expected: f64 = values.iter().sum();
    let bytes: Vec<u8> = values.iter().flat_map(|x| x.to_ne_bytes()).collect();
    let values = &values;
    let bytes = &bytes;
    let ours = pool();
    let threads = ThreadPool::builder()
        .workers(WORKERS)
        .build()
        .expect("a thread pool");
    let theirs = ps_pool();
    // Every contender gets its own copy of the data before the clock starts.
    let mut contenders = vec![
        contender("parallel: submit(total, (vec,)), result", || {
            let values = values.clone();
            let (time, sum) = timed(|| ours.submit(total, (values,)).result());
            assert_eq!(sum, Ok(expected));
            time
        }),
        contender(
            "parallel: submit(echo, (vec,)), result (there and back)",
            || {
                let values = values.clone();
                let (time, back) = timed(|| ours.submit(echo, (values,)).result());
                assert_eq!(back.map(|back| back.len()), Ok(FLOATS));
                time
            },
        ),
        contender("in-process: a thread pool, the Vec moved (no copy)", || {
            let values = values.clone();
            let (time, sum) = timed(|| threads.submit(move || values.iter().sum::<f64>()).result());
            assert_eq!(sum, Ok(expected));
            time
        }),
        contender("procspawn: spawn(vec, ..), join (bincode)", || {
            let values = values.clone();
            let (time, sum) = timed(|| theirs.spawn(values, ps_total).join());
            assert_eq!(sum.expect("a sum"), expected);
            time
        }),
        contender(
            "procspawn: `Shmem` (shared memory) of the bytes, spawn, join",
            || {
                let (time, sum) = timed(|| {
                    let shared = procspawn::serde::Shmem::from_bytes(bytes);
                    // `Pool::spawn` sends its argument outside procspawn's IPC mode, so a
                    // `Shmem` would go as plain bytes that the worker cannot read back (1.0.2):
                    // entering the mode here makes it go as shared memory, as intended.
                    procspawn::serde::with_ipc_mode(|| theirs.spawn(shared, ps_total_shmem)).join()
                });
                assert_eq!(sum.expect("a sum"), expected);
                time
            },
        ),
    ];
    let medians = measure(&mut contenders, options.rounds(9), 3);
    let rate = |time: Duration| PAYLOAD_BYTES / time.as_secs_f64() / 1e9;

    heading(&format!(
        "p4. an 8 MB `Vec<f64>` ({FLOATS} floats) to a worker, its sum back"
    ));
    table_head(&["contender", "ms", "GB/s"]);
    // The echo moves the payload twice; its rate counts the 8 MB once, as the does.
    for (contender, time) in contenders.iter().zip(&medians) {
        println!(
            "| {} | {:.2} | {:.2} |",
            contender.name,
            ms(*time),
            rate(*time)
        );
    }
    let py_sum = python.get("py_sum_8mb");
    let mut py_rates = Vec::new();
    let peers = [
        (
            "ppe_8mb",
            "ProcessPoolExecutor: submit(total, array('d')).result()",
        ),
        (
            "mp_8mb",
            "multiprocessing.Pool: apply(total, (array('d'),))",
        ),
    ];
    for (name, what) in peers {
        if let (Some(round_trip), Some(sum)) = (python.get(name), py_sum) {
            // Python's own summing of a million floats (timed in-process) is taken out, so
            // its figure is the transfer: Python's sum is far slower than the transfer.
            let rate = PAYLOAD_BYTES / ((round_trip - sum) / 1e3) / 1e9;
            py_rates.push(Some(rate));
            println!(
                "| {}, less its in-process sum ({sum:.1} ms) | {round_trip:.2} | {rate:.2} |",
                python.label(what),
            );
        } else {
            py_rates.push(None);
        }
    }
    let ours_rate = rate(medians[0]);
    let echo_rate = rate(medians[1]);
    let met = ours_rate >= 6.0;
    let echo_met = echo_rate >= 3.0;
    println!(
        "\ntarget: at least 6 GB/s: {ours_rate:.2} GB/s ({}); echo at least 3 GB/s: \
         {echo_rate:.2} GB/s ({})",
        verdict(met),
        verdict(echo_met)
    );
    let procspawn_best = rate(medians[3]).max(rate(medians[4]));
    let sum = Row::new(
        "p4 8 MB `Vec<f64>` there, sum back",
        "GB/s",
        Sense::Rate,
        ours_rate,
    )
    .peer(Peer::Procspawn, Some(procspawn_best))
    .peer(Peer::PyProcessPool, py_rates[0])
    .peer(Peer::PyMpPool, py_rates[1])
    .target(format!(
        "≥ 6 GB/s: {} (in-process {:.1} GB/s)",
        verdict(met),
        rate(medians[2])
    ));
    let echo = Row::new(
        "p4 echo: 8 MB `Vec<f64>` there and back",
        "GB/s",
        Sense::Rate,
        echo_rate,
    )
    .target(format!("≥ 3 GB/s: {}", verdict(echo_met)));
    vec![sum, echo]
}

// ---------------------------------------------------------------------------------------------
// p5. CPU-bound tasks

const CPU_TASKS: u64 = 8;
const CPU_TASK_NANOS: f64 = 25e6;

fn cpu_bound(options: &Options, python: &Python) -> Row {
    let rounds = black_box(calibrate(CPU_TASK_NANOS));
    let xor = |a: u64, b: u64| a ^ b;
    let expected = (0..CPU_TASKS).map(|seed| work(seed, rounds)).fold(0, xor);
    let check = move |hash: u64| assert_eq!(hash, expected);
    let ours = pool();
    let theirs = ps_pool();
    let mut contenders = vec![
        contender("sequential, on this thread", || {
            let (time, hash) = timed(|| (0..CPU_TASKS).map(|seed| work(seed, rounds)).fold(0, xor));
            check(hash);
            time
        }),
        contender(
            "plain threads, 4 tasks each (the machine's parallelism)",
            || {
                let (time, hash) = timed(|| {
                    let threads: Vec<_> = (0..WORKERS as u64)
                        .map(|first| {
                            thread::spawn(move || {
                                (first..CPU_TASKS)
                                    .step_by(WORKERS)
                                    .map(|seed| work(seed, rounds))
                                    .fold(0, xor)
                            })
                        })
                        .collect();
                    threads
                        .into_iter()
                        .map(|thread| thread.join().expect("no panic"))
                        .fold(0, xor)
                });
                check(hash);
                time
            },
        ),
        contender("parallel: submit 8 to 2 workers, then results", || {
            let (time, hash) = timed(|| {
                let futures: Vec<_> = (0..CPU_TASKS)
                    .map(|seed| ours.submit(burn, (seed, rounds)))
                    .collect();
                futures
                    .iter()
                    .map(|future| future.result().expect("a task"))
                    .fold(0, xor)
            });
            check(hash);
            time
        }),
        contender("procspawn: spawn 8 on a Pool of 2, then join", || {
            let (time, hash) = timed(|| {
                let handles: Vec<_> = (0..CPU_TASKS)
                    .map(|seed| theirs.spawn((seed, rounds), ps_burn))
                    .collect();
                handles
                    .into_iter()
                    .map(|handle| handle.join().expect("a task"))
                    .fold(0, xor)
            });
            check(hash);
            time
        }),
    ];
    let medians = measure(&mut contenders, options.rounds(5), 1);
    let speedup = |i: usize| medians[0].as_secs_f64() / medians[i].as_secs_f64();

    heading(&format!(
        "p5. {CPU_TASKS} CPU-bound tasks of about {:.0} ms on {WORKERS} workers",
        CPU_TASK_NANOS / 1e6
    ));
    table_head(&["contender", "ms", "speedup"]);
    for (i, (contender, time)) in contenders.iter().zip(&medians).enumerate() {
        println!(
            "| {} | {:.1} | {:.2} |",
            contender.name,
            ms(*time),
            speedup(i)
        );
    }
    let peers = [
        (
            "ppe_speedup",
            "ProcessPoolExecutor: submit 8, over its own sequential run",
        ),
        (
            "mp_speedup",
            "multiprocessing.Pool: apply_async 8, over its own sequential run",
        ),
    ];
    for (name, what) in peers {
        if let Some(value) = python.get(name) {
            println!("| {} | | {value:.2} |", python.label(what));
        }
    }
    let met = speedup(2) >= 0.95 * speedup(1);
    println!(
        "\ntarget: speedup at least 0.95 × the machine's parallelism: {:.2} vs 0.95 × {:.2} = {:.2} ({})",
        speedup(2),
        speedup(1),
        0.95 * speedup(1),
        verdict(met)
    );
    Row::new(
        "p5 8 CPU-bound tasks, 2 workers",
        "× seq",
        Sense::Rate,
        speedup(2),
    )
    .peer(Peer::Procspawn, Some(speedup(3)))
    .peer(Peer::PyProcessPool, python.get("ppe_speedup"))
    .peer(Peer::PyMpPool, python.get("mp_speedup"))
    .target(format!(
        "≥ 0.95 × plain threads' {:.2}: {}",
        speedup(1),
        verdict(met)
    ))
}

// ---------------------------------------------------------------------------------------------
// p6. an idle pool

fn idle(options: &Options) -> Row {
    let ours = pool();
    // Two tasks at once, so that each worker runs one: their process ids.
    let first = ours.submit(pid_after, (100,));
    let second = ours.submit(pid_after, (100,));
    let workers = [first.result(), second.result()].map(|pid| pid.expect("a pid"));
    assert_ne!(workers[0], workers[1], "each worker ran one task");
    let parent = std::process::id();
    let idle_for = if options.quick {
        Duration::from_secs(2)
    } else {
        Duration::from_secs(10)
    };
    // From the moment the last reply came: the spinning after it counts too.
    let before = [parent, workers[0], workers[1]].map(cpu_time);
    thread::sleep(idle_for);
    let after = [parent, workers[0], workers[1]].map(cpu_time);
    let used: Vec<f64> = before
        .iter()
        .zip(&after)
        .map(|(before, after)| ms(after.saturating_sub(*before)))
        .collect();
    drop(ours);

    heading(&format!(
        "p6. an idle pool of {WORKERS} workers: CPU time over {} s without tasks",
        idle_for.as_secs()
    ));
    table_head(&["process", "CPU ms"]);
    println!(
        "| this process (the pool's drivers, and this thread asleep) | {:.2} |",
        used[0]
    );
    println!("| worker 1 | {:.2} |", used[1]);
    println!("| worker 2 | {:.2} |", used[2]);
    let total: f64 = used.iter().sum();
    let per_second = total / idle_for.as_secs_f64();
    let met = per_second <= 1.0;
    println!(
        "\ntarget: an idle pool costs (next to) nothing, at most 1 ms of CPU per second: \
         {per_second:.3} ms/s ({})",
        verdict(met)
    );
    Row::new(
        "p6 idle pool, CPU per second idle",
        "ms/s",
        Sense::Cost,
        per_second,
    )
    .target(format!("≤ 1 ms/s: {}", verdict(met)))
}

/// The CPU time every thread of process `pid` has used so far (the first field of each
/// thread's `schedstat`, in nanoseconds); zero where `/proc` cannot say.
fn cpu_time(pid: u32) -> Duration {
    let Ok(threads) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Duration::ZERO;
    };
    let nanos: u64 = threads
        .flatten()
        .filter_map(|thread| std::fs::read_to_string(thread.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(nanos)
}
