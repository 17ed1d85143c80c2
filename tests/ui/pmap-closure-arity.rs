use parallel::pmap;

fn main() {
    let _sums = pmap!(|a, b| a + b, 0..10);
}
