//! The `mpi` expansions compile in the strictest crates: no unsafe, no warnings, no prelude.
#![forbid(unsafe_code)]
#![deny(warnings, missing_docs)]
#![no_implicit_prelude]

extern crate parallel;
extern crate std;

use parallel::{parallel, pmap};
use std::iter::Iterator;
use std::vec::Vec;

fn setup() {}

/// Squares on the worker ranks (here, without a launcher, on local worker processes).
#[parallel(mpi, timeout = "60s", initializer = setup)]
pub fn square(x: u64) -> u64 {
    x * x
}

fn main() {
    std::assert_eq!(square(3).result().unwrap(), 9);
    std::assert_eq!(square::sync(4), 16);
    let squares: Vec<u64> = pmap!(square, 1..=4; chunksize = 2).map(|r| r.unwrap()).collect();
    std::assert_eq!(squares, [1, 4, 9, 16]);
    let total: u64 = pmap!(|a: u64, b: u64| a + b, 0..3, 0..3; mpi, ordered = false)
        .map(|r| r.unwrap())
        .sum();
    std::assert_eq!(total, 6);
}
