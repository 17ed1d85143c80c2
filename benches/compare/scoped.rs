//! The scoped figures of issue 12, each beside its peer in the same run:
//!
//! - s1: scoped submit + result of 100,000 tiny tasks, per task, against `ThreadPool::submit`
//!   (t1's workload) on the same pool;
//! - s2: a scoped map over a `&[u64]` of 1,000,000 items summing `x * x`, against rayon's
//!   `data.par_iter().map(..).sum()` and a sequential loop: summed on the workers
//!   (`s.map(..).sum::<Result<u64, _>>()`), and item by item on this thread
//!   (`.map(Result::unwrap).sum()`).

use parallel::{ScopedFuture, ThreadPool};
use rayon::prelude::*;

use crate::support::{
    contender, heading, measure, ms, settle, table_head, timed, verdict, Options, Peer, Row, Sense,
};

/// Runs the selected scoped figures and returns their summary rows.
pub fn run(options: &Options, workers: usize) -> Vec<Row> {
    let mut rows = Vec::new();
    if options.runs("s1") {
        settle(options, "s1");
        rows.push(scoped_submit(options, workers));
    }
    if options.runs("s2") {
        settle(options, "s2");
        rows.push(scoped_sum(options, workers));
    }
    rows
}

const TASKS: usize = 100_000;
const TASKS_SUM: usize = TASKS * (TASKS - 1) / 2;

/// A vector's allocation kept from run to run for vectors of futures, scoped or not, so that
/// neither figure includes faulting in a fresh 1.6 MB vector (as t1 keeps its own).
struct KeptBuffer {
    ptr: *mut u8,
    capacity: usize,
}

impl KeptBuffer {
    fn new() -> Self {
        let mut vec = std::mem::ManuallyDrop::new(Vec::<ScopedFuture<'static, usize>>::new());
        vec.reserve_exact(TASKS);
        Self {
            ptr: vec.as_mut_ptr().cast(),
            capacity: vec.capacity(),
        }
    }

    /// An empty vector in the kept allocation; give it back with `put`.
    fn take<'a>(&mut self) -> Vec<ScopedFuture<'a, usize>> {
        // SAFETY: the allocation was made by a `Vec<ScopedFuture<'static, usize>>` of this
        // capacity; a `ScopedFuture` of another lifetime has the same layout (lifetimes do not
        // change layout), and the vector starts empty. `put` hands the allocation back
        // before another `take`.
        unsafe { Vec::from_raw_parts(self.ptr.cast(), 0, self.capacity) }
    }

    fn put<T>(&mut self, mut vec: Vec<ScopedFuture<'_, T>>) {
        vec.clear();
        let mut vec = std::mem::ManuallyDrop::new(vec);
        self.ptr = vec.as_mut_ptr().cast();
        self.capacity = vec.capacity();
    }
}

fn scoped_submit(options: &Options, workers: usize) -> Row {
    let pool = ThreadPool::builder()
        .workers(workers)
        .build()
        .expect("pool");
    let mut futures = Vec::with_capacity(TASKS);
    let mut kept = KeptBuffer::new();
    let mut contenders = vec![
        contender("ThreadPool::submit each, then result each (t1)", || {
            let (time, sum) = timed(|| {
                futures.extend((0..TASKS).map(|i| pool.submit(move || i)));
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
        contender("scope: submit each, then result each", || {
            let (time, sum) = timed(|| {
                pool.scope(|s| {
                    let mut futures = kept.take();
                    futures.extend((0..TASKS).map(|i| s.submit(move || i)));
                    let sum = futures
                        .iter()
                        .map(|future| future.result().expect("a tiny task"))
                        .sum::<usize>();
                    kept.put(futures);
                    sum
                })
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
    heading(&format!("s1. scoped submit + result of {TASKS} tiny tasks"));
    table_head(&["contender", "ns/task", "× submit"]);
    for (contender, &ns) in contenders.iter().zip(&per_task) {
        println!("| {} | {ns:.0} | {:.2} |", contender.name, ns / per_task[0]);
    }
    let ratio = per_task[1] / per_task[0];
    let target = format!(
        "≤ submit's cost ({:.0} ns): {ratio:.2}×, {}",
        per_task[0],
        verdict(ratio <= 1.0)
    );
    println!("\ntarget: at most the cost of `submit` in the same run: {target}");
    Row::new(
        "s1 scoped submit + result, tiny task",
        "ns/task",
        Sense::Cost,
        per_task[1],
    )
    .target(target)
}

const ITEMS: u64 = 1_000_000;

fn scoped_sum(options: &Options, workers: usize) -> Row {
    let pool = ThreadPool::builder()
        .workers(workers)
        .build()
        .expect("pool");
    let rayon_pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build()
        .expect("rayon pool");
    let data: Vec<u64> = (0..ITEMS).collect();
    let data = &data;
    let expected = data.iter().map(|x| x * x).fold(0u64, u64::wrapping_add);
    let check = move |sum: u64| assert_eq!(sum, expected);
    let mut contenders = vec![
        contender("sequential: iter().map().sum()", || {
            let (time, sum) = timed(|| data.iter().map(|x| x * x).sum::<u64>());
            check(sum);
            time
        }),
        contender("rayon: par_iter().map().sum()", || {
            let (time, sum) =
                timed(|| rayon_pool.install(|| data.par_iter().map(|x| x * x).sum::<u64>()));
            check(sum);
            time
        }),
        contender(
            "scope: s.map(..).sum::<Result<u64, _>>() (on the workers)",
            || {
                let (time, sum) =
                    timed(|| pool.scope(|s| s.map(|x: &u64| x * x, data).sum::<Result<u64, _>>()));
                check(sum.expect("no failure"));
                time
            },
        ),
        contender("scope: s.map(..).map(Result::unwrap).sum() (here)", || {
            let (time, sum) = timed(|| {
                pool.scope(|s| {
                    s.map(|x: &u64| x * x, data)
                        .map(Result::unwrap)
                        .sum::<u64>()
                })
            });
            check(sum);
            time
        }),
    ];
    let medians = measure(&mut contenders, options.rounds(15), 5);
    heading(&format!(
        "s2. scoped map over a `&[u64]` of {ITEMS} items, summing `x * x`"
    ));
    table_head(&["contender", "ms", "ns/item", "× rayon"]);
    for (contender, time) in contenders.iter().zip(&medians) {
        println!(
            "| {} | {:.3} | {:.2} | {:.2} |",
            contender.name,
            ms(*time),
            time.as_nanos() as f64 / ITEMS as f64,
            time.as_secs_f64() / medians[1].as_secs_f64()
        );
    }
    let ratio = medians[2].as_secs_f64() / medians[1].as_secs_f64();
    let here = medians[3].as_secs_f64() / medians[1].as_secs_f64();
    let ns = |i: usize| medians[i].as_nanos() as f64 / ITEMS as f64;
    let target = format!(
        "≤ 1.2× rayon ({:.2} ns): {ratio:.2}×, {} (item by item here: {here:.2}×)",
        ns(1),
        verdict(ratio <= 1.2)
    );
    println!("\ntarget: at most 1.2× rayon's time: {target}");
    Row::new(
        "s2 scoped map sum over &[u64], 1M items",
        "ns/item",
        Sense::Cost,
        ns(2),
    )
    .peer(Peer::Rayon, Some(ns(1)))
    .target(target)
}
