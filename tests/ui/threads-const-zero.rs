use parallel::{parallel, pmap};

// A constant expression is evaluated at compile time: 0 is refused there, pointing at it.
const WORKERS: usize = 0;
const CORES: usize = 2;

#[parallel(threads = WORKERS)]
fn download(file: String) -> String {
    file
}

#[parallel(processes = CORES - 2)]
fn square(x: u64) -> u64 {
    x * x
}

fn main() {
    let _ = download(String::new()).result();
    let _ = square(2).result();
    let _ = pmap!(|x: u64| x + 1, 0..4; threads = WORKERS * 2);
}
