use parallel::parallel;

// A count is a constant expression of type `usize`.
const WORKERS: u32 = 4;

fn workers() -> usize {
    4
}

#[parallel(threads = WORKERS)]
fn download(file: String) -> String {
    file
}

#[parallel(processes = workers())]
fn square(x: u64) -> u64 {
    x * x
}

fn main() {
    let _ = download(String::new()).result();
    let _ = square(2).result();
}
