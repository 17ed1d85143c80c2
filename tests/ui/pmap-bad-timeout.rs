use parallel::pmap;

fn square(x: u64) -> u64 {
    x * x
}

fn main() {
    let _squares = pmap!(square, 1..=4; timeout = "5 seconds");
}
