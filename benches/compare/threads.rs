//! The thread-side figures of SPEC §5 and issue 2, each beside its peers:
//!
//! - t1: submit + result of 100,000 tiny tasks, per task: `parallel`, rayon (two ways), the
//!   `threadpool` crate and Python's `ThreadPoolExecutor`;
//! - t2: an ordered map of `x * x` over 1,000,000 items: `parallel`'s `map` against the same
//!   sequential loop (summing, and collecting) and rayon's `par_iter`;
//! - t3: the same over items of about 200 ns: speedup over sequential, against the machine's
//!   parallelism (plain threads each doing an equal share) and rayon;
//! - t4: 100 tasks sleeping 10 ms on 10 workers: time against the ideal 100 ms.

use std::hint::black_box;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use parallel::{TaskError, ThreadPool};
use rayon::prelude::*;

use crate::support::{
    contender, heading, measure, ms, settle, table_head, timed, verdict, Options, Peer, Python,
    Row, Sense,
};

/// Runs the selected thread figures and returns their summary rows.
pub fn run(options: &Options, workers: usize) -> Vec<Row> {
    let python = if options.python {
        settle(options, "Python threads.py");
        Python::run(
            "threads.py",
            &["--workers".to_owned(), workers.to_string()],
            options.quick,
        )
    } else {
        Python::default()
    };
    python.explain();
    let mut rows = Vec::new();
    if options.runs("t1") {
        settle(options, "t1");
        rows.push(submit_result(options, workers, &python));
    }
    if options.runs("t2") {
        settle(options, "t2");
        rows.extend(cheap_map(options, workers, &python));
    }
    if options.runs("t3") {
        settle(options, "t3");
        rows.push(costly_map(options, workers));
    }
    if options.runs("t4") {
        settle(options, "t4");
        rows.push(sleepers(options, &python));
    }
    if options.runs("t5") {
        settle(options, "t5");
        rows.push(default_pool_map(options, workers));
    }
    rows
}

// ---------------------------------------------------------------------------------------------
// 1. submit + result of 100,000 tiny tasks

const TASKS: usize = 100_000;
const TASKS_SUM: usize = TASKS * (TASKS - 1) / 2;

fn submit_result(options: &Options, workers: usize, python: &Python) -> Row {
    let ours = ThreadPool::builder()
        .workers(workers)
        .build()
        .expect("pool");
    let theirs = threadpool::ThreadPool::new(workers);
    // The vector of futures and rayon's slots are kept from run to run, so that neither
    // figure includes faulting in a fresh 800 KB vector (measured at 50-70 ns per task).
    let mut futures = Vec::with_capacity(TASKS);
    let mut slots = vec![0; TASKS];
    let mut contenders = vec![
        contender("parallel: submit each, then result each", || {
            let (time, sum) = timed(|| {
                futures.extend((0..TASKS).map(|i| ours.submit(move || i)));
                let sum = futures
                    .iter()
                    .map(|future| future.result().expect("a tiny task"))
                    .sum::<usize>();
                futures.clear();
                sum
            });
            assert_eq!(sum, TASKS_SUM);
            time
        }),
        contender("rayon: scope, spawn each into its slot", || {
            slots.fill(0);
            let (time, sum) = timed(|| {
                rayon::scope(|scope| {
                    for (i, slot) in slots.iter_mut().enumerate() {
                        scope.spawn(move |_| *slot = i);
                    }
                });
                slots.iter().sum::<usize>()
            });
            assert_eq!(sum, TASKS_SUM);
            time
        }),
        contender("rayon: spawn each, results by channel", || {
            let (time, sum) = timed(|| {
                let (sender, results) = mpsc::channel();
                for i in 0..TASKS {
                    let sender = sender.clone();
                    rayon::spawn(move || sender.send(i).expect("receiver alive"));
                }
                drop(sender);
                results.iter().sum::<usize>()
            });
            assert_eq!(sum, TASKS_SUM);
            time
        }),
        contender("threadpool: execute each, results by channel", || {
            let (time, sum) = timed(|| {
                let (sender, results) = mpsc::channel();
                for i in 0..TASKS {
                    let sender = sender.clone();
                    theirs.execute(move || sender.send(i).expect("receiver alive"));
                }
                drop(sender);
                results.iter().sum::<usize>()
            });
            assert_eq!(sum, TASKS_SUM);
            time
        }),
    ];
    let medians = measure(&mut contenders, options.rounds(9), 3);
    let per_task: Vec<f64> = medians
        .iter()
        .map(|time| time.as_nanos() as f64 / TASKS as f64)
        .collect();

    heading(&format!("t1. submit + result of {TASKS} tiny tasks"));
    table_head(&["contender", "ns/task", "× parallel"]);
    for (contender, &ns) in contenders.iter().zip(&per_task) {
        println!("| {} | {ns:.0} | {:.2} |", contender.name, ns / per_task[0]);
    }
    if let Some(ns) = python.get("submit_result") {
        println!(
            "| {} (fewer tasks) | {ns:.0} | {:.1} |",
            python.label("ThreadPoolExecutor"),
            ns / per_task[0]
        );
    }
    let rayon = per_task[1].min(per_task[2]);
    let target = format!(
        "≤ rayon's best ({rayon:.0} ns, scope {:.0}, spawn {:.0}): {}",
        per_task[1],
        per_task[2],
        verdict(per_task[0] <= rayon)
    );
    println!(
        "\ntarget: at most rayon's per-task cost: {:.0} ns, {target}",
        per_task[0]
    );
    Row::new(
        "t1 submit + result, tiny task",
        "ns/task",
        Sense::Cost,
        per_task[0],
    )
    .peer(Peer::Rayon, Some(rayon))
    .peer(Peer::Threadpool, Some(per_task[3]))
    .peer(Peer::PyThreadPool, python.get("submit_result"))
    .target(target)
}

