use parallel::pmap;

fn main() {
    let factor = String::from("x");
    let _scaled = pmap!(|n: usize| factor.repeat(n), 0..4);
}
