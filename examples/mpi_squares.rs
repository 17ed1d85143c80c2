//! Squares and factorial digit counts on the ranks of an MPI job, each result saying which
//! rank computed it.
//!
//! ```text
//! cargo build --example mpi_squares --features mpi
//! mpirun -n 3 target/debug/examples/mpi_squares
//! ```
//!
//! Rank 0 runs `main`; ranks 1 and 2 serve the tasks (they never reach `main`: nothing here
//! sets them up). Without `mpirun` the same program runs its tasks in local worker processes,
//! saying so on stderr.

use std::collections::BTreeSet;

use num_bigint::BigUint;
use parallel::{parallel, pmap, MpiPool, TaskError};

/// Where a task ran: its MPI rank, or, without a launcher, its local worker process.
fn here() -> String {
    match MpiPool::current_rank() {
        Some(rank) => format!("rank {rank}"),
        None => format!("local process {}", std::process::id()),
    }
}

/// `x²`, and where it was computed.
#[parallel(mpi)]
fn square(x: u64) -> (u64, String) {
    (x * x, here())
}

/// How many decimal digits `n!` has, and where it was computed.
#[parallel(mpi)]
fn factorial_digits(n: u32) -> (usize, String) {
    let factorial: BigUint = (1..=n).map(BigUint::from).product();
    (factorial.to_string().len(), here())
}

/// The lines the example prints: the squares of 1 to 8 (a map, one item per task so they
/// spread over the ranks), the digit counts of 5000! to 8000! (one call each), and the ranks
/// that ran something.
fn lines() -> Result<Vec<String>, TaskError> {
    let mut lines = Vec::new();
    let mut ranks = BTreeSet::new();
    for result in pmap!(square, 1..=8; chunksize = 1) {
        let (square, rank) = result?;
        lines.push(format!("square {square:>2} from {rank}"));
        ranks.insert(rank);
    }
    let calls: Vec<_> = [5000, 6000, 7000, 8000]
        .into_iter()
        .map(|n| (n, factorial_digits(n)))
        .collect();
    for (n, call) in calls {
        let (digits, rank) = call.result()?;
        lines.push(format!("{n}! has {digits} digits, from {rank}"));
        ranks.insert(rank);
    }
    let ranks: Vec<String> = ranks.into_iter().collect();
    lines.push(format!("ran on: {}", ranks.join(", ")));
    Ok(lines)
}

fn main() -> Result<(), TaskError> {
    for line in lines()? {
        println!("{line}");
    }
    Ok(())
}
