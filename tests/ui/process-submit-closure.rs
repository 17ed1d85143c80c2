use parallel::ProcessPool;

fn main() {
    let pool = ProcessPool::builder().workers(1).build().unwrap();
    let _ = pool.submit(|x: u64| x * 2, (21,));
}
