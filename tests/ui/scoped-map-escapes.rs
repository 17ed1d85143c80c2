// A scoped map cannot outlive its scope either.
fn main() {
    let data = vec![1u64, 2, 3];
    let map = parallel::scope(|s| s.map(|x: &u64| x * 2, &data));
    let _: Vec<_> = map.collect();
}
