// `scope = s` runs the map on the scope's pool: it cannot also choose threads.
fn main() {
    let data = vec![1u64, 2, 3];
    parallel::scope(|s| {
        let _ = parallel::pmap!(|x| x * 2, &data; scope = s, threads = 2);
    });
}
