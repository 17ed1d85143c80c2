use parallel::parallel;

// What means nothing on MPI ranks: recycling them, retrying after a death (MPI is
// fail-stop), naming threads; and what cannot cross to a rank: a generic function.
#[parallel(mpi, retries = 2, max_tasks_per_child = 10, name = "rank")]
fn describe<T: std::fmt::Debug>(value: T) -> String {
    format!("{value:?}")
}

fn main() {}
