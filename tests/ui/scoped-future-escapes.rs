// A scoped future cannot outlive its scope: returned from the scope's closure, it would be
// a handle to a task whose borrows have ended.
fn main() {
    let data = vec![1, 2, 3];
    let escaped = parallel::scope(|s| s.submit(|| data.len()));
    let _ = escaped.result();
}
