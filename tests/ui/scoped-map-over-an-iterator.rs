// `Scope::map` reads its items in place, by index; an iterator goes to `map_iter`.
fn main() {
    let data = vec![1u64, 2, 3];
    parallel::scope(|s| {
        let _ = s.map(|x: &u64| x * 2, data.iter().filter(|x| **x > 1));
    });
}
