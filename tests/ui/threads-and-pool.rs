use parallel::parallel;

#[parallel(threads = 2, pool = IO)]
fn square(x: u64) -> u64 {
    x * x
}

fn main() {}
