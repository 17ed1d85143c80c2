//! `pmap!` with two iterables: `add` over `0..10` and an endless `repeat(1)`, zipped.
//!
//! Python's `pool.map(add, range(10), repeat(1))` stops at the shortest input; so does
//! `pmap!`, which passes one item of each iterable as the function's arguments.

use std::iter::repeat;

use parallel::{pmap, TaskError};

fn add(a: i32, b: i32) -> i32 {
    a + b
}

/// Adds 1 to each of `0..10` on the default pool and returns the sums in input order.
fn two_iterables() -> Result<Vec<i32>, TaskError> {
    pmap!(add, 0..10, repeat(1)).collect()
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
