use parallel::parallel;

#[parallel(processes, mpi)]
fn square(x: u64) -> u64 {
    x * x
}

fn main() {}
