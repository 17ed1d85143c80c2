use parallel::parallel;

#[parallel(threads = 2, max_frame = 1024)]
fn square(x: u64) -> u64 {
    x * x
}

#[parallel(processes, max_frame = 0)]
fn cube(x: u64) -> u64 {
    x * x * x
}

#[parallel(processes, max_frame)]
fn half(x: u64) -> u64 {
    x / 2
}

// The mistakes are reported at the attribute only: callers see what they expect.
fn main() {
    let _ = square(2).result();
    let _ = cube(2).result();
    let _ = half(2).result();
    let _ = half::pool().workers();
}
