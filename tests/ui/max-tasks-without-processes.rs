use parallel::parallel;

#[parallel(threads = 2, max_tasks_per_child = 10)]
fn square(x: u64) -> u64 {
    x * x
}

fn main() {}
