//! The MPI figures (feature `mpi`), on the worker ranks of the job this benchmark runs in,
//! beside `mpi4py.futures` at its defaults (`benches/python/mpi.py`, run as a job of its own
//! with as many ranks: `mpirun -n 3 python3 -m mpi4py.futures`):
//!
//! - m1: tiny tasks one at a time: submit, take the result, repeat;
//! - m2: an ordered map of 20,000 tiny items (`pmap!`), collected;
//! - m3: an 8 MB `Vec<f64>` to a worker rank, its length back.
//!
//! Run it as one 3-rank job, through cargo's target runner:
//!
//! ```text
//! CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER="mpirun -n 3 --oversubscribe" \
//!     cargo bench -p parallel-benches --bench compare --features mpi -- mpi
//! ```

use std::process::Command;
use std::time::Duration;

use parallel::{parallel, pmap, MpiPool};

use crate::support::{
    contender, heading, measure, ms, table_head, timed, us, verdict, Options, Peer, Python, Row,
    Sense,
};

#[parallel(mpi)]
fn tiny(i: u64) -> u64 {
    i
}

#[parallel(mpi)]
fn length(values: Vec<f64>) -> usize {
    values.len()
}

const ROUND_TRIPS: u64 = 2_000;
const ITEMS: u64 = 20_000;
const FLOATS: usize = 1_000_000;
const PAYLOAD_BYTES: f64 = (FLOATS * 8) as f64;

/// Runs the selected MPI figures and returns their summary rows; nothing, with a note, unless
/// this is rank 0 of an MPI job with worker ranks.
pub fn run(options: &Options) -> Vec<Row> {
    let pool = MpiPool::world();
    if pool.is_local() || MpiPool::current_rank() != Some(0) {
        println!(
            "\n(The MPI figures need an MPI job: CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER=\"mpirun -n 3 --oversubscribe\" \
             cargo bench -p parallel-benches --bench compare --features mpi -- mpi)"
        );
        return Vec::new();
    }
    // No `settle` here: idle worker ranks poll inside MPI's receive (OpenMPI's blocking calls
    // spin), so the machine never looks idle while this job runs. Start it on a quiet machine.
    let ids = ["m1", "m2", "m3"];
    let python = if options.python {
        mpi4py(options, &ids, pool.num_workers() + 1)
    } else {
        Python::default()
    };
    python.explain();
    let mut rows = Vec::new();
    if options.runs("m1") {
        rows.push(round_trip(options, &pool, &python));
    }
    if options.runs("m2") {
        rows.push(ordered_map(options, &python));
    }
    if options.runs("m3") {
        rows.push(payload(options, &pool, &python));
    }
    rows
}

/// Runs `benches/python/mpi.py` as an MPI job of `ranks` ranks of its own, installing mpi4py
/// with pip first if it is missing.
fn mpi4py(options: &Options, ids: &[&str], ranks: usize) -> Python {
    let has_mpi4py = || {
        Command::new("python3")
            .args(["-c", "import mpi4py"])
            .status()
            .is_ok_and(|status| status.success())
    };
    if !has_mpi4py() {
        println!("\n(installing mpi4py with pip: it builds against this machine's MPI)");
        let _ = Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--break-system-packages",
                "mpi4py",
            ])
            .status();
        if !has_mpi4py() {
            return Python::failed("mpi4py could not be installed with pip".to_owned());
        }
    }
    let mut command = Command::new("mpirun");
    command
        .args(["-n", &ranks.to_string(), "--oversubscribe"])
        .args(["python3", "-m", "mpi4py.futures", &Python::path("mpi.py")]);
    // A job of its own: none of this job's launcher variables, which would make the nested
    // `mpirun` take itself for part of this one.
    for (name, _) in std::env::vars_os() {
        let text = name.to_string_lossy();
        if ["OMPI_", "PMIX_", "PMI_"]
            .iter()
            .any(|prefix| text.starts_with(prefix))
        {
            command.env_remove(&name);
        }
    }
    command
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    let figures: Vec<String> = ids
        .iter()
        .filter(|id| options.runs(id))
        .map(|id| id.to_string())
        .collect();
    Python::run_command(command, "mpi.py", &figures, options.quick)
}

// ---------------------------------------------------------------------------------------------
// m1. one tiny task at a time

