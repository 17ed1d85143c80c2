//! The whole comparison of SPEC §5 and issues 2–5 in one command:
//!
//! ```text
//! cargo bench -p parallel-benches --bench compare
//! ```
//!
//! (from the repository root; the benchmarks are the workspace member `parallel-benches`, so
//! `cargo test` builds none of the peers).
//!
//! It measures `parallel` beside rayon, the `threadpool` crate and procspawn in this
//! process, runs Python's `ThreadPoolExecutor`, `ProcessPoolExecutor` and
//! `multiprocessing.Pool` through the scripts in `benches/python/` (when `python3` is on the
//! `PATH`), prints one table per figure, and ends with one table of ratios measured in this
//! run. `BENCHMARKS.md` reports it.
//!
//! Words after `--` choose: `--quick` (fewer samples), `--no-python`, and figure ids or
//! groups: `threads` (t1–t5), `scopes` (s1–s2), `attribute` (a1–a4), `processes` (p1–p6),
//! `memory` (r1–r2), `mpi` (m1–m3, with
//! `--features mpi` under `mpirun`: `mpi.rs`), e.g.
//! `cargo bench -p parallel-benches --bench compare -- p3 p4`.

mod attribute;
mod floor;
mod memory;
#[cfg(feature = "mpi")]
mod mpi;
mod processes;
mod scoped;
mod support;
mod threads;

use std::process::Command;
use std::time::Instant;

use support::{print_summary, Options};

fn main() {
    // The floor's ping-pong child (`floor.rs`) is this program too: it serves and exits here.
    floor::serve_if_child();
    // procspawn's set-up ritual, which it needs first thing in `main`: its workers are this
    // program started again, and this call is where they take over. (Ours need nothing: they
    // take over before `main`.)
    procspawn::init();
    if memory::child() {
        return;
    }
    let started = Instant::now();
    let options = Options::parse();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    machine(workers);

    let mut rows = Vec::new();
    if options.runs_group("threads", &["t1", "t2", "t3", "t4", "t5"]) {
        println!("\n## Threads: pools of {workers} workers (the machine's hardware threads)");
        rows.extend(threads::run(&options, workers));
    }
    if options.runs_group("scopes", &["s1", "s2"]) {
        println!("\n## Scopes: tasks and maps that borrow, pools of {workers} workers");
        rows.extend(scoped::run(&options, workers));
    }
    if options.runs_group("attribute", &["a1", "a2", "a3", "a4"]) {
        println!("\n## `#[parallel]` and `pmap!` against the runtime calls, same pool");
        rows.extend(attribute::run(&options));
    }
    if options.runs_group("processes", &["p1", "p2", "p3", "p4", "p5", "p6"]) {
        println!("\n## Processes: pools of 2 worker processes");
        rows.extend(processes::run(&options));
    }
    if options.runs_group("memory", &["r1", "r2"]) {
        println!("\n## Memory as the work grows");
        rows.extend(memory::run(&options));
    }
    if options.runs_group("mpi", &["m1", "m2", "m3"]) {
        println!("\n## MPI: the worker ranks of this job, beside mpi4py.futures");
        #[cfg(feature = "mpi")]
        rows.extend(mpi::run(&options));
        #[cfg(not(feature = "mpi"))]
        println!("\n(The MPI figures need `--features mpi`, under `mpirun`: see BENCHMARKS.md)");
    }
    print_summary(&rows);
    println!(
        "\nWhole run: {:.0} s; load average at the end: {}",
        started.elapsed().as_secs_f64(),
        read("/proc/loadavg")
    );
}

/// Prints the date, the machine and its load.
fn machine(workers: usize) {
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    println!("# parallel: the comparison, {date}\n");
    println!(
        "Machine: {workers} hardware threads, {cpu}, Linux {}, load average at the start: {}",
        read("/proc/sys/kernel/osrelease"),
        read("/proc/loadavg")
    );
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|text| text.trim().to_owned())
        .unwrap_or_default()
}