// ---------------------------------------------------------------------------------------------
// 2. ordered map over 1,000,000 cheap items

const ITEMS: u64 = 1_000_000;

fn square(x: u64) -> u64 {
    x * x
}

fn cheap_map(options: &Options, workers: usize, python: &Python) -> Vec<Row> {
    let pool = ThreadPool::builder()
        .workers(workers)
        .build()
        .expect("pool");
    // A slice source, so the sequential sum cannot be replaced by a closed formula.
    let inputs: Vec<u64> = (0..ITEMS).collect();
    let inputs = &inputs;
    let expected_sum = inputs.iter().map(|&x| square(x)).fold(0, u64::wrapping_add);
    let check_sum = move |sum: u64| assert_eq!(sum, expected_sum);
    let check_vec = move |squares: Vec<u64>| {
        assert_eq!(squares.len(), ITEMS as usize);
        assert_eq!(squares[12_345], square(12_345));
    };
    let mut contenders = vec![
        contender("sequential: sum", || {
            let (time, sum) = timed(|| inputs.iter().copied().map(square).sum::<u64>());
            check_sum(sum);
            time
        }),
        contender("parallel map: sum", || {
            let (time, sum) = timed(|| {
                pool.map(square, inputs.iter().copied())
                    .map(Result::unwrap)
                    .sum::<u64>()
            });
            check_sum(sum);
            time
        }),
        contender("rayon par_iter: sum", || {
            let (time, sum) = timed(|| inputs.par_iter().map(|&x| square(x)).sum::<u64>());
            check_sum(sum);
            time
        }),
        contender("sequential: collect Vec", || {
            let (time, squares) = timed(|| inputs.iter().copied().map(square).collect::<Vec<_>>());
            check_vec(black_box(squares));
            time
        }),
        contender("sequential, same consumer: collect Result<Vec>", || {
            let (time, squares) = timed(|| {
                inputs
                    .iter()
                    .map(|&x| Ok::<_, TaskError>(square(x)))
                    .collect::<Result<Vec<_>, _>>()
            });
            check_vec(black_box(squares).expect("no error"));
            time
        }),
        contender("parallel map: collect Result<Vec>", || {
            let (time, squares) = timed(|| {
                pool.map(square, inputs.iter().copied())
                    .collect::<Result<Vec<_>, _>>()
            });
            check_vec(black_box(squares).expect("no error"));
            time
        }),
        contender("parallel map: for_each, pushing into a Vec", || {
            let (time, squares) = timed(|| {
                let mut squares = Vec::with_capacity(ITEMS as usize);
                pool.map(square, inputs.iter().copied())
                    .for_each(|square| squares.push(square.expect("no error")));
                squares
            });
            check_vec(black_box(squares));
            time
        }),
        contender("rayon par_iter: collect Vec", || {
            let (time, squares) =
                timed(|| inputs.par_iter().map(|&x| square(x)).collect::<Vec<_>>());
            check_vec(black_box(squares));
            time
        }),
        contender("parallel map: collect_vec", || {
            let (time, squares) = timed(|| pool.map(square, inputs.iter().copied()).collect_vec());
            check_vec(black_box(squares).expect("no error"));
            time
        }),
    ];
    let medians = measure(&mut contenders, options.rounds(15), 5);

    heading(&format!("t2. ordered map of `x * x` over {ITEMS} items"));
    table_head(&["contender", "ms", "ns/item", "× sequential"]);
    let reference = |i: usize| if i < 3 { medians[0] } else { medians[3] };
    for (i, (contender, time)) in contenders.iter().zip(&medians).enumerate() {
        println!(
            "| {} | {:.3} | {:.2} | {:.2} |",
            contender.name,
            ms(*time),
            time.as_nanos() as f64 / ITEMS as f64,
            time.as_secs_f64() / reference(i).as_secs_f64()
        );
    }
    if let Some(ns) = python.get("map_square") {
        println!(
            "| {} map: sum (fewer items) | {:.0} | {ns:.0} | {:.0} |",
            python.label("ThreadPoolExecutor"),
            ns * ITEMS as f64 / 1e6,
            ns * ITEMS as f64 / 1e9 / medians[0].as_secs_f64()
        );
    }
    let sum_ratio = medians[1].as_secs_f64() / medians[0].as_secs_f64();
    let collect_ratio = medians[5].as_secs_f64() / medians[3].as_secs_f64();
    let push_ratio = medians[6].as_secs_f64() / medians[3].as_secs_f64();
    let collect_vec_ratio = medians[8].as_secs_f64() / medians[7].as_secs_f64();
    println!(
        "\ntargets: summing at most a sequential loop: {sum_ratio:.2}× ({}); \
         collect::<Result<Vec<_>, _>>() at most 3× a sequential collect: {collect_ratio:.2}× ({}); \
         collect_vec() at most rayon's collect: {collect_vec_ratio:.2}× ({}); \
         for_each pushing into a Vec {push_ratio:.2}× sequential",
        verdict(sum_ratio <= 1.0),
        verdict(collect_ratio <= 3.0),
        verdict(collect_vec_ratio <= 1.0),
    );
    let ns = |i: usize| medians[i].as_nanos() as f64 / ITEMS as f64;
    vec![
        Row::new(
            "t2 map `x * x` over 1M items, sum",
            "ns/item",
            Sense::Cost,
            ns(1),
        )
        .peer(Peer::Rayon, Some(ns(2)))
        .peer(Peer::PyThreadPool, python.get("map_square"))
        .target(format!(
            "≤ 1.0× sequential ({:.2} ns): {sum_ratio:.2}×, {}",
            ns(0),
            verdict(sum_ratio <= 1.0)
        )),
        Row::new(
            "t2 map `x * x` over 1M items, collect",
            "ns/item",
            Sense::Cost,
            ns(5),
        )
        .peer(Peer::Rayon, Some(ns(7)))
        .target(format!(
            "≤ 3× sequential ({:.2} ns): {collect_ratio:.2}×, {}",
            ns(3),
            verdict(collect_ratio <= 3.0)
        )),
        Row::new(
            "t2 map `x * x` over 1M items, `collect_vec()`",
            "ns/item",
            Sense::Cost,
            ns(8),
        )
        .peer(Peer::Rayon, Some(ns(7)))
        .target(format!(
            "≤ 1.0× rayon's collect ({:.2} ns): {collect_vec_ratio:.2}×, {}",
            ns(7),
            verdict(collect_vec_ratio <= 1.0)
        )),
    ]
}

