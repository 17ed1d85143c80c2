use parallel::{parallel, pmap};

#[parallel(threads = 2, retries = 3)]
fn fetch(url: String) -> usize {
    url.len()
}

fn main() {
    let _ = fetch("a.org".into());
    let _lengths = pmap!(|x: u32| x + 1, 0..4; threads = 2, retries = 1);
}
