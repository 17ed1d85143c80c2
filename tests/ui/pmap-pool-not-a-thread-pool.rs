use std::sync::LazyLock;

use parallel::{parallel, pmap, ProcessPool, ThreadPool};

static PROCESSES: LazyLock<ProcessPool> = LazyLock::new(ProcessPool::new);
static THREADS: LazyLock<ThreadPool> = LazyLock::new(ThreadPool::new);

#[parallel(processes)]
fn square(x: u64) -> u64 {
    x * x
}

fn main() {
    // A process pool is not what `pool = P` takes: the error says what to write.
    let _ = pmap!(square, 0..4u64; pool = PROCESSES);
    let _ = pmap!(|x: u64| x + 1, 0..4; pool = 4);
    // One pool per map.
    let _ = pmap!(|x: u64| x + 1, 0..4; pool = THREADS, threads = 2);
}
