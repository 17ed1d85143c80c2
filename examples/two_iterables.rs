//! `map` with two iterables: `add` over `0..10` and an endless `repeat(1)`, zipped.
//!
//! Python's `pool.map(add, range(10), repeat(1))` stops at the shortest input; Rust's `zip`
//! does the same, and the pool's `map` takes the pairs.

use std::iter::repeat;

use parallel::{TaskError, ThreadPool};

fn add(a: i32, b: i32) -> i32 {
    a + b
}

/// Adds 1 to each of `0..10` on a pool and returns the sums in input order.
fn two_iterables() -> Result<Vec<i32>, TaskError> {
    let pool = ThreadPool::new();
    pool.map(|(a, b)| add(a, b), (0..10).zip(repeat(1)))
        .collect()
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<(), TaskError> {
    for sum in two_iterables()? {
        println!("{sum}");
    }
    Ok(())
}

#[test]
fn adds_one_to_each_item_in_order() {
    assert_eq!(two_iterables().unwrap(), (1..=10).collect::<Vec<_>>());
}
