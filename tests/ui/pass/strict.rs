//! The expansions compile in the strictest crates: no unsafe, no warnings, no prelude.
#![forbid(unsafe_code)]
#![deny(warnings, missing_docs)]
#![no_implicit_prelude]

extern crate parallel;
extern crate std;

use parallel::{parallel, pmap};
use std::convert::From;
use std::iter::Iterator;
use std::string::String;
use std::vec::Vec;

/// Downloads one file.
#[parallel(threads = 2, name = "dl", timeout = "10s")]
pub fn download(file: String) -> String {
    file
}

/// Squares on the default pool.
#[parallel]
pub fn square(x: u64) -> u64 {
    x * x
}

/// How many workers `crunch` has.
pub const WORKERS: usize = 2;

/// Constant counts, a frame limit, in processes.
#[parallel(processes = WORKERS - 1, max_frame = 1 << 20, max_tasks_per_child = WORKERS * 50)]
pub fn crunch(x: u64) -> u64 {
    x + 1
}

/// Describes any value.
#[parallel]
pub fn describe<T: std::fmt::Debug + std::marker::Send + 'static>(value: T) -> String {
    std::format!("{value:?}")
}

fn main() {
    let text = download(String::from("a")).result().unwrap();
    std::assert_eq!(text, "a");
    std::assert_eq!(square::sync(3), 9);
    std::assert_eq!(describe(1).result().unwrap(), "1");
    let squares: Vec<u64> = pmap!(square, 1..=4; chunksize = 2).map(|r| r.unwrap()).collect();
    std::assert_eq!(squares, [1, 4, 9, 16]);
    let sums: Vec<u64> = pmap!(|a: u64, b: u64| a + b, 0..3, 0..3; threads = 2, ordered = true)
        .map(|r| r.unwrap())
        .collect();
    std::assert_eq!(sums, [0, 2, 4]);
    std::assert_eq!(crunch(1).result().unwrap(), 2);
    std::assert_eq!(crunch::pool().workers(), 1);
    std::assert_eq!(download::pool().workers(), 2);
    let pool = parallel::ThreadPool::new();
    let on_pool: Vec<u64> = pmap!(square, 1..=3; pool = pool, chunksize = WORKERS)
        .map(|r| r.unwrap())
        .collect();
    std::assert_eq!(on_pool, [1, 4, 9]);
}
