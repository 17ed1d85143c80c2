use parallel::parallel;

// The launcher chooses how many ranks run, not the program.
#[parallel(mpi = 4)]
fn square(x: u64) -> u64 {
    x * x
}

fn main() {}
