//! Issue 3's figures: what `#[parallel]` and `pmap!` cost over the runtime calls they stand
//! for, on the same pool.
//!
//! - a1: calling a `#[parallel(pool = POOL)]` function 100,000 times and taking each result,
//!   against `POOL.submit(move || f::sync(i))`;
//! - a2: `pmap!` over 1,000,000 cheap items against the runtime's `map` of the same function
//!   on the same pool: a `#[parallel(pool = POOL)]` function, and a plain function (which
//!   `pmap!` runs on the default pool);
//! - a3, a4: the same two for a `#[parallel(processes = 2)]` function (10,000 tiny calls),
//!   against `submit` and `map` on that function's own pool.
//!
//! Target (issue 3): at most 1.1× the runtime call.

use std::sync::LazyLock;
use std::time::Duration;

use parallel::{default_pool, parallel, pmap, ThreadPool};

use crate::support::{
    contender, heading, measure, settle, table_head, timed, verdict, Options, Row, Sense,
};

static POOL: LazyLock<ThreadPool> = LazyLock::new(|| {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    ThreadPool::builder()
        .workers(workers)
        .build()
        .expect("a thread pool")
});

#[parallel(pool = POOL)]
fn identity(i: usize) -> usize {
    i
}

#[parallel(pool = POOL)]
fn square(x: u64) -> u64 {
    x * x
}

fn plain_square(x: u64) -> u64 {
    x * x
}

#[parallel(processes = 2)]
fn remote_identity(i: u64) -> u64 {
    i
}

const CALLS: usize = 100_000;
const ITEMS: u64 = 1_000_000;
const REMOTE_CALLS: u64 = 10_000;

const TARGET: f64 = 1.1;

/// Runs the selected figures and returns their summary rows.
pub fn run(options: &Options) -> Vec<Row> {
    let mut rows = Vec::new();
    if options.runs("a1") {
        settle(options, "a1");
        rows.push(call_result(options));
    }
    if options.runs("a2") {
        settle(options, "a2");
        rows.extend(pmap_map(options));
    }
    if options.runs("a3") {
        settle(options, "a3");
        rows.push(remote_call(options));
    }
    if options.runs("a4") {
        settle(options, "a4");
        rows.push(remote_pmap(options));
    }
    rows
}

/// Prints a two-contender table (the macro, then the runtime call) and returns the ratio.
fn compare(title: &str, unit: &str, count: f64, medians: &[Duration], names: [&str; 2]) -> f64 {
    heading(title);
    table_head(&["contender", unit, "× runtime call"]);
    let per = |i: usize| medians[i].as_nanos() as f64 / count;
    for (i, name) in names.iter().enumerate() {
        println!("| {name} | {:.3} | {:.3} |", per(i), per(i) / per(1));
    }
    let ratio = per(0) / per(1);
    println!(
        "\ntarget: at most {TARGET}× the runtime call: {ratio:.3}× ({})",
        verdict(ratio <= TARGET)
    );
    ratio
}

fn row(workload: &str, unit: &'static str, ours: f64, base: f64, what: &str) -> Row {
    let ratio = ours / base;
    Row::new(workload, unit, Sense::Cost, ours).target(format!(
        "≤ {TARGET}× {what} ({base:.3} {unit}): {ratio:.3}×, {}",
        verdict(ratio <= TARGET)
    ))
}

fn call_result(options: &Options) -> Row {
    const SUM: usize = CALLS * (CALLS - 1) / 2;
    // Each contender keeps its vector of futures from run to run, so that both figures are
    // the calls and the results, not the vector's fresh pages.
    let mut ours = Vec::with_capacity(CALLS);
    let mut theirs = Vec::with_capacity(CALLS);
    let mut contenders = vec![
        contender(
            "`identity(i)` (#[parallel(pool = POOL)]), then result",
            || {
                let (time, sum) = timed(|| {
                    ours.extend((0..CALLS).map(*identity));
                    let sum = ours
                        .iter()
                        .map(|future| future.result().expect("a tiny task"))
                        .sum::<usize>();
                    ours.clear();
                    sum
                });
                assert_eq!(sum, SUM);
                time
            },
        ),
        contender(
            "`POOL.submit(move || identity::sync(i))`, then result",
            || {
                let (time, sum) = timed(|| {
                    theirs.extend((0..CALLS).map(|i| POOL.submit(move || identity::sync(i))));
                    let sum = theirs
                        .iter()
                        .map(|future| future.result().expect("a tiny task"))
                        .sum::<usize>();
                    theirs.clear();
                    sum
                });
                assert_eq!(sum, SUM);
                time
            },
        ),
    ];
    let medians = measure(&mut contenders, options.rounds(15), 3);
    let names = [contenders[0].name, contenders[1].name];
    let title = format!("a1. a `#[parallel]` call + result against `submit`, {CALLS} tiny tasks");
    compare(&title, "ns/task", CALLS as f64, &medians, names);
    let ns = |i: usize| medians[i].as_nanos() as f64 / CALLS as f64;
    row(
        "a1 `#[parallel]` call + result",
        "ns/task",
        ns(0),
        ns(1),
        "`submit`",
    )
}

