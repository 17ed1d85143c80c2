//! The thread-side figures of SPEC §5 and issue 2, each beside its peers, printed as the
//! tables that `BENCHMARKS.md` reports:
//!
//! 1. submit + result of 100,000 tiny tasks, per task: `parallel`, rayon (two ways), the
//!    `threadpool` crate and Python's `ThreadPoolExecutor`;
//! 2. an ordered map of `x * x` over 1,000,000 items: `parallel`'s `map` against the same
//!    sequential loop (summing, and collecting) and rayon's `par_iter`;
//! 3. the same over items of about 200 ns: speedup over sequential, against the machine's
//!    parallelism (plain threads each doing an equal share) and rayon;
//! 4. 100 tasks sleeping 10 ms on 10 workers: time against the ideal 100 ms.
//!
//! `cargo bench --bench threads` runs everything, Python included when `python3` is on the
//! `PATH` (its script is `benches/python/threads.py`). Options after `--`: `--quick` takes
//! fewer samples, a figure number (`1` to `4`) runs only that figure, `--no-python` skips
//! Python.
//!
//! Each figure is the median of many samples, taken warm as criterion does: in each round,
//! every contender in turn runs once untimed (waking its threads, warming caches and the
//! allocator), then several timed times back to back. Taking turns spreads load from
//! elsewhere on the machine over all contenders; a short pause before each turn lets the
//! previous contender's idle threads go to sleep, so none runs against another's spinning.

use std::hint::black_box;
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use parallel::{TaskError, ThreadPool};
use rayon::prelude::*;

fn main() {
    let options = Options::parse();
    let workers = thread::available_parallelism().map_or(2, |n| n.get());
    println!("parallel thread benchmarks: {workers} hardware threads, pools of {workers} workers");
    let python = if options.python {
        Python::run(workers, options.quick)
    } else {
        Python::default()
    };
    if options.runs(1) {
        submit_result(&options, workers, &python);
    }
    if options.runs(2) {
        cheap_map(&options, workers, &python);
    }
    if options.runs(3) {
        costly_map(&options, workers);
    }
    if options.runs(4) {
        sleepers(&options, &python);
    }
}

struct Options {
    quick: bool,
    python: bool,
    only: Option<u32>,
}

impl Options {
    fn parse() -> Self {
        // `cargo bench` passes `--bench`; anything unknown is ignored.
        let args: Vec<String> = std::env::args().skip(1).collect();
        Self {
            quick: args.iter().any(|arg| arg == "--quick"),
            python: !args.iter().any(|arg| arg == "--no-python"),
            only: args.iter().find_map(|arg| arg.parse().ok()),
        }
    }

    fn runs(&self, figure: u32) -> bool {
        self.only.map_or(true, |only| only == figure)
    }

