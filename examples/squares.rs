//! Squares over threads with `pmap!`: prints `1 4 9 16`.
//!
//! Python's version: `ThreadPoolExecutor().map(square, [1, 2, 3, 4])`.

use parallel::{pmap, TaskError};

fn square(x: u64) -> u64 {
    x * x
}

/// Squares 1..=4 on the default thread pool and returns the line the example prints.
fn squares() -> Result<String, TaskError> {
    // One `Result` per item, in input order; `collect` stops at the first error.
    let squares: Vec<u64> = pmap!(square, 1..=4).collect::<Result<_, _>>()?;
    let words: Vec<String> = squares.iter().map(u64::to_string).collect();
    Ok(words.join(" "))
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<(), TaskError> {
    println!("{}", squares()?);
    Ok(())
}

#[test]
fn prints_the_squares_in_input_order() {
    assert_eq!(squares().unwrap(), "1 4 9 16");
}
