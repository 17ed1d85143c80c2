use parallel::parallel;

#[parallel(processes)]
fn describe<T: std::fmt::Debug>(value: T) -> String {
    format!("{value:?}")
}

fn main() {}
