use parallel::parallel;

#[parallel]
fn total(values: &[u64]) -> u64 {
    values.iter().sum()
}

fn main() {}