// ---------------------------------------------------------------------------------------------
// 5. the same CPU-bound map on the default pool (Python's size) and on a pool sized to the
// machine

fn default_pool_map(options: &Options, workers: usize) -> Row {
    let rounds = black_box(calibrate(COSTLY_NANOS));
    let sized = ThreadPool::builder()
        .workers(workers)
        .build()
        .expect("pool");
    let xor = |a: u64, b: u64| a ^ b;
    let expected = (0..COSTLY_ITEMS).map(|x| work(x, rounds)).fold(0, xor);
    let check = move |hash: u64| assert_eq!(hash, expected);
    let mut contenders = vec![
        contender("map on a pool of the machine's size", || {
            let (time, hash) = timed(|| {
                sized
                    .map(move |x| work(x, rounds), 0..COSTLY_ITEMS)
                    .map(Result::unwrap)
                    .fold(0, xor)
            });
            check(hash);
            time
        }),
        contender("`pmap!` with no options (the default pool)", || {
            let (time, hash) = timed(|| {
                parallel::pmap!(move |x: u64| work(x, rounds), 0..COSTLY_ITEMS)
                    .map(Result::unwrap)
                    .fold(0, xor)
            });
            check(hash);
            time
        }),
    ];
    let medians = measure(&mut contenders, options.rounds(7), 1);
    let default_workers = parallel::default_pool().workers();
    heading(&format!(
        "t5. map over {COSTLY_ITEMS} items of about {COSTLY_NANOS:.0} ns: the default pool \
         ({default_workers} workers) against a pool of {workers}"
    ));
    table_head(&["contender", "ms", "× the sized pool"]);
    for (contender, time) in contenders.iter().zip(&medians) {
        println!(
            "| {} | {:.1} | {:.2} |",
            contender.name,
            ms(*time),
            time.as_secs_f64() / medians[0].as_secs_f64()
        );
    }
    let ratio = medians[1].as_secs_f64() / medians[0].as_secs_f64();
    println!(
        "\ntarget: the default pool within 1.1× a pool of the machine's size: {ratio:.2}× ({})",
        verdict(ratio <= 1.1)
    );
    Row::new(
        "t5 CPU-bound `pmap!` on the default pool",
        "× sized",
        Sense::Cost,
        ratio,
    )
    .target(format!(
        "≤ 1.1× a pool of {workers}: {ratio:.2}×, {}",
        verdict(ratio <= 1.1)
    ))
}

