use parallel::parallel;

struct Config {
    depth: u32,
}

#[parallel(mpi)]
fn search(config: Config) -> u32 {
    config.depth
}

fn main() {}
