use parallel::parallel;

#[parallel(processes, name = "cruncher")]
fn square(x: u64) -> u64 {
    x * x
}

fn main() {}
