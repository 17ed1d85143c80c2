use parallel::parallel;

#[parallel(processes)]
fn show(value: impl std::fmt::Display) -> String {
    value.to_string()
}

// The mistake is reported once, at the attribute: callers see the signature they expect.
fn main() {
    let _ = show(1).result();
    let _ = show::sync(1);
}
