//! Calls that return futures, waited for in a loop: each call is handed to a worker thread
//! and its result taken in turn.
//!
//! Python's version:
//! `for n in range(5): print(pool.submit(pow, 2, n).result())`.

use parallel::{parallel, TaskError};

/// `base` to the power `n`, on a pool of two threads of this function's own.
#[parallel(threads = 2)]
fn power(base: u64, n: u32) -> u64 {
    base.pow(n)
}

/// Calls `power` five times, waits for each, and returns the lines printed.
fn submit_loop() -> Result<Vec<String>, TaskError> {
    let mut lines = Vec::new();
    for n in 0..5 {
        // The call returns a future at once; `result` blocks until this call is done.
        let future = power(2, n);
        lines.push(format!("2^{n} = {}", future.result()?));
    }
    // The original function stays reachable: it runs here, on this thread.
    lines.push(format!("2^10 = {} (power::sync)", power::sync(2, 10)));
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
        [
            "2^0 = 1",
            "2^1 = 2",
            "2^2 = 4",
            "2^3 = 8",
            "2^4 = 16",
            "2^10 = 1024 (power::sync)"
        ]
    );
}
