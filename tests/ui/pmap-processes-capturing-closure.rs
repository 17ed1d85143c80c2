use parallel::pmap;

// One mistake, one error: nothing about the code that uses the map (no "unreachable" warning,
// no "type annotations needed").
fn main() {
    let factor = 3u64;
    let scaled: Vec<u64> = pmap!(|x: u64| x * factor, 0..10; processes)
        .map(Result::unwrap)
        .collect();
    println!("{scaled:?}");
    for item in pmap!(|x: u64| x * factor, 0..10; processes) {
        println!("{}", item.unwrap());
    }
    let _unused = pmap!(|x: u64| x * factor, 0..10; processes);
    println!("done");
}
