//! Factorials of 5000, 6000, 7000 and 8000 in worker processes, printing their digit counts.
//!
//! CPU-bound work is where processes pay: each factorial runs in a worker of its own, on
//! another core. Python's version maps `len(str(math.factorial(n)))` over a
//! `ProcessPoolExecutor`.

use num_bigint::BigUint;
use parallel::{parallel, pmap, TaskError};

/// How many decimal digits `n!` has. Runs in worker processes of its own (one per core).
#[parallel(processes)]
fn factorial_digits(n: u32) -> usize {
    let factorial: BigUint = (1..=n).map(BigUint::from).product();
    factorial.to_string().len()
}

/// Computes the four digit counts and returns the lines the example prints.
fn factorials() -> Result<Vec<String>, TaskError> {
    let numbers = [5000, 6000, 7000, 8000];
    // A `#[parallel(processes)]` function maps on its own worker processes; each factorial
    // is a task of its own (`chunksize = 1`), so the four spread over the workers.
    let digits: Vec<usize> =
        pmap!(factorial_digits, numbers; chunksize = 1).collect::<Result<_, _>>()?;
    let lines = numbers
        .iter()
        .zip(digits)
        .map(|(n, digits)| format!("{n}! has {digits} digits"))
        .collect();
    Ok(lines)
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<(), TaskError> {
    for line in factorials()? {
        println!("{line}");
    }
    Ok(())
}

#[test]
fn digit_counts_are_right() {
    assert_eq!(
        factorials().unwrap(),
        [
            "5000! has 16326 digits",
            "6000! has 20066 digits",
            "7000! has 23878 digits",
            "8000! has 27753 digits",
        ]
    );
}
