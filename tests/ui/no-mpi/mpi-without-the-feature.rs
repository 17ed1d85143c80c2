use parallel::{parallel, pmap};

// Without the `mpi` feature, `mpi` is refused with how to turn it on.
#[parallel(mpi)]
fn square(x: u64) -> u64 {
    x * x
}

fn main() {
    let _ = pmap!(|x: u64| x + 1, 0..3; mpi);
}
