use parallel::parallel;

#[parallel]
fn describe<T: std::fmt::Debug>(value: T) -> String {
    format!("{value:?}")
}

fn main() {}
