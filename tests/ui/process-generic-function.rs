use parallel::parallel;

#[parallel(processes)]
fn describe<T: std::fmt::Debug>(value: T) -> String {
    format!("{value:?}")
}

// The mistake is reported once, at the attribute: callers see the signature they expect.
fn main() {
    let _ = describe(1).result();
    let _ = describe::sync(1);
}
