use parallel::parallel;

#[parallel]
fn total(values: &[u64]) -> u64 {
    values.iter().sum()
}

// The mistake is reported once, at the attribute: callers see the signature they expect.
fn main() {
    let _ = total(&[1, 2]).result();
    let _ = total::sync(&[1, 2]);
}
