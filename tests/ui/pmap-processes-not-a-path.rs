use parallel::pmap;

fn square(x: u64) -> u64 {
    x * x
}

fn main() {
    let function = square;
    let _squares = pmap!(&function, 0..10; processes);
}
