//! `submit` + `result` in a loop: each call is handed to the pool and waited for in turn.
//!
//! Python's version:
//! `for n in range(5): print(pool.submit(pow, 2, n).result())`.

use parallel::{TaskError, ThreadPool};

/// Submits five tasks one after another, waits for each, and returns the lines printed.
fn submit_loop() -> Result<Vec<String>, TaskError> {
    let pool = ThreadPool::builder()
        .workers(2)
        .build()
        .expect("starting two threads");
    let mut lines = Vec::new();
    for n in 0..5u32 {
        // `submit` returns at once; `result` blocks until this task is done.
        let future = pool.submit(move || 2u64.pow(n));
        lines.push(format!("2^{n} = {}", future.result()?));
    }
    Ok(lines)
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<(), TaskError> {
    for line in submit_loop()? {
        println!("{line}");
    }
    Ok(())
}

#[test]
fn each_result_arrives_in_turn() {
    assert_eq!(
        submit_loop().unwrap(),
        ["2^0 = 1", "2^1 = 2", "2^2 = 4", "2^3 = 8", "2^4 = 16"]
    );
}
