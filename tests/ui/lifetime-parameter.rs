use parallel::parallel;
use std::borrow::Cow;

#[parallel]
fn shout<'a>(text: Cow<'a, str>) -> String {
    text.to_uppercase()
}

// The mistake is reported once, at the attribute: callers see the signature they expect.
fn main() {
    let _ = shout(Cow::Borrowed("a")).result();
    let _ = shout::sync(Cow::Borrowed("a"));
}
