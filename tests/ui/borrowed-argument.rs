use parallel::parallel;

#[parallel]
fn shout(text: &str) -> String {
    text.to_uppercase()
}

fn main() {}
