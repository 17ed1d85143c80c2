use parallel::parallel;

struct Report {
    lines: Vec<String>,
}

#[parallel(processes)]
fn report(depth: u32) -> Report {
    Report { lines: vec![depth.to_string()] }
}

fn main() {}
