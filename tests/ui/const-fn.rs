use parallel::parallel;

#[parallel]
const fn square(x: u64) -> u64 {
    x * x
}

// The mistake is reported once, at the attribute: callers see the signature they expect.
fn main() {
    let _ = square(2).result();
    let _ = square::sync(2);
}
