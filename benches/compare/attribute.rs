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

use parallel::{default_pool, parallel, pmap, ThreadPool};

use crate::support::{
    contender, heading, measure_pair, settle, table_head, timed, verdict, Contender, Options, Row,
    Sense,
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

/// How one figure is measured and named.
struct Pair<'t> {
    title: &'t str,
    workload: &'t str,
    /// The runtime call, as the target names it.
    what: &'t str,
    /// `ns` or `µs`, per `count` calls or items.
    unit: &'static str,
    per: &'static str,
    count: f64,
    rounds: usize,
    runs: usize,
}

/// Measures the macro (first) against the runtime call (second), prints their table and
/// returns the summary row. The ratio is the median of each round's ratio (see
/// `measure_pair`).
fn pair(options: &Options, figure: Pair<'_>, contenders: &mut [Contender<'_>]) -> Row {
    let (medians, ratio) = measure_pair(contenders, options.rounds(figure.rounds), figure.runs);
    let scale = if figure.unit == "µs" { 1e3 } else { 1.0 };
    let per = |i: usize| medians[i].as_nanos() as f64 / scale / figure.count;
    let unit = format!("{}/{}", figure.unit, figure.per);
    heading(figure.title);
    table_head(&["contender", &unit]);
    for (i, contender) in contenders.iter().enumerate() {
        println!("| {} | {:.3} |", contender.name, per(i));
    }
    println!(
        "\nmedian of the rounds' ratios: {ratio:.3}×; target: at most {TARGET}× the runtime call ({})",
        verdict(ratio <= TARGET)
    );
    let unit: &'static str = match (figure.unit, figure.per) {
        ("µs", _) => "µs/task",
        (_, "task") => "ns/task",
        _ => "ns/item",
    };
    Row::new(figure.workload, unit, Sense::Cost, per(0)).target(format!(
        "≤ {TARGET}× {} ({:.3} {unit}): {ratio:.3}×, {}",
        figure.what,
        per(1),
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
                    ours.extend((0..CALLS).map(identity));
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
    let title = format!("a1. a `#[parallel]` call + result against `submit`, {CALLS} tiny tasks");
    let figure = Pair {
        title: &title,
        workload: "a1 `#[parallel]` call + result",
        what: "`submit`",
        unit: "ns",
        per: "task",
        count: CALLS as f64,
        rounds: 15,
        runs: 3,
    };
    pair(options, figure, &mut contenders)
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
    ];
    let title = format!("a2. `pmap!` against the runtime's `map`, {ITEMS} items of `x * x`");
    let own = pair(
        options,
        Pair {
            title: &format!("{title}: a `#[parallel]` function"),
            workload: "a2 `pmap!` of a `#[parallel]` fn, 1M items",
            what: "`map`",
            unit: "ns",
            per: "item",
            count: ITEMS as f64,
            rounds: 21,
            runs: 5,
        },
        &mut contenders,
    );
    drop(contenders);
    // The default pool has more workers than the machine has hardware threads (Python's
    // default), which makes these two noisier than the pair above.
    let mut contenders = vec![
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
    let plain = pair(
        options,
        Pair {
            title: &format!("{title}: a plain function"),
            workload: "a2 `pmap!` of a plain fn, 1M items",
            what: "`map`",
            unit: "ns",
            per: "item",
            count: ITEMS as f64,
            rounds: 21,
            runs: 5,
        },
        &mut contenders,
    );
    vec![own, plain]
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
                    let futures: Vec<_> = (0..REMOTE_CALLS).map(remote_identity).collect();
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
    let title = format!(
        "a3. a `#[parallel(processes)]` call + result against `submit`, {REMOTE_CALLS} tiny tasks"
    );
    let figure = Pair {
        title: &title,
        workload: "a3 `#[parallel(processes)]` call + result",
        what: "`submit`",
        unit: "µs",
        per: "task",
        count: REMOTE_CALLS as f64,
        rounds: 9,
        runs: 3,
    };
    pair(options, figure, &mut contenders)
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
    let title = format!(
        "a4. `pmap!` of a `#[parallel(processes)]` function against `map`, {REMOTE_CALLS} items"
    );
    let figure = Pair {
        title: &title,
        workload: "a4 `pmap!` of a `#[parallel(processes)]` fn",
        what: "`map`",
        unit: "ns",
        per: "item",
        count: REMOTE_CALLS as f64,
        rounds: 11,
        runs: 3,
    };
    pair(options, figure, &mut contenders)
}
