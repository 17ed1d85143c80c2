//! Squares in worker processes with `pmap!(..; processes)`: prints `1 4 9 16`.
//!
//! Python's version: `ProcessPoolExecutor().map(square, [1, 2, 3, 4])` under an
//! `if __name__ == "__main__":` guard. Here `main` needs no guard and no set-up: the workers
//! are this program started again, and they run `square` before `main` would.

use parallel::{pmap, TaskError};

fn square(x: u64) -> u64 {
    x * x
}

/// Squares 1..=4 in two worker processes and returns the line the example prints, with the
/// process ids that did the work.
fn process_squares() -> Result<(String, Vec<u32>), TaskError> {
    let squares: Vec<u64> = pmap!(square, 1..=4; processes = 2).collect::<Result<_, _>>()?;
    let words: Vec<String> = squares.iter().map(u64::to_string).collect();

    // A closure works too when it captures nothing and its arguments are typed: the worker
    // gets no environment, only the arguments.
    let mut pids: Vec<u32> =
        pmap!(|_: u8| std::process::id(), 0..4; processes = 2).collect::<Result<_, _>>()?;
    pids.sort();
    pids.dedup();
    Ok((words.join(" "), pids))
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<(), TaskError> {
    let (line, pids) = process_squares()?;
    println!("{line}");
    println!(
        "worker processes {pids:?}; this one is {}",
        std::process::id()
    );
    Ok(())
}

#[test]
fn prints_the_squares_computed_in_other_processes() {
    let (line, pids) = process_squares().unwrap();
    assert_eq!(line, "1 4 9 16");
    assert!(!pids.is_empty());
    assert!(!pids.contains(&std::process::id()), "{pids:?}");
}
