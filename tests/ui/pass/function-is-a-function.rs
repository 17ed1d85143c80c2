//! A `#[parallel]` function is a function: it maps over an iterator by name, a `let` binding
//! may take its name, it coerces to a function pointer, and `pmap!` still runs its body in
//! batches on its own pool.

use parallel::{parallel, pmap, Future};

#[parallel(threads = 2)]
fn square(x: u64) -> u64 {
    x * x
}

#[parallel(processes = 1)]
fn cube(x: u64) -> u64 {
    x * x * x
}

fn main() {
    let futures: Vec<Future<u64>> = (1..=3).map(square).collect();
    let squares: Vec<u64> = futures.iter().map(|f| f.result().unwrap()).collect();
    assert_eq!(squares, [1, 4, 9]);

    let square = square(3);
    assert_eq!(square.result(), Ok(9));

    let pointer: fn(u64) -> Future<u64> = cube;
    assert_eq!(pointer(2).result(), Ok(8));
    let cubes: Vec<u64> = [1, 2].into_iter().map(cube).map(|f| f.result().unwrap()).collect();
    assert_eq!(cubes, [1, 8]);

    let mapped: Vec<u64> = pmap!(cube, 1..=3).map(Result::unwrap).collect();
    assert_eq!(mapped, [1, 8, 27]);
    assert_eq!(cube::sync(4), 64);
}
