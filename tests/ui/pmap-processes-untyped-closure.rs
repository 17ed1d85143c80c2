use parallel::pmap;

fn main() {
    let _squares = pmap!(|x| x * x, 0..10u64; processes);
}
