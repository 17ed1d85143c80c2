// Nor can it be kept in a variable that lives longer than the scope.
fn main() {
    let data = vec![1, 2, 3];
    let mut kept = None;
    parallel::scope(|s| {
        kept = Some(s.submit(|| data.len()));
    });
    let _ = kept.map(|future| future.result());
}