fn round_trip(options: &Options, pool: &MpiPool, python: &Python) -> Row {
    let mut contenders = vec![
        contender(
            "parallel: pool.submit(tiny, (i,)).result(), in turn",
            || {
                let (time, ()) = timed(|| {
                    for i in 0..ROUND_TRIPS {
                        assert_eq!(pool.submit(tiny, (i,)).result(), Ok(i));
                    }
                });
                time / ROUND_TRIPS as u32
            },
        ),
        contender(
            "parallel: tiny(i).result() (#[parallel(mpi)]), in turn",
            || {
                let (time, ()) = timed(|| {
                    for i in 0..ROUND_TRIPS {
                        assert_eq!(tiny(i).result(), Ok(i));
                    }
                });
                time / ROUND_TRIPS as u32
            },
        ),
    ];
    let medians = measure(&mut contenders, options.rounds(7), 3);
    heading(&format!(
        "m1. one tiny task at a time on {} worker ranks: submit, result, repeat",
        pool.num_workers()
    ));
    table_head(&["contender", "µs per task"]);
    for (contender, time) in contenders.iter().zip(&medians) {
        println!("| {} | {:.1} |", contender.name, us(*time));
    }
    let theirs = python.get("mpi4py_round_trip");
    if let Some(value) = theirs {
        println!(
            "| {} | {value:.1} |",
            python.label("mpi4py.futures: executor.submit(identity, i).result(), in turn")
        );
    }
    let ours = us(medians[0]);
    let target = match theirs {
        Some(theirs) => format!(
            "≥ 100× cheaper than mpi4py.futures: {:.0}×, {}",
            theirs / ours,
            verdict(theirs / ours >= 100.0)
        ),
        None => "≥ 100× cheaper than mpi4py.futures: not measured".to_owned(),
    };
    Row::new("m1 one MPI task at a time", "µs", Sense::Cost, ours)
        .peer(Peer::Mpi4py, theirs)
        .target(target)
}

// ---------------------------------------------------------------------------------------------
// m2. an ordered map of 20,000 tiny items

fn ordered_map(options: &Options, python: &Python) -> Row {
    let expected: u64 = ITEMS * (ITEMS - 1) / 2;
    let mut contenders = vec![
        contender(
            "parallel: pmap!(tiny, 0..20000) (its own pool), collected",
            || {
                let (time, values) = timed(|| {
                    pmap!(tiny, 0..ITEMS)
                        .collect::<Result<Vec<u64>, _>>()
                        .expect("tiny items")
                });
                assert_eq!(values.iter().sum::<u64>(), expected);
                time / ITEMS as u32
            },
        ),
        contender(
            "parallel: pmap!(|x: u64| x, 0..20000; mpi), collected",
            || {
                let (time, values) = timed(|| {
                    pmap!(|x: u64| x, 0..ITEMS; mpi)
                        .collect::<Result<Vec<u64>, _>>()
                        .expect("tiny items")
                });
                assert_eq!(values.iter().sum::<u64>(), expected);
                time / ITEMS as u32
            },
        ),
    ];
    let medians = measure(&mut contenders, options.rounds(7), 3);
    heading("m2. an ordered map of 20,000 tiny items, collected");
    table_head(&["contender", "µs per item"]);
    for (contender, time) in contenders.iter().zip(&medians) {
        println!("| {} | {:.3} |", contender.name, us(*time));
    }
    let theirs = python.get("mpi4py_map");
    for (name, what) in [
        (
            "mpi4py_map",
            "mpi4py.futures: list(executor.map(identity, range(2000))) (chunksize 1, its default)",
        ),
        (
            "mpi4py_map_256",
            "mpi4py.futures: the same over 20,000 items with chunksize=256",
        ),
    ] {
        if let Some(value) = python.get(name) {
            println!("| {} | {value:.3} |", python.label(what));
        }
    }
    let ours = us(medians[0]);
    let target = format!("≤ 3 µs per item: {}", verdict(ours <= 3.0));
    Row::new(
        "m2 ordered MPI map, tiny items",
        "µs/item",
        Sense::Cost,
        ours,
    )
    .peer(Peer::Mpi4py, theirs)
    .target(target)
}

// ---------------------------------------------------------------------------------------------
// m3. an 8 MB argument

fn payload(options: &Options, pool: &MpiPool, python: &Python) -> Row {
    let values: Vec<f64> = (0..FLOATS).map(|i| i as f64 * 0.5).collect();
    let values = &values;
    let mut contenders = vec![contender(
        "parallel: pool.submit(length, (vec,)).result()",
        || {
            let values = values.clone();
            let (time, len) = timed(|| pool.submit(length, (values,)).result());
            assert_eq!(len, Ok(FLOATS));
            time
        },
    )];
    let medians = measure(&mut contenders, options.rounds(9), 3);
    let rate = |time: Duration| PAYLOAD_BYTES / time.as_secs_f64() / 1e9;
    heading(&format!(
        "m3. an 8 MB `Vec<f64>` ({FLOATS} floats) to a worker rank, its length back"
    ));
    table_head(&["contender", "ms", "GB/s"]);
    println!(
        "| {} | {:.2} | {:.2} |",
        contenders[0].name,
        ms(medians[0]),
        rate(medians[0])
    );
    let theirs = python.get("mpi4py_8mb");
    if let Some(value) = theirs {
        println!(
            "| {} | {value:.2} | {:.2} |",
            python.label("mpi4py.futures: executor.submit(size, array('d')).result()"),
            PAYLOAD_BYTES / (value / 1e3) / 1e9
        );
    }
    let ours = rate(medians[0]);
    let target = format!("≥ 1 GB/s: {}", verdict(ours >= 1.0));
    Row::new("m3 8 MB argument to a rank", "GB/s", Sense::Rate, ours)
        .peer(
            Peer::Mpi4py,
            theirs.map(|value| PAYLOAD_BYTES / (value / 1e3) / 1e9),
        )
        .target(target)
}
