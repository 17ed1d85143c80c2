// A task may borrow only what outlives the scope, not a local of the scope's closure, which
// ends before the scope waits for its tasks.
fn main() {
    parallel::scope(|s| {
        let local = vec![1, 2, 3];
        let _ = s.submit(|| local.len());
    });
}
