use parallel::parallel;

// One mistake, one error: callers of the function see the signature they expect.
#[parallel(threads = 0)]
fn double(x: u32) -> u32 {
    x * 2
}

fn main() {
    let _ = double(21).result();
    let _ = double::sync(1);
    let _futures: Vec<_> = (0..3).map(double).collect();
}
