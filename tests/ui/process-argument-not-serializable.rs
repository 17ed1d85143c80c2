use parallel::parallel;

struct Config {
    depth: u32,
}

#[parallel(processes)]
fn search(config: Config) -> u32 {
    config.depth
}

#[parallel(processes)]
fn search_from(start: u32, config: Config) -> u32 {
    start + config.depth
}

fn main() {
    let _ = search(Config { depth: 1 }).result();
}
