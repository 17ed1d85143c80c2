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
}
