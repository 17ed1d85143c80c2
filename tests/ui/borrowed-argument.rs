use parallel::parallel;

#[parallel]
fn shout(text: &str) -> String {
    text.to_uppercase()
}

// The mistake is reported once, at the attribute: callers see the signature they expect.
fn main() {
    let _ = shout("a").result();
    let _ = shout::sync("a");
}