// ---------------------------------------------------------------------------------------------
// 3. ordered map over 1,000,000 items of about 200 ns

const COSTLY_ITEMS: u64 = 1_000_000;
const COSTLY_NANOS: f64 = 200.0;

/// About `rounds` × 1.3 ns of integer work that the compiler cannot skip or vectorise.
pub fn work(x: u64, rounds: u32) -> u64 {
    let mut hash = x;
    for _ in 0..rounds {
        hash = black_box(hash)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29)
            ^ x;
    }
    hash
}

/// The number of rounds of `work` that takes about `nanos` on this machine.
pub fn calibrate(nanos: f64) -> u32 {
    let probe = 100;
    let items = 20_000;
    let per_round = (0..5)
        .map(|_| {
            let (time, hash) = timed(|| (0..items).map(|x| work(x, probe)).fold(0, |a, b| a ^ b));
            black_box(hash);
            time.as_nanos() as f64 / (items as f64 * f64::from(probe))
        })
        .fold(f64::INFINITY, f64::min);
    (nanos / per_round).round().max(1.0) as u32
}

fn costly_map(options: &Options, workers: usize) -> Row {
    let rounds = black_box(calibrate(COSTLY_NANOS));
    let pool = ThreadPool::builder()
        .workers(workers)
        .build()
        .expect("pool");
    let xor = |a: u64, b: u64| a ^ b;
    let expected = (0..COSTLY_ITEMS).map(|x| work(x, rounds)).fold(0, xor);
    let check = move |hash: u64| assert_eq!(hash, expected);
    let mut contenders = vec![
        contender("sequential", || {
            let (time, hash) = timed(|| (0..COSTLY_ITEMS).map(|x| work(x, rounds)).fold(0, xor));
            check(hash);
            time
        }),
        contender("plain threads, an equal share each", || {
            let (time, hash) = timed(|| {
                let share = COSTLY_ITEMS / workers as u64;
                let threads: Vec<_> = (0..workers as u64)
                    .map(|i| {
                        let end = if i + 1 == workers as u64 {
                            COSTLY_ITEMS
                        } else {
                            (i + 1) * share
                        };
                        thread::spawn(move || {
                            (i * share..end).map(|x| work(x, rounds)).fold(0, xor)
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
        }),
        contender("parallel map", || {
            let (time, hash) = timed(|| {
                pool.map(move |x| work(x, rounds), 0..COSTLY_ITEMS)
                    .map(Result::unwrap)
                    .fold(0, xor)
            });
            check(hash);
            time
        }),
        contender("rayon par_iter", || {
            let (time, hash) = timed(|| {
                (0..COSTLY_ITEMS)
                    .into_par_iter()
                    .map(|x| work(x, rounds))
                    .reduce(|| 0, xor)
            });
            check(hash);
            time
        }),
    ];
    let medians = measure(&mut contenders, options.rounds(7), 1);

    heading(&format!(
        "t3. ordered map over {COSTLY_ITEMS} items of about {COSTLY_NANOS:.0} ns ({workers} workers)"
    ));
    table_head(&["contender", "ms", "ns/item", "speedup"]);
    let speedup = |i: usize| medians[0].as_secs_f64() / medians[i].as_secs_f64();
    for (i, (contender, time)) in contenders.iter().zip(&medians).enumerate() {
        println!(
            "| {} | {:.1} | {:.1} | {:.2} |",
            contender.name,
            ms(*time),
            time.as_nanos() as f64 / COSTLY_ITEMS as f64,
            speedup(i)
        );
    }
    println!(
        "\ntarget: speedup at least 0.9 × the machine's parallelism: {:.2} vs 0.9 × {:.2} = {:.2} ({})",
        speedup(2),
        speedup(1),
        0.9 * speedup(1),
        verdict(speedup(2) >= 0.9 * speedup(1))
    );
    let met = speedup(2) >= 0.9 * speedup(1);
    Row::new(
        "t3 map over 1M items of ~200 ns",
        "× seq",
        Sense::Rate,
        speedup(2),
    )
    .peer(Peer::Rayon, Some(speedup(3)))
    .target(format!(
        "speedup ≥ 0.9 × plain threads' {:.2}: {}",
        speedup(1),
        verdict(met)
    ))
}

// ---------------------------------------------------------------------------------------------
// 4. 100 tasks sleeping 10 ms on 10 workers

const SLEEPERS: usize = 100;
const SLEEPER_WORKERS: usize = 10;
const NAP: Duration = Duration::from_millis(10);

fn sleepers(options: &Options, python: &Python) -> Row {
    let ours = ThreadPool::builder()
        .workers(SLEEPER_WORKERS)
        .build()
        .expect("pool");
    let theirs = threadpool::ThreadPool::new(SLEEPER_WORKERS);
    let rayon = rayon::ThreadPoolBuilder::new()
        .num_threads(SLEEPER_WORKERS)
        .build()
        .expect("rayon pool");
    let mut contenders = vec![
        contender("parallel: submit, then result", || {
            timed(|| {
                let futures: Vec<_> = (0..SLEEPERS)
                    .map(|_| ours.submit(|| thread::sleep(NAP)))
                    .collect();
                for future in futures {
                    future.result().expect("a nap");
                }
            })
            .0
        }),
        contender("rayon: scope, spawn each", || {
            timed(|| {
                rayon.scope(|scope| {
                    for _ in 0..SLEEPERS {
                        scope.spawn(|_| thread::sleep(NAP));
                    }
                });
            })
            .0
        }),
        contender("threadpool: execute, then join", || {
            timed(|| {
                for _ in 0..SLEEPERS {
                    theirs.execute(|| thread::sleep(NAP));
                }
                theirs.join();
            })
            .0
        }),
    ];
    let medians = measure(&mut contenders, options.rounds(5), 2);
    let ideal = NAP * (SLEEPERS / SLEEPER_WORKERS) as u32;

    heading(&format!(
        "t4. {SLEEPERS} tasks sleeping {} ms on {SLEEPER_WORKERS} workers (ideal {} ms)",
        NAP.as_millis(),
        ideal.as_millis()
    ));
    table_head(&["contender", "ms", "over ideal (ms)"]);
    for (contender, time) in contenders.iter().zip(&medians) {
        println!(
            "| {} | {:.2} | {:.2} |",
            contender.name,
            ms(*time),
            ms(*time) - ms(ideal)
        );
    }
    if let Some(total) = python.get("sleep_100x10ms") {
        println!(
            "| {} | {total:.2} | {:.2} |",
            python.label("ThreadPoolExecutor"),
            total - ms(ideal)
        );
    }
    let over = ms(medians[0]) - ms(ideal);
    println!(
        "\ntarget: within 2 ms of the ideal: {over:.2} ms over ({})",
        verdict(over <= 2.0)
    );
    Row::new(
        "t4 100 × sleep 10 ms on 10 workers",
        "ms",
        Sense::Cost,
        ms(medians[0]),
    )
    .peer(Peer::Rayon, Some(ms(medians[1])))
    .peer(Peer::Threadpool, Some(ms(medians[2])))
    .peer(Peer::PyThreadPool, python.get("sleep_100x10ms"))
    .target(format!(
        "≤ 2 ms over the ideal 100 ms: {over:.2} ms, {}",
        verdict(over <= 2.0)
    ))
}
