//! The `memory` group: what a map costs in memory as its input grows (issue 13, target 5).
//! Figures, not timings:
//!
//! - r1: peak resident memory of a map summing 10^6, 10^7 and 10^8 cheap items, and of one
//!   over an endless iterator stopped after 10^8 items, each in a fresh process (this bench
//!   run again with `PARALLEL_BENCH_MEMORY` set), beside the same process doing nothing;
//! - r2: 10^6 process tasks (a map with `chunksize = 1`) through a pool whose workers are
//!   replaced every 1,000 tasks: the parent's resident memory and open descriptors after
//!   10^5 tasks and after 10^6.

use std::process::Command;

use parallel::{parallel, MapOptions, ProcessPool, ThreadPool};

use crate::support::{heading, table_head, verdict, Options, Row, Sense};

/// The variable that makes this bench binary run one case of r1 and print its peak memory.
const CASE: &str = "PARALLEL_BENCH_MEMORY";

#[parallel(processes = 2)]
fn echo(i: u64) -> u64 {
    i
}

/// In a child run for r1: runs the case named by `CASE`, prints `peak_kib=N`, and returns
/// `true`; `false` in a normal run.
pub fn child() -> bool {
    let Ok(case) = std::env::var(CASE) else {
        return false;
    };
    let pool = ThreadPool::builder().workers(2).build().expect("pool");
    let square = |x: u64| x.wrapping_mul(x);
    let total = match case.split_once(':') {
        Some(("bounded", n)) => {
            let n: u64 = n.parse().expect("an item count");
            pool.map(square, 0..n)
                .map(Result::unwrap)
                .fold(0, u64::wrapping_add)
        }
        Some(("endless", n)) => {
            let n: usize = n.parse().expect("an item count");
            pool.map(square, 0u64..)
                .take(n)
                .map(Result::unwrap)
                .fold(0, u64::wrapping_add)
        }
        _ => 0, // "idle": the pool and nothing else
    };
    std::hint::black_box(total);
    println!("peak_kib={}", status_kib("VmHWM"));
    true
}

/// A field of `/proc/self/status` in KiB (`VmHWM`: peak resident memory; `VmRSS`: now).
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

/// Runs the r1 case `case` in a fresh process; its peak resident memory in MiB.
fn peak_of(case: &str) -> f64 {
    let output = Command::new(std::env::current_exe().expect("this bench"))
        .env(CASE, case)
        .output()
        .expect("the bench runs again");
    let text = String::from_utf8_lossy(&output.stdout);
    let kib: u64 = text
        .lines()
        .find_map(|line| line.strip_prefix("peak_kib="))
        .and_then(|kib| kib.parse().ok())
        .unwrap_or_else(|| panic!("case {case} printed no peak: {text}"));
    kib as f64 / 1024.0
}

pub fn run(options: &Options) -> Vec<Row> {
    let mut rows = Vec::new();
    if options.runs("r1") {
        rows.push(bounded_maps());
    }
    if options.runs("r2") {
        rows.push(recycled_workers());
    }
    rows
}

fn bounded_maps() -> Row {
    heading("r1. peak resident memory of a map summing cheap items, each in a fresh process");
    table_head(&["case", "peak MiB"]);
    let idle = peak_of("idle");
    println!("| a 2-worker pool, no map | {idle:.1} |");
    let mut peaks = Vec::new();
    for exponent in [6, 7, 8] {
        let n = 10u64.pow(exponent);
        let peak = peak_of(&format!("bounded:{n}"));
        println!("| `map(..).sum()` over 10^{exponent} items | {peak:.1} |");
        peaks.push(peak);
    }
    let endless = peak_of("endless:100000000");
    println!("| an endless iterator, the first 10^8 items | {endless:.1} |");
    let growth = peaks[2] - peaks[0];
    let flat = growth.abs() < 4.0 && (endless - peaks[2]).abs() < 4.0;
    println!(
        "\ntarget: flat: 10^8 items cost {growth:+.1} MiB over 10^6, the endless map {:+.1} MiB \
         ({})",
        endless - peaks[0],
        verdict(flat)
    );
    Row::new(
        "r1 peak memory of a map, 10^6 → 10^8 items",
        "MiB",
        Sense::Cost,
        peaks[2],
    )
    .target(format!(
        "flat (10^6: {:.1}, 10^8: {:.1}, endless: {endless:.1}, idle: {idle:.1}): {}",
        peaks[0],
        peaks[2],
        verdict(flat)
    ))
}

fn recycled_workers() -> Row {
    const TASKS: u64 = 1_000_000;
    const SAMPLE: u64 = 100_000;
    heading("r2. 10^6 process tasks, workers replaced every 1,000 tasks: the parent's memory");
    let pool = ProcessPool::builder()
        .workers(2)
        .max_tasks_per_child(1_000)
        .build()
        .expect("pool");
    let options = MapOptions::new().chunksize(1);
    let mut at_sample = (0, 0);
    let mut count = 0u64;
    for result in pool.map_with(echo, (0..TASKS).map(|i| (i,)), options) {
        assert_eq!(result, Ok(count));
        count += 1;
        if count == SAMPLE {
            at_sample = (status_kib("VmRSS"), open_descriptors());
        }
    }
    let at_end = (status_kib("VmRSS"), open_descriptors());
    table_head(&["after", "resident MiB", "open descriptors"]);
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "| 10^5 tasks | {:.1} | {} |\n| 10^6 tasks | {:.1} | {} |",
        mib(at_sample.0),
        at_sample.1,
        mib(at_end.0),
        at_end.1
    );
    let grown = mib(at_end.0) - mib(at_sample.0);
    let flat = grown < 4.0 && at_end.1 <= at_sample.1;
    println!(
        "\ntarget: flat: {grown:+.1} MiB, descriptors {} → {} ({})",
        at_sample.1,
        at_end.1,
        verdict(flat)
    );
    Row::new(
        "r2 parent's memory over 10^6 recycled-worker tasks",
        "MiB",
        Sense::Cost,
        mib(at_end.0),
    )
    .target(format!(
        "flat (10^5: {:.1} MiB, {} fds; 10^6: {:.1} MiB, {} fds): {}",
        mib(at_sample.0),
        at_sample.1,
        mib(at_end.0),
        at_end.1,
        verdict(flat)
    ))
}
