use parallel::parallel;
use std::borrow::Cow;

#[parallel]
fn shout<'a>(text: Cow<'a, str>) -> String {
    text.to_uppercase()
}

fn main() {}