fn pmap_map(options: &Options) -> Vec<Row> {
    let inputs: Vec<u64> = (0..ITEMS).collect();
    let inputs = &inputs;
    let expected = inputs.iter().map(|&x| x * x).fold(0, u64::wrapping_add);
    let check = move |sum: u64| assert_eq!(sum, expected);
    let mut contenders = vec![
        contender(
            "`pmap!(square, ..)` (#[parallel(pool = POOL)]): sum",
            || {
                let (time, sum) = timed(|| {
                    pmap!(square, inputs.iter().copied())
                        .map(Result::unwrap)
                        .sum::<u64>()
                });
                check(sum);
                time
            },
        ),
        contender("`POOL.map(square::sync, ..)`: sum", || {
            let (time, sum) = timed(|| {
                POOL.map(square::sync, inputs.iter().copied())
                    .map(Result::unwrap)
                    .sum::<u64>()
            });
            check(sum);
            time
        }),
        contender("`pmap!(plain_square, ..)` (default pool): sum", || {
            let (time, sum) = timed(|| {
                pmap!(plain_square, inputs.iter().copied())
                    .map(Result::unwrap)
                    .sum::<u64>()
            });
            check(sum);
            time
        }),
        contender("`default_pool().map(plain_square, ..)`: sum", || {
            let (time, sum) = timed(|| {
                default_pool()
                    .map(plain_square, inputs.iter().copied())
                    .map(Result::unwrap)
                    .sum::<u64>()
            });
            check(sum);
            time
        }),
    ];
    let medians = measure(&mut contenders, options.rounds(21), 5);
    let names: Vec<&str> = contenders.iter().map(|c| c.name).collect();
    let title = format!("a2. `pmap!` against the runtime's `map`, {ITEMS} items of `x * x`");
    compare(
        &format!("{title}: a `#[parallel]` function"),
        "ns/item",
        ITEMS as f64,
        &medians[..2],
        [names[0], names[1]],
    );
    compare(
        &format!("{title}: a plain function"),
        "ns/item",
        ITEMS as f64,
        &medians[2..],
        [names[2], names[3]],
    );
    let ns = |i: usize| medians[i].as_nanos() as f64 / ITEMS as f64;
    vec![
        row(
            "a2 `pmap!` of a `#[parallel]` fn, 1M items",
            "ns/item",
            ns(0),
            ns(1),
            "`map`",
        ),
        row(
            "a2 `pmap!` of a plain fn, 1M items",
            "ns/item",
            ns(2),
            ns(3),
            "`map`",
        ),
    ]
}

fn remote_call(options: &Options) -> Row {
    const SUM: u64 = REMOTE_CALLS * (REMOTE_CALLS - 1) / 2;
    // The function's own pool (an item the attribute writes, hidden from its docs), so that
    // both contenders use the same two worker processes.
    let pool = remote_identity::__pool();
    let mut contenders = vec![
        contender(
            "`remote_identity(i)` (#[parallel(processes = 2)]), then result",
            || {
                let (time, sum) = timed(|| {
                    let futures: Vec<_> = (0..REMOTE_CALLS).map(*remote_identity).collect();
                    futures
                        .iter()
                        .map(|future| future.result().expect("a tiny task"))
                        .sum::<u64>()
                });
                assert_eq!(sum, SUM);
                time
            },
        ),
        contender("`pool.submit(remote_identity, (i,))`, then result", || {
            let (time, sum) = timed(|| {
                let futures: Vec<_> = (0..REMOTE_CALLS)
                    .map(|i| pool.submit(remote_identity, (i,)))
                    .collect();
                futures
                    .iter()
                    .map(|future| future.result().expect("a tiny task"))
                    .sum::<u64>()
            });
            assert_eq!(sum, SUM);
            time
        }),
    ];
    let medians = measure(&mut contenders, options.rounds(9), 3);
    let names = [contenders[0].name, contenders[1].name];
    let title = format!(
        "a3. a `#[parallel(processes)]` call + result against `submit`, {REMOTE_CALLS} tiny tasks"
    );
    compare(&title, "ns/task", REMOTE_CALLS as f64, &medians, names);
    let us = |i: usize| medians[i].as_nanos() as f64 / 1e3 / REMOTE_CALLS as f64;
    row(
        "a3 `#[parallel(processes)]` call + result",
        "µs/task",
        us(0),
        us(1),
        "`submit`",
    )
}

fn remote_pmap(options: &Options) -> Row {
    const SUM: u64 = REMOTE_CALLS * (REMOTE_CALLS - 1) / 2;
    let pool = remote_identity::__pool();
    let mut contenders = vec![
        contender("`pmap!(remote_identity, ..)`: sum", || {
            let (time, sum) = timed(|| {
                pmap!(remote_identity, 0..REMOTE_CALLS)
                    .map(Result::unwrap)
                    .sum::<u64>()
            });
            assert_eq!(sum, SUM);
            time
        }),
        contender("`pool.map(remote_identity, ..)`: sum", || {
            let (time, sum) = timed(|| {
                pool.map(remote_identity, (0..REMOTE_CALLS).map(|i| (i,)))
                    .map(Result::unwrap)
                    .sum::<u64>()
            });
            assert_eq!(sum, SUM);
            time
        }),
    ];
    let medians = measure(&mut contenders, options.rounds(9), 3);
    let names = [contenders[0].name, contenders[1].name];
    let title = format!(
        "a4. `pmap!` of a `#[parallel(processes)]` function against `map`, {REMOTE_CALLS} items"
    );
    compare(&title, "ns/item", REMOTE_CALLS as f64, &medians, names);
    let ns = |i: usize| medians[i].as_nanos() as f64 / REMOTE_CALLS as f64;
    row(
        "a4 `pmap!` of a `#[parallel(processes)]` fn",
        "ns/item",
        ns(0),
        ns(1),
        "`map`",
    )
}