    /// Rounds of each figure: `full`, or 2 with `--quick`.
    fn rounds(&self, full: usize) -> usize {
        if self.quick {
            2
        } else {
            full
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Measuring and printing

/// One contender: runs once and returns how long its measured part took.
struct Contender<'a> {
    name: &'static str,
    run: Box<dyn FnMut() -> Duration + 'a>,
}

fn contender<'a>(name: &'static str, run: impl FnMut() -> Duration + 'a) -> Contender<'a> {
    Contender {
        name,
        run: Box::new(run),
    }
}

/// Median time of each contender over `rounds` interleaved rounds of a warm-up run and
/// `runs` timed runs each.
fn measure(contenders: &mut [Contender<'_>], rounds: usize, runs: usize) -> Vec<Duration> {
    let mut times = vec![Vec::with_capacity(rounds * runs); contenders.len()];
    for _ in 0..rounds {
        for (contender, times) in contenders.iter_mut().zip(&mut times) {
            thread::sleep(Duration::from_millis(5));
            (contender.run)();
            for _ in 0..runs {
                times.push((contender.run)());
            }
        }
    }
    times
        .into_iter()
        .map(|mut times| {
            times.sort();
            times[times.len() / 2]
        })
        .collect()
}

/// Times `f`.
fn timed<R>(f: impl FnOnce() -> R) -> (Duration, R) {
    let start = Instant::now();
    let result = f();
    (start.elapsed(), result)
}

fn heading(title: &str) {
    println!("\n### {title}\n");
}

fn table_head(columns: &[&str]) {
    println!("| {} |", columns.join(" | "));
    let rules: Vec<&str> = columns
        .iter()
        .enumerate()
        .map(|(i, _)| if i == 0 { "---" } else { "---:" })
        .collect();
    println!("|{}|", rules.join("|"));
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

fn ms(time: Duration) -> f64 {
    time.as_secs_f64() * 1e3
}

// ---------------------------------------------------------------------------------------------
// Python's ThreadPoolExecutor, run through `benches/python/threads.py`

#[derive(Default)]
struct Python {
    version: Option<String>,
    /// `(name, value)` for each line the script printed.
    figures: Vec<(String, f64)>,
    note: Option<String>,
}

impl Python {
    fn run(workers: usize, quick: bool) -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/python/threads.py");
        let mut command = Command::new("python3");
        command
            .arg(script)
            .arg("--workers")
            .arg(workers.to_string());
        if quick {
            command.arg("--quick");
        }
        let output = match command.output() {
            Ok(output) if output.status.success() => output,
            Ok(output) => {
                return Self::failed(format!(
                    "python3 failed: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                ))
            }
            Err(error) => return Self::failed(format!("python3 not run: {error}")),
        };
        let mut python = Self::default();
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let mut words = line.split_whitespace();
            match (words.next(), words.next()) {
                (Some("python"), Some(version)) => python.version = Some(version.to_owned()),
                (Some(name), Some(value)) => {
                    if let Ok(value) = value.parse() {
                        python.figures.push((name.to_owned(), value));
                    }
                }
                _ => {}
            }
        }
        python
    }

    fn failed(note: String) -> Self {
        Self {
            note: Some(note),
            ..Self::default()
        }
    }

    fn get(&self, name: &str) -> Option<f64> {
        self.figures
            .iter()
            .find(|(figure, _)| figure == name)
            .map(|&(_, value)| value)
    }

    fn label(&self) -> String {
        match &self.version {
            Some(version) => format!("Python {version} ThreadPoolExecutor"),
            None => "Python ThreadPoolExecutor".to_owned(),
        }
    }

    /// Prints why Python's figures are missing, if they are.
    fn explain(&self) {
        if let Some(note) = &self.note {
            println!("\n(Python skipped: {note})");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1. submit + result of 100,000 tiny tasks

const TASKS: usize = 100_000;
const TASKS_SUM: usize = TASKS * (TASKS - 1) / 2;

fn submit_result(options: &Options, workers: usize, python: &Python) {
    let ours = ThreadPool::builder()
        .workers(workers)
        .build()
        .expect("pool");
    let theirs = threadpool::ThreadPool::new(workers);
    let mut contenders = vec![
        contender("parallel: submit each, then result each", || {
            let (time, sum) = timed(|| {
                let futures: Vec<_> = (0..TASKS).map(|i| ours.submit(move || i)).collect();
                futures
                    .iter()
                    .map(|future| future.result().expect("a tiny task"))
                    .sum::<usize>()
            });
            assert_eq!(sum, TASKS_SUM);
            time
        }),
        contender("rayon: scope, spawn each into its slot", || {
            let mut slots = vec![0; TASKS];
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

    heading(&format!("1. submit + result of {TASKS} tiny tasks"));
    table_head(&["contender", "ns/task", "× parallel"]);
    for (contender, &ns) in contenders.iter().zip(&per_task) {
        println!("| {} | {ns:.0} | {:.2} |", contender.name, ns / per_task[0]);
    }
    if let Some(ns) = python.get("submit_result") {
        println!(
            "| {} (fewer tasks) | {ns:.0} | {:.1} |",
            python.label(),
            ns / per_task[0]
        );
    }
    python.explain();
    let rayon = per_task[1].min(per_task[2]);
    println!(
        "\ntarget: at most rayon's per-task cost: {:.0} ns vs rayon's best {rayon:.0} ns \
         (scope {:.0}, spawn {:.0}): {}",
        per_task[0],
        per_task[1],
        per_task[2],
        verdict(per_task[0] <= rayon)
    );
}

// ---------------------------------------------------------------------------------------------
// 2. ordered map over 1,000,000 cheap items

const ITEMS: u64 = 1_000_000;

fn square(x: u64) -> u64 {
    x * x
}

fn cheap_map(options: &Options, workers: usize, python: &Python) {
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
    ];
    let medians = measure(&mut contenders, options.rounds(15), 5);

    heading(&format!("2. ordered map of `x * x` over {ITEMS} items"));
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
            python.label(),
            ns * ITEMS as f64 / 1e6,
            ns * ITEMS as f64 / 1e9 / medians[0].as_secs_f64()
        );
    }
    let sum_ratio = medians[1].as_secs_f64() / medians[0].as_secs_f64();
    let collect_ratio = medians[5].as_secs_f64() / medians[3].as_secs_f64();
    let push_ratio = medians[6].as_secs_f64() / medians[3].as_secs_f64();
    println!(
        "\ntarget: at most 1.3× a sequential loop: summing {sum_ratio:.2}× ({}); \
         collect::<Result<Vec<_>, _>>() {collect_ratio:.2}× ({}); \
         for_each pushing into a Vec {push_ratio:.2}× ({})",
        verdict(sum_ratio <= 1.3),
        verdict(collect_ratio <= 1.3),
        verdict(push_ratio <= 1.3)
    );
}

// ---------------------------------------------------------------------------------------------
// 3. ordered map over 1,000,000 items of about 200 ns

const COSTLY_ITEMS: u64 = 1_000_000;
const COSTLY_NANOS: f64 = 200.0;

/// About `rounds` × 1.3 ns of integer work that the compiler cannot skip or vectorise.
fn work(x: u64, rounds: u32) -> u64 {
    let mut hash = x;
    for _ in 0..rounds {
        hash = black_box(hash)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29)
            ^ x;
    }
    hash
}

/// The number of rounds of `work` that takes about `COSTLY_NANOS` on this machine.
fn calibrate() -> u32 {
    let probe = 100;
    let items = 20_000;
    let per_round = (0..5)
        .map(|_| {
            let (time, hash) = timed(|| (0..items).map(|x| work(x, probe)).fold(0, |a, b| a ^ b));
            black_box(hash);
            time.as_nanos() as f64 / (items as f64 * f64::from(probe))
        })
        .fold(f64::INFINITY, f64::min);
    (COSTLY_NANOS / per_round).round().max(1.0) as u32
}

fn costly_map(options: &Options, workers: usize) {
    let rounds = black_box(calibrate());
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
        "3. ordered map over {COSTLY_ITEMS} items of about {COSTLY_NANOS:.0} ns ({workers} workers)"
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
}

// ---------------------------------------------------------------------------------------------
// 4. 100 tasks sleeping 10 ms on 10 workers

const SLEEPERS: usize = 100;
const SLEEPER_WORKERS: usize = 10;
const NAP: Duration = Duration::from_millis(10);

fn sleepers(options: &Options, python: &Python) {
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
        "4. {SLEEPERS} tasks sleeping {} ms on {SLEEPER_WORKERS} workers (ideal {} ms)",
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
            python.label(),
            total - ms(ideal)
        );
    }
    let over = ms(medians[0]) - ms(ideal);
    println!(
        "\ntarget: within 2 ms of the ideal: {over:.2} ms over ({})",
        verdict(over <= 2.0)
    );
}
